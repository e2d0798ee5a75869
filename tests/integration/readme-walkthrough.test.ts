// The README walkthrough, run as a reader runs it: the blocks marked `<!-- walkthrough -->`
// (the line right before a ```bash or ```sh fence), in order, in one bash process with
// `set -euo pipefail`, against the running stack; twice in a row, since a reader may well
// run it again. Each block's output must show what the README says it shows.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../harness/stack.ts';

const MARKER = '<!-- walkthrough -->';

/** The code of every fenced block that directly follows a walkthrough marker line. */
export function walkthroughBlocks(markdown: string): string[] {
  const lines = markdown.split('\n');
  const blocks: string[] = [];
  lines.forEach((line, index) => {
    if (line.trim() !== MARKER) return;
    if (!/^```(?:bash|sh)\s*$/.test(lines[index + 1] ?? ''))
      throw new Error(`README.md:${index + 1}: ${MARKER} must be followed by a \`\`\`bash block`);
    const end = lines.findIndex((candidate, after) => after > index + 1 && candidate.trim() === '```');
    if (end === -1) throw new Error(`README.md:${index + 2}: the walkthrough block is not closed`);
    blocks.push(lines.slice(index + 2, end).join('\n'));
  });
  return blocks;
}

interface Run {
  /** Each block's standard output, in order. */
  outputs: string[];
  order: string;
  product: string;
}

