// The load generator of `make bench`, run as its own process so that its timing is not
// disturbed by the benchmark's Kafka reader and samplers. Open loop (the rate steps): it offers
// POST /orders at a fixed rate whatever the answers do, and times each request from the moment
// it was due, not from when it could be sent (otherwise a slow system would also slow the load
// and hide its latency: coordinated omission). Closed loop (the peak, `clients` set): that many
// clients each send their next request as soon as the last is answered, as pgbench's do, which
// finds the most the service accepts however high that is.
//
// Input (JSON on stdin): GeneratorPlan. Output (JSON on stdout): GeneratorResult.
import http from 'node:http';

export interface GeneratorPlan {
  /** order-svc's instances, offered the requests in turn. */
  orderServiceUrls: string[];
  tokens: string[];
  productIds: string[];
  ratePerSecond: number;
  /** Closed loop instead: this many clients back to back, and no rate. */
  clients?: number;
  warmupMs: number;
  durationMs: number;
}

export interface RequestSample {
  /** Due time (closed loop: send time), ms since the epoch. */
  dueAt: number;
  /** Latency from due time to the complete answer, ms. */
  latencyMs: number;
  status: number;
  orderId?: string;
  measured: boolean;
}

export interface GeneratorResult {
  samples: RequestSample[];
  /** Requests that were due but could not be sent in time by this process (its own lag). */
  maxSendLagMs: number;
  /** The measured window (after the warm-up), ms since the epoch. */
  measuredFrom: number;
  measuredUntil: number;
  /**
   * This process's own CPU over the measured window, in % of one core: it shares the machine
   * with the stack it measures, and what it takes is not left to the stack.
   */
  cpuPercent: number;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// node:http rather than fetch (tests/harness/client.ts): at hundreds of requests per second the
// generator shares two cores with the system it measures, and node:http costs less per request.
function post(agent: http.Agent, url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        timeout: 30_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve({ status: 0, text: '' }));
    request.end(body);
  });
}

/** This process's CPU from `from` to `until` (ms since the epoch), in % of one core. */
function ownCpuPercent(from: number, until: number): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const before = process.cpuUsage();
      const startedAt = performance.now();
      setTimeout(() => {
        const { user, system } = process.cpuUsage(before);
        resolve(Math.round((user + system) / 10 / (performance.now() - startedAt)));
      }, until - Date.now());
    }, from - Date.now());
  });
}

const orderBody = (productId: string) => JSON.stringify({ items: [{ productId, quantity: 1 }], paymentToken: 'tok_ok' });

async function saturate(plan: GeneratorPlan, clients: number): Promise<GeneratorResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const urls = plan.orderServiceUrls.map((base) => new URL('/orders', base));
  const samples: RequestSample[] = [];
  const measuredFrom = Date.now() + plan.warmupMs;
  const end = measuredFrom + plan.durationMs;
  const cpuPercent = ownCpuPercent(measuredFrom, end);
  let next = 0;
  const client = async () => {
    while (Date.now() < end) {
      const n = next++;
      const sentAt = Date.now();
      const { status, text } = await post(
        agent,
        urls[n % urls.length]!,
        plan.tokens[n % plan.tokens.length]!,
        orderBody(plan.productIds[n % plan.productIds.length]!),
      );
      const sample: RequestSample = { dueAt: sentAt, latencyMs: Date.now() - sentAt, status, measured: sentAt >= measuredFrom };
      if (status === 202) sample.orderId = (JSON.parse(text) as { id: string }).id;
      samples.push(sample);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  agent.destroy();
  return { samples, maxSendLagMs: 0, measuredFrom, measuredUntil: end, cpuPercent: await cpuPercent };
}

async function generate(plan: GeneratorPlan): Promise<GeneratorResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const urls = plan.orderServiceUrls.map((base) => new URL('/orders', base));
  const samples: RequestSample[] = [];
  const pending: Promise<void>[] = [];
  const intervalMs = 1000 / plan.ratePerSecond;
  const start = Date.now() + 50;
  const end = start + plan.warmupMs + plan.durationMs;
  const cpuPercent = ownCpuPercent(start + plan.warmupMs, end);
  let maxSendLagMs = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now();
      for (let dueAt = start + next * intervalMs; dueAt <= now && dueAt < end; dueAt = start + ++next * intervalMs) {
        maxSendLagMs = Math.max(maxSendLagMs, now - dueAt);
        const measured = dueAt >= start + plan.warmupMs;
        const token = plan.tokens[next % plan.tokens.length]!;
        const productId = plan.productIds[next % plan.productIds.length]!;
        const body = orderBody(productId);
        const due = dueAt;
        pending.push(
          post(agent, urls[next % urls.length]!, token, body).then(({ status, text }) => {
            const sample: RequestSample = { dueAt: due, latencyMs: Math.round(Date.now() - due), status, measured };
            if (status === 202) sample.orderId = (JSON.parse(text) as { id: string }).id;
            samples.push(sample);
          }),
        );
      }
      if (start + next * intervalMs >= end) resolve();
      else setTimeout(tick, Math.max(0, Math.min(intervalMs, start + next * intervalMs - Date.now())));
    };
    setTimeout(tick, Math.max(0, start - Date.now()));
  });
  await Promise.all(pending);
  agent.destroy();
  return { samples, maxSendLagMs, measuredFrom: start + plan.warmupMs, measuredUntil: end, cpuPercent: await cpuPercent };
}

const plan = JSON.parse(await readStdin()) as GeneratorPlan;
process.stdout.write(JSON.stringify(plan.clients ? await saturate(plan, plan.clients) : await generate(plan)));
