import { describe, expect, it } from 'vitest';
import { describeThrown } from './errors.ts';

describe('describeThrown', () => {
  it('names an Error by its name and message', () => {
    expect(describeThrown(new RangeError('too big'))).toBe('RangeError: too big');
  });

  it('shows whatever else was thrown without throwing itself', () => {
    expect(describeThrown(undefined)).toBe('a thrown undefined');
    expect(describeThrown(null)).toBe('a thrown null');
    expect(describeThrown('text')).toBe('a thrown text');
    expect(describeThrown({ code: 7 })).toBe('a thrown non-Error: {"code":7}');
    expect(describeThrown(Object.create(null))).toBe('a thrown non-Error: {}');
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(describeThrown(circular)).toBe('a thrown value that cannot be shown');
  });
});
