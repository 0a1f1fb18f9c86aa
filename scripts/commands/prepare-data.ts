import type { Command } from 'commander';
import {
  PREPARE_DATA_WORKFLOW_TYPE,
  PrepareDataInputSchema,
  SOURCE_FORMATS,
  type PrepareDataInput,
  type PrepareDataProgress,
  type PrepareDataResult,
  type PrepareDataWorkflow,
} from '../../common/prepare-data/contract';
import { GENRES } from '../../common/prepare-data/text/genre';
import type * as datasetSamplesModule from '../dataset-samples';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput, numberFlag, readInputFile } from '../cli-input';
import { printResult } from '../cli-output';
import { awaitRun, startRun, type RunView } from '../run-follower';

interface PrepareDataOptions {
  source?: string;
  input?: string;
  author?: string;
  handle?: string;
  formats?: string;
  textField?: string;
  titleField?: string;
  dateField?: string;
  keep?: string;
  genre?: string;
  boilerplateFiles?: string;
  paragraphDedup?: boolean;
  samples?: string;
  dedupThreshold?: string;
  nearDedup?: boolean;
  chunkTokens?: string;
  overlapTokens?: string;
  minTokens?: string;
  testRatio?: string;
  seed?: string;
  generator?: boolean;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
}

const WATCH_INTERVAL_MS = 1_000;

/** The flag that sets each input field, so a refused value is named the way the person typed it. */
const FLAGS: Readonly<Record<string, string>> = {
  source: '--source',
  'author.name': '--author',
  'author.handle': '--handle',
  'formats.include': '--formats',
  'formats.json.textField': '--text-field',
  'formats.json.titleField': '--title-field',
  'formats.json.dateField': '--date-field',
  'dedup.keep': '--keep',
  'instruct.genre': '--genre',
  'clean.repeatedBlockMinFiles': '--boilerplate-files',
  'dedup.paragraphs': '--no-paragraph-dedup',
  'dedup.threshold': '--dedup-threshold',
  'dedup.near': '--no-near-dedup',
  'chunk.maxTokens': '--chunk-tokens',
  'chunk.overlapTokens': '--overlap-tokens',
  'chunk.minTokens': '--min-tokens',
  'split.testRatio': '--test-ratio',
  'split.seed': '--seed',
  'instruct.mode': '--generator',
};

export function registerPrepareData(command: Command, context: CliContext): void {
  command
    .option('--source <folder|s3uri>', 'a folder on the data worker, e.g. examples/corpus, or an S3 prefix, e.g. s3://bucket/writing/')
    .option('--input <file>', 'a JSON prepareData input (like examples/prepare-data.json); the flags below override it')
    .option('--author <name>', "the author's name, used to phrase instructions (at most 200 characters)")
    .option('--handle <handle>', "the author's handle, e.g. @saltandsolder (at most 100 characters)")
    .option('--formats <list>', `comma-separated formats to read (default: all of ${SOURCE_FORMATS.join(',')})`)
    .option('--text-field <path>', 'JSON/JSONL field holding the text, dotted paths allowed (default: text)')
    .option('--title-field <path>', 'JSON/JSONL field holding the title (default: title)')
    .option('--date-field <path>', "JSON/JSONL field holding a record's date, read by the keep rule (default: date)")
    .option('--keep <rule>', 'which of two duplicates stays: original (default), newest or first-path')
    .option('--genre <genre>', `the kind of writing, for the instructions: auto (default) or one of ${GENRES.join(', ')}`)
    .option('--boilerplate-files <n>', 'prose repeated in at least this many files is boilerplate, removed everywhere; 0: off (default: 3)')
    .option('--no-paragraph-dedup', 'keep paragraphs repeated across documents (test paragraphs may then appear in train)')
    .option('--dedup-threshold <similarity>', 'near-duplicate Jaccard threshold, 0.5 to 1 (default: 0.8)')
    .option('--no-near-dedup', 'exact deduplication only')
    .option('--chunk-tokens <n>', 'maximum tokens per answer, 1 to 8192 (default: 1024)')
    .option('--overlap-tokens <n>', 'tokens repeated from the previous chunk, less than --chunk-tokens (default: 128)')
    .option('--min-tokens <n>', 'drop chunks shorter than this, at most --chunk-tokens (default: 16)')
    .option('--test-ratio <ratio>', 'share of documents in test.jsonl, 0.01 to 0.5 (default: 0.1)')
    .option('--seed <text>', 'split seed, 1 to 100 characters: another seed, another (stable) split')
    .option('--generator', 'phrase instructions with the OpenAI-compatible endpoint from the worker config (LLMTWIN_GENERATOR_*)')
    .option('--samples <n>', 'after the run, print n random instruction/answer pairs from the dataset (1 to 100)')
    .option('--workflow-id <id>', 'workflow id (default: prepare-data-<time>-<random>)')
    .option('--detach', 'start the workflow and return without waiting (prints its id)')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nThe same writing with the same settings gives the same dataset hash; a rerun finds it and uploads nothing.\n' +
        'Needs a worker on the control and data queues (`npm run worker`, or `npm start`); a local --source is read by the data worker.',
    )
    .action(async (options: PrepareDataOptions) => {
      const input = prepareDataInputFrom(options);
      const samples = samplesFlag(options);
      const handle = await startRun<PrepareDataWorkflow>(context, PREPARE_DATA_WORKFLOW_TYPE, input, {
        ...options,
        idPrefix: 'prepare-data',
      });
      if (!handle) return;
      const result = await awaitRun(context, handle, { intervalMs: WATCH_INTERVAL_MS, view: progressView });
      if (samples === undefined) {
        printResult(result, Boolean(options.json), () => datasetSummary(result));
        return;
      }
      // Loaded only when asked for: the S3 client and the record schema are not needed otherwise.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as in cli-context.ts
      const { sampleDataset, sampleLines } = require('../dataset-samples') as typeof datasetSamplesModule;
      const drawn = await sampleDataset(context.aws().s3, { train: result.trainUri, test: result.testUri }, samples);
      printResult({ ...result, samples: drawn }, Boolean(options.json), () => [...datasetSummary(result), ...sampleLines(drawn)]);
    });
}

