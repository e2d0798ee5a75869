// Requests made up from the services' OpenAPI documents (docs/openapi/, which a unit test
// keeps equal to what the code serves): for every operation, paths, query strings, bodies and
// headers that are valid, slightly wrong, or hostile. Used by tests/integration/fuzz.test.ts
// (a fixed seed and a bounded count in `make test`, more with `make fuzz`).
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { CURRENCY_PATTERN, serviceUrl, type ServiceName } from '@shop/kit';
import { someLoopbackAddress } from './client.ts';
import { documentedOperations, type DocumentedOperation, type JsonSchema } from './openapi.ts';

export type FuzzOperation = DocumentedOperation;

/** Every operation of every service but the documentation and health routes (health answers 503 when the service is not ready, whatever the request: not an input's doing). */
export function fuzzOperations(): FuzzOperation[] {
  return documentedOperations().filter((op) => !op.path.startsWith('/docs') && !op.path.startsWith('/health'));
}

// Values no schema asks for: what a hostile or broken client sends instead.
const hostileStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'null',
    '-1',
    '1e309',
    '../../etc/passwd',
    "'; drop table users; --",
    '%00',
    '\u202e\u0041',
    '💥'.repeat(30),
  ),
  fc.constantFrom('x'.repeat(5_000), 'é'.repeat(2_000)),
  fc.uuid().map((id) => `urn:uuid:${id}`),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.uuid().map((id) => `{${id}}`),
);
const hostileNumbers = fc.oneof(
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1, 0, 0.5, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true }),
  fc.bigInt({ min: 2n ** 60n, max: 2n ** 80n }).map((n) => n.toString()), // a number too big for a double, as text
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  hostileNumbers,
  fc.constantFrom(null, true, false, [], {}, [null], { __proto__: { admin: true } }, { constructor: { prototype: {} } }),
  fc.array(fc.string(), { maxLength: 3 }),
);

/** A value the schema allows (roughly: patterns are approximated by known shapes). */
function validValue(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((branch) => validValue(branch, depth)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'email') return fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254));
      if (schema.format === 'date-time')
        return fc.date({ min: new Date(2000, 0, 1), max: new Date(2100, 0, 1), noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern === CURRENCY_PATTERN) return fc.constantFrom('EUR', 'USD', 'GBP', 'XXX');
      if (schema.pattern?.startsWith('^[A-Za-z0-9_.-]+$')) return fc.stringMatching(/^[a-z0-9_.-]{3,20}$/);
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 60) });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1_000, -(2 ** 31)), max: Math.min(schema.maximum ?? 1_000_000, 2 ** 31) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(validValue(schema.items ?? {}, depth + 1), {
            minLength: schema.minItems ?? 0,
            maxLength: Math.min(schema.maxItems ?? 3, 3),
          });
    case 'object':
      return depth > 3 ? fc.constant({}) : validObject(schema, depth);
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.boolean());
  }
}

function validObject(schema: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const model = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, validValue(property, depth + 1)]));
  return fc.record(model, { requiredKeys: Object.keys(properties).filter((name) => required.has(name)) });
}

/**
 * Mostly valid, sometimes one field or the whole value replaced by something hostile: most
 * requests get past validation to the code behind it, and every part is still attacked often.
 */
function mutatedValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const valid = validValue(schema);
  return fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: hostileValue },
    {
      weight: 3,
      arbitrary: fc.tuple(valid, fc.string({ maxLength: 12 }), hostileValue, fc.boolean()).map(([value, extra, hostile, replace]) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return hostile;
        const keys = Object.keys(value);
        const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
        if (replace && keys.length > 0) copy[keys[extra.length % keys.length]!] = hostile;
        else copy[extra || 'unexpected'] = hostile;
        return copy;
      }),
    },
  );
}

export type TokenKind = 'valid' | 'none' | 'garbage' | 'alg-none' | 'short-signature' | 'bad-json' | 'two-headers' | 'unknown-kid' | 'huge';

export interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  /** A JSON value, or raw text sent as is; undefined for no body. */
  body: { raw: string; contentType: string | string[]; refused?: string } | undefined;
  token: TokenKind;
  /** Why the service must answer 4xx whatever else the request holds; undefined when it may accept it. */
  mustBeRefused: string | undefined;
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The Authorization header(s) for a token kind, made from a real token. */
export function authorization(kind: TokenKind, real: string): string | string[] | undefined {
  const [header, payload, signature] = real.split('.') as [string, string, string];
  switch (kind) {
    case 'valid':
      return `Bearer ${real}`;
    case 'none':
      return undefined;
    case 'garbage':
      return `Bearer ${randomUUID()}.${randomUUID()}`;
    case 'alg-none':
      return `Bearer ${segment({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    case 'short-signature':
      return `Bearer ${header}.${payload}.${signature.slice(0, 20)}`;
    case 'bad-json':
      return `Bearer ${Buffer.from('{"alg":').toString('base64url')}.${payload}.${signature}`;
    case 'two-headers':
      return [`Bearer ${real}`, `Bearer ${header}.${payload}.${signature}x`];
    case 'unknown-kid':
      return `Bearer ${segment({ alg: 'ES256', typ: 'JWT', kid: `kid-${randomUUID()}` })}.${payload}.${signature}`;
    case 'huge':
      return `Bearer ${'a'.repeat(4_000)}.${'b'.repeat(3_000)}.${'c'.repeat(500)}`;
  }
}

/** Requests for one operation: every part valid, mutated or hostile. */
export function requestsFor(op: FuzzOperation): fc.Arbitrary<FuzzRequest> {
  const parameters = op.operation.parameters ?? [];
  const pathParameters = parameters.filter((p) => p.in === 'path');
  const queryParameters = parameters.filter((p) => p.in === 'query');
  const bodySchema = op.operation.requestBody?.content?.['application/json']?.schema;

  const path = fc
    .tuple(
      ...pathParameters.map((p) =>
        fc.oneof({ weight: 3, arbitrary: validValue(p.schema ?? {}) }, { weight: 2, arbitrary: hostileStrings }),
      ),
    )
    .map((values) =>
      pathParameters.reduce((built, p, index) => built.replace(`{${p.name}}`, encodeURIComponent(String(values[index]))), op.path),
    );

  const query = fc
    .tuple(
      fc.tuple(...queryParameters.map((p) => fc.option(mutatedValue(p.schema ?? {}), { nil: undefined, freq: 2 }))),
      // An unknown parameter now and then (it is refused: the query schemas allow no others).
      fc.oneof(
        { weight: 7, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), hostileStrings) },
      ),
    )
    .map(([values, unknown]) => {
      const search = new URLSearchParams();
      queryParameters.forEach((p, index) => {
        const value = values[index];
        if (value !== undefined) search.append(p.name, typeof value === 'string' ? value : JSON.stringify(value));
      });
      if (unknown) search.append(unknown[0], unknown[1]);
      return search.toString();
    });

  const body: fc.Arbitrary<FuzzRequest['body']> = bodySchema
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: mutatedValue(bodySchema).map((value) => ({ raw: JSON.stringify(value) ?? 'null', contentType: 'application/json' })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('{"a":', '[', '"', '{"items":[{"productId":}]}', '\u0000')
            .map((raw) => ({ raw, contentType: 'application/json', refused: 'malformed JSON' })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x')
            .map((contentType) => ({ raw: '{"a":1}', contentType, refused: `a body of ${contentType}` })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('application/json; charset=latin1', 'APPLICATION/JSON')
            .map((contentType) => ({ raw: '{"a":1}', contentType })),
        },
        { weight: 1, arbitrary: fc.constant({ raw: '{}', contentType: ['application/json', 'text/plain'] as string[] }) },
      )
    : fc.constant(undefined);

  const token: fc.Arbitrary<TokenKind> =
    op.auth === 'none'
      ? fc.constantFrom<TokenKind>('none', 'garbage')
      : fc.oneof(
          { weight: 6, arbitrary: fc.constant<TokenKind>('valid') },
          {
            weight: 4,
            arbitrary: fc.constantFrom<TokenKind>(
              'none',
              'garbage',
              'alg-none',
              'short-signature',
              'bad-json',
              'two-headers',
              'unknown-kid',
              'huge',
            ),
          },
        );

  // Every kind of bad token but two headers, of which the server keeps the first (the real one).
  const badToken = (kind: TokenKind) => op.auth !== 'none' && kind !== 'valid' && kind !== 'two-headers';
  const outsideTheSchemas = documentedSchemas(op);
  return fc.record({ method: fc.constant(op.method), path, query, body, token }).map((request) => ({
    ...request,
    mustBeRefused: badToken(request.token) ? `a token of kind ${request.token}` : (request.body?.refused ?? outsideTheSchemas(request)),
  }));
}

/**
 * The documented schemas as an oracle of their own: a request whose path, query string or JSON
 * body one of them refuses must be refused, so a schema the service documents but does not
 * enforce (or enforces more loosely) fails the fuzz. Validated as the service does (query and
 * path text coerced, bodies not), with ajv-formats' own formats, which the service narrows
 * further: the oracle is never stricter than the service, so it can claim no false refusal.
 */
function documentedSchemas(op: FuzzOperation): (request: Omit<FuzzRequest, 'mustBeRefused'>) => string | undefined {
  const parameters = op.operation.parameters ?? [];
  const partSchema = (where: string, closed: boolean) => {
    const part = parameters.filter((p) => p.in === where);
    return {
      type: 'object',
      properties: Object.fromEntries(part.map((p) => [p.name, p.schema ?? {}])),
      required: part.filter((p) => p.required).map((p) => p.name),
      additionalProperties: !closed,
    };
  };
  // Every query schema of the services allows no other parameters (routes without one take any).
  const hasQuery = parameters.some((p) => p.in === 'query');
  const checks: [string, ValidateFunction, (request: Omit<FuzzRequest, 'mustBeRefused'>) => unknown][] = [
    ['path', oracles.text.compile(partSchema('path', false)), (request) => pathParameters(op.path, request.path)],
    ['query string', oracles.text.compile(partSchema('query', hasQuery)), (request) => queryParameters(request.query)],
  ];
  const bodySchema = op.operation.requestBody?.content?.['application/json']?.schema;
  if (bodySchema)
    checks.push([
      'body',
      oracles.body.compile(bodySchema),
      (request) => (request.body && isJson(request.body.contentType) ? (JSON.parse(request.body.raw) as unknown) : undefined),
    ]);
  return (request) => {
    for (const [part, validate, valueOf] of checks) {
      const value = valueOf(request);
      if (value !== undefined && !validate(value))
        return `a ${part} its documented schema refuses (${validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')})`;
    }
    return undefined;
  };
}

const oracles = {
  text: addFormats.default(new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: true, strict: false })),
  body: addFormats.default(new Ajv({ coerceTypes: false, useDefaults: true, allErrors: true, strict: false })),
};

