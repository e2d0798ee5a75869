import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { Sql, Transaction } from '../db/connect.ts';
import { aggregateLocks } from '../db/locks.ts';
import type { EventCodec } from '../events/codec.ts';
import type { EventsByTopic, EventTopic } from '../../../schemas/types.generated.ts';
import { headersAsText, type Logger } from '../kafka/client.ts';
import { applyByKey } from './by-key.ts';
import { DEAD_LETTER_TOPIC, deadLetterOf, smallerLetter, type DeadLetterReason } from './dead-letter.ts';
import { backoffDelay, classifyFailure } from './failures.ts';
import { Gathering } from './gathering.ts';
import { eventCatalogue } from '../../../schemas/catalogue.ts';
import type { Attributes, Context } from '@opentelemetry/api';
import { contextFromHeaders, inSpan, ORDER_ID_ATTRIBUTE, recordSpan, SpanKind } from '../tracing/tracing.ts';
import { UUID_PATTERN } from '../uuid.ts';

/** An event as a handler sees it: decoded, with the envelope Kafka carried it in. */
export interface ConsumedEvent<T extends EventTopic> {
  /** The event's id (the `id` header), the key of idempotency. */
  id: string;
  topic: T;
  /** The aggregate id: user, product or order. */
  key: string;
  value: EventsByTopic[T];
  partition: number;
  offset: string;
  /** When the record was written to Kafka (ms since the epoch). */
  timestamp: number;
}

/**
 * Applies one event inside the consumer's transaction. Throwing rolls back everything the
 * handler wrote; the event is then retried, and dead-lettered if it keeps failing.
 */
export type EventHandler<T extends EventTopic> = (tx: Transaction, event: ConsumedEvent<T>) => Promise<void>;
export type EventHandlers = { [T in EventTopic]?: EventHandler<T> };

/**
 * Takes, first in a batch's transaction and in one fixed order, the row locks its handlers
 * will take. Handlers that lock rows shared between keys (product-svc's stock) take them in
 * order within one event; in a batch of many events they would take them in event order,
 * and two batches on two partitions could wait on each other in a cycle. A locker may also
 * read the rows it locks, for the handlers to take instead of reading them one by one.
 */
export type BatchLocker = (tx: Transaction, events: ConsumedEvent<EventTopic>[]) => Promise<void>;

/**
 * Runs last in a batch's transaction, after its handlers: for handlers that stage their writes
 * so that a batch's are made in one statement rather than one per event (order-svc's saga
 * states). A batch retried message by message runs it once per message.
 */
export type BatchFinisher = (tx: Transaction) => Promise<void>;

/**
 * Tells apart, before any transaction is opened, events that would change nothing the service
 * keeps. Such an event is neither applied nor recorded in processed_events (skipping it again
 * on a redelivery is as good as skipping it once), so it costs no round trip to the database.
 * A filter that judges by what the database already holds learns it from `applied`, which is
 * told after each commit which events were applied.
 */
export interface EventFilter {
  isNeedless(event: ConsumedEvent<EventTopic>): boolean;
  applied(events: ConsumedEvent<EventTopic>[]): void;
}

export interface ConsumerSettings {
  /** Attempts at applying a message before it is dead-lettered. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * Partitions processed at once; within a partition (so within a key) order is kept. The
   * batches of those that one fetch brings together share one transaction (see Gathering).
   */
  partitionsConsumedConcurrently: number;
  /** The most messages of one partition applied in one transaction (1: a transaction per message). */
  batchSize: number;
  /**
   * The longest applied messages wait before their offsets are committed (0: after every
   * fetched batch). Each commit is a request to the broker; at low rates a batch holds one
   * message, so committing each batch costs one request per message.
   */
  commitIntervalMs: number;
  /** A fetch is answered once this many bytes are there, or after fetchMaxWaitMs: fewer, fuller fetches against a wait. Unset: kafkajs's defaults. */
  fetchMinBytes?: number | undefined;
  fetchMaxWaitMs?: number | undefined;
  /**
   * After a fetch that brought records, how long the next may wait to fill (0 or unset: it is
   * answered at the first record). A busy consumer's batches fill, and each costs one fetch,
   * one transaction and one offset commit for more events; an idle one is not woken more often.
   */
  fetchFillWaitMs?: number | undefined;
  /** How long the group waits for a heartbeat before it drops the member (unset: kafkajs's 30 s). */
  sessionTimeoutMs?: number | undefined;
}