/** Runs the blocks in one bash and splits its output at the markers echoed between them. */
function runWalkthrough(blocks: string[]): Promise<Run> {
  const script = [
    'set -euo pipefail',
    ...blocks.flatMap((block, index) => [`echo '@@block ${index}'`, block]),
    `echo "@@ids $ORDER $PRODUCT"`,
  ].join('\n');
  // A reader's terminal, not a make recipe: make's own variables are not passed down.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'].includes(name)));
  return new Promise((resolve, reject) => {
    const bash = spawn('bash', ['-c', script], { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => bash.kill('SIGTERM'), 240_000);
    bash.on('close', (code, signal) => {
      clearTimeout(timer);
      const sections = stdout.split(/^@@block \d+\n/m).slice(1);
      const ids = /^@@ids (\S+) (\S+)$/m.exec(stdout);
      if (code !== 0 || !ids) {
        const reached = sections.length;
        reject(
          new Error(
            `the walkthrough stopped in block ${reached} of ${blocks.length} (exit ${code ?? signal}):\n${blocks[reached - 1] ?? ''}\n--- its output:\n${sections.at(-1) ?? ''}\n--- stderr:\n${stderr.slice(-3000)}`,
          ),
        );
        return;
      }
      sections[sections.length - 1] = sections.at(-1)!.replace(/^@@ids .*\n?/m, '');
      resolve({ outputs: sections, order: ids[1]!, product: ids[2]! });
    });
  });
}

const lines = (output: string) => output.trim().split('\n');

/** What each block must print, in the README's order; `round` is 1 or 2. */
const expectations: { step: string; check: (output: string, run: Run, round: number) => void }[] = [
  {
    step: '1. register alice',
    check: (output, _run, round) => {
      if (round === 1) expect(output).toMatch(/"username": "alice"|"code": "USERNAME_TAKEN"/);
      else expect(output).toContain('"code": "USERNAME_TAKEN"');
    },
  },
  {
    step: '2. log in',
    check: (output) => expect(output).toMatch(/"username": "alice"[\s\S]*"role": "customer"/),
  },
  {
    step: '3. create a product',
    check: (output, run) => {
      expect(output).toContain(`"id": "${run.product}"`);
      expect(output).toMatch(/"name": "Mug"[\s\S]*"stock": 10,[\s\S]*"version": 1,/);
    },
  },
  {
    step: '4. place an order',
    check: (output, run) => {
      expect(output).toContain(`"id": "${run.order}"`);
      expect(output).toContain('"status": "PENDING"');
      expect(output).toContain('"totalCents": 2598');
    },
  },
  {
    step: '5. the order is confirmed',
    check: (output) => expect(lines(output)).toContain('{"status":"CONFIRMED","cancelReason":null}'),
  },
  {
    step: '5. its events, with make tail',
    check: (output, run) => {
      expect(output).toMatch(new RegExp(`"topic": "order-confirmed",[\\s\\S]*"key": "${run.order}",[\\s\\S]*"type": "order-confirmed"`));
      expect(output).toContain('"gatewayChargeId": "ch_');
      expect(output).toContain('"amountCents": 2598');
      expect(lines(output).slice(-2)).toEqual([
        '{"change":"CREATED","stock":10,"version":1}',
        '{"change":"STOCK_CHANGED","stock":8,"version":2}',
      ]);
    },
  },
  {
    step: "5. the order's trace",
    check: (output, run) => {
      expect(output).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/zipkin\/traces\/[0-9a-f]{32} /m);
      for (const hop of ['post /orders', 'order-placed publish', 'order-placed process', 'post /charges', 'order-confirmed process']) {
        expect(output, `${hop} of ${run.order}`).toContain(hop);
      }
    },
  },
  {
    step: '6. the payment and the stock',
    check: (output) => {
      expect(output).toContain('"status": "SUCCEEDED"');
      expect(output).toContain('"refunds": []');
      expect(lines(output).at(-1)).toBe('8');
    },
  },
  {
    step: '6. the confirmation mail',
    check: (output) => expect(lines(output).at(-1)).toBe('{"kind":"ORDER_CONFIRMED","status":"SENT"}'),
  },
  {
    step: '7. the two orders are cancelled',
    check: (output) => {
      expect(lines(output)).toEqual([
        '{"status":"CANCELLED","cancelReason":"PAYMENT_DECLINED"}',
        '{"status":"CANCELLED","cancelReason":"OUT_OF_STOCK"}',
      ]);
    },
  },
  {
    step: '7. the compensations',
    check: (output) => {
      // Refunded; or, when the cancellation reached payment-svc before the order, never charged.
      const refunded = ['{"status":"REFUNDED","failureReason":null}', '{"status":"SUCCEEDED","refunds":1}', '8'];
      const neverCharged = ['{"status":"FAILED","failureReason":"ORDER_CANCELLED"}', '8'];
      expect([refunded, neverCharged]).toContainEqual(lines(output));
    },
  },
  {
    step: '8. the same request again, and another under its key',
    check: (output, run) => {
      expect(lines(output)).toEqual([`{"id":"${run.order}","status":"CONFIRMED"}`, '{"status":422,"code":"IDEMPOTENCY_KEY_REUSED"}']);
    },
  },
  {
    step: '9. a confirmed order cancelled, refunded and its stock back',
    check: (output) => {
      const shown = lines(output);
      expect(shown.slice(0, 4)).toEqual([
        '{"status":"CONFIRMED","cancelReason":null}',
        '{"status":"CANCELLED","cancelReason":"CUSTOMER_CANCELLED"}',
        '{"status":"REFUNDED","failureReason":null}',
        '8',
      ]);
      // The admin's newest cancelled order is this one, unless another test cancelled one since.
      expect(shown[4]).toMatch(/^\{"id":"[0-9a-f-]{36}","cancelReason":"[A-Z_]+"\}$/);
    },
  },
];

describe('the README walkthrough', () => {
  const blocks = walkthroughBlocks(readFileSync(`${repositoryRoot}/README.md`, 'utf8'));

  it('has the blocks this test knows what to expect of', () => {
    expect(blocks).toHaveLength(expectations.length);
  });

  it('runs as written, twice in a row, and shows what the README shows', { timeout: 600_000 }, async () => {
    const runs: Run[] = [];
    for (const round of [1, 2]) {
      const run = await runWalkthrough(blocks);
      expect(run.outputs).toHaveLength(expectations.length);
      expectations.forEach(({ step, check }, index) => {
        try {
          check(run.outputs[index]!, run, round);
        } catch (error) {
          throw new Error(`run ${round}, step ${step}: ${(error as Error).message}\n--- its output:\n${run.outputs[index]}`, {
            cause: error,
          });
        }
      });
      runs.push(run);
    }
    // The second run placed its own order for its own new product.
    expect(runs[1]!.product).not.toBe(runs[0]!.product);
    expect(runs[1]!.order).not.toBe(runs[0]!.order);
  });
});
