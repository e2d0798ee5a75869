import type { Socket } from 'node:net';
import { Type, type Static } from 'typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { classifyFailure } from '../consumer/failures.ts';

/** The media type every problem is sent as. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** RFC 9457 problem details, with a stable machine-readable `code` (the contract's error surface). */
export const Problem = Type.Object(
  {
    type: Type.String(),
    status: Type.Integer(),
    title: Type.String(),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'Problem', description: PROBLEM_MEDIA_TYPE },
);
export type Problem = Static<typeof Problem>;

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * An error a route throws on purpose: a rule of the domain said no. The error handler turns it
 * into problem+json with this status and code.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Raises one problem code: `problems.ORDER_NOT_FOUND(\`There is no order ${id}.\`)`. */
export type ProblemFactory = ((detail: string, headers?: Record<string, string>) => HttpProblem) & {
  readonly code: string;
  readonly status: number;
};
/** A service's problem codes, each declared once with its status. */
export type ProblemCatalogue = Readonly<Record<string, ProblemFactory>>;

export function defineProblems<const Codes extends Record<string, number>>(
  statuses: Codes,
): { readonly [Code in keyof Codes]: ProblemFactory } {
  return Object.fromEntries(
    Object.entries(statuses).map(([code, status]) => {
      const raise = (detail: string, headers: Record<string, string> = {}) => new HttpProblem(status, code, detail, headers);
      return [code, Object.assign(raise, { code, status })];
    }),
  ) as { readonly [Code in keyof Codes]: ProblemFactory };
}

/** The codes every service may answer with: the framework's, authentication's and the kit's. */
export const commonProblems = defineProblems({
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  BAD_REQUEST: 400,
  INVALID_CURSOR: 400,
  TOKEN_MISSING: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_REVOKED: 401,
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  ROUTE_NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  AUTH_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
});

// Fastify's and its plugins' own errors for bad requests, mapped to the codes clients see.
const frameworkCodes: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_REQUEST' },
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: { status: 401, code: 'TOKEN_MISSING' },
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: { status: 401, code: 'TOKEN_EXPIRED' },
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: { status: 401, code: 'TOKEN_INVALID' },
  FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED: { status: 401, code: 'TOKEN_INVALID' },
  FST_JWT_AUTHORIZATION_TOKEN_UNSIGNED: { status: 401, code: 'TOKEN_INVALID' },
  FST_JWT_BAD_REQUEST: { status: 401, code: 'TOKEN_INVALID' },
  FST_JWT_BAD_COOKIE_REQUEST: { status: 401, code: 'TOKEN_INVALID' },
};

export function problemOf(
  error: FastifyError | HttpProblem,
  request: FastifyRequest,
): { problem: Problem; headers: Record<string, string> } {
  let status = 500;
  let code = 'INTERNAL_ERROR';
  let detail = `An unexpected error occurred; quote request id ${request.id} when reporting it.`;
  let headers: Record<string, string> = {};

  if (error instanceof HttpProblem) {
    ({ status, code, headers } = error);
    detail = error.message;
  } else if (error.validation) {
    status = 400;
    code = 'VALIDATION_FAILED';
    detail = error.validation
      .map((issue) => `${error.validationContext ?? 'request'}${issue.instancePath || ''} ${issue.message ?? 'is invalid'}`.trim())
      .join('; ');
  } else if (error.code && error.code in frameworkCodes) {
    ({ status, code } = frameworkCodes[error.code]!);
    detail =
      status === 415
        ? `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported; send application/json.`
        : error.message.replace(/^Authorization token/, 'The bearer token');
  } else if (/^(FST|FAST)_JWT_/.test(error.code ?? '') && (error.statusCode ?? 401) < 500) {
    // Any other refusal of @fastify/jwt or fast-jwt (a token unsigned, of another audience,
    // not valid yet, with an unreadable payload) is a bad token, not a bad request.
    status = 401;
    code = 'TOKEN_INVALID';
    detail = error.message.replace(/^Authorization token/, 'The bearer token');
  } else if (error.statusCode === 429) {
    status = 429;
    code = 'RATE_LIMITED';
    detail = error.message;
  } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    // Any other client error a plugin raises keeps its status; its message is safe to show.
    status = error.statusCode;
    code = 'BAD_REQUEST';
    detail = error.message;
  } else if (classifyFailure(error) === 'infrastructure') {
    // The database (or another dependency) is down or restarting, and the same request may
    // well succeed in a moment, which a 500 would not tell the client. Nothing was done,
    // unless the connection broke while the database committed: then the client cannot be
    // told either way, and an order's Idempotency-Key is what makes its retry safe.
    status = 503;
    code = 'SERVICE_UNAVAILABLE';
    detail =
      'A dependency of this service is unavailable; the request was not carried out, unless the connection broke as it committed. Retry in a moment (an order with the same Idempotency-Key is placed once).';
    headers = { 'retry-after': '1' };
  }
  return {
    problem: { type: 'about:blank', status, title: titles[status] ?? 'Error', detail, code, instance: request.url, requestId: request.id },
    headers,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_MEDIA_TYPE).send(problem);
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers or request line over
 * 16 KiB, a malformed request): written to the socket as problem+json too, then closed.
 * Fastify's `clientErrorHandler`.
 */
export function writeClientErrorProblem(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, detail } =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? { status: 431, code: 'HEADERS_TOO_LARGE', detail: 'The request line and headers exceed 16 KiB.' }
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? { status: 408, code: 'REQUEST_TIMEOUT', detail: 'The request was not received in time.' }
        : { status: 400, code: 'BAD_REQUEST', detail: 'The request is not valid HTTP.' };
  const body = JSON.stringify({ type: 'about:blank', status, title: titles[status] ?? 'Error', detail, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${titles[status] ?? 'Error'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Every error and every unknown route answers problem+json; a 5xx never shows its cause to the client. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpProblem, request, reply) => {
    const { problem, headers } = problemOf(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request refused');
    return sendProblem(reply, problem, headers);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'about:blank',
      status: 404,
      title: titles[404]!,
      detail: `No route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      code: 'ROUTE_NOT_FOUND',
      instance: request.url,
      requestId: request.id,
    }),
  );
}
