import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PrepareDataInputSchema } from '../common/prepare-data/contract';
import { prepareThreads } from '../common/prepare-data/config';
import { templateInstructor } from '../activities/prepare-data/generator';
import { computeDatasetHash } from '../activities/prepare-data/fingerprint';
import { fingerprintSource, processSource } from '../activities/prepare-data/process';
import { localSource } from '../activities/prepare-data/source';

/**
 * `node_modules/.bin/tsx bench/prepare-data.ts [--mb 200] [--threshold 0.8]`
 * (strictly one core: `taskset -c 0 node_modules/.bin/tsx bench/prepare-data.ts`)
 *
 * Generates (once, cached in bench/out/) a synthetic corpus with planted exact and near duplicates and
 * a share of code-heavy READMEs, then runs the real prepare-data path on it in this process, as the two
 * activities do: the plan (listing, an MD5 fingerprint of every file, the dataset hash), then the build
 * (per-file inspection, streaming readers, CommonMark block parsing, cleaning, exact + MinHash-LSH +
 * paragraph dedup, boilerplate by frequency, block-aware token-exact chunking, template instructions,
 * split and JSONL staging on disk, sha256 of each file). Only the S3 upload is left out.
 *
 * The machine is shared and noisy, so speed is judged as a ratio: the same run times `wc -w` over the
 * same files (before and after the pipeline, the faster counts) and divides. Targets: at least 0.07x
 * `wc -w` (aim 0.15x), peak RSS <= 400 MiB, recall >= 0.95 at precision >= 0.99, balanced fences in
 * every record. Prints figures for people, then one JSON line for machines.
 */

interface GroundTruth {
  bytes: number;
  documents: number;
  readmes?: number;
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
    .option(
      '--threads <n>',
      'threads for the build, this one included (prepareData.threads; 0: one per core, at most 4)',
      (value) => Number(value),
      1,
    )
    .option(
      '--code-share <share>',
      'share of segments that are folders of code-heavy READMEs (0 gives the corpus of earlier benchmarks)',
      (value) => Number(value),
      0.15,
    )
    .parse()
    .opts<{ mb: number; threshold: number; out: string; regenerate?: boolean; threads: number; codeShare: number }>();
  const threads = prepareThreads(options.threads, availableParallelism());

