// What a call to the gateway costs the caller's CPU, with Node's fetch and with undici's
// request (what payment-svc's GatewayClient uses): N charges to the running gateway-sim,
// 64 at once as payment-svc makes them, the client's own CPU (process.cpuUsage) per call.
// Run on a quiet stack; each client twice, alternated, the first round warming up:
//   stack/bin/with-node node tests/bench/http-client-cost.ts      (CALLS; the gateway's address
//   as payment-svc finds it: GATEWAY_SIM_URL, or loopback at GATEWAY_SIM_PORT)
import { randomUUID } from 'node:crypto';
import { serviceUrl } from '@shop/kit';
import { request } from 'undici';

const gateway = serviceUrl('gateway-sim');
const calls = Number(process.env['CALLS'] ?? 3000);
const atOnce = 64;

const charge = () =>
  JSON.stringify({ amountCents: 1000, currency: 'EUR', token: 'tok_ok', reference: randomUUID(), idempotencyKey: randomUUID() });
const headers = { 'content-type': 'application/json' };

const clients: Record<string, () => Promise<number>> = {
  fetch: async () => {
    const response = await fetch(`${gateway}/charges`, { method: 'POST', headers, body: charge(), signal: AbortSignal.timeout(5_000) });
    await response.text();
    return response.status;
  },
  'undici request': async () => {
    const response = await request(`${gateway}/charges`, { method: 'POST', headers, body: charge(), signal: AbortSignal.timeout(5_000) });
    await response.body.text();
    return response.statusCode;
  },
};

console.log('| client | round | calls answered 2xx | calls/s | client CPU per call |\n|---|---|---|---|---|');
for (let round = 1; round <= 2; round++) {
  for (const [name, call] of Object.entries(clients)) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let sent = 0;
    let succeeded = 0;
    await Promise.all(
      Array.from({ length: atOnce }, async () => {
        while (sent < calls) {
          sent++;
          if ((await call()) < 300) succeeded++;
        }
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const perCallMs = (cpu.user + cpu.system) / 1000 / calls;
    console.log(`| ${name} | ${round} | ${succeeded} | ${(calls / seconds).toFixed(0)} | ${perCallMs.toFixed(2)} ms |`);
  }
}
