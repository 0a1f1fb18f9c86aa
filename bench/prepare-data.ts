import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PrepareDataInputSchema } from '../common/prepare-data/contract';
import { templateInstructor } from '../activities/prepare-data/generator';
import { computeDatasetHash } from '../activities/prepare-data/fingerprint';
import { fingerprintSource, processSource } from '../activities/prepare-data/process';
import { localSource } from '../activities/prepare-data/source';

/**
 * `node_modules/.bin/tsx bench/prepare-data.ts [--mb 200] [--threshold 0.8]`
 * (strictly one core: `taskset -c 0 node_modules/.bin/tsx bench/prepare-data.ts`)
 *
 * Generates (once, cached in bench/out/) a synthetic corpus with planted exact and near duplicates,
 * then runs the real prepare-data path on it in this process, as the two activities do: the plan
 * (listing, an MD5 fingerprint of every file, the dataset hash), then the build (per-file inspection,
 * streaming readers, cleaning, exact + MinHash-LSH dedup, token-exact chunking, template instructions,
 * split and JSONL staging on disk, sha256 of each file). Only the S3 upload is left out.
 * Prints throughput, peak RSS, CPU time, and precision/recall on the planted duplicates.
 * Targets: >= 20 MB/s on one core, peak RSS <= 400 MB, recall >= 0.95 at precision >= 0.99.
 */

interface GroundTruth {
  bytes: number;
  documents: number;
  segments: number;
  planted: Record<string, { kind: 'exact' | 'near'; of: string; jaccard: number }>;
  hardNegatives: string[];
}

async function main(): Promise<void> {
  const options = new Command('bench:prepare-data')
    .option('--mb <megabytes>', 'corpus size', (value) => Number(value), 200)
    .option('--threshold <similarity>', 'near-duplicate threshold', (value) => Number(value), 0.8)
    .option('--out <dir>', 'where the corpus and staging files go', join(__dirname, 'out'))
    .option('--regenerate', 'rebuild the corpus even if it exists')
    .parse()
    .opts<{ mb: number; threshold: number; out: string; regenerate?: boolean }>();

  const corpusRoot = join(options.out, `prepare-data-${options.mb}mb`);
  const truthPath = join(corpusRoot, 'ground-truth.json');
  if (options.regenerate || !existsSync(truthPath)) {
    console.log(`generating a ${options.mb} MB corpus in ${corpusRoot} (once; reused by later runs)...`);
    // A separate process, so the generator's memory does not count against the pipeline's peak RSS.
    const generated = spawnSync(
      process.execPath,
      [...process.execArgv, join(__dirname, 'prepare-data-corpus.ts'), corpusRoot, String(options.mb)],
      { stdio: 'inherit' },
    );
    if (generated.status !== 0) throw new Error(`corpus generation failed (exit ${generated.status})`);
  }
  const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as GroundTruth;
  const stagingDir = join(options.out, 'prepare-data-staging');
  rmSync(stagingDir, { recursive: true, force: true });
  mkdirSync(stagingDir, { recursive: true });

  const settings = PrepareDataInputSchema.parse({
    source: { kind: 'local', path: join(corpusRoot, 'corpus') },
    dedup: { threshold: options.threshold },
  });
  const flagged = new Map<string, { kind: string; similarity: number }>();
  const load = loadavg()[0]!;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpuStart = process.cpuUsage();
  const started = process.hrtime.bigint();

  // What the activities do: plan (list and fingerprint every file, hash the would-be dataset), then build.
  const source = localSource(join(corpusRoot, 'corpus'), settings);
  const listing = await source.list();
  const datasetHash = computeDatasetHash(settings, await fingerprintSource(source, listing, stagingDir), null);
  const planSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const outcome = await processSource({
    settings,
    source,
    listing,
    scratchDir: stagingDir,
    instructor: templateInstructor,
    onDuplicate: (event) => flagged.set(event.source, { kind: event.kind, similarity: event.similarity }),
  });

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  const maxRssBytes = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);

  // Precision/recall on the planted duplicates (near ones count only if truly above the threshold).
  const expected = new Set(
    Object.entries(truth.planted)
      .filter(([, item]) => item.kind === 'exact' || item.jaccard >= options.threshold)
      .map(([name]) => name),
  );
  const belowThreshold = Object.values(truth.planted).filter((item) => item.kind === 'near' && item.jaccard < options.threshold).length;
  const truePositives = [...flagged.keys()].filter((name) => expected.has(name)).length;
  const precision = flagged.size === 0 ? 1 : truePositives / flagged.size;
  const recall = expected.size === 0 ? 1 : truePositives / expected.size;
  const byKind = (kind: 'exact' | 'near') => {
    const planted = [...expected].filter((name) => truth.planted[name]?.kind === kind);
    return `${planted.filter((name) => flagged.has(name)).length}/${planted.length}`;
  };
  const hardNegativesFlagged = truth.hardNegatives.filter((name) => flagged.has(name)).length;
  const megabytes = outcome.counts.bytesRead / 1024 / 1024;

  const report = {
    corpus: `${(truth.bytes / 1024 / 1024).toFixed(1)} MiB, ${truth.segments} files, ${truth.documents} documents`,
    throughput: `${(megabytes / seconds).toFixed(1)} MiB/s end to end (${megabytes.toFixed(1)} MiB in ${seconds.toFixed(1)} s: plan ${planSeconds.toFixed(1)} s, build ${(seconds - planSeconds).toFixed(1)} s)`,
    cpu: `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU for ${seconds.toFixed(1)} s wall (${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core)`,
    peakRss: `${(maxRssBytes / 1024 / 1024).toFixed(0)} MiB`,
    duplicates: `planted ${expected.size} (exact ${byKind('exact')}, near ${byKind('near')} found), flagged ${flagged.size}, hard negatives flagged ${hardNegativesFlagged}/${truth.hardNegatives.length}, planted near copies below threshold ${belowThreshold}`,
    precision: precision.toFixed(4),
    recall: recall.toFixed(4),
    records: `${outcome.train.records} train + ${outcome.test.records} test, ${outcome.tokens.total} tokens (mean ${outcome.tokens.mean}, p95 ${outcome.tokens.p95}, max ${outcome.tokens.max})`,
    lsh: `${outcome.dedup.bands} bands x ${outcome.dedup.rows} rows, threshold ${options.threshold}`,
    dataset: `${datasetHash.slice(0, 16)}... (train sha256 ${outcome.train.sha256.slice(0, 16)}...)`,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), 1-min load ${load.toFixed(2)} at start (the machine is shared)`,
  };
  const width = Math.max(...Object.keys(report).map((key) => key.length));
  for (const [key, value] of Object.entries(report)) console.log(`${key.padEnd(width)}  ${value}`);
  const met = megabytes / seconds >= 20 && maxRssBytes <= 400 * 1024 * 1024 && recall >= 0.95 && precision >= 0.99;
  console.log(`targets (>= 20 MiB/s, <= 400 MiB RSS, recall >= 0.95, precision >= 0.99): ${met ? 'met' : 'NOT met'}`);
  rmSync(stagingDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
