import { describe, expect, it } from 'vitest';
import { requireEnv } from './config.ts';

describe('requireEnv', () => {
  it('returns the value of a set variable', () => {
    expect(requireEnv('PG_HOST', { PG_HOST: '127.0.0.1' })).toBe('127.0.0.1');
  });

  it('names the variable when it is missing or empty', () => {
    expect(() => requireEnv('PG_PORT', {})).toThrow('environment variable PG_PORT is required');
    expect(() => requireEnv('PG_PORT', { PG_PORT: '' })).toThrow('PG_PORT');
  });
});
