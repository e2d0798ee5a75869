/**
 * Applies a batch's events in their order for each key, the events of up to `parallel`
 * different keys at once (1: all one after the other). The first failure stops its key and
 * keeps further keys from starting, but it is thrown only once every key under way has
 * finished: nothing may still be writing through a transaction that is being rolled back.
 */
export async function applyByKey<E>(
  events: E[],
  keyOf: (event: E) => string,
  parallel: number,
  apply: (event: E) => Promise<void>,
): Promise<void> {
  if (parallel <= 1) {
    for (const event of events) await apply(event);
    return;
  }
  const byKey = new Map<string, E[]>();
  for (const event of events) {
    const key = keyOf(event);
    const group = byKey.get(key);
    if (group) group.push(event);
    else byKey.set(key, [event]);
  }
  const waiting = [...byKey.values()];
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let group = waiting.shift(); group !== undefined && failure === undefined; group = waiting.shift()) {
      for (const event of group) {
        try {
          await apply(event);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, waiting.length) }, worker));
  if (failure) throw failure.error;
}
