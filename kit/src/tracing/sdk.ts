// The OpenTelemetry SDK, loaded only when tracing is on (tracing.ts imports this module then):
// spans batched to Zipkin's v2 API, W3C trace context, async-hooks context, a parent-based
// ratio sampler, and the instrumentations of Fastify (server spans) and undici (fetch, and
// undici's own request, which publishes on the same diagnostics channels: client spans,
// traceparent sent to the gateway).
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { FastifyOtelInstrumentation } from '@fastify/otel';

/** Starts the SDK; returns its shutdown, which flushes the spans still buffered. */
export async function startSdk(service: string, zipkinUrl: string, sampleRatio: number): Promise<() => Promise<void>> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new ZipkinExporter({ url: `${zipkinUrl}/api/v2/spans`, serviceName: service }),
        // A bounded queue: if Zipkin is down, spans are dropped, never memory.
        maxQueueSize: 4_096,
        scheduledDelayMillis: 500,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  const disable = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Every Fastify app created from now on gets server spans (route, status).
      // One server span per request, named after its route; no spans per hook or handler (the
      // spans of the work a handler does are the request span's children directly).
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (options) => /^\/(health|metrics|docs)/.test(options.url),
        instrumentHooks: false,
        instrumentHandler: false,
        requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`),
      }),
      new UndiciInstrumentation(),
    ],
  });
  return async () => {
    disable();
    await provider.shutdown();
  };
}
