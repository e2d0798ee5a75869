// Memory and CPU of every component of the native stack, sampled from /proc. A component is
// its process and all its descendants (PostgreSQL's backends and WAL senders belong to the
// postmaster). Memory is the proportional set size (PSS): resident memory with each shared
// page divided among the processes sharing it, so that PostgreSQL's shared buffers count once
// for the cluster, not once per backend. Reading PSS makes the kernel walk each process's page
// tables: about 150 ms of CPU for the whole stack, so memory is sampled every few seconds and
// CPU (cheap) every second; sampled each second, PSS alone took 15% of a core of this 2-core
// machine from the stack it measured. The files are read asynchronously: read in one go, they
// held the bench's event loop for 150 ms and more every few seconds, and the records its
// observer saw arrive meanwhile were timed that much late.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { services } from '@shop/kit';
import { repositoryRoot } from '../harness/stack.ts';

const CLOCK_TICKS_PER_SECOND = 100;

interface ResourceSample {
  /** Undefined where memory was not sampled. */
  pssBytes: number | undefined;
}

interface ProcessStat {
  pid: number;
  parent: number;
  cpuTicks: number;
}

/** PSS of one process; 0 if it ended or cannot be read. */
async function pssOf(pid: number): Promise<number> {
  try {
    const kb = /^Pss:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

async function processStats(): Promise<ProcessStat[]> {
  const stats: ProcessStat[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.push({
        pid: Number(entry),
        parent: Number(fields[1]),
        // utime + stime, and cutime + cstime: the time of its children that ended and were
        // reaped. Summed over a tree, each process counts once, alive or ended; without the
        // children's, a PostgreSQL backend that closed took its whole life's CPU out of the
        // window it closed in (an idle stack of -19%).
        cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // The process ended while being read.
    }
  }
  return stats;
}

/**
 * The whole machine's CPU by kind: what no process of the stack accounts for shows here, as
 * time in interrupts, as time taken by the hypervisor (steal) or as idle time.
 */
export interface MachineCpu {
  busy: number;
  softirq: number;
  steal: number;
  idle: number;
}

/** The machine's CPU time in clock ticks since boot (the first line of /proc/stat). */
function machineTicks(): MachineCpu {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: user + nice + system + irq, softirq, steal, idle: idle + iowait };
}

/**
 * What a PostgreSQL process is, from its title (`postgres: orders orders 127.0.0.1(5432) idle`,
 * `postgres: walsender cdc 127.0.0.1(5433) START_REPLICATION`, `postgres: checkpointer`, with
 * the cluster's name after `postgres:` when it has one): a backend of one database, a WAL
 * sender (one per CDC connector, each decoding the whole cluster's WAL), autovacuum, the other
 * background processes, or the postmaster (which also holds what backends that ended spent after the last
 * sample that saw them: creditKinds).
 */
export function postgresProcessKind(title: string): string {
  const words = title.replace(/^postgres: (?:[^:\s]+: )?/, '').split(/\s+/);
  if (!title.startsWith('postgres: ')) return 'postmaster';
  if (words[0] === 'walsender') return 'WAL senders';
  if (words[0] === 'autovacuum' && words[1] === 'worker') return 'autovacuum';
  if (/^\S+\(\d+\)$/.test(words[2] ?? '') || words[2] === '[local]') return `backends: ${words[1]}`;
  return 'background';
}

/** A thread's time on a core and waiting in the run queue for one, since it started, in ns. */
export interface SchedTimes {
  runNs: number;
  waitNs: number;
}

/**
 * Each thread of the given processes, by thread id, with its times from `schedstat`. Read
 * only at a window's two ends: the stack has some 800 threads, too many to read every second.
 */
async function schedTimesOf(pids: Iterable<number>): Promise<Map<number, SchedTimes>> {
  const threads = new Map<number, SchedTimes>();
  for (const pid of pids) {
    try {
      for (const tid of await readdir(`/proc/${pid}/task`)) {
        const [runNs = 0, waitNs = 0] = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ').map(Number);
        threads.set(Number(tid), { runNs, waitNs });
      }
    } catch {
      // The process or thread ended while being read.
    }
  }
  return threads;
}

/** What a component's threads ran, and waited runnable for a core, over a window, in ms. */
export interface RunQueueTimes {
  runMs: number;
  waitMs: number;
}

/**
 * What a component's threads ran and waited for a core between two readings, in ms: a thread
 * read at both counts its difference, one that started since counts whole, and one that
 * ended since (read at the start only) is missed.
 */
export function runQueueBetween(start: Map<number, SchedTimes>, end: Map<number, SchedTimes>): RunQueueTimes {
  let [runNs, waitNs] = [0, 0];
  for (const [tid, times] of end) {
    runNs += times.runNs - (start.get(tid)?.runNs ?? 0);
    waitNs += times.waitNs - (start.get(tid)?.waitNs ?? 0);
  }
  return { runMs: runNs / 1e6, waitMs: waitNs / 1e6 };
}

/** A process's title (its command line, which PostgreSQL rewrites); empty if it ended. */
async function titleOf(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function descendantsOf(roots: number[], stats: ProcessStat[]): Set<number> {
  const members = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!members.has(s.pid) && members.has(s.parent)) {
        members.add(s.pid);
        grew = true;
      }
    }
  }
  return members;
}

