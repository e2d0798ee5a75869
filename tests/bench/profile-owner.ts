// Who a profiled function belongs to: its package under node_modules, the service or kit
// folder of the repository, Node's internals, or V8's own entries (garbage collector, idle).
// Shared by the CPU profile summary and the allocation sampler.
export function packageOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.startsWith('node:') || url === '') return '(node internals)';
  const own = /\/work\/[^/]+\/([^/]+)\//.exec(url) ?? /([^/]+)\/src\//.exec(url);
  return own ? own[1]! : url;
}