export interface EventConsumerOptions {
  /** The consumer group, also the consumer's name in `processed_events`. */
  group: string;
  kafka: Kafka;
  sql: Sql;
  codec: EventCodec;
  handlers: EventHandlers;
  lockBatch?: BatchLocker | undefined;
  finishBatch?: BatchFinisher | undefined;
  filter?: EventFilter | undefined;
  /**
   * Events of how many different keys a batch applies at once (default 1: one after the
   * other); one key's events stay in order. For handlers that touch nothing another key's
   * handler touches and that wait on something outside the database, as payment-svc's gateway
   * calls: a batch then waits for its slowest call, not for the sum of them. Their statements
   * share the batch's transaction, pipelined on its connection.
   */
  keysInParallel?: number | undefined;
  /**
   * Whether batches of one fetch that hold events of the same key (on different topics) may
   * still share a transaction, applied one after the other in it. Only for handlers that see,
   * inside a transaction, what the events before them did: order-svc's, whose saga states
   * are staged per transaction. Off by default: payment-svc's would charge an order whose
   * cancellation came in the same transaction.
   */
  gatherSharedKeys?: boolean | undefined;
  settings: ConsumerSettings;
  logger: Logger;
  metrics?: Registry;
}

/** One record as fetched: where it came from, and its bytes. */
interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

type Heartbeat = () => Promise<void>;

/** Where a message's processing belongs in its trace: the context it continues, and what its spans say. */
interface EventTrace {
  parent: Context;
  attributes: Attributes;
}

interface Traced {
  event: ConsumedEvent<EventTopic>;
  trace: EventTrace;
}

/** How long a consumer that could not start, or crashed beyond KafkaJS's own restarts, waits to try again. */
const RESTART_DELAY_MS = 5_000;
/** How often a batch in hand asks for a heartbeat; kafkajs sends one per heartbeat interval (3 s). */
const KEEP_ALIVE_CHECK_MS = 1_000;
/** The longest a batch keeps its member in the group by those heartbeats: Kafka's max.poll.interval.ms default. */
const MAX_BATCH_IN_HAND_MS = 300_000;

const keyOf = ({ message }: Delivery) => message.key?.toString() ?? '';

/** A record fetched, with the trace its processing continues (its time in Kafka already recorded). */
interface TracedDelivery {
  delivery: Delivery;
  trace: EventTrace;
}

class StopRequested extends Error {
  override name = 'StopRequested';
}

/** The message itself is unreadable: no amount of retrying changes its bytes. */
class UndecodableMessage extends Error {
  override name = 'UndecodableMessage';
}

/**
 * A consumer group member that applies each event exactly once: the event id goes into
 * `processed_events` in the same transaction as the handler's effects, so a redelivery
 * finds it there and changes nothing.
 *
 * Failures are sorted by whose fault they are (see failures.ts). A message that cannot be
 * decoded is dead-lettered at once; one whose handler keeps failing is dead-lettered after
 * `maxAttempts`. An outage of the database, the registry or Kafka is waited out with backoff
 * for as long as it lasts, holding the partition, so no good message is dead-lettered for it.
 * Offsets are committed only for messages that were applied, found duplicate or
 * dead-lettered, so a crash at any point means redelivery, never loss.
 *
 * Messages are applied a batch at a time: up to `batchSize` consecutive messages of one
 * partition in one transaction, their ids recorded by one insert and their handlers run in
 * order inside it, so that a busy consumer pays one commit for many events. If anything in a
 * batch fails, the transaction is rolled back and the batch is applied again message by
 * message, each with the rules above, so one bad message is isolated and only it is
 * dead-lettered. The batches of several partitions that are fetched together are first tried
 * in one transaction (see Gathering), unless they share a key; if that fails, each partition's
 * batch goes its own way.
 */