const isJson = (contentType: string | string[]) => typeof contentType === 'string' && contentType.toLowerCase() === 'application/json';

/** The path parameters as the router hands them over: each placeholder's segment, decoded. */
function pathParameters(template: string, path: string): Record<string, string> | undefined {
  const names = template.split('/');
  const segments = path.split('/');
  // An empty value (`/orders/` may be the list) routes elsewhere, if anywhere.
  if (names.length !== segments.length || segments.some((segment) => segment === '')) return undefined;
  const found: Record<string, string> = {};
  names.forEach((name, index) => {
    if (name.startsWith('{')) found[name.slice(1, -1)] = decodeURIComponent(segments[index]!);
  });
  return found;
}

/** The query string as the service parses it: text values, a repeated name as a list. */
function queryParameters(query: string): Record<string, string | string[]> {
  const found: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const earlier = found[name];
    found[name] = earlier === undefined ? value : [earlier, value].flat();
  }
  return found;
}

export interface FuzzResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Sends a request as is (repeated headers included), from a loopback address of its own. */
export function send(
  service: ServiceName,
  request: FuzzRequest,
  authorizationHeader: string | string[] | undefined,
): Promise<FuzzResponse> {
  const url = `${serviceUrl(service)}${request.path}${request.query ? `?${request.query}` : ''}`;
  const headers: Record<string, string | string[]> = {};
  if (authorizationHeader !== undefined) headers['authorization'] = authorizationHeader;
  if (request.body) {
    headers['content-type'] = request.body.contentType;
    headers['content-length'] = String(Buffer.byteLength(request.body.raw));
  }
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: request.method, headers, localAddress: someLoopbackAddress(), timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${request.method} ${url}: no answer in 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(request.body?.raw);
  });
}

/** What every answer to a made-up request must be: not a 5xx; a 4xx is problem+json with a stable code, and a request that must be refused gets one. */
export function verdict(request: FuzzRequest, response: FuzzResponse): string | undefined {
  if (response.status >= 500) return `answered ${response.status}: ${response.body.slice(0, 300)}`;
  if (response.status < 400) return request.mustBeRefused && `answered ${response.status} to ${request.mustBeRefused}`;
  if (!response.contentType.startsWith('application/problem+json'))
    return `a ${response.status} that is not problem+json (${response.contentType})`;
  const problem = JSON.parse(response.body) as { status?: number; code?: string };
  if (problem.status !== response.status) return `problem.status ${problem.status} on a ${response.status}`;
  if (!/^[A-Z][A-Z0-9_]+$/.test(problem.code ?? '')) return `no stable code: ${response.body.slice(0, 200)}`;
  return undefined;
}
