import { describe, expect, it } from 'vitest';
import { parseCount, parseFormat, parseSince, parseStartPosition, parseWholeNumber, UsageError } from './options.ts';

describe('COUNT', () => {
  it('is a whole number of at least 1, or nothing', () => {
    expect(parseCount(undefined)).toBeUndefined();
    expect(parseCount('')).toBeUndefined();
    expect(parseCount('25')).toBe(25);
  });

  it('rejects anything else with a message that names it', () => {
    for (const bad of ['0', '-1', '1.5', 'ten', '1e3', ' 5'])
      expect(() => parseCount(bad), bad).toThrow(new UsageError(`COUNT must be a whole number of records, 1 or more, not '${bad}'`));
  });
});

describe('FROM', () => {
  it('is beginning by default, end, an offset or an ISO time', () => {
    expect(parseStartPosition(undefined)).toEqual({ kind: 'beginning' });
    expect(parseStartPosition('beginning')).toEqual({ kind: 'beginning' });
    expect(parseStartPosition('end')).toEqual({ kind: 'end' });
    expect(parseStartPosition('42')).toEqual({ kind: 'offset', offset: 42n });
    expect(parseStartPosition('2026-11-22T10:00:00Z')).toEqual({ kind: 'time', at: new Date('2026-11-22T10:00:00Z') });
    expect(parseStartPosition('2026-11-22T10:00:00.250+01:00')).toEqual({ kind: 'time', at: new Date('2026-11-22T09:00:00.250Z') });
    expect(parseStartPosition('2026-11-22')).toEqual({ kind: 'time', at: new Date('2026-11-22T00:00:00Z') });
  });

  it('rejects anything else', () => {
    for (const bad of ['yesterday', '-3', '2026-13-45', '2026-11-22T25:00:00Z', 'END', '12abc', '2026-02-30', '2026-04-31T10:00:00Z']) {
      expect(() => parseStartPosition(bad), bad).toThrow(/^FROM must be beginning, end, an offset \(e\.g\. 42\) or an ISO time/);
    }
  });
});

describe('SINCE', () => {
  const now = new Date('2026-11-22T12:00:00Z');

  it('is a duration back from now or an ISO time', () => {
    expect(parseSince(undefined, now)).toBeUndefined();
    expect(parseSince('90s', now)).toEqual(new Date('2026-11-22T11:58:30Z'));
    expect(parseSince('30m', now)).toEqual(new Date('2026-11-22T11:30:00Z'));
    expect(parseSince('2h', now)).toEqual(new Date('2026-11-22T10:00:00Z'));
    expect(parseSince('1d', now)).toEqual(new Date('2026-11-21T12:00:00Z'));
    expect(parseSince('1w', now)).toEqual(new Date('2026-11-15T12:00:00Z'));
    expect(parseSince('2026-11-22T08:00:00Z', now)).toEqual(new Date('2026-11-22T08:00:00Z'));
  });

  it('rejects anything else', () => {
    for (const bad of ['last week', '2 h', 'h', '-1h', '1y']) expect(() => parseSince(bad, now), bad).toThrow(/^SINCE must be an ISO time/);
  });
});

describe('FORMAT, PARTITION, OFFSET', () => {
  it('reads them or says what they accept', () => {
    expect(parseFormat(undefined)).toBe('text');
    expect(parseFormat('json')).toBe('json');
    expect(() => parseFormat('yaml')).toThrow("FORMAT must be text or json, not 'yaml'");
    expect(parseWholeNumber('PARTITION', undefined, '0')).toBe(0n);
    expect(parseWholeNumber('OFFSET', '17')).toBe(17n);
    expect(() => parseWholeNumber('OFFSET', 'x')).toThrow("OFFSET must be a whole number (0 or more), not 'x'");
    expect(() => parseWholeNumber('OFFSET', undefined)).toThrow(UsageError);
  });
});