/** The workflow input from `--input` and the flags, validated here so a typo fails before anything starts. */
export function prepareDataInputFrom(options: PrepareDataOptions): PrepareDataInput {
  const base = options.input ? readInputFile(options.input) : {};
  if (!options.source && base.source === undefined) {
    throw new UsageError(
      `--source is required: a folder on the data worker or an S3 prefix${options.input ? ` (${options.input} names none)` : ''}`,
    );
  }
  const section = (name: string) => ({ ...((base[name] as object | undefined) ?? {}) }) as Record<string, unknown>;
  const defined = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));

  const formats = section('formats');
  const raw = {
    ...base,
    ...(options.source ? { source: sourceFrom(options.source) } : {}),
    author: { ...section('author'), ...defined({ name: options.author, handle: options.handle }) },
    formats: {
      ...formats,
      ...(options.formats
        ? {
            include: options.formats
              .split(',')
              .map((item) => item.trim())
              .filter(Boolean),
          }
        : {}),
      json: {
        ...((formats.json as object | undefined) ?? {}),
        ...defined({ textField: options.textField, titleField: options.titleField, dateField: options.dateField }),
      },
    },
    dedup: {
      ...section('dedup'),
      ...defined({
        threshold: numberFlag(options.dedupThreshold, '--dedup-threshold'),
        near: options.nearDedup === false ? false : undefined,
        keep: options.keep,
        paragraphs: options.paragraphDedup === false ? false : undefined,
      }),
    },
    clean: { ...section('clean'), ...defined({ repeatedBlockMinFiles: numberFlag(options.boilerplateFiles, '--boilerplate-files') }) },
    chunk: {
      ...section('chunk'),
      ...defined({
        maxTokens: numberFlag(options.chunkTokens, '--chunk-tokens'),
        overlapTokens: numberFlag(options.overlapTokens, '--overlap-tokens'),
        minTokens: numberFlag(options.minTokens, '--min-tokens'),
      }),
    },
    split: { ...section('split'), ...defined({ testRatio: numberFlag(options.testRatio, '--test-ratio'), seed: options.seed }) },
    instruct: { ...section('instruct'), ...(options.generator ? { mode: 'generator' } : {}), ...defined({ genre: options.genre }) },
  };
  return checkedInput(PrepareDataInputSchema, raw, 'prepare-data input', { flags: FLAGS });
}

const MAX_SAMPLES = 100;

