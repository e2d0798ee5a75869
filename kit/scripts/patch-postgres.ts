// Patches postgres.js (3.4.9) after `npm ci`, until upstream ships a fix for
// https://github.com/porsager/postgres/issues/1154 (also #1066, #1208):
//
// Small writes are flushed from a setImmediate. When the connection closes first, `closed()`
// sets the socket to null and cancels the timer without resetting it, so (a) a flush already
// queued throws `Cannot read properties of null (reading 'write')` from the timer, which no
// caller can catch and which kills the process, and (b) later writes on the reconnected
// connection are never scheduled. `make chaos` found (a): payment-svc died when PostgreSQL was
// killed. The patch skips the flush when there is no socket (the queries it belonged to were
// already rejected with CONNECTION_CLOSED by `closed()`) and resets the write state on close.
//
// It fails loudly when the driver's code no longer matches, so that an upgrade is noticed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKER = 'shop: porsager/postgres#1154';

const replacements: [from: string, to: string][] = [
  [
    '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    `  function nextWrite(fn) {\n    if (!socket) { chunk = nextWriteTimer = null; return false } // ${MARKER}\n    const x = socket.write(chunk, fn)\n`,
  ],
  ['\n    clearImmediate(nextWriteTimer)\n', `\n    clearImmediate(nextWriteTimer), chunk = nextWriteTimer = null // ${MARKER}\n`],
];

export function patchConnectionSource(source: string): string {
  if (source.includes(MARKER)) return source;
  let patched = source;
  for (const [from, to] of replacements) {
    if (!patched.includes(from))
      throw new Error(
        `postgres.js changed: "${from.trim()}" not found; check whether porsager/postgres#1154 is fixed upstream and drop this patch`,
      );
    patched = patched.split(from).join(to);
  }
  return patched;
}

export function postgresConnectionFiles(): string[] {
  const entry = fileURLToPath(import.meta.resolve('postgres'));
  const root = entry.slice(0, entry.lastIndexOf('/postgres/') + '/postgres'.length);
  return ['src/connection.js', 'cjs/src/connection.js'].map((file) => join(root, file)).filter((file) => existsSync(file));
}

if (import.meta.main) {
  for (const file of postgresConnectionFiles()) writeFileSync(file, patchConnectionSource(readFileSync(file, 'utf8')));
}
