import { PerTransaction } from '../db/per-transaction.ts';
import type { Transaction } from '../db/connect.ts';
import type { OutboxRow } from './write-event.ts';

/** What a transaction staged: its changes and the outbox rows announcing them, each in the order staged. */
export interface Staged<Change> {
  changes: Change[];
  announcements: OutboxRow[];
}

/**
 * Changes a transaction's handlers decided, kept until one statement writes them all with
 * their outbox rows (`outboxClause`): a consumed batch's events then cost one write between
 * them, made by the service's BatchFinisher, instead of one each. A handler that reads what it
 * staged before (a second event about the same row in the batch) keeps its own view of it.
 */
export class StagedWrites<Change> {
  readonly #staged = new PerTransaction<Staged<Change>>(() => ({ changes: [], announcements: [] }));

  stage(tx: Transaction, change: Change, announcements: OutboxRow[] = []): void {
    const staged = this.#staged.of(tx);
    staged.changes.push(change);
    staged.announcements.push(...announcements);
  }

  /** What the transaction staged, for the statement that writes it; nothing when it staged nothing. */
  take(tx: Transaction): Staged<Change> | undefined {
    const staged = this.#staged.take(tx);
    return staged && staged.changes.length > 0 ? staged : undefined;
  }
}
