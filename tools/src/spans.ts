// Spans read back from Zipkin, put in the order they happened in.

/** A span as Zipkin's v2 API returns it (times in microseconds). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** The spans of a trace in causal order: each parent before its children, siblings by start time. */
export function causalOrder(spans: ZipkinSpan[]): { span: ZipkinSpan; depth: number }[] {
  const ids = new Set(spans.map((span) => span.id));
  const children = new Map<string | undefined, ZipkinSpan[]>();
  for (const span of spans) {
    const parent = span.parentId !== undefined && ids.has(span.parentId) ? span.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const ordered: { span: ZipkinSpan; depth: number }[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0))) {
      ordered.push({ span, depth });
      walk(span.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return ordered;
}