  const corpusRoot = join(options.out, `prepare-data-${options.mb}mb${options.codeShare === 0.15 ? '' : `-code${options.codeShare}`}`);
  const truthPath = join(corpusRoot, 'ground-truth.json');
  if (options.regenerate || !existsSync(truthPath)) {
    console.log(`generating a ${options.mb} MB corpus in ${corpusRoot} (once; reused by later runs)...`);
    // A separate process, so the generator's memory does not count against the pipeline's peak RSS.
    const generated = spawnSync(
      process.execPath,
      [...process.execArgv, join(__dirname, 'prepare-data-corpus.ts'), corpusRoot, String(options.mb), String(options.codeShare)],
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
  const wcBefore = timeWordCount(join(corpusRoot, 'corpus'));
  const flagged = new Map<string, { kind: string; similarity: number }>();
  const load = loadavg()[0]!;
  let peakRss = process.memoryUsage().rss;
  const peaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    for (const key of Object.keys(peaks) as Array<keyof typeof peaks>) peaks[key] = Math.max(peaks[key], usage[key]);
  }, 100);
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
    threads,
    onDuplicate: (event) => flagged.set(event.source, { kind: event.kind, similarity: event.similarity }),
  });

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  const maxRssBytes = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const wcAfter = timeWordCount(join(corpusRoot, 'corpus'));
  const wcSeconds = Math.min(wcBefore.seconds, wcAfter.seconds);

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

  const mibPerSecond = megabytes / seconds;
  const wcMibPerSecond = truth.bytes / 1024 / 1024 / wcSeconds;
  const ratio = mibPerSecond / wcMibPerSecond;
  const { quality } = outcome;
  const report = {
    corpus: `${(truth.bytes / 1024 / 1024).toFixed(1)} MiB, ${truth.segments} segments, ${truth.documents} documents (${truth.readmes ?? 0} code-heavy READMEs)`,
    throughput: `${mibPerSecond.toFixed(1)} MiB/s end to end (${megabytes.toFixed(1)} MiB in ${seconds.toFixed(1)} s: plan ${planSeconds.toFixed(1)} s, build ${(seconds - planSeconds).toFixed(1)} s)`,
    'wc -w': `${wcMibPerSecond.toFixed(0)} MiB/s over the same files (${wcBefore.words} words; ${wcBefore.seconds.toFixed(2)} s before, ${wcAfter.seconds.toFixed(2)} s after)`,
    ratio: `${ratio.toFixed(3)}x wc -w`,
    cpu: `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU for ${seconds.toFixed(1)} s wall (${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core), ${threads} thread${threads === 1 ? '' : 's'}`,
    peakRss: `${(maxRssBytes / 1024 / 1024).toFixed(0)} MiB (this thread's heap at most ${(peaks.heapUsed / 1024 / 1024).toFixed(0)} MiB used of ${(peaks.heapTotal / 1024 / 1024).toFixed(0)}, ${(peaks.external / 1024 / 1024).toFixed(0)} MiB outside it)`,
    duplicates: `planted ${expected.size} (exact ${byKind('exact')}, near ${byKind('near')} found), flagged ${flagged.size}, hard negatives flagged ${hardNegativesFlagged}/${truth.hardNegatives.length}, planted near copies below threshold ${belowThreshold}`,
    precision: precision.toFixed(4),
    recall: recall.toFixed(4),
    records: `${outcome.train.records} train + ${outcome.test.records} test, ${outcome.tokens.total} tokens (mean ${outcome.tokens.mean}, p95 ${outcome.tokens.p95}, max ${outcome.tokens.max})`,
    quality: `${(quality.balancedFencesShare * 100).toFixed(2)}% balanced fences, ${quality.recordsStartingInsideBlock} start / ${quality.recordsEndingInsideBlock} end inside a block (${quality.blocksSplit} blocks longer than a chunk), ${quality.recordsEndingOnHeading} end on a heading, train/test paragraph overlap ${quality.trainTestParagraphOverlap}`,
    cleaning: `${outcome.counts.boilerplateBlocksRemoved} boilerplate blocks (${outcome.boilerplate.distinct} distinct) and ${outcome.counts.repeatedParagraphsRemoved} repeated paragraphs removed, ${outcome.counts.containedDuplicates} contained documents`,
    lsh: `${outcome.dedup.bands} bands x ${outcome.dedup.rows} rows, threshold ${options.threshold}`,
    dataset: `${datasetHash.slice(0, 16)}... (train sha256 ${outcome.train.sha256.slice(0, 16)}...)`,
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), 1-min load ${load.toFixed(2)} at start (the machine is shared)`,
  };
  const width = Math.max(...Object.keys(report).map((key) => key.length));
  for (const [key, value] of Object.entries(report)) console.log(`${key.padEnd(width)}  ${value}`);
  const met = ratio >= 0.07 && maxRssBytes <= 400 * 1024 * 1024 && recall >= 0.95 && precision >= 0.99 && quality.balancedFencesShare === 1;
  console.log(
    `targets (>= 0.07x wc -w, aim 0.15x; <= 400 MiB RSS; recall >= 0.95; precision >= 0.99; 100% balanced fences): ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    JSON.stringify({
      bench: 'prepare-data',
      corpusMiB: Math.round((truth.bytes / 1024 / 1024) * 10) / 10,
      mibPerSecond: Math.round(mibPerSecond * 100) / 100,
      wcMibPerSecond: Math.round(wcMibPerSecond * 10) / 10,
      ratioToWc: Math.round(ratio * 1000) / 1000,
      seconds: Math.round(seconds * 100) / 100,
      threads,
      cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      peakRssMiB: Math.round(maxRssBytes / 1024 / 1024),
      precision: Math.round(precision * 10_000) / 10_000,
      recall: Math.round(recall * 10_000) / 10_000,
      records: outcome.train.records + outcome.test.records,
      balancedFencesShare: quality.balancedFencesShare,
      recordsStartingInsideBlock: quality.recordsStartingInsideBlock,
      recordsEndingInsideBlock: quality.recordsEndingInsideBlock,
      trainTestParagraphOverlap: quality.trainTestParagraphOverlap,
      boilerplateBlocksRemoved: outcome.counts.boilerplateBlocksRemoved,
      targetsMet: met,
    }),
  );
  rmSync(stagingDir, { recursive: true, force: true });
}

/** `wc -w` over every file of the corpus (one process, the list on stdin), timed. */
function timeWordCount(root: string): { seconds: number; words: number } {
  const files = filesUnder(root);
  const started = process.hrtime.bigint();
  const result = spawnSync('wc', ['-w', '--files0-from=-'], { input: files.join('\0'), maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`wc -w failed: ${result.stderr.toString()}`);
  const total = /(\d+) total\s*$/.exec(result.stdout.toString()) ?? /^\s*(\d+)/.exec(result.stdout.toString());
  return { seconds, words: Number(total?.[1] ?? 0) };
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(root, entry.name)) : [join(root, entry.name)],
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
