import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PROJECT_ROOT } from '../platform/paths';

/**
 * `node_modules/.bin/tsx bench/cli-startup.ts [--runs 15]`
 *
 * How long `./llmtwin --help` and `./llmtwin config` take from a shell, beside `temporal --help` (a Go
 * binary: the floor for a CLI here) measured in the same run, interleaved so the machine's load falls
 * on all three alike. Target: at most 0.25 s for both of ours. Needs the compiled CLI (`npm run build`,
 * which setup runs); without it ./llmtwin runs through tsx and the bench says so.
 */
const COMMANDS: Array<{ name: string; file: string; args: string[] }> = [
  { name: 'llmtwin --help', file: join(PROJECT_ROOT, 'llmtwin'), args: ['--help'] },
  { name: 'llmtwin config', file: join(PROJECT_ROOT, 'llmtwin'), args: ['config'] },
  { name: 'temporal --help', file: join(PROJECT_ROOT, '.venv', 'bin', 'temporal'), args: ['--help'] },
];

function seconds(file: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(file, args, { stdio: 'ignore', env: { ...process.env, LLMTWIN_CONFIG: '' } });
  if (run.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${run.status}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function main(): void {
  const { runs } = new Command('bench:cli-startup')
    .option('--runs <n>', 'runs of each command', (value) => Number(value), 15)
    .parse()
    .opts<{ runs: number }>();
  const compiled = existsSync(join(PROJECT_ROOT, 'dist', '.llmtwin-built'));
  const times = new Map(COMMANDS.map((command) => [command.name, [] as number[]]));
  for (const command of COMMANDS) seconds(command.file, command.args); // warm the file cache
  for (let run = 0; run < runs; run += 1)
    for (const command of COMMANDS) times.get(command.name)!.push(seconds(command.file, command.args));

  const floor = quantile(times.get('temporal --help')!, 0.5);
  const rows = COMMANDS.map(({ name }) => {
    const values = times.get(name)!;
    return { name, median: quantile(values, 0.5), p90: quantile(values, 0.9), best: Math.min(...values) };
  });
  console.log(
    `${runs} runs each, interleaved; ${cpus().length} cores, 1-min load ${loadavg()[0]!.toFixed(2)}; llmtwin ${compiled ? 'compiled (dist/)' : 'through tsx (no dist/: run npm run build)'}`,
  );
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(16)} median ${row.median.toFixed(3)} s  p90 ${row.p90.toFixed(3)} s  best ${row.best.toFixed(3)} s  (${(row.median / floor).toFixed(1)}x temporal --help)`,
    );
  }
  const [help, config] = rows;
  const met = help!.median <= 0.25 && config!.median <= 0.25;
  console.log(`target (median at most 0.25 s for --help and config): ${met ? 'met' : 'NOT met'}`);
  console.log(
    JSON.stringify({
      bench: 'cli-startup',
      runs,
      compiled,
      helpMedianS: Number(help!.median.toFixed(3)),
      configMedianS: Number(config!.median.toFixed(3)),
      temporalHelpMedianS: Number(floor.toFixed(3)),
      helpVsTemporal: Number((help!.median / floor).toFixed(1)),
      targetMet: met,
    }),
  );
}

main();
