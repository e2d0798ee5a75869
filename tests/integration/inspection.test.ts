// The operator commands behind make topics, tail, events, dlq and replay-dlq (tools/src), run
// as a user runs them, through make, against the real topics: a slow reader gets every
// record, bad input is one line, tail's filters, an order's saga in time order, and dead
// letters grouped, filtered by time and marked once replayed. Every command's throwaway
// consumer group is gone once it has exited.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deadLetterHeaderNames, eventCatalogue } from '@shop/kit';
import { adminToken, newCustomer, type TestUser } from '../harness/http.ts';
import { topicEnds, TopicRecorder } from '../harness/kafka.ts';
import { createProduct, finalOrder, paymentsOf, placeOrder, until } from '../harness/shop.ts';
import { repositoryRoot, stackEndpoints } from '../harness/stack.ts';
import { readTopicsConf } from '../../tools/src/asyncapi.ts';

const endpoints = stackEndpoints();
const kafka = new Kafka({ clientId: 'inspection-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a bash command line (pipefail) in the repository, as a user types it. */
function shell(script: string, timeoutMs = 90_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // No stdin: a bash whose stdin is a socket (Node's default pipes are) reads the system
    // bashrc first, as for a remote shell, and Debian's breaks under make's `set -u`.
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      cwd: repositoryRoot,
      env: process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${script}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const makeLine = (target: string, vars: Record<string, string | number> = {}) =>
  ['make --no-print-directory', target, ...Object.entries(vars).map(([name, value]) => `${name}='${value}'`)].join(' ');
const make = (target: string, vars: Record<string, string | number> = {}) => shell(makeLine(target, vars));

/** Succeeds and returns stdout. */
async function makeOk(target: string, vars: Record<string, string | number> = {}): Promise<string> {
  const outcome = await make(target, vars);
  if (outcome.code !== 0) throw new Error(`${makeLine(target, vars)} exited ${outcome.code}: ${outcome.stderr}`);
  return outcome.stdout;
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** What the command itself wrote to stderr, without make's own `make: *** [...] Error n`. */
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line !== '' && !/^make(\[\d+\])?: \*\*\* /.test(line));

async function inspectionGroups(): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Set((await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith('shop-inspect-')));
  } finally {
    await admin.disconnect();
  }
}

async function recordsHeld(topic: string): Promise<number> {
  return [...(await topicEnds(endpoints.kafkaBrokers, [topic])).values()].reduce((sum, p) => sum + Number(p.high - p.low), 0);
}

/** Waits until `topic` holds a record with that key. */
async function recordOf(topic: string, key: string): Promise<void> {
  const recorder = await TopicRecorder.start(endpoints.kafkaBrokers, [topic]);
  try {
    await recorder.waitFor(`a ${topic} record with key ${key}`, (records) => records.some((r) => r.key === key));
  } finally {
    await recorder.stop();
  }
}

let admin: string;
let customer: TestUser;
let groupsBefore: Set<string>;

beforeAll(async () => {
  admin = await adminToken();
  customer = await newCustomer('inspect');
  groupsBefore = await inspectionGroups();
});

describe('make topics and make tail', () => {
  it('make topics lists every contract topic with its partitions and message count', async () => {
    const output = await makeOk('topics');
    const partitions = new Map(readTopicsConf().map((topic) => [topic.name, topic.partitions]));
    for (const topic of ['user-registration', 'product-update', 'order-placed', 'dlq'])
      expect(output).toMatch(new RegExp(`^${topic}\\s+${partitions.get(topic)}\\s+\\d+$`, 'm'));
  });

  it('make tail prints decoded records with key and headers', async () => {
    // This test's own customer: other tests write synthetic records to user-registration.
    await recordOf('user-registration', customer.id);
    const [record] = jsonLines(await makeOk('tail', { TOPIC: 'user-registration', KEY: customer.id, COUNT: 1 }));
    expect(record).toMatchObject({
      topic: 'user-registration',
      key: customer.id,
      headers: { id: expect.any(String), type: 'user-registration' },
    });
    expect(record!['value']).toMatchObject({ userId: customer.id, username: customer.username });
  });

  it('make tail COUNT=n hands a slow reader exactly n records', async () => {
    const n = 200;
    // Enough records (of ~0.6 kB: more than a pipe holds) for the reader to fall behind.
    const missing = n - (await recordsHeld('product-update'));
    for (let i = 0; i < missing; i += 10)
      await Promise.all(Array.from({ length: Math.min(10, missing - i) }, () => createProduct(admin, 1)));
    await until(
      'product-update to hold enough records',
      () => recordsHeld('product-update'),
      (held) => held >= n,
    );

    const slow = await shell(`${makeLine('tail', { TOPIC: 'product-update', COUNT: n })} | sh -c 'sleep 2; wc -l'`);
    expect(slow).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^\\s*${n}\\s*$`)) });
    const lines = jsonLines(await makeOk('tail', { TOPIC: 'product-update', COUNT: n }));
    expect(lines).toHaveLength(n);
    expect(new Set(lines.map((r) => `${String(r['partition'])}/${String(r['offset'])}`)).size).toBe(n);
  });

  it('make tail stops when its reader goes away (head), instead of following forever', async () => {
    const outcome = await shell(`${makeLine('tail', { TOPIC: 'product-update' })} | head -n 3`, 60_000);
    expect(outcome.code).toBe(0);
    expect(jsonLines(outcome.stdout)).toHaveLength(3);
    expect(ownLines(outcome.stderr)).toEqual([]);
  });

  it('an unknown topic is one line naming the topics, and a non-zero exit', async () => {
    const outcome = await make('tail', { TOPIC: 'nosuch-topic' });
    expect(outcome.code).not.toBe(0);
    expect(outcome.stdout).toBe('');
    const lines = ownLines(outcome.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tail: no topic named 'nosuch-topic'; the topics are: .*\border-placed\b.*/);
    expect(lines[0]).toContain('dlq');
  });

  it('a bad COUNT or FROM is one line and exit 2', async () => {
    for (const [vars, mentions] of [
      [{ COUNT: 'ten' }, 'COUNT'],
      [{ COUNT: '0' }, 'COUNT'],
      [{ FROM: 'yesterday' }, 'FROM'],
      [{ FROM: '2026-13-45' }, 'FROM'],
    ] as const) {
      const outcome = await make('tail', { TOPIC: 'order-placed', ...vars });
      expect(outcome.code, JSON.stringify(vars)).toBe(2);
      expect(ownLines(outcome.stderr)).toEqual([expect.stringMatching(new RegExp(`^tail: ${mentions} must be `))]);
    }
    // The command's own status, which make turns into its 2 for any failure.
    expect((await shell(`TOPIC=order-placed COUNT=ten node tools/src/tail.ts`)).code).toBe(2);
  });

  it('KEY= keeps the records of one key', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    // The product's records: created, then the stock taken by the order.
    const records = jsonLines(await makeOk('tail', { TOPIC: 'product-update', KEY: product, COUNT: 2 }));
    expect(records.map((r) => r['key'])).toEqual([product, product]);
    expect(records.map((r) => (r['value'] as { change: string; stock: number }).change)).toEqual(['CREATED', 'STOCK_CHANGED']);
    expect((records[1]!['value'] as { stock: number }).stock).toBe(3);
    const [placed] = jsonLines(await makeOk('tail', { TOPIC: 'order-placed', KEY: order.id, COUNT: 1 }));
    expect(placed).toMatchObject({ key: order.id, value: { orderId: order.id } });
  });

  it('FROM=end prints only records written after the command started', async () => {
    const before = await createProduct(admin, 1);
    await recordOf('product-update', before);
    const startedAt = Date.now();
    const tail = shell(makeLine('tail', { TOPIC: 'product-update', FROM: 'end', COUNT: 1 }), 60_000);
    // Until the command prints, keep writing: whatever it prints first was written after it started.
    const after: string[] = [];
    let finished = false;
    void tail.finally(() => (finished = true));
    while (!finished && after.length < 40) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (!finished) after.push(await createProduct(admin, 1));
    }
    const outcome = await tail;
    expect(outcome.code).toBe(0);
    const [record] = jsonLines(outcome.stdout);
    expect(record!['key']).not.toBe(before);
    // Not necessarily one of `after`: a stock release of an earlier test's saga may land on the
    // topic in the meantime. What FROM=end promises is a record written after the start.
    expect(Date.parse(record!['timestamp'] as string)).toBeGreaterThanOrEqual(startedAt);
  });

  it('FROM=<offset> starts every partition at that offset', async () => {
    const ends = [...(await topicEnds(endpoints.kafkaBrokers, ['product-update'])).values()];
    const highest = [...ends].sort((a, b) => Number(b.high - a.high))[0]!.high;
    const from = highest > 3n ? highest - 3n : 0n;
    const expected = ends.reduce((sum, p) => sum + Math.max(0, Number(p.high - (p.low > from ? p.low : from))), 0);
    const records = jsonLines(await makeOk('tail', { TOPIC: 'product-update', FROM: String(from), COUNT: expected }));
    expect(records).toHaveLength(expected);
    for (const record of records) expect(BigInt(record['offset'] as string)).toBeGreaterThanOrEqual(from);
  });

  it('FROM=<ISO time> starts at the first record written at or after it', async () => {
    const earlier = await createProduct(admin, 1);
    await recordOf('product-update', earlier);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await recordOf('product-update', await createProduct(admin, 1));
    const [record] = jsonLines(await makeOk('tail', { TOPIC: 'product-update', FROM: since.toISOString(), COUNT: 1 }));
    expect(new Date(record!['timestamp'] as string).getTime()).toBeGreaterThanOrEqual(since.getTime());
    expect(record!['key']).not.toBe(earlier);
  });

  it('Ctrl-C stops a following tail, and its consumer group is deleted', async () => {
    const child = spawn('bash', ['-c', makeLine('tail', { TOPIC: 'product-update' })], {
      cwd: repositoryRoot,
      env: process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => (lines += chunk.toString().split('\n').length - 1));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until(
      'tail to print',
      () => Promise.resolve(lines),
      (n) => n > 0,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sentAt = Date.now();
    process.kill(-child.pid!, 'SIGINT'); // as the terminal does: to the whole foreground group
    await exited;
    expect(Date.now() - sentAt).toBeLessThan(15_000);
  });
});

describe('make events', () => {
  const topicsOf = (lines: string[]) => lines.map((line) => line.split(/\s+/)[1]);

  it('shows a confirmed order and a cancelled order, each in the order the saga ran', async () => {
    const product = await createProduct(admin, 5);
    const scarce = await createProduct(admin, 1);
    const confirmed = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_ok' });
    const cancelled = await placeOrder(customer, { items: [{ productId: scarce, quantity: 3 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, confirmed.id)).status).toBe('CONFIRMED');
    expect(await finalOrder(customer, cancelled.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    await until(
      'the refund',
      () => paymentsOf(customer, cancelled.id),
      (payments) => payments[0]?.status === 'REFUNDED',
    );
    await recordOf('payment-refunded', cancelled.id);
    await recordOf('order-confirmed', confirmed.id);

    const confirmedLines = (await makeOk('events', { KEY: confirmed.id })).trim().split('\n');
    expect(confirmedLines).toHaveLength(4);
    for (const line of confirmedLines)
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}[a-z-]+ +[a-z-]+ {2}.+ {2}\[\d+\/\d+ id=[0-9a-f-]{36}\]$/);
    const confirmedTopics = topicsOf(confirmedLines);
    expect(confirmedTopics[0]).toBe('order-placed');
    expect(confirmedTopics.slice(1, 3).sort()).toEqual(['inventory-reserved', 'payment-success']);
    expect(confirmedTopics[3]).toBe('order-confirmed');
    expect(confirmedLines[0]).toContain('1 line (2 units), 20.00 EUR');
    expect(confirmedLines[3]).toContain('confirmed, 20.00 EUR');

    const cancelledLines = (await makeOk('events', { KEY: cancelled.id })).trim().split('\n');
    const cancelledTopics = topicsOf(cancelledLines);
    expect([...cancelledTopics].sort()).toEqual([
      'inventory-rejected',
      'order-cancelled',
      'order-placed',
      'payment-refunded',
      'payment-success',
    ]);
    const at = (topic: string) => cancelledTopics.indexOf(topic);
    expect(at('order-placed')).toBe(0);
    expect(at('inventory-rejected')).toBeLessThan(at('order-cancelled'));
    expect(at('payment-success')).toBeLessThan(at('payment-refunded'));
    expect(at('order-cancelled')).toBeLessThan(at('payment-refunded'));
    expect(cancelledLines[at('order-cancelled')]).toContain('cancelled: OUT_OF_STOCK');
    expect(cancelledLines[at('inventory-rejected')]).toContain('wanted 3, has 1');
    expect(cancelledLines[at('payment-refunded')]).toContain('refunded 30.00 EUR');

    // FORMAT=json: the records whole, as make tail prints them, in the same order.
    const records = jsonLines(await makeOk('events', { KEY: cancelled.id, FORMAT: 'json' }));
    expect(records.map((r) => r['topic'])).toEqual(cancelledTopics);
    for (const record of records) {
      expect(record).toMatchObject({
        key: cancelled.id,
        headers: { id: expect.any(String), type: record['topic'] },
        value: { orderId: cancelled.id },
      });
    }
    const times = records.map((r) => r['timestamp'] as string);
    expect([...times].sort()).toEqual(times);
  });

  it('a key without records: a line on stderr and exit 1; no KEY: usage and exit 2', async () => {
    const key = randomUUID();
    const none = await make('events', { KEY: key });
    expect(none.code).not.toBe(0); // make itself answers 2 for any failing recipe
    expect(none.stdout).toBe('');
    expect(ownLines(none.stderr)).toEqual([expect.stringMatching(/^events: no record in \d+ topics has the key /)]);
    expect((await shell(`KEY='${key}' node tools/src/events.ts`)).code).toBe(1);
    const usage = await make('events');
    expect(usage.code).toBe(2);
    expect(ownLines(usage.stderr)).toEqual([expect.stringMatching(/^events: usage: make events KEY=/)]);
  });
});

describe('make dlq and make replay-dlq', () => {
  // Every consumer group of order-cancelled dead-letters an undecodable record of it.
  const groups = Object.keys(eventCatalogue['order-cancelled'].consumers).sort();

  it('groups dead letters by reason and source, filters by SINCE, and marks a replayed letter', async () => {
    const start = new Date();
    const producer = kafka.producer();
    await producer.connect();
    const key = randomUUID();
    const id = randomUUID();
    await producer.send({
      topic: 'order-cancelled',
      messages: [{ key, value: Buffer.from('garbage'), headers: { id, type: 'order-cancelled' } }],
    });
    await producer.disconnect();
    const recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['dlq', 'order-cancelled']);
    try {
      await recorder.waitFor(
        'its dead letters',
        (records) => records.filter((r) => r.topic === 'dlq' && r.key === key).length >= groups.length,
      );
      const ours = async (vars: Record<string, string> = {}) =>
        jsonLines(await makeOk('dlq', { FORMAT: 'json', SINCE: start.toISOString(), ...vars })).filter((l) => l['key'] === key);
      const letters = await ours();
      expect(letters.map((l) => l['group']).sort()).toEqual(groups);
      for (const letter of letters) {
        expect(letter).toMatchObject({
          reason: 'UNDECODABLE',
          eventId: id,
          source: { topic: 'order-cancelled' },
          error: expect.stringContaining('not a decodable'),
          replayed: false,
          replays: [],
          replayOf: null,
        });
      }
      // SINCE: a duration includes them, a time after them leaves them out.
      expect(await ours({ SINCE: '1h' })).toHaveLength(groups.length);
      expect(await ours({ SINCE: new Date(Date.now() + 1_000).toISOString() })).toEqual([]);
      const badSince = await make('dlq', { SINCE: 'last week' });
      expect(badSince.code).toBe(2);
      expect(ownLines(badSince.stderr)).toEqual([expect.stringMatching(/^dlq: SINCE must be /)]);

      const [replayed, other] = letters as [Record<string, unknown>, Record<string, unknown>];
      const place = `${String(replayed['dlqPartition'])}/${String(replayed['dlqOffset'])}`;
      const output = await makeOk('replay-dlq', { PARTITION: String(replayed['dlqPartition']), OFFSET: String(replayed['dlqOffset']) });
      expect(output).toContain(`replayed dlq ${place} (event ${id}`);
      await recorder.waitFor(
        'the replayed record',
        (records) => records.filter((r) => r.topic === 'order-cancelled' && r.key === key).length >= 2,
      );
      const copy = recorder.records.filter((r) => r.topic === 'order-cancelled' && r.key === key)[1]!;
      expect(copy.headers['id']).toBe(id);
      // The dead letter's headers are gone; one says where the record came back from.
      expect(Object.keys(copy.headers).filter((name) => name.startsWith('dlq.'))).toEqual(['dlq.replayed.from']);
      expect(copy.headers['dlq.replayed.from']).toBe(place);
      expect(copy.value?.toString()).toBe('garbage');
      // Still garbage: every consumer gives up on it again, with the same event id.
      await recorder.waitFor(
        'the second round of dead letters',
        (records) => records.filter((r) => r.topic === 'dlq' && r.headers['id'] === id).length >= 2 * groups.length,
      );
      expect(
        recorder.records
          .filter((r) => r.topic === 'dlq' && r.headers['id'] === id)
          .every((r) => r.headers[deadLetterHeaderNames.reason] === 'UNDECODABLE'),
      ).toBe(true);

      const after = await ours();
      expect(after).toHaveLength(2 * groups.length);
      const at = (l: Record<string, unknown>) => `${String(l['dlqPartition'])}/${String(l['dlqOffset'])}`;
      expect(after.find((l) => at(l) === place)).toMatchObject({
        replayed: true,
        replays: [{ topic: 'order-cancelled', partition: copy.partition, offset: copy.offset, at: expect.any(String) }],
      });
      expect(after.find((l) => at(l) === at(other))).toMatchObject({ replayed: false, replays: [] });
      const again = after.filter((l) => l['replayOf'] === place);
      expect(again.map((l) => l['group']).sort()).toEqual(groups);

      // For people: a heading per reason, source topic and group, each letter under its heading.
      const text = (await makeOk('dlq', { SINCE: start.toISOString() })).split('\n');
      expect(text[0]).toMatch(
        /^\d+ dead letter\(s\) that failed after .* in \d+ group\(s\) by reason, source topic → consumer group; \d+ replayed$/,
      );
      const headingOf = (dlqPlace: string) => {
        let heading = '';
        for (const line of text) {
          if (/^\S/.test(line)) heading = line;
          if (line.includes(` dlq ${dlqPlace} `)) return { heading, line };
        }
        throw new Error(`no line for dlq ${dlqPlace} in\n${text.join('\n')}`);
      };
      for (const letter of after) {
        const { heading, line } = headingOf(at(letter));
        expect(heading).toMatch(
          new RegExp(
            `^UNDECODABLE  order-cancelled → ${String(letter['group'])}  \\d+ letters? \\(\\d+ replayed\\), first \\S+, last \\S+$`,
          ),
        );
        expect(line).toContain(`event ${id}`);
        expect(line).toContain(`key ${key}`);
        if (at(letter) === place) expect(line).toMatch(new RegExp(`replayed \\S+ → order-cancelled ${copy.partition}/${copy.offset}$`));
        else expect(line).toMatch(/not replayed$/);
        if (letter['replayOf'] === place) expect(line).toContain(`(itself from the replay of dlq ${place})`);
      }
    } finally {
      await recorder.stop();
    }
  });

  it('replay-dlq with an offset dlq does not hold is one line and exit 2', async () => {
    const outcome = await make('replay-dlq', { PARTITION: 0, OFFSET: '999999999' });
    expect(outcome.code).toBe(2);
    expect(ownLines(outcome.stderr)).toEqual([
      expect.stringMatching(/^replay-dlq: dlq partition 0 (is empty|holds offsets \d+ to \d+, not 999999999)/),
    ]);
  });
});

describe('consumer groups', () => {
  it('every command deleted the consumer group it read with', async () => {
    const left = [...(await inspectionGroups())].filter((group) => !groupsBefore.has(group));
    expect(left).toEqual([]);
  });
});
