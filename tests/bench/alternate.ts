// `make bench-ab`: two variants of the stack measured against each other the way the bench
// README's tables are. Each run applies its variant's set-up command, then runs the bench
// (short unless told otherwise); the variants alternate, in reversed order every other round,
// so that a machine that slows down through the session favours neither. The runs write to
// .stack/bench/alternate/<time>/, never over the checked-in results, and one table sums them up.
//
//   node tests/bench/alternate.ts 'label: set-up command' 'label: set-up command'
//   (environment: ROUNDS, and the bench's own BENCH_*; defaults BENCH_RATES=50,100
//   BENCH_SECONDS=20 BENCH_PEAK_SECONDS=0)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repositoryRoot } from '../harness/stack.ts';
import { cpuMsPerOrder, ms, summarise, type BenchResults } from './report.ts';

interface Variant {
  label: string;
  setUp: string;
}

function parseVariant(argument: string): Variant {
  const colon = argument.indexOf(':');
  if (colon <= 0) throw new Error(`a variant is 'label: set-up command' (the command may be 'true'); got ${JSON.stringify(argument)}`);
  return { label: argument.slice(0, colon).trim(), setUp: argument.slice(colon + 1).trim() };
}

/** One row per run: what the bench README's comparisons quote. */
function summaryRow(variant: string, round: number, results: BenchResults): string {
  const idle = summarise(results).idleCpuPercent;
  const perRate = results.steps.map((step) => {
    const cpu = cpuMsPerOrder(step, results.settings.seconds, results.idle);
    const postgres = cpu?.by['postgres'];
    return `${ms(cpu?.total)} (${ms(postgres)}) ms, p99 ${ms(step.confirmed.p99)} ms${step.sustained ? '' : ' ✗'}`;
  });
  const peak = results.postSaturation ? `${results.postSaturation.acceptedPerSecond.toFixed(0)}/s` : '–';
  return `| ${variant} | ${round} | ${results.pgbench.transactionsPerSecond.toFixed(0)}/s | ${idle ?? '–'}% | ${peak} | ${perRate.join(' | ')} |`;
}

function main(): void {
  const variants = process.argv.slice(2).map(parseVariant);
  if (variants.length < 2) throw new Error("usage: alternate.ts 'label: set-up command' 'label: set-up command' [more variants]");
  const rounds = Number(process.env['ROUNDS'] ?? 1);
  const environment = {
    ...process.env,
    BENCH_RATES: process.env['BENCH_RATES'] ?? '50,100',
    BENCH_SECONDS: process.env['BENCH_SECONDS'] ?? '20',
    BENCH_PEAK_SECONDS: process.env['BENCH_PEAK_SECONDS'] ?? '0',
  };
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '');
  const directory = join(repositoryRoot, '.stack', 'bench', 'alternate', stamp);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repositoryRoot, encoding: 'utf8' }).trim();
  const rows: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? variants : variants.toReversed();
    for (const variant of order) {
      console.log(`[bench-ab] round ${round}, ${variant.label}: ${variant.setUp}`);
      const setUp = spawnSync('sh', ['-c', variant.setUp], { cwd: repositoryRoot, env: environment, stdio: 'inherit' });
      if (setUp.status !== 0) throw new Error(`the set-up of ${variant.label} failed (exit ${setUp.status})`);
      const output = `${directory}/${variant.label.replace(/[^\w.-]+/g, '_')}-${round}`;
      mkdirSync(output, { recursive: true });
      const bench = spawnSync(process.execPath, [fileURLToPath(new URL('./run.ts', import.meta.url))], {
        cwd: repositoryRoot,
        env: { ...environment, BENCH_LABEL: variant.label, BENCH_RESULTS_DIR: output },
        stdio: 'inherit',
      });
      if (bench.status !== 0) throw new Error(`the bench run of ${variant.label} failed (exit ${bench.status})`);
      rows.push(summaryRow(variant.label, round, JSON.parse(readFileSync(`${output}/results.json`, 'utf8')) as BenchResults));
    }
  }
  const rates = environment.BENCH_RATES.split(',');
  const summary = [
    `Commit ${commit}, ${rounds} round(s), BENCH_RATES=${environment.BENCH_RATES} BENCH_SECONDS=${environment.BENCH_SECONDS} BENCH_PEAK_SECONDS=${environment.BENCH_PEAK_SECONDS}.`,
    "Per rate: CPU ms per confirmed order above idle (PostgreSQL's part), placed → CONFIRMED p99; ✗: not sustained.",
    '',
    `| variant | round | pgbench | idle stack | POST peak | ${rates.map((rate) => `${rate}/s`).join(' | ')} |`,
    `| --- | --- | --- | --- | --- | ${rates.map(() => '---').join(' | ')} |`,
    ...rows,
    '',
  ].join('\n');
  writeFileSync(`${directory}/summary.md`, summary);
  console.log(`\n${summary}\n(runs and this summary in ${directory})`);
}

main();
