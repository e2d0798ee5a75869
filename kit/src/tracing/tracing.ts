// Tracing, OpenTelemetry's way: one trace per order from its POST through every hop, the
// outbox and CDC included (the outbox row carries the W3C traceparent of the transaction that
// wrote it, Debezium puts it in a Kafka header, the consumer continues the trace), exported to
// Zipkin. Off (no ZIPKIN_URL, or TRACING_SAMPLE_RATIO=0) loads no SDK at all: the API calls
// in the kit are then the OpenTelemetry API's no-ops.
import { context, propagation, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { describeThrown } from '../errors.ts';

/** What the kit's own spans are recorded under. */
export const tracer = () => trace.getTracer('shop-kit');

export interface TracingSettings {
  /** Zipkin's base URL; tracing is off without one. */
  zipkinUrl: string | undefined;
  /** The share of new traces recorded (0 to 1); a trace continued from a parent follows the parent's choice. */
  sampleRatio: number;
}

export interface Tracing {
  enabled: boolean;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK for a service, before its Fastify app exists (so @fastify/otel sees the app
 * being created and the undici instrumentation sees every outbound request). Returns a
 * no-op when tracing is off.
 */
export async function startTracing(service: string, settings: TracingSettings): Promise<Tracing> {
  if (!settings.zipkinUrl || settings.sampleRatio <= 0) return { enabled: false, shutdown: async () => undefined };
  const { startSdk } = await import('./sdk.ts');
  return { enabled: true, shutdown: await startSdk(service, settings.zipkinUrl, settings.sampleRatio) };
}

/** The W3C traceparent of the active span, for an outbox row: null when nothing is being traced. */
export function currentTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] ?? null;
}

/** The context a record's headers continue (its traceparent), or the active one. */
export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** Runs `work` in a new span (child of `parent`, or of the active span), ending it however `work` ends. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        const described = describeThrown(error);
        span.recordException(error instanceof Error ? error : described);
        span.setStatus({ code: SpanStatusCode.ERROR, message: described });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * A span that already happened, between two instants: the time a record spent between its
 * producer and this consumer (CDC, Kafka) shows as its own bar in the trace.
 */
export function recordSpan(name: string, parent: Context, start: number, end: number, attributes: Attributes = {}): void {
  tracer().startSpan(name, { kind: SpanKind.CONSUMER, startTime: start, attributes }, parent).end(end);
}

/** Adds attributes to the active span (the request's server span, the event's consumer span). */
export function tagActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active trace's id, for log lines; undefined when nothing is traced. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, traceFlags } = span.spanContext();
  return traceFlags & 1 ? traceId : undefined;
}

/** The attribute every span of an order carries, that `make trace ORDER=<id>` searches Zipkin for. */
export const ORDER_ID_ATTRIBUTE = 'shop.order_id';

export { SpanKind };
