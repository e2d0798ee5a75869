// Who a profiled function belongs to, its label, and the two tables that share a profile's
// cost out (by package, by function): shared by the CPU profile summary and the allocation
// sampler, which differ only in what they count (microseconds, bytes).

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** This checkout's root as a file URL: a profile of its services names their files under it. */
const repositoryUrl = new URL('../../', import.meta.url).href;

/**
 * Its package under node_modules, the repository folder it is in (a service, the kit), Node's
 * internals, or V8's own entries (garbage collector, idle, program).
 */
export function packageOf({ functionName, url }: CallFrame): string {
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.startsWith('node:') || url === '') return '(node internals)';
  // A profile taken in another checkout: the folder that holds `src/`.
  const own = url.startsWith(repositoryUrl) ? /^[^/]+/.exec(url.slice(repositoryUrl.length)) : /([^/]+)\/src\//.exec(url);
  return own ? own[own.length - 1]! : url;
}

/** `name file:line`, the file relative to node_modules or to the repository. */
export function functionLabel({ functionName, url, lineNumber }: CallFrame): string {
  const file = url.replace(/^.*node_modules\//, '').replace(repositoryUrl, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** Prints the largest shares of `total` by package (15) and by function (`top`), as Markdown tables. */
export function printShares(
  what: string,
  total: number,
  byPackage: Map<string, number>,
  byFunction: Map<string, number>,
  top: number,
): void {
  const share = (amount: number) => `${((100 * amount) / total).toFixed(1)}%`;
  const largest = (counts: Map<string, number>, count: number) => [...counts].sort((a, b) => b[1] - a[1]).slice(0, count);
  console.log(`| package | share of ${what} |\n|---|---|`);
  for (const [name, amount] of largest(byPackage, 15)) console.log(`| ${name} | ${share(amount)} |`);
  console.log(`\n| function | share of ${what} |\n|---|---|`);
  for (const [name, amount] of largest(byFunction, top)) console.log(`| \`${name}\` | ${share(amount)} |`);
}
