import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceNamed, type ServiceName } from '../../../services.ts';
import { connectDatabase } from './connect.ts';
import { housekeepingJobs, outboxSlotName, parseLsn } from './housekeeping.ts';

describe('parseLsn', () => {
  it('reads both halves of a WAL position as hexadecimal', () => {
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('0/3036CA0')).toBe(0x3036ca0n);
    expect(parseLsn('16/B374D848')).toBe(0x16_b374d848n);
  });

  it('orders positions as PostgreSQL does, the high half first', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
  });

  it('refuses what is not a position', () => {
    expect(() => parseLsn('16')).toThrow(/not a WAL position/);
    expect(() => parseLsn('x/1')).toThrow(/not a WAL position/);
  });
});

describe('housekeepingJobs', () => {
  // postgres.js connects on the first query; building the jobs runs none.
  const sql = connectDatabase({ host: '127.0.0.1', port: 1, database: 'none', username: 'none', password: 'none' });
  const settings = { intervalMs: 60_000, outboxKeepMs: 600_000, processedEventsKeepMs: 8 * 86_400_000 };
  const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  afterAll(() => sql.end());

  it.each<[ServiceName, string[]]>([
    ['user-svc', ['outbox-pruner']],
    ['product-svc', ['outbox-pruner', 'processed-events-pruner']],
    ['order-svc', ['outbox-pruner', 'processed-events-pruner']],
    ['payment-svc', ['outbox-pruner', 'processed-events-pruner']],
    ['gateway-sim', []],
  ])('%s gets %j: outbox pruning where it produces, processed_events pruning where it consumes', (name, expected) => {
    const metrics = new Registry();
    const jobs = housekeepingJobs({ sql, service: serviceNamed(name), settings, logger, metrics });
    expect(jobs.map((job) => job.name)).toEqual(expected);
    expect(jobs.every((job) => job.everyMs === settings.intervalMs)).toBe(true);
  });

  it('names the slot as the connector configuration does', () => {
    const connector = JSON.parse(readFileSync(new URL('../../../connect/outbox-connector.json', import.meta.url), 'utf8')) as Record<
      string,
      string
    >;
    expect(outboxSlotName('orders')).toBe(connector['slot.name']?.replace('@DATABASE@', 'orders'));
  });
});
