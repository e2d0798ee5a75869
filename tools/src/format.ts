// How make events and make dlq show records to people: one line per record (time, topic,
// type header, what happened), and dead letters grouped by why and where they failed. Pure
// functions of decoded records, so the unit tests need no Kafka.
import { deadLetterHeaderNames as h, type EventsByTopic, type EventTopic } from '@shop/kit';

/** A record as the commands describe it: decoded by inspect.ts, shown by the functions below. */
export interface RecordView {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  value: unknown;
}

/** The header `make replay-dlq` puts on the record it sends back: `<dlq partition>/<dlq offset>` of the letter. */
export const REPLAYED_FROM_HEADER = 'dlq.replayed.from';
/** A dead letter's place in `dlq`, as REPLAYED_FROM_HEADER names it: `<partition>/<offset>`. */
export const dlqPlace = (partition: number | bigint | string, offset: number | bigint | string) => `${partition}/${offset}`;

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;
const short = (id: string) => id.slice(0, 8);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What one event says, in a few words. */
export function summarizeEvent(topic: EventTopic, value: unknown): string {
  switch (topic) {
    case 'user-registration': {
      const e = value as EventsByTopic['user-registration'];
      return `${e.username} <${e.email}> registered as ${e.role}`;
    }
    case 'user-updated': {
      const e = value as EventsByTopic['user-updated'];
      const changed = (['email', 'fullName', 'disabled', 'tokenGeneration'] as const).filter((field) => e.before[field] !== e.after[field]);
      return `${e.change} ${e.after.username} v${e.after.version}${changed.length > 0 ? `: ${changed.map((field) => `${field} ${String(e.before[field])} -> ${String(e.after[field])}`).join(', ')}` : ''}`;
    }
    case 'product-update': {
      const e = value as EventsByTopic['product-update'];
      return `${e.change} "${e.name}" v${e.version}: stock ${e.stock}, ${money(e.priceCents, e.currency)}${e.active ? '' : ', inactive'}`;
    }
    case 'order-placed': {
      const e = value as EventsByTopic['order-placed'];
      const units = e.items.reduce((sum, line) => sum + line.quantity, 0);
      return `${plural(e.items.length, 'line')} (${plural(units, 'unit')}), ${money(e.totalCents, e.currency)}, user ${short(e.userId)}, token ${e.paymentToken}`;
    }
    case 'order-confirmed': {
      const e = value as EventsByTopic['order-confirmed'];
      return `confirmed, ${money(e.totalCents, e.currency)}`;
    }
    case 'order-cancelled': {
      const e = value as EventsByTopic['order-cancelled'];
      return `cancelled: ${e.reason}`;
    }
    case 'payment-success': {
      const e = value as EventsByTopic['payment-success'];
      return `charged ${money(e.amountCents, e.currency)} (${e.gatewayChargeId})`;
    }
    case 'payment-failure': {
      const e = value as EventsByTopic['payment-failure'];
      return `not charged: ${e.reason} (${e.detail})`;
    }
    case 'payment-refunded': {
      const e = value as EventsByTopic['payment-refunded'];
      return `refunded ${money(e.amountCents, e.currency)} (${e.gatewayRefundId})`;
    }
    case 'inventory-reserved': {
      const e = value as EventsByTopic['inventory-reserved'];
      return `reserved ${e.items.map((line) => `${line.quantity} × ${short(line.productId)}`).join(', ')}`;
    }
    case 'inventory-rejected': {
      const e = value as EventsByTopic['inventory-rejected'];
      return `rejected: ${e.shortages.map((s) => `${short(s.productId)} wanted ${s.requested}, has ${s.available}`).join('; ')}`;
    }
  }
}

const undecodable = (value: unknown): string | undefined => {
  if (value && typeof value === 'object') {
    if ('undecodable' in value) return `undecodable value: ${String(value.undecodable)}`;
    if ('undecoded' in value) return 'value not decoded (no schema for this topic)';
  }
  return undefined;
};

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** A dead letter in a few words: who gave up on what, and why. */
export function summarizeDeadLetter(headers: Record<string, string>): string {
  const replay = headers[REPLAYED_FROM_HEADER] ? ` (a replay of dlq ${headers[REPLAYED_FROM_HEADER]})` : '';
  return `dead letter: ${headers[h.group] ?? '?'} gave up on ${headers[h.topic] ?? '?'} ${headers[h.partition] ?? '?'}/${headers[h.offset] ?? '?'}${replay}, ${headers[h.reason] ?? '?'} after ${headers[h.attempts] ?? '?'} attempt(s): ${oneLine(headers[h.error] ?? '', 160)}`;
}

export function summarize(record: RecordView, isEventTopic: (topic: string) => topic is EventTopic): string {
  if (record.topic === 'dlq') return summarizeDeadLetter(record.headers);
  const problem = undecodable(record.value);
  if (problem) return problem;
  if (record.value === null) return 'no value';
  if (isEventTopic(record.topic)) return summarizeEvent(record.topic, record.value);
  return oneLine(JSON.stringify(record.value), 160);
}

