// postgres.js against a PostgreSQL that dies at once (SIGKILL of the postmaster and every
// backend, as `make chaos` does to the stack's): every query that was running, queued in a
// reservation or a transaction, or sent to the dead connection afterwards must reject with a
// connection error the consumer waits out, none may hang, nothing may be thrown from a timer
// (porsager/postgres#1154, #1208: an uncaught TypeError killed payment-svc), and the pool must
// serve queries on every connection once the server is back. patches/postgres+3.4.10.patch is
// what makes this pass.
//
// The server is a private throwaway cluster on a free port, never the stack's: it is killed.
// PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` account
// (PG_OS_USER), as in stack/bin/native.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFailure, connectDatabase, type Sql } from '@shop/kit';

/** The newest server binaries, as stack/bin/lib.sh's pg_bin finds them. */
function pgBin(): string | undefined {
  if (!existsSync('/usr/lib/postgresql')) return undefined;
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((version) => existsSync(`/usr/lib/postgresql/${version}/bin/postgres`))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : `/usr/lib/postgresql/${newest}/bin`;
}

const bin = pgBin();
const asRoot = process.getuid?.() === 0;
const osUser = process.env['PG_OS_USER'] ?? 'postgres';

/** Runs a server binary as the cluster's owner (from /, which that account can enter). */
function asOwner(command: string, args: string[]): string {
  const [file, argv] = asRoot ? ['runuser', ['-u', osUser, '--', command, ...args]] : [command, args];
  return execFileSync(file, argv, { cwd: '/', encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The process ids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the command name (which may hold spaces): state, ppid, ...
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let home: string;
let data: string;
let port: number;

function startServer(): void {
  asOwner(`${bin}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(home, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${home} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
}

/** SIGKILL for the postmaster and all its children at once: no shutdown, no goodbye to clients. */
function killServer(): void {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const processes = [postmaster, ...childrenOf(postmaster)];
  for (const pid of processes) process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (processes.some(alive)) {
    if (Date.now() > deadline) throw new Error('the killed server is still running');
    execFileSync('sleep', ['0.05']);
  }
}

interface Outcome {
  state: 'fulfilled' | 'rejected' | 'pending';
  code?: unknown;
  error?: unknown;
}

/** How a promise stands after at most `ms`: a query that is still pending by then hangs. */
async function within(ms: number, promise: Promise<unknown>): Promise<Outcome> {
  return Promise.race([
    promise.then(
      (): Outcome => ({ state: 'fulfilled' }),
      (error: unknown): Outcome => ({ state: 'rejected', code: (error as { code?: unknown }).code, error }),
    ),
    sleep(ms).then((): Outcome => ({ state: 'pending' })),
  ]);
}

const CONNECTION_ERRORS = ['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'ECONNRESET', 'EPIPE'];

/** Each outcome next to what it must be, in one comparison so that a failure shows them all. */
function expectConnectionErrors(outcomes: [string, Outcome][]): void {
  const seen = outcomes.map(([name, { state, code, error }]) => ({
    name,
    state,
    code,
    // The consumer waits such a failure out instead of dead-lettering the event.
    kind: error === undefined ? undefined : classifyFailure(error),
  }));
  const wanted = outcomes.map(([name]) => ({ name, state: 'rejected', code: expect.toBeOneOf(CONNECTION_ERRORS), kind: 'infrastructure' }));
  expect(seen).toEqual(wanted);
}

const POOL_SIZE = 3;
let sql: Sql;
let admin: Sql;
const uncaught: unknown[] = [];
const recordUncaught = (error: unknown) => void uncaught.push(error);

const connect = (max: number): Sql =>
  // trust authentication: the password is never asked for.
  connectDatabase({ host: '127.0.0.1', port, database: 'postgres', username: 'postgres', password: 'unused', max });

describe.skipIf(bin === undefined)('postgres.js when its PostgreSQL is killed', () => {
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'shop-pg-crash-'));
    data = join(home, 'data');
    if (asRoot) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, osUser], { encoding: 'utf8' }).trim()));
      chownSync(home, uid!, gid!);
    }
    asOwner(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
    process.on('uncaughtException', recordUncaught);
  }, 120_000);

  afterAll(async () => {
    process.off('uncaughtException', recordUncaught);
    await Promise.all([sql?.end({ timeout: 1 }), admin?.end({ timeout: 1 })]);
    if (home === undefined) return;
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        asOwner(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone.
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('rejects running, queued and later queries with a connection error, throws nothing and hangs nothing', async () => {
    port = await freePort();
    startServer();
    sql = connect(POOL_SIZE);
    admin = connect(1);

    const reserved = await sql.reserve();
    await reserved`select 1`;
    // A parameter makes postgres.js describe the statement first, which marks the connection
    // full: the next query of the reservation waits in the reservation's own queue.
    const reservedRunning = reserved`select pg_sleep(${30})`;
    const reservedQueued = reserved`select 1 as queued`;
    const plain = sql`select pg_sleep(30)`;
    const inTransaction: Promise<unknown>[] = [];
    const transaction = sql.begin(async (tx) => {
      await tx`select 1`;
      inTransaction.push(tx`select pg_sleep(${30})`, tx`select 2 as queued`);
      await Promise.all(inTransaction);
    });
    for (const query of [reservedRunning, reservedQueued, plain, transaction]) query.catch(() => undefined);

    const deadline = Date.now() + 20_000;
    for (;;) {
      const [{ sleeping }] = await admin<[{ sleeping: number }]>`
        select count(*)::int as sleeping from pg_stat_activity where query like 'select pg_sleep(%' and state = 'active'`;
      if (sleeping === 3) break;
      if (Date.now() > deadline) throw new Error(`expected 3 sleeping queries, found ${sleeping}`);
      await sleep(50);
    }
    // They settle before the outcomes below are read: handled now, not reported as unhandled.
    for (const query of inTransaction) query.catch(() => undefined);

    killServer();
    const outcomes: [string, Outcome][] = [
      ['the running query of a reserved connection', await within(5_000, reservedRunning)],
      ['a query queued on the reserved connection', await within(1_000, reservedQueued)],
      ['a pooled query', await within(1_000, plain)],
      ['the running query of a transaction', await within(1_000, inTransaction[0]!)],
      ['a query queued in the transaction', await within(1_000, inTransaction[1]!)],
      ['the transaction', await within(1_000, transaction)],
    ];
    // A query sent to the reserved connection after it closed: upstream it is written from a
    // timer to a socket that is gone (the TypeError of #1154); dropping it instead would hang.
    outcomes.push(['a query sent to the reserved connection after it closed', await within(2_000, reserved`select 3`)]);
    reserved.release();
    // Anything a timer would still throw comes within a few event-loop turns.
    await sleep(500);

    expectConnectionErrors(outcomes);
    expect(uncaught).toEqual([]);
  });

  it('serves queries on every pooled connection once the server is back, and ends without waiting for the dead ones', async () => {
    startServer();
    // Every connection of the pool at once, the one that was reserved included: a dead
    // connection handed back to the pool as open would fail one of them.
    const answers = await Promise.all(
      Array.from({ length: POOL_SIZE }, () => sql<[{ pid: number }]>`select pg_backend_pid() as pid, pg_sleep(0.3)`),
    );
    expect(new Set(answers.map(([row]) => row.pid)).size).toBe(POOL_SIZE);
    const reserved = await sql.reserve();
    expect(await reserved<[{ n: number }]>`select ${4}::int as n`).toEqual([{ n: 4 }]);
    reserved.release();
    expect(await sql.begin((tx) => tx<[{ n: number }]>`select 5 as n`)).toEqual([{ n: 5 }]);

    // Without a timeout: a connection that still believed a query was in flight would make
    // end() wait forever (porsager/postgres#1142).
    expect(await within(5_000, sql.end())).toEqual({ state: 'fulfilled' });
    expect(uncaught).toEqual([]);
  });

  it("does not hand a terminated backend's last error to the first query of the connection that replaces it", async () => {
    // The backend's FATAL arrives while its query is running; the socket closes right after.
    // Upstream keeps that error and fails the new connection's first query with it
    // (porsager/postgres#1223): under load, a killed server's backend that outlived the
    // postmaster by a moment did this to the test above.
    const single = connect(1);
    const running = single`select pg_sleep(30)`;
    running.catch(() => undefined);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [{ terminated }] = await admin<[{ terminated: number }]>`
        select count(pg_terminate_backend(pid))::int as terminated from pg_stat_activity
        where query = 'select pg_sleep(30)' and state = 'active'`;
      if (terminated === 1) break;
      if (Date.now() > deadline) throw new Error('the sleeping query never started');
      await sleep(50);
    }
    expect(await within(5_000, running)).toMatchObject({ state: 'rejected' });
    expect(await within(5_000, single<[{ n: number }]>`select 6 as n`)).toEqual({ state: 'fulfilled' });
    await single.end();
    expect(uncaught).toEqual([]);
  });
});
