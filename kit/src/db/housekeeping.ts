import { Counter, Gauge, type Registry } from 'prom-client';
import type { Service } from '../../../services.ts';
import type { PeriodicJob } from '../jobs/plugin.ts';
import type { Logger } from '../kafka/client.ts';
import type { Sql } from './connect.ts';

// The platform tables grow with every event: the outbox with each one written, and
// processed_events with each one applied. These jobs keep both bounded, each by the rule
// that makes deleting a row safe.

export interface HousekeepingSettings {
  /** Pause between two runs of each job. */
  intervalMs: number;
  /** How long an outbox row stays readable after it was written, at the least. */
  outboxKeepMs: number;
  /** How long a consumer remembers an event it applied. */
  processedEventsKeepMs: number;
}

/** Rows per DELETE: a backlog is worked off in many short transactions, not one long one. */
export const PRUNE_BATCH_SIZE = 5_000;

/**
 * A row's `created_at` is the start of its transaction, which commits later. A transaction
 * that was still open at a marker can commit after the marker's WAL position, so the rows
 * deleted on the strength of a marker are only those older than it by this much.
 */
export const LONG_TRANSACTION_GRACE_MS = 5 * 60_000;

/** The replication slot a database's outbox connector reads through (connect/outbox-connector.json). */
export const outboxSlotName = (database: string): string => `outbox_${database}`;

export interface BatchOptions {
  batchSize?: number | undefined;
  /** Stops between batches (the app is closing); what is left goes at the next run. */
  signal?: AbortSignal | undefined;
}

/** Deletes batch after batch until one is short of full (or `signal` aborts); returns the rows deleted. */
export async function deleteInBatches(
  deleteBatch: (size: number) => Promise<number>,
  { batchSize = PRUNE_BATCH_SIZE, signal }: BatchOptions = {},
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(batchSize);
    total += deleted;
    if (deleted < batchSize || signal?.aborted) return total;
  }
}

/**
 * Forgets the events applied longer ago than `keepMs`. A redelivery later than that would be
 * applied a second time, so the window must be longer than any redelivery can be late: the
 * saga's topics keep a record at most 7.5 days (7 days' retention of segments closed after 12
 * hours, connect/topics.conf), and the default window is 8. The compacted replica topics
 * (user-registration, user-updated, product-update) keep each key's last record for good and a
 * new group reads them again whole; their handlers hold on their own (a version kept per row,
 * and notification-svc's mails unique per event id), so a record read again changes nothing.
 * Returns the rows deleted.
 */
export async function pruneProcessedEvents(sql: Sql, keepMs: number, options: BatchOptions = {}): Promise<number> {
  // SKIP LOCKED: a second instance of the service pruning at the same time takes other rows
  // instead of queueing behind these.
  return deleteInBatches(async (size) => {
    const result = await sql`
      delete from processed_events
       where (consumer, event_id) in (
         select consumer, event_id from processed_events
          where processed_at < now() - make_interval(secs => ${keepMs / 1000})
          order by processed_at
          limit ${size}
          for update skip locked)`;
    return result.count;
  }, options);
}

