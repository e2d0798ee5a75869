// One sample of `make soak`: what could grow over months, read once from the running native
// stack. Each part is read on its own; one that cannot be read (Kafka restarting, a service
// gone) is recorded as missing with the reason, and the rest of the sample still counts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { services, type DatabaseName, type Sql } from '@shop/kit';
import { connectServiceDatabase, repositoryRoot, stackEndpoints } from '../harness/stack.ts';

export const stackHome = process.env['STACK_HOME'] ?? `${repositoryRoot}/.stack`;

export interface ComponentMemory {
  /** The process the pid file names; its descendants count too (PostgreSQL's backends). */
  pid: number;
  processes: number;
  rssBytes: number;
  /** Proportional set size: shared pages divided among their sharers (PostgreSQL's shared buffers count once). */
  pssBytes: number;
  /** A JVM's -Xmx, which its RSS approaches before it flattens. */
  heapLimitBytes?: number;
}

export interface Sample {
  at: number;
  /**
   * When it was due (the run's start plus a whole number of sampling intervals): what places it
   * in a load cycle and a comparison window, since a timer may fire a millisecond early and
   * `at` would then fall on the wrong side of a boundary. Absent in runs before 2026-12-07.
   */
  due?: number;
  /** What the load was doing when the sample was taken. */
  phase: 'load' | 'idle' | 'end';
  memory: Record<string, ComponentMemory>;
  /** Rows per service database; null where the table does not exist. */
  tables: Record<string, { outbox: number | null; processedEvents: number | null }>;
  slots: Record<string, { active: boolean; retainedBytes: number; unconfirmedBytes: number }>;
  /** Messages not yet committed, per consumer group, over all the partitions of its topics. */
  consumerLag: Record<string, number>;
  /** The soak's orders by state ("CONFIRMED", "CANCELLED TIMED_OUT", "PENDING"...). */
  orders: Record<string, number>;
  /** PENDING orders of the soak that the order deadline should have cancelled by now; null if the deadline is unknown. */
  overdue: number | null;
  /** Parts that could not be read, with the reason. */
  missing: string[];
}

interface ProcessInfo {
  pid: number;
  parent: number;
}

function processes(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      list.push({ pid: Number(entry), parent: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) });
    } catch {
      // The process ended while being read.
    }
  }
  return list;
}

