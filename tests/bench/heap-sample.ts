// What a running Node service allocates, by package and by function: V8's sampling heap
// profiler over the inspector protocol, counting the objects that were already collected too
// (`node --heap-prof` keeps only those still alive when it stops, which leaves out nearly all
// of what a message allocates and drops). Start the service with the inspector on, e.g.
//   stack/bin/native stop order-svc; NODE_OPTIONS=--inspect=127.0.0.1:9229 stack/bin/native start order-svc
// then, while load runs:
//   node tests/bench/heap-sample.ts <inspector port> <seconds> [top functions, default 15]
// Used for "What a message allocates" in tests/bench/README.md.
import { setTimeout as sleep } from 'node:timers/promises';
import { functionLabel, packageOf, printShares, type CallFrame } from './profile-attribution.ts';

interface SampledNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SampledNode[];
}

const [portArgument, secondsArgument, topArgument] = process.argv.slice(2);
if (!portArgument || !secondsArgument) throw new Error('usage: heap-sample.ts <inspector port> <seconds> [top]');
const targets = (await (await fetch(`http://127.0.0.1:${portArgument}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = reject;
});
let nextId = 1;
const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
socket.onmessage = (message) => {
  const reply = JSON.parse(String(message.data)) as { id?: number; result?: unknown; error?: unknown };
  const waiter = reply.id === undefined ? undefined : pending.get(reply.id);
  if (!waiter) return;
  pending.delete(reply.id!);
  if (reply.error) waiter.reject(new Error(JSON.stringify(reply.error)));
  else waiter.resolve(reply.result);
};
const call = (method: string, params: object = {}) =>
  new Promise<unknown>((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ id, method, params }));
  });

await call('HeapProfiler.enable');
// One sample per 32 KiB allocated on average (V8 scales each sample back up to an estimate of
// all the bytes allocated there); the default 512 KiB sees too little in a few seconds.
await call('HeapProfiler.startSampling', {
  samplingInterval: 32768,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const started = Date.now();
await sleep(Number(secondsArgument) * 1000);
const { profile } = (await call('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
const seconds = (Date.now() - started) / 1000;
socket.close();

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
// A built-in (`Map`, `sort`, `entries`: no script) allocates for whoever called it, so its
// bytes go to the nearest caller that has a script, named "caller → built-in".
const visit = (node: SampledNode, caller: { name: string; owner: string } | undefined) => {
  const self = node.callFrame.url ? { name: functionLabel(node.callFrame), owner: packageOf(node.callFrame) } : undefined;
  if (node.selfSize > 0) {
    total += node.selfSize;
    const owner = self?.owner ?? caller?.owner ?? packageOf(node.callFrame);
    const name = self?.name ?? `${caller?.name ?? '(root)'} → ${node.callFrame.functionName || '(anonymous)'}`;
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + node.selfSize);
    byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
  }
  for (const child of node.children) visit(child, self ?? caller);
};
visit(profile.head, undefined);

const megabytes = (bytes: number) => (bytes / 1048576).toFixed(1);
console.log(`${seconds.toFixed(1)} s sampled: ${megabytes(total)} MB allocated, ${megabytes(total / seconds)} MB/s\n`);
printShares('bytes allocated', total, byPackage, byFunction, Number(topArgument ?? 15));
