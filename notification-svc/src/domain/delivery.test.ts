import { describe, expect, it } from 'vitest';
import { classifySmtpFailure, describeSmtpError } from './delivery.ts';

/** Errors shaped as nodemailer rejects with them. */
const smtpError = (fields: { code?: string; responseCode?: number; command?: string }) => Object.assign(new Error('smtp'), fields);

describe('SMTP failures', () => {
  it('gives a mail up on a 5xx answer: sending it again would be refused again', () => {
    expect(classifySmtpFailure(smtpError({ code: 'EENVELOPE', responseCode: 550 }))).toBe('permanent');
    expect(classifySmtpFailure(smtpError({ code: 'EMESSAGE', responseCode: 554 }))).toBe('permanent');
  });

  it('tries again after a 4xx answer or an error of this mail', () => {
    expect(classifySmtpFailure(smtpError({ code: 'EENVELOPE', responseCode: 451 }))).toBe('temporary');
    expect(classifySmtpFailure(new Error('something else'))).toBe('temporary');
    expect(classifySmtpFailure(undefined)).toBe('temporary');
  });

  it('gives a mail up, or tries it again, only for an answer about the mail itself (its recipient or content)', () => {
    expect(classifySmtpFailure(smtpError({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }))).toBe('permanent');
    expect(classifySmtpFailure(smtpError({ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }))).toBe('permanent');
    expect(classifySmtpFailure(smtpError({ code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO' }))).toBe('temporary');
  });

  it('recognises a server that does not answer at all, or refuses every mail alike', () => {
    for (const code of ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED'])
      expect(classifySmtpFailure(smtpError({ code })), code).toBe('unreachable');
    for (const [command, responseCode] of [
      ['CONN', 554],
      ['CONN', 421],
      ['EHLO', 550],
      ['MAIL FROM', 553],
    ] as const)
      expect(classifySmtpFailure(smtpError({ code: 'EENVELOPE', responseCode, command })), command).toBe('unreachable');
  });

  it('keeps at most 500 characters of an error for the sent log', () => {
    expect(describeSmtpError(new Error('connection refused'))).toBe('connection refused');
    expect(describeSmtpError('x'.repeat(600))).toHaveLength(500);
    // PostgreSQL refuses a NUL in text: the failure's mark would fail, and the batch with it.
    expect(describeSmtpError(new Error('450 busy\0now'))).toBe('450 busy\uFFFDnow');
  });
});
