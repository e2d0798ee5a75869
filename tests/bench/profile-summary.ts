// Where a Node service's CPU went, from a V8 profile (`node --cpu-prof`): self time by package
// (node_modules/<package>, the service's own code, Node's internals, garbage collection) and
// the functions with the most self time. Used for the profiles in tests/bench/README.md.
//
//   node tests/bench/profile-summary.ts <file.cpuprofile> [top functions, default 15]
import { readFileSync } from 'node:fs';
import { functionLabel, packageOf, printShares, type CallFrame } from './profile-attribution.ts';

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArgument] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
for (const [id, micros] of selfMicros) {
  const { callFrame } = byId.get(id)!;
  const owner = packageOf(callFrame);
  if (owner === '(idle)') continue;
  busy += micros;
  byPackage.set(owner, (byPackage.get(owner) ?? 0) + micros);
  const name = functionLabel(callFrame);
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
const wall = profile.endTime - profile.startTime;
console.log(
  `${file}: ${(wall / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / wall).toFixed(0)}% of one core)\n`,
);
printShares('busy time', busy, byPackage, byFunction, Number(topArgument ?? 15));