/** Samples the named process trees every `intervalMs` until stopped. */
export class ResourceSampler {
  private readonly roots: Map<string, number>;
  private readonly samples = new Map<string, ResourceSample[]>();
  private previous = new Map<string, { ticks: number; at: number }>();
  /** Each component's CPU ticks at the first sample: its mean over the window is measured from there. */
  private first = new Map<string, { ticks: number; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  /** The samples under way, one after the other: a slow one delays the next rather than overlapping it. */
  private sampling: Promise<void> = Promise.resolve();
  private memoryEvery = 1;
  private count = 0;
  private machineAtStart: { ticks: MachineCpu; at: number } | undefined;
  /** The machine's CPU between start and stop, in % of one core (they add up to the cores × 100), once stopped. */
  machine: MachineCpu | undefined;
  /** The component whose CPU is also told by kind of process, and how a process's title names its kind. */
  private readonly breakDown: { component: string; kindOf: (title: string) => string } | undefined;
  /** Per process of that component: its kind, and its CPU ticks at the last sample. */
  private processes = new Map<number, { kind: string; ticks: number }>();
  private ticksByKind = new Map<string, number>();
  /** The broken-down component's CPU between the first sample and stop, by kind of process, in % of one core, once stopped. */
  kinds: Record<string, number> | undefined;
  /** Each component's threads at the window's start, for runQueue. */
  private threadsAtStart = new Map<string, Map<number, SchedTimes>>();
  /**
   * Per component, over the window, once stopped: the ms its threads ran and the ms they were
   * runnable but waited for a core (the run queue). A thread that started within the window
   * counts from its start; one that ended within it is missed.
   */
  runQueue: Record<string, RunQueueTimes> | undefined;

  constructor(roots: Map<string, number>, breakDown?: { component: string; kindOf: (title: string) => string }) {
    this.roots = roots;
    this.breakDown = breakDown;
  }

  start(intervalMs = 1000, memoryIntervalMs = 5000): void {
    this.memoryEvery = Math.max(1, Math.round(memoryIntervalMs / intervalMs));
    this.count = 0;
    this.machineAtStart = { ticks: machineTicks(), at: Date.now() };
    this.sampling = this.sample(true).then(async () => {
      this.threadsAtStart = await this.threadsByComponent();
    });
    this.timer = setInterval(() => {
      const withMemory = ++this.count % this.memoryEvery === 0;
      this.sampling = this.sampling.then(() => this.sample(withMemory));
    }, intervalMs);
  }

  /** Stops and returns each component's mean CPU and peak memory (PSS) over the sampled period. */
  async stop(): Promise<Map<string, { cpuPercent: number; peakPssBytes: number }>> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(true);
    // Unset if the window never started (its start was still in its warm-up).
    const threadsAtEnd = this.threadsAtStart.size > 0 ? await this.threadsByComponent() : new Map<string, Map<number, SchedTimes>>();
    const noThreads = new Map<number, SchedTimes>();
    this.runQueue =
      threadsAtEnd.size > 0
        ? Object.fromEntries(
            [...threadsAtEnd].map(([name, threads]) => [name, runQueueBetween(this.threadsAtStart.get(name) ?? noThreads, threads)]),
          )
        : undefined;
    this.threadsAtStart.clear();
    if (this.machineAtStart) {
      const { ticks: before, at } = this.machineAtStart;
      const after = machineTicks();
      const seconds = (Date.now() - at) / 1000;
      const percent = (kind: keyof MachineCpu) => Math.round(((after[kind] - before[kind]) / CLOCK_TICKS_PER_SECOND / seconds) * 100);
      this.machine = { busy: percent('busy'), softirq: percent('softirq'), steal: percent('steal'), idle: percent('idle') };
    }
    const component = this.breakDown?.component ?? '';
    const [since, last] = [this.first.get(component)?.at, this.previous.get(component)?.at];
    if (since !== undefined && last !== undefined && last > since) {
      const seconds = (last - since) / 1000;
      this.kinds = Object.fromEntries(
        [...this.ticksByKind].map(([kind, ticks]) => [kind, (ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100]),
      );
    }
    this.processes.clear();
    this.ticksByKind.clear();
    const summary = new Map<string, { cpuPercent: number; peakPssBytes: number }>();
    for (const [name, samples] of this.samples) {
      // The window's ticks over its length, not the mean of the samples' percentages: under
      // load the samples bunch (one waits for the last), and a mean of unequal intervals
      // weighed the short ones as much as the long (PostgreSQL at 80% of a core where its
      // processes' ticks gave 53%).
      const [from, to] = [this.first.get(name), this.previous.get(name)];
      const cpuPercent =
        from && to && to.at > from.at ? ((to.ticks - from.ticks) / CLOCK_TICKS_PER_SECOND / ((to.at - from.at) / 1000)) * 100 : 0;
      summary.set(name, {
        cpuPercent,
        peakPssBytes: Math.max(0, ...samples.map((s) => s.pssBytes ?? 0)),
      });
    }
    this.samples.clear();
    this.previous.clear();
    this.first.clear();
    return summary;
  }

  private async threadsByComponent(): Promise<Map<string, Map<number, SchedTimes>>> {
    const stats = await processStats();
    const byComponent = new Map<string, Map<number, SchedTimes>>();
    for (const [name, root] of this.roots) byComponent.set(name, await schedTimesOf(descendantsOf([root], stats)));
    return byComponent;
  }

  private async sample(withMemory: boolean): Promise<void> {
    const stats = await processStats();
    const now = Date.now();
    for (const [name, root] of this.roots) {
      const members = descendantsOf([root], stats);
      const tree = stats.filter((s) => members.has(s.pid));
      const ticks = tree.reduce((sum, s) => sum + s.cpuTicks, 0);
      this.previous.set(name, { ticks, at: now });
      if (!this.first.has(name)) this.first.set(name, { ticks, at: now });
      const list = this.samples.get(name) ?? [];
      let pssBytes: number | undefined;
      if (withMemory) {
        pssBytes = 0;
        for (const member of tree) pssBytes += await pssOf(member.pid);
      }
      list.push({ pssBytes });
      this.samples.set(name, list);
      if (name === this.breakDown?.component) await this.sampleKinds(tree, now);
    }
  }

  /** Adds each process's CPU since the last sample to its kind (creditKinds). */
  private async sampleKinds(tree: ProcessStat[], now: number): Promise<void> {
    const first = this.first.get(this.breakDown!.component)?.at === now;
    const current: KindedProcess[] = [];
    for (const process of tree) {
      const kind = this.processes.get(process.pid)?.kind ?? this.breakDown!.kindOf(await titleOf(process.pid));
      current.push({ pid: process.pid, kind, ticks: process.cpuTicks });
    }
    const root = this.roots.get(this.breakDown!.component);
    const reaper = current.find((process) => process.pid === root)?.kind ?? 'postmaster';
    if (!first) creditKinds(this.ticksByKind, this.processes, current, reaper);
    this.processes = new Map(current.map(({ pid, kind, ticks }) => [pid, { kind, ticks }]));
  }
}

export interface KindedProcess {
  pid: number;
  kind: string;
  /** CPU ticks so far, its reaped children's included (/proc/<pid>/stat utime + stime + cutime + cstime). */
  ticks: number;
}

/**
 * Adds to `ticksByKind` each process's CPU between two samples. A process first seen in the
 * later one started between them and counts whole. One that ended between them loses its
 * last interval, and its whole life's CPU shows up in its parent's (the reaper's) reaped
 * children's ticks: what the earlier samples already credited to it is taken off the reaper,
 * so that the kinds add up to the component's own total and the reaper keeps only the rest.
 */
export function creditKinds(
  ticksByKind: Map<string, number>,
  before: ReadonlyMap<number, { kind: string; ticks: number }>,
  after: readonly KindedProcess[],
  reaperKind: string,
): void {
  const add = (kind: string, ticks: number) => ticksByKind.set(kind, (ticksByKind.get(kind) ?? 0) + ticks);
  const alive = new Set<number>();
  for (const { pid, kind, ticks } of after) {
    alive.add(pid);
    add(kind, ticks - (before.get(pid)?.ticks ?? 0));
  }
  for (const [pid, { ticks }] of before) if (!alive.has(pid)) add(reaperKind, -ticks);
}

/** Who is running, by pid: the native stack's pid files (a component is its whole process tree). */
export function componentRoots(): Map<string, number> {
  const roots = new Map<string, number>();
  const postmaster = `${repositoryRoot}/.stack/data/postgres/postmaster.pid`;
  if (existsSync(postmaster)) roots.set('postgres', Number(readFileSync(postmaster, 'utf8').split('\n')[0]));
  // Further instances (order-svc@2) have pid files of their own.
  const instances = readdirSync(`${repositoryRoot}/.stack/run`)
    .filter((file) => /@\d+\.pid$/.test(file))
    .map((file) => file.slice(0, -'.pid'.length));
  for (const name of ['kafka', 'connect', 'registry', 'zipkin', 'maildev', ...services.map((service) => service.name), ...instances]) {
    const file = `${repositoryRoot}/.stack/run/${name}.pid`;
    if (existsSync(file)) roots.set(name, Number(readFileSync(file, 'utf8').trim()));
  }
  return roots;
}

/** A sampler of every component, PostgreSQL's CPU also told by kind of process (backends per database, WAL senders, …). */
export const componentSampler = () => new ResourceSampler(componentRoots(), { component: 'postgres', kindOf: postgresProcessKind });