/** kafkajs's consumer configuration for a group consuming with `settings`. */
export function kafkaConsumerConfig(group: string, settings: ConsumerSettings): ConsumerConfig {
  return {
    groupId: group,
    ...(settings.fetchMinBytes === undefined ? {} : { minBytes: settings.fetchMinBytes }),
    ...(settings.fetchMaxWaitMs === undefined ? {} : { maxWaitTimeInMs: settings.fetchMaxWaitMs }),
    // patches/kafkajs+2.2.4.patch: kafkajs has no such setting of its own.
    fillWaitInMs: settings.fetchFillWaitMs ?? 0,
    ...(settings.sessionTimeoutMs === undefined ? {} : { sessionTimeout: settings.sessionTimeoutMs }),
    // Retries of the consumer's own protocol calls; message failures are handled by the consumer.
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
  };
}

/** kafkajs's run options for `settings`, but for the batch handler: offsets resolved by the handler, committed at an interval. */
export function kafkaRunConfig(settings: ConsumerSettings): Omit<ConsumerRunConfig, 'eachBatch' | 'eachMessage'> {
  return {
    partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
    // Offsets of applied messages wait up to this long, then go in one commit (also when the
    // partition has gone quiet, at a rebalance and at a stop: patches/kafkajs+2.2.4.patch). A
    // crash redelivers what was not committed, and processed_events skips it.
    ...(settings.commitIntervalMs > 0 ? { autoCommitInterval: settings.commitIntervalMs } : {}),
    // Offsets are resolved by the handler, after each batch's transaction has committed.
    eachBatchAutoResolve: false,
  };
}