/** A WAL position as a number: `16/B374D848` is 0x16_B374D848. */
export function parseLsn(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  if (high === undefined || low === undefined || !/^[0-9A-F]+$/i.test(high) || !/^[0-9A-F]+$/i.test(low)) {
    throw new Error(`not a WAL position: ${lsn}`);
  }
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

export interface OutboxPrunerOptions {
  sql: Sql;
  /** The connector's replication slot, `outboxSlotName(database)` for a service. */
  slot: string;
  /** Rows younger than this stay, whatever the connector has read: the audit window. */
  keepMs: number;
  graceMs?: number;
  batchSize?: number | undefined;
  logger: Logger;
}

export interface OutboxPruneResult {
  /** What the slot allowed: `missing` and `inactive` delete nothing. */
  slot: 'missing' | 'inactive' | 'active';
  deleted: number;
  /** Rows created before this were deleted; absent when no marker was confirmed yet. */
  cutoff?: Date;
}

interface Marker {
  lsn: bigint;
  at: Date;
}

/** Enough for a day of 60 s ticks behind a stalled slot; older markers are dropped first. */
const MAX_MARKERS = 1_440;

/**
 * Deletes outbox rows once the connector has published them and they have left the audit
 * window. Debezium reads inserts from the WAL, not from the table, so streaming never needs
 * a row again; the table is what a re-created connector snapshots after its slot is lost.
 * Keeping every row the slot has not confirmed means such a snapshot misses nothing.
 *
 * The slot tells a WAL position (`confirmed_flush_lsn`), the rows a time (`created_at`). So
 * each run remembers a marker, the WAL insert position and the time (every transaction that
 * committed before that time has its commit record before that position), and deletes the rows
 * older than the newest marker the slot has since confirmed past (less a grace for transactions
 * that were open at the marker), and older than the keep window. Markers live in memory: after
 * a restart the first deletion waits until a new marker is confirmed, one run later on a
 * healthy connector. Deleting emits nothing: the publication publishes inserts only.
 */
export class OutboxPruner {
  private markers: Marker[] = [];
  private readonly options: OutboxPrunerOptions;

  constructor(options: OutboxPrunerOptions) {
    this.options = options;
  }

  async run(signal?: AbortSignal): Promise<OutboxPruneResult> {
    const { sql, slot, keepMs, graceMs = LONG_TRANSACTION_GRACE_MS, logger } = this.options;
    const [tick] = await sql<[{ lsn: string; at: Date; active: boolean | null; confirmed: string | null }]>`
      select pg_current_wal_insert_lsn()::text as lsn, now() as at, slot.active, slot.confirmed_flush_lsn::text as confirmed
        from (select 1) as tick
        left join pg_replication_slots as slot on slot.slot_name = ${slot} and slot.database = current_database()`;

    // A missing slot or a stopped connector may mean a slot about to be lost: the rows it has
    // not confirmed are all the connector can recover from, and the confirmed ones are an
    // operator's evidence while they look into it. The markers go too: a slot created again
    // starts out confirming its creation point, which says nothing of the rows before it
    // (its connector is still snapshotting them), so only markers taken while a connector
    // streams from the slot count.
    if (!tick.active) {
      this.markers = [];
      const state = tick.active === null ? 'missing' : 'inactive';
      logger.warn(
        { slot },
        state === 'missing'
          ? 'the outbox connector has no replication slot; outbox rows are kept until it has'
          : 'no connector is reading the outbox replication slot; outbox rows are kept until one is',
      );
      return { slot: state, deleted: 0 };
    }
    this.markers.push({ lsn: parseLsn(tick.lsn), at: tick.at });
    if (this.markers.length > MAX_MARKERS) this.markers.shift();

    // Strictly past: a slot created right before a marker confirms that very position without
    // having read anything (nor finished the snapshot of the rows before it).
    const confirmed = tick.confirmed === null ? -1n : parseLsn(tick.confirmed);
    const newest = this.markers.findLastIndex((marker) => marker.lsn < confirmed);
    if (newest < 0) return { slot: 'active', deleted: 0 };
    const marker = this.markers[newest]!;
    this.markers = this.markers.slice(newest);
    const cutoff = new Date(Math.min(marker.at.getTime() - graceMs, tick.at.getTime() - keepMs));
    const deleted = await deleteInBatches(
      async (size) => {
        const result = await sql`
          delete from outbox
           where id in (
             select id from outbox
              where created_at < ${cutoff}
              order by created_at
              limit ${size}
              for update skip locked)`;
        return result.count;
      },
      { batchSize: this.options.batchSize, signal },
    );
    return { slot: 'active', deleted, cutoff };
  }
}

export interface HousekeepingOptions {
  sql: Sql;
  service: Pick<Service, 'database' | 'outbox' | 'consumes'>;
  settings: HousekeepingSettings;
  logger: Logger;
  metrics: Registry;
}

/**
 * The kit's own periodic jobs for a service's database: the outbox pruner where there is an
 * outbox, the processed_events pruner where the service consumes. Each run also sets a gauge
 * of the table's rows (`outbox_rows`, `processed_events_rows`), which shows that both stay
 * bounded. The outbox holds minutes of events and is counted; processed_events holds 8 days
 * of them (tens of millions of rows at 50 orders/s), which a count would scan every minute,
 * so its gauge is PostgreSQL's running estimate (`n_live_tup`: seconds behind, resampled by
 * ANALYZE, 0 after a crash until the table is analyzed again).
 */
export function housekeepingJobs({ sql, service, settings, logger, metrics }: HousekeepingOptions): PeriodicJob[] {
  const prunesOutbox = service.outbox;
  const prunesProcessed = service.consumes.length > 0;
  if (!prunesOutbox && !prunesProcessed) return [];
  const deletedRows = new Counter({
    name: 'housekeeping_deleted_rows_total',
    help: 'Rows deleted by the pruning jobs, by table',
    labelNames: ['table'] as const,
    registers: [metrics],
  });
  const jobs: PeriodicJob[] = [];

  if (prunesOutbox) {
    const rows = new Gauge({ name: 'outbox_rows', help: 'Rows in the outbox table, counted after each pruning run', registers: [metrics] });
    const pruner = new OutboxPruner({ sql, slot: outboxSlotName(service.database), keepMs: settings.outboxKeepMs, logger });
    jobs.push({
      name: 'outbox-pruner',
      everyMs: settings.intervalMs,
      run: async (signal) => {
        const { deleted } = await pruner.run(signal);
        deletedRows.inc({ table: 'outbox' }, deleted);
        const [{ count }] = await sql<[{ count: number }]>`select count(*)::int as count from outbox`;
        rows.set(count);
      },
    });
  }

  if (prunesProcessed) {
    const rows = new Gauge({
      name: 'processed_events_rows',
      help: "Rows in processed_events after each pruning run, by PostgreSQL's statistics (n_live_tup)",
      registers: [metrics],
    });
    jobs.push({
      name: 'processed-events-pruner',
      everyMs: settings.intervalMs,
      run: async (signal) => {
        deletedRows.inc({ table: 'processed_events' }, await pruneProcessedEvents(sql, settings.processedEventsKeepMs, { signal }));
        const [{ count }] = await sql<[{ count: number }]>`
          select n_live_tup::int as count from pg_stat_user_tables where relid = 'processed_events'::regclass`;
        rows.set(count);
      },
    });
  }
  return jobs;
}
