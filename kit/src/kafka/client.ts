import { Kafka, logLevel, type IHeaders, type LogEntry } from 'kafkajs';

/** The subset of a pino/Fastify logger the kit writes to. */
export interface Logger {
  debug(obj: object, message?: string): void;
  info(obj: object, message?: string): void;
  warn(obj: object, message?: string): void;
  error(obj: object, message?: string): void;
}

/** A KafkaJS client whose own log lines go to the service's structured log. */
export function createKafka(brokers: string[], clientId: string, logger: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...details } = log;
        const entry = { kafka: namespace, ...details };
        if (level <= logLevel.ERROR) logger.error(entry, message);
        else if (level === logLevel.WARN) logger.warn(entry, message);
        else logger.debug(entry, message);
      },
  });
}

/**
 * Record headers as text (KafkaJS gives Buffers, or arrays of them for repeated names). A
 * header without a value is left out: Debezium writes one for a NULL outbox column placed in
 * a header (`traceparent` of an untraced transaction).
 */
export function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}) as [string, IHeaders[string] | null][]) {
    if (value === undefined || value === null) continue;
    text[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return text;
}
