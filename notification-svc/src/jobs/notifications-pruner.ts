// The notifications table keeps every mail (its text, where it went, what became of it) for
// GET /notifications and for an operator; without an end it would grow with every order for
// as long as the shop runs. Done ones older than NOTIFICATIONS_KEEP_MS go, a batch per
// statement. A mail can be recorded again after its row went only if its event is read again
// (a compacted topic read by a new group): it is then older than MAIL_MAX_AGE_MS, which the
// keep window exceeds, so it is never sent again, only expired.
import { Counter, deleteInBatches, type PeriodicJob, type Registry, type Sql } from '@shop/kit';
import { deleteOldNotifications } from '../data-access/notifications-repository.ts';

export function notificationsPruner(sql: Sql, keepMs: number, metrics: Registry, everyMs: number): PeriodicJob {
  const deleted = new Counter({
    name: 'notifications_pruned_total',
    help: 'Done notifications deleted for being older than NOTIFICATIONS_KEEP_MS',
    registers: [metrics],
  });
  return {
    name: 'notifications-pruner',
    everyMs,
    run: async (signal) => deleted.inc(await deleteInBatches((size) => deleteOldNotifications(sql, keepMs, size), { signal })),
  };
}
