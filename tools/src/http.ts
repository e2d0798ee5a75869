// What the commands that ask the stack's HTTP components (make rotate-keys, make trace) share.

/**
 * A request to one of the stack's HTTP components (a service, Zipkin) that gives up after 10 s
 * and, when nothing answers, says which component at which address, not just "fetch failed".
 */
export async function fetchFrom(component: string, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new Error(`${component} at ${new URL(url).origin} does not answer (${reason}); is the stack up? make status`, { cause: error });
  }
}
