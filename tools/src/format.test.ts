import { describe, expect, it } from 'vitest';
import { deadLetterHeaderNames as h, eventTopics, type EventTopic } from '@shop/kit';
import { byTime, eventLine, groupLetters, letterOf, renderLetterGroups, summarizeEvent, type RecordView } from './format.ts';

const isEventTopic = (topic: string): topic is EventTopic => (eventTopics as readonly string[]).includes(topic);
const order = 'c3a7f215-9d84-4b6e-a1f0-5e2d7b93c864';
const product = '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705';

const record = (
  topic: string,
  timestamp: string,
  value: unknown,
  headers: Record<string, string> = {},
  partition = 0,
  offset = '0',
): RecordView => ({
  topic,
  partition,
  offset,
  timestamp,
  key: order,
  headers: { id: '2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698', type: topic, ...headers },
  value,
});

describe('make events lines', () => {
  it('say in a few words what each event says', () => {
    expect(
      summarizeEvent('order-placed', {
        orderId: order,
        userId: 'u-1234567890',
        items: [{ productId: product, quantity: 2, unitPriceCents: 1299 }],
        totalCents: 2598,
        currency: 'EUR',
        paymentToken: 'tok_ok',
        placedAt: 0,
      }),
    ).toBe('1 line (2 units), 25.98 EUR, user u-123456, token tok_ok');
    expect(summarizeEvent('order-cancelled', { orderId: order, userId: 'u', reason: 'OUT_OF_STOCK', cancelledAt: 0 })).toBe(
      'cancelled: OUT_OF_STOCK',
    );
    expect(
      summarizeEvent('inventory-rejected', {
        orderId: order,
        shortages: [{ productId: product, requested: 3, available: 1 }],
        rejectedAt: 0,
      }),
    ).toBe('rejected: 0b8e4d1a wanted 3, has 1');
    expect(
      summarizeEvent('payment-failure', {
        paymentId: 'p',
        orderId: order,
        userId: 'u',
        amountCents: 100,
        currency: 'EUR',
        reason: 'CARD_DECLINED',
        detail: 'declined',
        processedAt: 0,
      }),
    ).toBe('not charged: CARD_DECLINED (declined)');
    expect(
      summarizeEvent('product-update', {
        productId: product,
        change: 'STOCK_CHANGED',
        name: 'Mug',
        description: '',
        priceCents: 1299,
        currency: 'EUR',
        stock: 8,
        active: false,
        version: 2,
        updatedAt: 0,
      }),
    ).toBe('STOCK_CHANGED "Mug" v2: stock 8, 12.99 EUR, inactive');
  });

  it('are time, topic, type, summary and where, in columns', () => {
    const line = eventLine(
      record(
        'order-confirmed',
        '2026-11-22T10:00:00.000Z',
        { orderId: order, userId: 'u', totalCents: 2598, currency: 'EUR', confirmedAt: 0 },
        {},
        1,
        '46',
      ),
      isEventTopic,
    );
    expect(line).toBe(
      '2026-11-22T10:00:00.000Z  order-confirmed     order-confirmed     confirmed, 25.98 EUR  [1/46 id=2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698]',
    );
  });

  it('show an undecodable value and a dead letter for what they are', () => {
    expect(
      eventLine(
        record('order-placed', '2026-11-22T10:00:00.000Z', { undecodable: 'not in the Confluent wire format', base64: '' }),
        isEventTopic,
      ),
    ).toContain('undecodable value: not in the Confluent wire format');
    const letter = record(
      'dlq',
      '2026-11-22T10:00:01.000Z',
      {},
      {
        type: 'order-placed',
        [h.group]: 'payment-svc',
        [h.topic]: 'order-placed',
        [h.partition]: '1',
        [h.offset]: '7',
        [h.reason]: 'HANDLER_FAILED',
        [h.attempts]: '5',
        [h.error]: 'Error: boom',
      },
    );
    expect(eventLine(letter, isEventTopic)).toContain(
      'dlq                 order-placed        dead letter: payment-svc gave up on order-placed 1/7, HANDLER_FAILED after 5 attempt(s): Error: boom',
    );
  });

  it('are sorted by time, then topic, partition and offset', () => {
    const records = [
      record('payment-success', '2026-11-22T10:00:01.000Z', null),
      record('inventory-reserved', '2026-11-22T10:00:01.000Z', null, {}, 0, '10'),
      record('inventory-reserved', '2026-11-22T10:00:01.000Z', null, {}, 0, '9'),
      record('order-placed', '2026-11-22T10:00:00.500Z', null),
    ];
    expect(records.sort(byTime).map((r) => `${r.topic}@${r.offset}`)).toEqual([
      'order-placed@0',
      'inventory-reserved@9',
      'inventory-reserved@10',
      'payment-success@0',
    ]);
  });
});

describe('make dlq groups', () => {
  const dead = (group: string, topic: string, failedAt: string, offset: string, reason = 'UNDECODABLE') =>
    letterOf({
      ...record('dlq', failedAt, null, {
        [h.group]: group,
        [h.topic]: topic,
        [h.partition]: '0',
        [h.offset]: '3',
        [h.reason]: reason,
        [h.attempts]: '1',
        [h.error]: 'UndecodableMessage: garbage',
        [h.failedAt]: failedAt,
      }),
      offset,
    });

  it('gather letters by reason, source topic and consumer group, newest trouble last', () => {
    const letters = [
      dead('product-svc', 'order-placed', '2026-11-22T10:00:05.000Z', '2'),
      dead('payment-svc', 'order-placed', '2026-11-22T10:00:01.000Z', '0'),
      dead('payment-svc', 'order-placed', '2026-11-22T10:00:03.000Z', '1'),
      dead('payment-svc', 'order-placed', '2026-11-22T10:00:04.000Z', '3', 'HANDLER_FAILED'),
    ];
    letters[1]!.replays.push({ topic: 'order-placed', partition: 2, offset: '9', at: '2026-11-22T11:00:00.000Z' });
    letters[1]!.replayed = true;
    const groups = groupLetters(letters);
    expect(groups.map((g) => [g.reason, g.topic, g.group, g.letters.length, g.first, g.last])).toEqual([
      ['UNDECODABLE', 'order-placed', 'payment-svc', 2, '2026-11-22T10:00:01.000Z', '2026-11-22T10:00:03.000Z'],
      ['HANDLER_FAILED', 'order-placed', 'payment-svc', 1, '2026-11-22T10:00:04.000Z', '2026-11-22T10:00:04.000Z'],
      ['UNDECODABLE', 'order-placed', 'product-svc', 1, '2026-11-22T10:00:05.000Z', '2026-11-22T10:00:05.000Z'],
    ]);
    const text = renderLetterGroups(groups);
    expect(text.slice(0, 5)).toEqual([
      'UNDECODABLE  order-placed → payment-svc  2 letters (1 replayed), first 2026-11-22T10:00:01.000Z, last 2026-11-22T10:00:03.000Z',
      `  2026-11-22T10:00:01.000Z  dlq 0/0  event 2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698  key ${order}  from order-placed 0/3  replayed 2026-11-22T11:00:00.000Z → order-placed 2/9`,
      '      UndecodableMessage: garbage',
      `  2026-11-22T10:00:03.000Z  dlq 0/1  event 2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698  key ${order}  from order-placed 0/3  not replayed`,
      '      UndecodableMessage: garbage',
    ]);
  });
});
