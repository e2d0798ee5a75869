/**
 * What became of a part handed to a gathering: applied with the others in one go, or to be
 * applied by its caller on its own (`alone`: nothing else came, or it shares a key with a
 * part taken before it; `failed`: the joint attempt failed and changed nothing, and the
 * caller's own rules sort out which message is to blame).
 */
export type GatheredOutcome = 'applied' | 'alone' | 'failed';

export interface GatheringOptions<Part> {
  /**
   * The keys a part holds: a part that holds a key of one taken before it (in arrival order)
   * may not share the attempt.
   */
  keysOf: (part: Part) => Iterable<string>;
  /** Applies the parts together; returns whether it applied them all. It must not throw. */
  applyTogether: (parts: Part[]) => Promise<boolean>;
}

interface Waiting<Part> {
  part: Part;
  settle: (outcome: GatheredOutcome) => void;
}

/**
 * Gathers the parts that arrive in the same turn of the event loop into one joint attempt.
 * kafkajs hands the batches of one fetch to its `partitionsConsumedConcurrently` workers at
 * once, each in its own eachBatch call; gathered, the partitions' batches share one database
 * transaction instead of paying a commit each, and the fetch's records wait for one
 * transaction rather than for the slowest of several competing for the same two cores.
 *
 * The attempt starts once the event loop has run what was due (setImmediate), so it adds no
 * wait of its own. A part that shares a key with one taken before it is given back at once;
 * one that arrives while an attempt runs opens the next gathering.
 */
export class Gathering<Part> {
  private open: Waiting<Part>[] | undefined;
  private readonly options: GatheringOptions<Part>;

  constructor(options: GatheringOptions<Part>) {
    this.options = options;
  }

  join(part: Part): Promise<GatheredOutcome> {
    return new Promise((settle) => {
      if (this.open) {
        this.open.push({ part, settle });
        return;
      }
      this.open = [{ part, settle }];
      setImmediate(() => void this.attempt());
    });
  }

  private async attempt(): Promise<void> {
    const waiting = this.open ?? [];
    this.open = undefined;
    const taken: Waiting<Part>[] = [];
    const takenKeys = new Set<string>();
    for (const entry of waiting) {
      const keys = [...this.options.keysOf(entry.part)];
      if (keys.some((key) => takenKeys.has(key))) {
        entry.settle('alone');
        continue;
      }
      taken.push(entry);
      for (const key of keys) takenKeys.add(key);
    }
    if (taken.length === 1) {
      taken[0]!.settle('alone');
      return;
    }
    const outcome = (await this.options.applyTogether(taken.map(({ part }) => part))) ? 'applied' : 'failed';
    for (const entry of taken) entry.settle(outcome);
  }
}
