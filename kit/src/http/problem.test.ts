import type { FastifyError, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { HttpProblem, problemOf } from './problem.ts';

const request = { id: 'req-1', url: '/orders', headers: {} } as unknown as FastifyRequest;
const failure = (fields: object) => Object.assign(new Error('boom'), fields) as FastifyError;

describe('problemOf', () => {
  it('keeps the status and code of a refusal the domain made', () => {
    expect(problemOf(new HttpProblem(422, 'USER_UNKNOWN', 'not yet'), request).problem).toMatchObject({
      status: 422,
      code: 'USER_UNKNOWN',
      detail: 'not yet',
    });
  });

  it('answers 503 with Retry-After when the database is unreachable or restarting', () => {
    for (const code of ['ECONNREFUSED', 'CONNECTION_CLOSED', '57P01', '57P03']) {
      const { problem, headers } = problemOf(failure({ code }), request);
      expect(problem).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(headers).toEqual({ 'retry-after': '1' });
    }
  });

  it('answers 500 without the cause for any other failure', () => {
    const { problem } = problemOf(failure({ code: '23505' }), request);
    expect(problem).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(problem.detail).not.toContain('boom');
  });
});
