import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AccountCheck } from './accounts.ts';
import { authentication, type PublicKeyResolver } from './auth.ts';
import { health, type ReadinessCheck } from './health.ts';
import { metrics } from './metrics.ts';
import { UUID_PATTERN } from '../uuid.ts';
import { installProblemHandlers, PROBLEM_MEDIA_TYPE, problemOf, sendProblem, writeClientErrorProblem } from './problem.ts';

interface OpenApiDocument {
  paths?: Record<
    string,
    Record<
      string,
      {
        parameters?: { required?: boolean; schema?: { default?: unknown } }[];
        responses?: Record<string, { content?: Record<string, { schema?: { description?: string } }> }>;
      }
    >
  >;
}

/**
 * The generated document as the service answers: a query parameter with a default is optional
 * (validation fills it in; @fastify/swagger files it as required, being in the schema's
 * `required`), and a problem is sent as application/problem+json, not as the
 * application/json every response schema is filed under.
 */
function documentAsServed<Document extends OpenApiDocument>(document: Document): Document {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false;
      }
      for (const response of Object.values(operation.responses ?? {})) {
        const json = response.content?.['application/json'];
        if (json?.schema?.description === PROBLEM_MEDIA_TYPE) response.content = { [PROBLEM_MEDIA_TYPE]: json };
      }
    }
  }
  return document;
}

/** A Fastify instance whose routes take their request and reply types from TypeBox schemas. */
export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpAppOptions {
  service: string;
  version: string;
  description: string;
  logger: FastifyBaseLogger;
  /** Where bearer tokens' public keys come from (user-svc's JWKS, or user-svc's own key store). */
  resolveKey: PublicKeyResolver;
  /** Whether a verified token's account may still act (revoked tokens, disabled accounts). */
  checkAccount?: AccountCheck | undefined;
  /** What `/health/ready` checks besides the process itself. */
  readiness: Record<string, ReadinessCheck>;
}

/**
 * Fastify logs two lines per request ("incoming request" and "request completed"), each a
 * synchronous write to the log file. This writes one when the response is sent, with what both
 * held: half the writes and half the log's volume, at the price of no line for a request that
 * never completes (tests/bench/README.md). Fastify's other lines (errors, broken streams) stay.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/**
 * Bodies are validated strictly: no type coercion (a string is not a number) and no unknown
 * fields. Query strings, path parameters and headers are text on the wire, so those are
 * coerced to the schema's types.
 */
function validators() {
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  for (const ajv of [strict, coercing]) {
    addFormats.default(ajv);
    // What a format accepts is accepted here only in the form the database takes. ajv-formats'
    // uuid also takes a `urn:uuid:` prefix, which PostgreSQL's uuid type refuses; its date-time
    // takes a leap second (23:59:60, an invalid Date) and year 0000 (which PostgreSQL has not).
    ajv.addFormat('uuid', UUID_PATTERN);
    ajv.addFormat('date-time', { ...isoDateTime, validate: (value: string) => isoDateTime.validate(value) && storableInstant(value) });
  }
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    refusingNul((httpPart === 'body' ? strict : coercing).compile(schema));
}

const isoDateTime = fullFormats['date-time'] as { validate: (value: string) => boolean; compare: (a: string, b: string) => number };

function storableInstant(value: string): boolean {
  const time = Date.parse(value);
  if (!Number.isFinite(time)) return false;
  const year = new Date(time).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * PostgreSQL refuses a NUL character in text (SQLSTATE 22021): one anywhere in a request part
 * would fail whichever statement first took it, a 500. It is refused with the part's other
 * validation errors instead, before any schema keyword runs.
 */
function refusingNul(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const at = nulAt(data, '');
    if (at !== undefined) {
      checked.errors = [{ instancePath: at, schemaPath: '#', keyword: 'nul', params: {}, message: 'must not contain a NUL character' }];
      return false;
    }
    const valid = validate(data, context);
    checked.errors = validate.errors ?? null;
    return valid;
  }) as ValidateFunction;
  // Fastify passes the request as the parent when this is set, so that defaults and coercion
  // can replace a whole part (a query string of one value).
  checked.schemaEnv = validate.schemaEnv;
  checked.schema = validate.schema;
  return checked;
}

/**
 * The JSON pointer of a string or key holding a NUL, if any. A loop, not a recursion: a 64 KiB
 * body can nest 32,000 levels deep, more than the call stack holds.
 */
function nulAt(root: unknown, rootPath: string): string | undefined {
  const pending: [unknown, string][] = [[root, rootPath]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    for (const [key, item] of Object.entries(value)) {
      const itemPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (key.includes('\u0000')) return itemPath;
      pending.push([item, itemPath]);
    }
  }
  return undefined;
}

/**
 * The HTTP side every service shares: structured logs with request ids, problem+json errors,
 * bearer-token authentication, health, Prometheus metrics and the OpenAPI UI at /docs.
 * A service registers its routes on the returned instance.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    logController: new OneLinePerRequest({ requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    // What is refused before routing (a path parameter over its length limit, an undecodable
    // URL) or by Node's HTTP parser (headers over 16 KiB) is problem+json like everything else.
    frameworkErrors: (error, request, reply) => {
      const { problem, headers } = problemOf(error, request);
      void sendProblem(reply, problem, headers);
    },
    clientErrorHandler: writeClientErrorProblem,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validators());
  // The APIs speak JSON only: any other body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.service, version: options.version, description: options.description },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transformObject: (generated) =>
      'openapiObject' in generated
        ? documentAsServed(generated.openapiObject as OpenApiDocument & typeof generated.openapiObject)
        : generated.swaggerObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(metrics, { service: options.service });
  await app.register(health, { checks: options.readiness });
  await app.register(authentication, { resolveKey: options.resolveKey, checkAccount: options.checkAccount });
  return app;
}