/** `--samples n`: a whole number from 1 to 100, and only when the command waits for the dataset. */
function samplesFlag(options: PrepareDataOptions): number | undefined {
  const samples = numberFlag(options.samples, '--samples');
  if (samples === undefined) return undefined;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES)
    throw new UsageError(`--samples must be a whole number from 1 to ${MAX_SAMPLES}, not ${options.samples}`);
  if (options.detach) throw new UsageError('--samples needs the dataset, so it cannot be used with --detach');
  return samples;
}

export function sourceFrom(location: string): PrepareDataInput['source'] {
  return location.startsWith('s3://') ? { kind: 's3', uri: location } : { kind: 'local', path: location };
}

/** Where the dataset landed and what is in it, as lines for people (the CLI and scripts/demos/main.ts print these). */
export function datasetSummary(result: PrepareDataResult): string[] {
  const { counts, tokens, quality } = result;
  const percent = (share: number) => `${(share * 100).toFixed(share === 1 ? 0 : 1)}%`;
  const genres = Object.entries(quality.genres)
    .map(([genre, documents]) => `${genre} ${documents}`)
    .join(', ');
  return [
    `dataset    ${result.datasetHash}${result.reused ? '  (already there: nothing uploaded)' : ''}`,
    `location   ${result.datasetUri}`,
    `train      ${result.trainUri}  (${counts.trainRecords} pairs)`,
    `test       ${result.testUri}  (${counts.testRecords} pairs)`,
    `manifest   ${result.manifestUri}`,
    `files      ${counts.filesRead} read, ${counts.filesSkipped} skipped (reasons in the manifest)`,
    `documents  ${counts.documents}; dropped ${counts.exactDuplicates} exact, ${counts.nearDuplicates} near and ${counts.containedDuplicates} contained duplicates (pairs and the keep rule in the manifest)`,
    `cleaning   ${counts.boilerplateBlocksRemoved} boilerplate blocks and ${counts.repeatedParagraphsRemoved} repeated paragraphs removed`,
    `tokens     ${tokens.total} (mean ${tokens.mean} per answer, max ${tokens.max})`,
    `quality    ${percent(quality.balancedFencesShare)} of records with balanced code fences; ` +
      `${quality.recordsStartingInsideBlock} start and ${quality.recordsEndingInsideBlock} end inside a block (${quality.blocksSplit} blocks longer than a chunk); ` +
      `${quality.trainTestParagraphOverlap} test paragraphs in train`,
    ...(genres ? [`genres     ${genres} (documents)`] : []),
    ...(result.warnings ?? []).map((warning) => `warning    ${warning}`),
  ];
}

/** One line of progress from the activity's heartbeat details. */
export function progressText(progress: PrepareDataProgress): string {
  if (progress.phase === 'waiting') return `waiting: another run builds this dataset (workflow ${progress.building ?? '?'})`;
  const unit = progress.bytesTotal >= 1024 * 1024 ? { size: 1024 * 1024, name: 'MiB', digits: 1 } : { size: 1024, name: 'KiB', digits: 0 };
  const size = (bytes: number) => (bytes / unit.size).toFixed(unit.digits);
  const parts = [
    `${progress.phase}: ${progress.filesDone}/${progress.filesTotal} files, ${size(progress.bytesDone)}/${size(progress.bytesTotal)} ${unit.name}`,
  ];
  if (progress.phase === 'process')
    parts.push(`${progress.documents ?? 0} documents, ${progress.duplicates ?? 0} duplicates, ${progress.records ?? 0} records`);
  return parts.join('  ');
}

/** This run's progress: the data activity's heartbeat details (files and bytes done), as a bar or a line. */
function progressView(heartbeats: unknown[]): RunView | undefined {
  const progress = heartbeats.find(isPrepareDataProgress);
  if (!progress) return undefined;
  return {
    line: progressText(progress),
    bar: {
      phase: progress.phase,
      done: progress.bytesDone,
      total: progress.bytesTotal,
      detail: progressText(progress).replace(/^\w+: /, ''),
    },
  };
}

function isPrepareDataProgress(details: unknown): details is PrepareDataProgress {
  const candidate = details as Partial<PrepareDataProgress> | undefined;
  return typeof candidate?.phase === 'string' && typeof candidate.filesTotal === 'number';
}
