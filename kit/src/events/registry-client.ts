import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api/index.js';

/**
 * Long enough for a registry that has just started (its first requests compile code), short
 * enough that a consumer is not held by a request that will never be answered.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

type RegistryMiddleware = NonNullable<SchemaRegistryAPIClientArgs['middlewares']>[number];

/**
 * mappersmith's TimeoutMiddleware, written here because importing it from ESM gives
 * mappersmith's ESM types, which the library's CommonJS types do not accept.
 */
const requestTimeout =
  (timeoutMs: number): RegistryMiddleware =>
  () => ({
    prepareRequest: async (next) => (await next()).enhance({ timeout: timeoutMs }),
  });

/**
 * A client of the Confluent-compatible registry API whose requests give up after a timeout and
 * are retried. The library's own retry covers 5xx answers only, and it sets no timeout: a
 * request the registry accepted and never answered (seen once in CI) waited forever. A request
 * that got no answer at all (timed out, refused, reset) carries the client-side error, and is
 * retried like a 5xx; every call is idempotent (reading a schema, registering one the subject
 * may already have).
 */
export function registryClient(url: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): SchemaRegistry {
  return new SchemaRegistry({
    host: url,
    middlewares: [requestTimeout(timeoutMs)],
    retry: { validateRetry: (response) => response.status() >= 500 || response.error() !== null },
  });
}