export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly stopping = new AbortController();
  private joined = false;
  private readonly batchesInHand = new Set<{ since: number }>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly outcomes: Counter<'topic' | 'outcome'>;
  private readonly retries: Counter<'topic' | 'cause'>;
  private readonly batches: Counter<'topic' | 'outcome'>;
  private readonly requests: Counter<'api'>;

  private readonly options: EventConsumerOptions;
  private readonly gathering = new Gathering<TracedDelivery[]>({
    // Handlers were written for a transaction that holds one topic's events of a key: one
    // order's placement and its cancellation, say, are each applied after the other has
    // committed. Parts that share a key therefore never share a transaction, unless the
    // service says its handlers allow it (gatherSharedKeys).
    keysOf: (part) => (this.options.gatherSharedKeys ? [] : part.map(({ delivery }) => keyOf(delivery))),
    applyTogether: (parts) => this.applyAtOnce(parts.flat()),
  });

  constructor(options: EventConsumerOptions) {
    this.options = options;
    this.consumer = options.kafka.consumer(kafkaConsumerConfig(options.group, options.settings));
    // Not idempotent: kafkajs's idempotent producer, when a send times out, takes its sequence
    // number back and gives it to the next send, which may be another partition's letter; if
    // the broker had written the first, it takes the second for a copy of it and drops it, and
    // its event's offset is committed with no letter. Without idempotence a timed-out letter
    // may be written twice, which a reader of `dlq` already allows for.
    this.producer = options.kafka.producer({ idempotent: false, maxInFlightRequests: 1 });
    const registers = options.metrics ? [options.metrics] : [];
    this.outcomes = new Counter({
      name: 'consumer_events_total',
      help: 'Events by outcome: applied, duplicate (already applied), needless (changes nothing here, not applied) or dead_lettered',
      labelNames: ['topic', 'outcome'] as const,
      registers,
    });
    this.batches = new Counter({
      name: 'consumer_batches_total',
      help: 'Transactions that applied a batch of messages, by outcome: committed, or failed (then applied one by one)',
      labelNames: ['topic', 'outcome'] as const,
      registers,
    });
    this.retries = new Counter({
      name: 'consumer_retries_total',
      help: 'Retries of an event, by cause: the message (counts towards dead-lettering) or an outage',
      labelNames: ['topic', 'cause'] as const,
      registers,
    });
    // What the broker spends on this service is per request more than per record: a fetch
    // that brings one record costs it about what one that brings fifty does.
    this.requests = new Counter({
      name: 'consumer_kafka_requests_total',
      help: 'Requests the consumer sent to the brokers and had answered, by API (Fetch, OffsetCommit, Heartbeat, ...)',
      labelNames: ['api'] as const,
      registers,
    });
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP, REQUEST } = this.consumer.events;
    this.consumer.on(REQUEST, ({ payload }) => this.requests.inc({ api: payload.apiName }));
    this.consumer.on(GROUP_JOIN, () => {
      this.joined = true;
    });
    for (const event of [DISCONNECT, STOP]) {
      this.consumer.on(event, () => {
        this.joined = false;
      });
    }
    this.consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      options.logger.error({ err: payload.error, group: options.group, restart: payload.restart }, 'consumer crashed');
      // KafkaJS restarts after retriable errors by itself; after the others, so do we.
      if (!payload.restart && !this.stopping.signal.aborted) void this.restartLater();
    });
  }

  get topics(): EventTopic[] {
    return Object.keys(this.options.handlers) as EventTopic[];
  }

  /** Connects and joins the group once; a `stop` meanwhile leaves it disconnected. */
  async start(): Promise<void> {
    const stopped = async () => {
      if (!this.stopping.signal.aborted) return false;
      await this.disconnect();
      return true;
    };
    await this.producer.connect();
    if (await stopped()) return;
    await this.consumer.connect();
    if (await stopped()) return;
    // A new group reads each topic from the start: a service's copy of other services' data
    // (users, products) must include what happened before it first ran.
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({ ...kafkaRunConfig(this.options.settings), eachBatch: (payload) => this.consumeBatch(payload) });
    await stopped();
  }

  /** Starts, and after a failure (Kafka not reachable yet) tries again every 5 s, until it has started or `stop` was called. */
  async keepStarting(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        await this.start();
        return;
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.options.logger.error(
          { err: error, group: this.options.group },
          `the consumer could not start; retrying in ${RESTART_DELAY_MS / 1000} s`,
        );
        await this.consumer.disconnect().catch(() => undefined);
        await sleep(RESTART_DELAY_MS, undefined, { ref: false, signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /** Readiness: joined to its group (so partitions are assigned and being consumed). */
  async ready(): Promise<void> {
    if (!this.joined) throw new Error(`consumer group ${this.options.group} has not joined`);
    return Promise.resolve();
  }

  /** Finishes the message in hand (or abandons its retries, uncommitted), commits offsets, leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.disconnect();
  }

  private async disconnect(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async restartLater(): Promise<void> {
    await sleep(RESTART_DELAY_MS, undefined, { ref: false, signal: this.stopping.signal }).catch(() => undefined);
    if (this.stopping.signal.aborted) return;
    await this.consumer.disconnect().catch(() => undefined);
    await this.keepStarting();
  }

  /**
   * A fetched batch of one partition, in transactions of up to `batchSize` messages, each
   * committed before the next; each such part shares its transaction with the parts of other
   * partitions that arrive with it.
   */
  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const stopKeepingAlive = this.keepAlive(() => payload.heartbeat());
    try {
      await this.consumeParts(payload);
    } finally {
      stopKeepingAlive();
    }
  }

  /**
   * Heartbeats while any batch is being applied. kafkajs sends none of its own, and a part's
   * transaction can outlast the session (a fetch's partitions share one: twelve partitions'
   * hundred charges each against a slow gateway, or a registry that does not answer): the
   * group would drop the member, its commit would fail, and the batch be applied again, all
   * of it skipped as duplicates. kafkajs sends at most one per heartbeat interval however
   * often it is asked; a failed one (a rebalance under way) is left to the heartbeat after the
   * part, which makes the runner rejoin.
   */
  private keepAlive(heartbeat: () => Promise<void>): () => void {
    const batch = { since: performance.now() };
    this.batchesInHand.add(batch);
    this.keepAliveTimer ??= setInterval(() => {
      // Not for ever: a batch held past MAX_BATCH_IN_HAND_MS (a lock that is never released)
      // lets the group hand its partitions to another member, as max.poll.interval.ms does
      // in Kafka's own client.
      const oldest = Math.min(...[...this.batchesInHand].map(({ since }) => since));
      if (performance.now() - oldest < MAX_BATCH_IN_HAND_MS) void heartbeat().catch(() => undefined);
    }, KEEP_ALIVE_CHECK_MS);
    return () => {
      this.batchesInHand.delete(batch);
      if (this.batchesInHand.size === 0) {
        clearInterval(this.keepAliveTimer);
        this.keepAliveTimer = undefined;
      }
    };
  }

  private async consumeParts(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    const heartbeat = () => payload.heartbeat();
    const size = this.options.settings.batchSize;
    for (let start = 0; start < messages.length; start += size) {
      if (!payload.isRunning() || payload.isStale()) return;
      // Once per message, also when the part is then applied again on its own or one by one.
      const part = messages.slice(start, start + size).map((message) => {
        const delivery = { topic, partition, message };
        return { delivery, trace: this.traceOf(delivery) };
      });
      if ((await this.gathering.join(part)) !== 'applied') {
        if (part.length === 1) await this.process(part[0]!.delivery, heartbeat, part[0]!.trace);
        else await this.processTogether(part, heartbeat);
      }
      payload.resolveOffset(part.at(-1)!.delivery.message.offset);
      await payload.commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /**
   * The fast way: every message decoded, then one transaction for all. Whether it committed,
   * counted for each topic among them; a failure is logged and changes nothing.
   */
  private async applyAtOnce(part: TracedDelivery[]): Promise<boolean> {
    const topics = new Set(part.map(({ delivery }) => delivery.topic));
    try {
      const events: Traced[] = [];
      for (const { delivery, trace } of part) events.push({ event: await this.decode(delivery), trace });
      if (await this.apply(events)) for (const topic of topics) this.batches.inc({ topic, outcome: 'committed' });
      return true;
    } catch (error) {
      for (const topic of topics) this.batches.inc({ topic, outcome: 'failed' });
      const partitions = [...new Set(part.map(({ delivery }) => `${delivery.topic}/${delivery.partition}`))];
      this.options.logger.debug({ group: this.options.group, partitions, size: part.length, err: error }, 'applying a batch failed');
      return false;
    }
  }

  /**
   * One partition's part at once; whatever fails sends it the slow way, message by message,
   * where retries, outages and dead letters are handled one message at a time.
   */
  private async processTogether(part: TracedDelivery[], heartbeat: Heartbeat): Promise<void> {
    if (await this.applyAtOnce(part)) return;
    for (const { delivery, trace } of part) await this.process(delivery, heartbeat, trace);
  }

  /**
   * The record's time in Kafka, from when Connect produced it to now, as a span of its own in
   * the trace of the transaction that wrote it (the traceparent header, from the outbox row),
   * so that a trace shows each hop's CDC and Kafka time as well as its processing. Returns
   * what the processing's span continues.
   */
  private traceOf({ topic, partition, message }: Delivery): EventTrace {
    const headers = headersAsText(message.headers);
    const parent = contextFromHeaders(headers);
    const id = headers['id'];
    const key = message.key?.toString() ?? '';
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': this.options.group,
      'messaging.kafka.message.key': key,
      'messaging.kafka.offset': Number(message.offset),
      'messaging.destination.partition.id': String(partition),
      ...(id ? { 'messaging.message.id': id } : {}),
      ...(eventCatalogue[topic as EventTopic]?.aggregate === 'order' ? { [ORDER_ID_ATTRIBUTE]: key } : {}),
    };
    recordSpan(`${topic} in kafka`, parent, Number(message.timestamp), Date.now(), attributes);
    return { parent, attributes };
  }

  /** The slow way, one message: retried while it fails, waited on through outages, dead-lettered if it is to blame. */
  private async process(delivery: Delivery, heartbeat: Heartbeat, trace: EventTrace): Promise<void> {
    const { topic, message } = delivery;
    const { maxAttempts, retryBaseMs, retryMaxMs } = this.options.settings;
    const backoff = { baseMs: retryBaseMs, maxMs: retryMaxMs };
    let attempts = 0;
    let outages = 0;
    let event: ConsumedEvent<EventTopic> | undefined;
    for (;;) {
      if (this.stopping.signal.aborted) throw new StopRequested('stopping: the message will be redelivered');
      try {
        event ??= await this.decode(delivery);
        await this.apply([{ event, trace }]);
        return;
      } catch (error) {
        if (error instanceof StopRequested) throw error;
        const log = { group: this.options.group, topic, partition: delivery.partition, offset: message.offset, err: error };
        if (!(error instanceof UndecodableMessage) && classifyFailure(error) === 'infrastructure') {
          outages += 1;
          this.retries.inc({ topic, cause: 'outage' });
          this.options.logger.warn({ ...log, outages }, 'a dependency is unavailable; retrying the event until it is back');
          await this.pause(backoffDelay(outages, backoff), heartbeat);
          continue;
        }
        attempts += 1;
        if (error instanceof UndecodableMessage || attempts >= maxAttempts) {
          await this.deadLetter(
            delivery,
            heartbeat,
            error instanceof UndecodableMessage ? 'UNDECODABLE' : 'HANDLER_FAILED',
            error,
            attempts,
          );
          return;
        }
        this.retries.inc({ topic, cause: 'message' });
        this.options.logger.warn({ ...log, attempts }, 'applying the event failed; retrying');
        await this.pause(backoffDelay(attempts, backoff), heartbeat);
      }
    }
  }

  private async decode({ topic, partition, message }: Delivery): Promise<ConsumedEvent<EventTopic>> {
    const id = headersAsText(message.headers)['id'];
    if (id === undefined || !UUID_PATTERN.test(id))
      throw new UndecodableMessage(`the id header is missing or not a UUID (${JSON.stringify(id)})`);
    if (!message.value) throw new UndecodableMessage('the message has no value');
    if (!message.key) throw new UndecodableMessage('the message has no key');
    let value: EventsByTopic[EventTopic];
    try {
      value = await this.options.codec.decode(topic as EventTopic, message.value);
    } catch (error) {
      if (classifyFailure(error) === 'infrastructure') throw error;
      throw new UndecodableMessage(`the value is not a decodable ${topic} event: ${(error as Error).message}`, { cause: error });
    }
    return {
      // As PostgreSQL's uuid gives it back: processed_events answers with this form, and an
      // event is applied only if its id is found among the answer's.
      id: id.toLowerCase(),
      topic: topic as EventTopic,
      key: message.key.toString(),
      value,
      partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
    };
  }

  /**
   * Applies events of one partition, or of several gathered: those the filter finds needless are only counted, the
   * rest go through one transaction. Outcomes are counted once it has committed, so a failed
   * batch is judged again message by message and counted once. Returns whether a transaction ran.
   */
  private async apply(events: Traced[]): Promise<boolean> {
    const needless = new Set(events.filter(({ event }) => this.options.filter?.isNeedless(event)));
    const needed = events.filter((traced) => !needless.has(traced));
    const applied = needed.length > 0 ? await this.applyInTransaction(needed) : new Set<Traced>();
    for (const traced of events) {
      const outcome = needless.has(traced) ? 'needless' : applied.has(traced) ? 'applied' : 'duplicate';
      this.outcomes.inc({ topic: traced.event.topic, outcome });
    }
    this.options.filter?.applied([...applied].map(({ event }) => event));
    return needed.length > 0;
  }

  /** Applies events, each partition's in order, in one transaction (see applyBatch); returns those applied. */
  private async applyInTransaction(events: Traced[]): Promise<Set<Traced>> {
    const attributes = { 'db.system.name': 'postgresql', 'messaging.batch.message_count': events.length };
    // The transaction's span belongs to the first event's trace; each event's own processing is
    // a span in its own trace.
    return inSpan('pg transaction', { kind: SpanKind.CLIENT, attributes, parent: events[0]!.trace.parent }, () =>
      this.options.sql.begin((tx) =>
        applyBatch(tx, this.options, events, ({ event, trace }, apply) =>
          inSpan(`${event.topic} process`, { kind: SpanKind.CONSUMER, ...trace }, apply),
        ),
      ),
    );
  }

  private async deadLetter(
    delivery: Delivery,
    heartbeat: Heartbeat,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const { topic, partition, message } = delivery;
    let letter = deadLetterOf({ topic, partition, message }, { group: this.options.group, attempts, reason, error, at: new Date() });
    let outages = 0;
    for (;;) {
      if (this.stopping.signal.aborted) throw new StopRequested('stopping before the dead letter was written');
      try {
        await this.producer.send({ topic: DEAD_LETTER_TOPIC, messages: [letter] });
        break;
      } catch (sendError) {
        // Refused for what it carries: sent again smaller, at once.
        const smaller = smallerLetter(letter, sendError);
        if (smaller !== undefined) {
          this.options.logger.warn(
            { err: sendError, topic, partition, offset: message.offset },
            'the dead letter is written without what Kafka refused',
          );
          letter = smaller;
          continue;
        }
        outages += 1;
        this.options.logger.warn({ err: sendError, topic, outages }, 'writing the dead letter failed; retrying');
        await this.pause(
          backoffDelay(outages, { baseMs: this.options.settings.retryBaseMs, maxMs: this.options.settings.retryMaxMs }),
          heartbeat,
        );
      }
    }
    this.outcomes.inc({ topic, outcome: 'dead_lettered' });
    this.options.logger.error(
      { group: this.options.group, topic, partition, offset: message.offset, attempts, reason, err: error },
      'event dead-lettered',
    );
  }

  /** Waits, heartbeating so the group keeps this member; a rebalance or a stop ends the wait early. */
  private async pause(ms: number, heartbeat: Heartbeat): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      try {
        await sleep(Math.min(1_000, deadline - Date.now()), undefined, { signal: this.stopping.signal });
      } catch {
        throw new StopRequested('stopping during a retry wait: the message will be redelivered');
      }
      try {
        await heartbeat();
      } catch (error) {
        // The partition may now belong to another member: stop here; it gets the message.
        const type = (error as { type?: string }).type;
        if (type === 'REBALANCE_IN_PROGRESS' || type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION') throw error;
      }
    }
  }
}

/** What a batch is applied with: a consumer's group and a service's consumer parts. */
export type BatchParts = Pick<EventConsumerOptions, 'group' | 'handlers' | 'lockBatch' | 'finishBatch' | 'keysInParallel'>;

/**
 * What a consumer does with a batch inside its transaction, each partition's events in order;
 * returns the items applied. One statement locks the events' aggregates (see aggregateLocks)
 * and records their ids: a concurrent delivery of the same event waits on the lock, then finds
 * the id and skips; an event already recorded (a redelivery) is not applied again. `around`
 * wraps each handler's call (the consumer's span). Exported so that tests drive a service's
 * parts through this very code, without Kafka.
 */
export async function applyBatch<Item extends { event: ConsumedEvent<EventTopic> }>(
  tx: Transaction,
  parts: BatchParts,
  items: Item[],
  around: (item: Item, apply: () => Promise<void>) => Promise<void> = (_item, apply) => apply(),
): Promise<Set<Item>> {
  const handlers = new Map(
    items.map((item) => {
      const handler = parts.handlers[item.event.topic] as EventHandler<EventTopic> | undefined;
      if (!handler) throw new Error(`no handler for topic ${item.event.topic}`);
      return [item, handler];
    }),
  );
  // Handlers lock their own aggregate, and some lock rows shared between aggregates; both are
  // taken up front in one order (see BatchLocker). A redelivery's lock is taken too, which
  // costs nothing: it is read in the statement that finds it a redelivery.
  const locks = aggregateLocks(
    tx,
    items.map(({ event }) => event.key),
  );
  const recorded = await tx`
    with locked as (${locks})
    insert into processed_events (consumer, event_id, topic)
    select ${parts.group}, event.id, event.topic
    from unnest(${items.map(({ event }) => event.id)}::uuid[], ${items.map(({ event }) => event.topic)}::text[]) as event (id, topic)
    where (select count(*) from locked) > 0
    on conflict do nothing
    returning event_id`;
  const unseen = new Set(recorded.map((row) => row['eventId'] as string));
  if (unseen.size > 1) {
    await parts.lockBatch?.(
      tx,
      items.filter(({ event }) => unseen.has(event.id)).map(({ event }) => event),
    );
  }
  // The same event twice in one batch (a redelivery right behind the first) is applied once.
  const due = items.filter(({ event }) => unseen.delete(event.id));
  const applied = new Set<Item>();
  await applyByKey(
    due,
    ({ event }) => event.key,
    parts.keysInParallel ?? 1,
    async (item) => {
      await around(item, () => handlers.get(item)!(tx, item.event));
      applied.add(item);
    },
  );
  await parts.finishBatch?.(tx);
  return applied;
}