/** Records in the order things happened: by timestamp, then topic, partition and offset. */
export function byTime(a: RecordView, b: RecordView): number {
  return (
    a.timestamp.localeCompare(b.timestamp) ||
    a.topic.localeCompare(b.topic) ||
    a.partition - b.partition ||
    (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0)
  );
}

const TOPIC_WIDTH = 'inventory-reserved'.length;

/** make events: `time  topic  type  summary  [partition/offset id=<event id>]`. */
export function eventLine(record: RecordView, isEventTopic: (topic: string) => topic is EventTopic): string {
  const where = `${record.partition}/${record.offset}`;
  return [
    record.timestamp,
    record.topic.padEnd(TOPIC_WIDTH),
    (record.headers['type'] ?? '-').padEnd(TOPIC_WIDTH),
    `${summarize(record, isEventTopic)}  [${where}${record.headers['id'] ? ` id=${record.headers['id']}` : ''}]`,
  ].join('  ');
}

/** A dead letter as make dlq reports it. */
export interface Letter {
  dlqPartition: number;
  dlqOffset: string;
  reason: string;
  error: string;
  attempts: number;
  group: string;
  source: { topic: string; partition: number; offset: string };
  failedAt: string;
  eventId: string | null;
  key: string | null;
  /** When the letter is itself of a replayed record: the dlq partition/offset of the letter that was replayed. */
  replayOf: string | null;
  /** Every time `make replay-dlq` sent this letter back: where the copy went, and when. */
  replays: { topic: string; partition: number; offset: string; at: string }[];
  replayed: boolean;
  value: unknown;
}

export function letterOf(record: RecordView): Letter {
  const headers = record.headers;
  return {
    dlqPartition: record.partition,
    dlqOffset: record.offset,
    reason: headers[h.reason] ?? '?',
    error: headers[h.error] ?? '',
    attempts: Number(headers[h.attempts] ?? 0),
    group: headers[h.group] ?? '?',
    source: { topic: headers[h.topic] ?? '?', partition: Number(headers[h.partition] ?? -1), offset: headers[h.offset] ?? '?' },
    failedAt: headers[h.failedAt] ?? record.timestamp,
    eventId: headers['id'] ?? null,
    key: record.key,
    replayOf: headers[REPLAYED_FROM_HEADER] ?? null,
    replays: [],
    replayed: false,
    value: record.value,
  };
}

export interface LetterGroup {
  reason: string;
  topic: string;
  group: string;
  first: string;
  last: string;
  letters: Letter[];
}

/** Letters grouped by reason, source topic and consumer group; letters oldest first, groups by their latest failure (the newest trouble last). */
export function groupLetters(letters: Letter[]): LetterGroup[] {
  const groups = new Map<string, LetterGroup>();
  for (const letter of [...letters].sort((a, b) => a.failedAt.localeCompare(b.failedAt) || a.dlqPartition - b.dlqPartition)) {
    const id = `${letter.reason}\u0000${letter.source.topic}\u0000${letter.group}`;
    let group = groups.get(id);
    if (!group) {
      group = {
        reason: letter.reason,
        topic: letter.source.topic,
        group: letter.group,
        first: letter.failedAt,
        last: letter.failedAt,
        letters: [],
      };
      groups.set(id, group);
    }
    group.letters.push(letter);
    group.last = letter.failedAt;
  }
  return [...groups.values()].sort((a, b) => a.last.localeCompare(b.last) || a.first.localeCompare(b.first));
}

/** make dlq for people: a heading per group, then one line per letter and its error. */
export function renderLetterGroups(groups: LetterGroup[]): string[] {
  const lines: string[] = [];
  for (const g of groups) {
    const replayed = g.letters.filter((l) => l.replayed).length;
    lines.push(
      `${g.reason}  ${g.topic} → ${g.group}  ${plural(g.letters.length, 'letter')} (${replayed} replayed), first ${g.first}, last ${g.last}`,
    );
    for (const l of g.letters) {
      const replay =
        l.replays.length === 0
          ? 'not replayed'
          : `replayed ${l.replays.map((r) => `${r.at} → ${r.topic} ${r.partition}/${r.offset}`).join(', ')}`;
      const origin = l.replayOf ? ` (itself from the replay of dlq ${l.replayOf})` : '';
      lines.push(
        `  ${l.failedAt}  dlq ${l.dlqPartition}/${l.dlqOffset}  event ${l.eventId ?? '-'}  key ${l.key ?? '-'}  from ${l.source.topic} ${l.source.partition}/${l.source.offset}${origin}  ${replay}`,
      );
      lines.push(`      ${oneLine(l.error, 300)}`);
    }
    lines.push('');
  }
  return lines;
}
