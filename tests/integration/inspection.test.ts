// The operator commands behind make topics, tail, dlq and replay-dlq, run as a user runs
// them, against the real topics.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { deadLetterHeaderNames } from '@shop/kit';
import { TopicRecorder } from '../harness/kafka.ts';
import { repositoryRoot, stackEndpoints } from '../harness/stack.ts';

const run = promisify(execFile);
const endpoints = stackEndpoints();
const command = async (script: string, env: Record<string, string> = {}) =>
  (await run('node', [`kit/src/cli/${script}.ts`], { cwd: repositoryRoot, env: { ...process.env, ...env }, timeout: 60_000 })).stdout;
const jsonLines = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('inspection commands', () => {
  it('make topics lists every contract topic with its message count', async () => {
    const output = await command('topics');
    for (const topic of ['user-registration', 'product-update', 'order-placed', 'dlq']) expect(output).toMatch(new RegExp(`^${topic}\\s+3\\s+\\d+$`, 'm'));
  });

  it('make tail prints decoded records with key and headers', async () => {
    const [record] = jsonLines(await command('tail', { TOPIC: 'user-registration', COUNT: '1' }));
    expect(record).toMatchObject({ topic: 'user-registration', key: expect.any(String), headers: { id: expect.any(String), type: 'user-registration' } });
    expect(record!['value']).toMatchObject({ userId: record!['key'], username: expect.any(String) });
  });

  it('make dlq shows a dead letter with its reason, and replay-dlq sends it back to its topic with its id and without dlq headers', async () => {
    const kafka = new Kafka({ clientId: 'inspection-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });
    const producer = kafka.producer();
    await producer.connect();
    const key = randomUUID();
    const id = randomUUID();
    await producer.send({ topic: 'order-cancelled', messages: [{ key, value: Buffer.from('garbage'), headers: { id, type: 'order-cancelled' } }] });
    await producer.disconnect();
    const recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['dlq', 'order-cancelled']);
    try {
      await recorder.waitFor('its dead letters', (records) => records.filter((r) => r.topic === 'dlq' && r.key === key).length >= 2);
      const letters = jsonLines(await command('dlq')).filter((letter) => letter['key'] === key);
      expect(letters.map((l) => l['group']).sort()).toEqual(['payment-svc', 'product-svc']);
      expect(letters[0]).toMatchObject({ reason: 'UNDECODABLE', eventId: id, source: { topic: 'order-cancelled' }, error: expect.stringContaining('not a decodable') });

      const output = await command('replay-dead-letter', { PARTITION: String(letters[0]!['dlqPartition']), OFFSET: String(letters[0]!['dlqOffset']) });
      expect(output).toContain(`event ${id}`);
      await recorder.waitFor('the replayed record', (records) => records.filter((r) => r.topic === 'order-cancelled' && r.key === key).length >= 2);
      const replayed = recorder.records.filter((r) => r.topic === 'order-cancelled' && r.key === key)[1]!;
      expect(replayed.headers['id']).toBe(id);
      expect(Object.keys(replayed.headers).some((name) => name.startsWith('dlq.'))).toBe(false);
      expect(replayed.value?.toString()).toBe('garbage');
      // Still garbage: both consumers give up on it again, with the same event id.
      await recorder.waitFor('the second round of dead letters', (records) => records.filter((r) => r.topic === 'dlq' && r.headers['id'] === id).length >= 4);
      expect(recorder.records.filter((r) => r.topic === 'dlq' && r.headers['id'] === id).every((r) => r.headers[deadLetterHeaderNames.reason] === 'UNDECODABLE')).toBe(true);
    } finally {
      await recorder.stop();
    }
  });
});
