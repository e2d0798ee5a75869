// Whether each series of a soak stayed flat, in figures. After a warm-up (long enough for the
// pruning windows to have filled and started to empty), the mean and the maximum of an early
// window are compared with those of the last window of the run. Both windows span the same
// whole number of load cycles (load + idle), so each sees the same mix of busy and quiet
// minutes.
import type { Sample } from './sample.ts';

export type Unit = 'bytes' | 'rows' | 'messages';

export interface Series {
  name: string;
  unit: Unit;
  points: { at: number; value: number }[];
  /** Restarts seen during the run (a new pid), which reset what a process holds. */
  notes: string[];
}

export interface Tolerance {
  /** The late window may exceed the early one by this fraction... */
  relative: number;
  /** ...plus this much, per unit, so that small absolute wobbles do not count as growth. */
  floor: Record<Unit, number>;
}

export const TOLERANCE: Tolerance = {
  relative: 0.1,
  // 16 MiB: also one WAL segment, the unit in which PostgreSQL releases WAL.
  floor: { bytes: 16 * 2 ** 20, rows: 100, messages: 100 },
};

export interface Plan {
  /** When the first load cycle began (the first sample). */
  startedAt: number;
  durationMs: number;
  warmupMs: number;
  cycleMs: number;
}

export interface Window {
  /** Offsets from the start, [from, to). */
  fromMs: number;
  toMs: number;
}

export interface WindowStats {
  samples: number;
  mean: number;
  max: number;
}

export interface Judgement {
  series: Series;
  first?: number;
  last?: number;
  max?: number;
  early?: WindowStats;
  late?: WindowStats;
  /** Least-squares slope over the samples after the warm-up, per hour. */
  slopePerHour?: number;
  /** undefined: not judged, for `reason`. */
  flat: boolean | undefined;
  reason?: string;
}

/**
 * The early and late windows: each a quarter of the time after the warm-up, rounded down to
 * whole load cycles (at least one); the early one starts at the first cycle boundary after the
 * warm-up, the late one ends with the run. None when the run is too short for two of them.
 */
export function comparisonWindows(plan: Plan): { early: Window; late: Window } | undefined {
  const { durationMs, warmupMs, cycleMs } = plan;
  const length = Math.max(1, Math.floor((durationMs - warmupMs) / 4 / cycleMs)) * cycleMs;
  const earlyFrom = Math.ceil(warmupMs / cycleMs) * cycleMs;
  const early = { fromMs: earlyFrom, toMs: earlyFrom + length };
  const late = { fromMs: durationMs - length, toMs: durationMs };
  return early.toMs <= late.fromMs ? { early, late } : undefined;
}

/** Every series the samples hold, by name. */
export function seriesOf(samples: Sample[]): Series[] {
  const series = new Map<string, Series>();
  const add = (name: string, unit: Unit, at: number, value: number | null | undefined) => {
    if (value === null || value === undefined) return;
    const entry = series.get(name) ?? { name, unit, points: [], notes: [] };
    entry.points.push({ at, value });
    series.set(name, entry);
  };
  for (const s of samples) {
    const at = s.due ?? s.at;
    for (const [component, m] of Object.entries(s.memory)) add(`RSS ${component}`, 'bytes', at, m.rssBytes);
    if (s.memory['postgres']) add('PSS postgres', 'bytes', at, s.memory['postgres'].pssBytes);
    for (const [database, t] of Object.entries(s.tables)) {
      add(`outbox rows (${database})`, 'rows', at, t.outbox);
      add(`processed_events rows (${database})`, 'rows', at, t.processedEvents);
    }
    for (const [slot, w] of Object.entries(s.slots)) {
      add(`WAL retained by slot ${slot}`, 'bytes', at, w.retainedBytes);
      add(`WAL not confirmed by slot ${slot}`, 'bytes', at, w.unconfirmedBytes);
    }
    for (const [group, lag] of Object.entries(s.consumerLag)) add(`consumer lag (${group})`, 'messages', at, lag);
  }
  // A new pid for a component since the last sample that read it (one that missed it in
  // between counts too): its memory series start afresh there, PostgreSQL's PSS included.
  const lastSeen = new Map<string, { pid: number; at: number }>();
  for (const s of samples) {
    for (const [component, m] of Object.entries(s.memory)) {
      const before = lastSeen.get(component);
      if (before !== undefined && before.pid !== m.pid) {
        const note = `restarted between ${new Date(before.at).toISOString()} and ${new Date(s.at).toISOString()} (pid ${before.pid} → ${m.pid})`;
        series.get(`RSS ${component}`)?.notes.push(note);
        if (component === 'postgres') series.get('PSS postgres')?.notes.push(note);
      }
      lastSeen.set(component, { pid: m.pid, at: s.at });
    }
  }
  return [...series.values()];
}

function stats(values: number[]): WindowStats | undefined {
  if (values.length === 0) return undefined;
  return { samples: values.length, mean: values.reduce((sum, v) => sum + v, 0) / values.length, max: Math.max(...values) };
}

function slope(points: { at: number; value: number }[]): number | undefined {
  if (points.length < 2) return undefined;
  const meanX = points.reduce((sum, p) => sum + p.at, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.value, 0) / points.length;
  const sxx = points.reduce((sum, p) => sum + (p.at - meanX) ** 2, 0);
  if (sxx === 0) return undefined;
  const sxy = points.reduce((sum, p) => sum + (p.at - meanX) * (p.value - meanY), 0);
  return (sxy / sxx) * 3_600_000;
}

export function judge(series: Series, plan: Plan, tolerance: Tolerance = TOLERANCE): Judgement {
  const values = series.points.map((p) => p.value);
  const offset = (at: number) => at - plan.startedAt;
  const windows = comparisonWindows(plan);
  const within = (w: Window) => series.points.filter((p) => offset(p.at) >= w.fromMs && offset(p.at) < w.toMs).map((p) => p.value);
  const early = windows && stats(within(windows.early));
  const late = windows && stats(within(windows.late));
  const perHour = slope(series.points.filter((p) => offset(p.at) >= plan.warmupMs));
  const allowed = (base: number) => base * (1 + tolerance.relative) + tolerance.floor[series.unit];
  // A restart empties what the process held: the windows would compare two different processes.
  const reason =
    series.notes.length > 0 ? 'restarted during the run' : !windows ? 'run too short for two windows after the warm-up' : undefined;
  return {
    series,
    ...(values.length > 0 ? { first: values[0]!, last: values.at(-1)!, max: Math.max(...values) } : {}),
    ...(early ? { early } : {}),
    ...(late ? { late } : {}),
    ...(perHour === undefined ? {} : { slopePerHour: perHour }),
    ...(reason
      ? { flat: undefined, reason }
      : early && late
        ? { flat: late.mean <= allowed(early.mean) && late.max <= allowed(early.max) }
        : { flat: undefined, reason: 'no sample in a window' }),
  };
}
