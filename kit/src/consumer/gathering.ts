/**
 * What became of a part handed to a gathering: applied with the others in one go, or to be
 * applied by its caller on its own (`alone`: nothing else came; `failed`: the joint attempt
 * failed and changed nothing, and the caller's own rules sort out which message is to blame).
 */
export type GatheredOutcome = 'applied' | 'alone' | 'failed';

/**
 * Gathers the parts that arrive in the same turn of the event loop into one joint attempt.
 * kafkajs hands the batches of one fetch to its `partitionsConsumedConcurrently` workers at
 * once, each in its own eachBatch call; gathered, the partitions' batches share one database
 * transaction instead of paying a commit each, and the fetch's records wait for one
 * transaction rather than for the slowest of several competing for the same two cores.
 *
 * The attempt starts once the event loop has run what was due (setImmediate), so it adds no
 * wait of its own. A part that arrives while an attempt runs opens the next gathering.
 */
export class Gathering<Part> {
  private open: { parts: Part[]; outcome: Promise<GatheredOutcome> } | undefined;
  private readonly applyTogether: (parts: Part[]) => Promise<boolean>;

  /** `applyTogether` returns whether it applied every part; it must not throw. */
  constructor(applyTogether: (parts: Part[]) => Promise<boolean>) {
    this.applyTogether = applyTogether;
  }

  join(part: Part): Promise<GatheredOutcome> {
    if (this.open) {
      this.open.parts.push(part);
      return this.open.outcome;
    }
    const parts = [part];
    const outcome = new Promise<void>((resolve) => setImmediate(resolve)).then(async (): Promise<GatheredOutcome> => {
      this.open = undefined;
      if (parts.length === 1) return 'alone';
      return (await this.applyTogether(parts)) ? 'applied' : 'failed';
    });
    this.open = { parts, outcome };
    return outcome;
  }
}
