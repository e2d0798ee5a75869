import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { patchConnectionSource, postgresConnectionFiles } from './patch-postgres.ts';

describe('the postgres.js patch (porsager/postgres#1154)', () => {
  it('is applied to the installed driver, ESM and CommonJS builds', () => {
    const files = postgresConnectionFiles();
    expect(files.length).toBe(2);
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      expect(source).toContain('if (!socket) { chunk = nextWriteTimer = null; return false }');
      expect(source.match(/clearImmediate\(nextWriteTimer\), chunk = nextWriteTimer = null/g)?.length).toBe(2);
    }
  });

  it('is idempotent, and refuses a driver whose code no longer matches', () => {
    const patched = readFileSync(postgresConnectionFiles()[0]!, 'utf8');
    expect(patchConnectionSource(patched)).toBe(patched);
    expect(() => patchConnectionSource('function nextWrite(fn) { return socket.write(chunk, fn) }')).toThrow(/postgres.js changed/);
  });
});
