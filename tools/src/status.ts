// The second half of `make status`: what a running shop holds and how far behind it is, the
// figures an operator watches over months. Per outbox database, the replication slot's
// retained WAL and the connector's lag (both from pg_replication_slots); per service
// database, the rows of the outbox and of processed_events (both pruned, so both should stay
// flat); per consumer group, its lag; the dead letters; and the saga cases that need a look.
// A line starting with WARN is above its threshold; the command exits 1 if there is one.
import {
  connectDatabase,
  DEAD_LETTER_TOPIC,
  groupLag,
  loadServiceConfig,
  partitionOffsets,
  services,
  type Service,
  type Sql,
} from '@shop/kit';
import { offsetsInUse, runCommand, withAdmin, writeLine } from './inspect.ts';
import { sagaChecks } from './status-checks.ts';

/** Retained WAL above which a slot is reported: well below max_slot_wal_keep_size (stack/config/postgres). */
const SLOT_WARN_BYTES = Number(process.env['SLOT_WARN_BYTES'] ?? 256 * 1024 * 1024);
/** Unconsumed records above which a consumer group is reported. */
const LAG_WARN_RECORDS = Number(process.env['LAG_WARN_RECORDS'] ?? 1_000);

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const warnings: string[] = [];
const line = async (text: string, warning?: string): Promise<void> => {
  if (warning) warnings.push(warning);
  await writeLine(warning ? `WARN ${text}  (${warning})` : `     ${text}`);
};

async function withDatabase<T>(service: Service, use: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connectDatabase({ ...loadServiceConfig(service, process.env).database, max: 1 });
  try {
    return await use(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

interface SlotRow {
  active: boolean;
  walStatus: string | null;
  retainedBytes: number | null;
  lagBytes: number | null;
}

async function slotOf(sql: Sql, database: string): Promise<SlotRow | undefined> {
  const [slot] = await sql<SlotRow[]>`
    select active, wal_status,
           pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 as retained_bytes,
           pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 as lag_bytes
      from pg_replication_slots where slot_name = ${`outbox_${database}`}`;
  return slot;
}

async function rowCount(sql: Sql, table: string): Promise<number | undefined> {
  const [exists] = await sql`select to_regclass(${table}) as name`;
  if (!exists?.['name']) return undefined;
  const [{ count }] = await sql<[{ count: number }]>`select count(*)::int as count from ${sql(table)}`;
  return count;
}

async function databases(): Promise<void> {
  for (const service of services) {
    try {
      await withDatabase(service, async (sql) => {
        const outbox = service.outbox ? await rowCount(sql, 'outbox') : undefined;
        const processed = service.consumes.length > 0 ? await rowCount(sql, 'processed_events') : undefined;
        const tables = [
          outbox === undefined ? '' : `outbox ${outbox} rows`,
          processed === undefined ? '' : `processed_events ${processed} rows`,
        ]
          .filter(Boolean)
          .join(', ');
        if (service.outbox) {
          const slot = await slotOf(sql, service.database);
          const name = `slot outbox_${service.database}`;
          if (!slot) {
            await line(`${name.padEnd(24)} missing`, 'no slot: the connector is not streaming this outbox');
          } else {
            const text = `${name.padEnd(24)} ${slot.active ? 'active' : 'inactive'}, retains ${mib(slot.retainedBytes ?? 0)} WAL, connector lag ${mib(slot.lagBytes ?? 0)}, wal_status ${slot.walStatus}; ${tables}`;
            const problem =
              slot.walStatus === 'lost'
                ? 'the slot was invalidated: events written since are lost to CDC (docs/operations.md)'
                : (slot.retainedBytes ?? 0) > SLOT_WARN_BYTES
                  ? `retains more than ${mib(SLOT_WARN_BYTES)}`
                  : !slot.active
                    ? 'no connector is reading it'
                    : undefined;
            await line(text, problem);
          }
        } else if (tables) {
          await line(`${service.database.padEnd(24)} ${tables}`);
        }
        for (const check of sagaChecks[service.name] ?? []) {
          const { text, warning } = await check(sql);
          await line(`${service.name.padEnd(24)} ${text}`, warning);
        }
      });
    } catch (error) {
      await line(`${service.database.padEnd(24)} unreachable`, (error as Error).message);
    }
  }
}

async function kafkaFigures(): Promise<void> {
  await withAdmin(async (admin) => {
    for (const service of services.filter((candidate) => candidate.consumes.length > 0)) {
      const lag = await groupLag(admin, service.group, service.consumes);
      const text = `group ${service.group.padEnd(18)} lag ${lag} records`;
      await line(text, lag > BigInt(LAG_WARN_RECORDS) ? `more than ${LAG_WARN_RECORDS} records behind` : undefined);
    }
    // The dead-letter topic keeps everything; what asks for a look is what arrived lately.
    const all = await partitionOffsets(admin, DEAD_LETTER_TOPIC);
    const dayAgo = await admin.fetchTopicOffsetsByTimestamp(DEAD_LETTER_TOPIC, Date.now() - 86_400_000);
    const total = offsetsInUse(all);
    const recent = all.reduce((sum, p) => {
      const since = dayAgo.find((d) => d.partition === p.partition)?.offset;
      return sum + (since === undefined || since === '-1' ? 0n : p.high - BigInt(since));
    }, 0n);
    const text = `${DEAD_LETTER_TOPIC.padEnd(24)} ${total} dead letters, ${recent} in the last 24 h (make dlq SINCE=1d)`;
    await line(text, recent > 0n ? 'new dead letters wait for a look' : undefined);
  });
}

await runCommand('status', async () => {
  await databases();
  await kafkaFigures();
  return warnings.length > 0 ? 1 : 0;
});
