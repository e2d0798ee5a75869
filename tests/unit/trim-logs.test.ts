// The native stack's logs are kept under LOG_MAX_MB by stack/bin/trim-logs (the log-trimmer
// component of make up): a log past it is copied to <name>.log.1 and emptied in place, so that
// a writer holding it open for appending goes on at its new end.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { repositoryRoot } from '../harness/stack.ts';

const directory = mkdtempSync(join(tmpdir(), 'trim-logs-'));
afterEach(() => rmSync(directory, { recursive: true, force: true }));

it('empties a log past the limit in place, keeping its content in .1, and leaves a smaller one alone', () => {
  const big = join(directory, 'order-svc.log');
  const small = join(directory, 'kafka.log');
  writeFileSync(big, 'x'.repeat(1024 * 1024 + 1));
  writeFileSync(small, 'a line\n');
  // A writer that holds the log open for appending, as start_bg's >> does.
  const writer = openSync(big, 'a');
  execFileSync(join(repositoryRoot, 'stack/bin/trim-logs'), [directory, 'once'], { env: { ...process.env, LOG_MAX_MB: '1' } });
  expect(statSync(big).size).toBe(0);
  expect(statSync(`${big}.1`).size).toBe(1024 * 1024 + 1);
  expect(readFileSync(small, 'utf8')).toBe('a line\n');
  writeSync(writer, 'after\n');
  closeSync(writer);
  appendFileSync(big, 'more\n');
  expect(readFileSync(big, 'utf8')).toBe('after\nmore\n');
});
