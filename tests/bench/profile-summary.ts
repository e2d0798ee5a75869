// Where a Node service's CPU went, from a V8 profile (`node --cpu-prof`): self time by package
// (node_modules/<package>, the service's own code, Node's internals, garbage collection) and
// the functions with the most self time. Used for the profiles in tests/bench/README.md.
//
//   node tests/bench/profile-summary.ts <file.cpuprofile> [top functions, default 15]
import { readFileSync } from 'node:fs';
import { packageOf } from './profile-owner.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const owner = packageOf(url, functionName);
  if (owner === '(idle)') continue;
  busy += micros;
  byPackage.set(owner, (byPackage.get(owner) ?? 0) + micros);
  const name = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/[^/]+\//, '')}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
const wall = profile.endTime - profile.startTime;
const share = (micros: number) => `${((100 * micros) / busy).toFixed(1)}%`;
console.log(
  `${file}: ${(wall / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / wall).toFixed(0)}% of one core)\n`,
);
console.log('| package | share of busy time |\n|---|---|');
for (const [name, micros] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`| ${name} | ${share(micros)} |`);
console.log('\n| function | share of busy time |\n|---|---|');
for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArgument ?? 15))) {
  console.log(`| \`${name}\` | ${share(micros)} |`);
}
