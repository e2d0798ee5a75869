// The native stack runs Debezium with one comparison of its timer changed, so that its poll
// loop waits instead of spinning through the last millisecond of each poll interval
// (connect/TimerExpiryFix.java). This checks that `make up` made the change in the jar Connect
// loads, and that the jar still holds the code the fix expects: after a Debezium upgrade it
// fails here rather than leaving Connect spinning unnoticed. Compose runs Debezium's image
// unchanged, so there is nothing to check there.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repositoryRoot, stackKind } from '../harness/stack.ts';

const run = promisify(execFile);

describe.runIf(stackKind() === 'native')("Debezium's timer in the native stack", () => {
  it('expires at its time, so the poll loop does not spin', async () => {
    // The script library knows where the plugin was unpacked and which JDK runs Connect.
    const check =
      'source stack/bin/lib.sh && "$(pick_java)" connect/TimerExpiryFix.java --check "$CONNECT_PLUGINS/debezium-connector-postgres"';
    const result = await run('bash', ['-c', check], { cwd: repositoryRoot }).then(
      ({ stdout }) => ({ exitCode: 0, output: stdout }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        exitCode: error.code,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(result, result.output).toMatchObject({ exitCode: 0 });
    expect(result.output).toContain('already expires at its time');
  });
});