function treeOf(root: number, all: ProcessInfo[]): number[] {
  const members = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!members.has(p.pid) && members.has(p.parent)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** A `/proc/<pid>/<file>` field in kB, as bytes; 0 when the process is gone or unreadable. */
function procKilobytes(pid: number, file: 'status' | 'smaps_rollup', field: 'VmRSS' | 'Pss'): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

function heapLimit(pid: number): number | undefined {
  try {
    const flag = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .map((arg) => /^-Xmx(\d+)([kmg])$/i.exec(arg))
      .find((match) => match !== null);
    if (!flag) return undefined;
    return Number(flag[1]) * 1024 ** ({ k: 1, m: 2, g: 3 } as const)[flag[2]!.toLowerCase() as 'k' | 'm' | 'g'];
  } catch {
    return undefined;
  }
}

/**
 * The native stack's processes by component: every `.stack/run/<name>.pid` (Kafka, Connect,
 * the registry, the services) and PostgreSQL's postmaster. A pid file names a session leader
 * started by stack/bin/native; it is read again at every sample, so a restart shows as a new pid.
 */
export function componentPids(): Map<string, number> {
  const pids = new Map<string, number>();
  const postmaster = `${stackHome}/data/postgres/postmaster.pid`;
  if (existsSync(postmaster)) pids.set('postgres', Number(readFileSync(postmaster, 'utf8').split('\n')[0]));
  for (const file of readdirSync(`${stackHome}/run`).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(`${stackHome}/run/${file}`, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) pids.set(file.slice(0, -'.pid'.length), pid);
  }
  return pids;
}

export function memoryOf(pids: Map<string, number>): Record<string, ComponentMemory> {
  const all = processes();
  const memory: Record<string, ComponentMemory> = {};
  for (const [name, pid] of pids) {
    const tree = treeOf(pid, all);
    const rssBytes = tree.reduce((sum, p) => sum + procKilobytes(p, 'status', 'VmRSS'), 0);
    // Gone, or exiting (a zombie has no RSS): no figure rather than a zero.
    if (rssBytes === 0) continue;
    const heap = heapLimit(pid);
    memory[name] = {
      pid,
      processes: tree.length,
      rssBytes,
      pssBytes: tree.reduce((sum, p) => sum + procKilobytes(p, 'smaps_rollup', 'Pss'), 0),
      ...(heap === undefined ? {} : { heapLimitBytes: heap }),
    };
  }
  return memory;
}

/** The service databases, with a pool each, and the tables each of them has. */
export class Sampler {
  private readonly databases = new Map<string, Sql>();
  private readonly tablesOf = new Map<string, { outbox: boolean; processedEvents: boolean }>();
  private readonly admin: Admin;
  private readonly groups = services.filter((s) => s.consumes.length > 0).map((s) => ({ group: s.group, topics: s.consumes }));
  private readonly customerIds: string[];
  private readonly overdueAfterMs: number | undefined;

  /** `overdueAfterMs`: the age past which a PENDING order should have been cancelled TIMED_OUT. */
  constructor(customerIds: string[], overdueAfterMs: number | undefined) {
    this.customerIds = customerIds;
    this.overdueAfterMs = overdueAfterMs;
    for (const database of new Set(services.map((s) => s.database))) {
      this.databases.set(database, connectServiceDatabase(database as DatabaseName, 1));
    }
    const kafka = new Kafka({ clientId: 'soak', brokers: stackEndpoints().kafkaBrokers, logLevel: logLevel.NOTHING });
    this.admin = kafka.admin();
  }

  private get orders(): Sql {
    return this.databases.get('orders')!;
  }

  async open(): Promise<void> {
    await this.admin.connect();
    for (const [database, sql] of this.databases) {
      const [row] = await sql<{ outbox: boolean; processedEvents: boolean }[]>`
        select to_regclass('outbox') is not null as outbox, to_regclass('processed_events') is not null as processed_events`;
      this.tablesOf.set(database, row!);
    }
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
    await Promise.all([...this.databases.values()].map((sql) => sql.end()));
  }

  async take(phase: Sample['phase'], due?: number): Promise<Sample> {
    const missing: string[] = [];
    const attempt = async <T>(part: string, read: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await read();
      } catch (error) {
        missing.push(`${part}: ${error instanceof Error ? error.message : String(error)}`);
        return fallback;
      }
    };
    const at = Date.now();
    const memory = memoryOf(componentPids());
    const tables: Sample['tables'] = {};
    for (const [database, sql] of this.databases) {
      const has = this.tablesOf.get(database)!;
      tables[database] = await attempt(
        `${database} tables`,
        async () => {
          const count = async (table: string) => (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`)[0]!.n;
          return {
            outbox: has.outbox ? await count('outbox') : null,
            processedEvents: has.processedEvents ? await count('processed_events') : null,
          };
        },
        { outbox: null, processedEvents: null },
      );
    }
    const slots = await attempt(
      'replication slots',
      async () => {
        // pg_replication_slots is readable by every role; numeric byte counts come back as float8.
        const rows = await this.orders<{ slotName: string; active: boolean; retained: number | null; unconfirmed: number | null }[]>`
          select slot_name, active,
            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 as retained,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 as unconfirmed
          from pg_replication_slots order by slot_name`;
        return Object.fromEntries(
          rows.map((r) => [r.slotName, { active: r.active, retainedBytes: r.retained ?? 0, unconfirmedBytes: r.unconfirmed ?? 0 }]),
        );
      },
      {},
    );
    const consumerLag = await attempt('consumer lag', () => this.consumerLag(), {});
    const { orders, overdue } = await attempt('orders', () => this.orderStates(), { orders: {}, overdue: null });
    return { at, ...(due === undefined ? {} : { due }), phase, memory, tables, slots, consumerLag, orders, overdue, missing };
  }

  /** Each group's committed offsets against its topics' ends (a partition never committed counts from its start). */
  private async consumerLag(): Promise<Record<string, number>> {
    const topics = [...new Set(this.groups.flatMap((g) => g.topics))];
    const ends = new Map<string, { low: bigint; high: bigint }>();
    for (const topic of topics) {
      for (const p of await this.admin.fetchTopicOffsets(topic))
        ends.set(`${topic}/${p.partition}`, { low: BigInt(p.low), high: BigInt(p.high) });
    }
    const lag: Record<string, number> = {};
    for (const { group, topics: own } of this.groups) {
      let total = 0n;
      for (const { topic, partitions } of await this.admin.fetchOffsets({ groupId: group, topics: own })) {
        for (const { partition, offset } of partitions) {
          const end = ends.get(`${topic}/${partition}`);
          if (!end) continue;
          const committed = BigInt(offset) < 0n ? end.low : BigInt(offset);
          if (end.high > committed) total += end.high - committed;
        }
      }
      lag[group] = Number(total);
    }
    return lag;
  }

  private async orderStates(): Promise<{ orders: Record<string, number>; overdue: number | null }> {
    const rows = await this.orders<{ state: string; n: number; overdue: number }[]>`
      select status || coalesce(' ' || cancel_reason, '') as state, count(*)::int as n,
        count(*) filter (where status = 'PENDING' and created_at < now() - ${`${this.overdueAfterMs ?? 0} milliseconds`}::interval)::int as overdue
      from orders where user_id = any(${this.customerIds}::uuid[]) group by 1`;
    return {
      orders: Object.fromEntries(rows.map((r) => [r.state, r.n])),
      overdue: this.overdueAfterMs === undefined ? null : rows.reduce((sum, r) => sum + r.overdue, 0),
    };
  }
}
