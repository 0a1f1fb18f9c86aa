import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { LlmtwinConfig } from '../../common/config';
import {
  BuildDatasetRequestSchema,
  PrepareDataInputSchema,
  type BuildDatasetRequest,
  resultFromManifest,
  DATASET_CODE_VERSION,
  type DatasetPlan,
  type Manifest,
  type PrepareDataInput,
  type PrepareDataProgress,
  type PrepareDataResult,
  type PrepareDataSettings,
} from '../../common/prepare-data/contract';
import { durationToMs } from '../../common/shared/durations';
import { ERROR_TYPES } from '../../common/shared/errors';
import { stableHash } from '../../common/shared/naming';
import { parseOrFail, validationFailure } from '../../common/shared/validation';
import { keepScratchAlive, sweepDeadScratch } from './scratch';
import { ensureBucket } from '../aws/s3';
import { computeDatasetHash, settingsForManifest, type GeneratorIdentity } from './fingerprint';
import { chatGeneratorInstructor, GENERATOR_PROMPT_VERSION, templateInstructor, type Instructor } from './generator';
import { readCheckpoint, type ProcessCheckpoint } from './checkpoint';
import { fingerprintSource, processSource, StaleCheckpointError, STAGED_DOCUMENTS_FILE, type ProcessOutcome } from './process';
import { datasetLocation, MANIFEST_FILE, putManifest, readExistingManifest, uploadStaged } from './publish';
import { prepareThreads } from '../../common/prepare-data/config';
import { sourceFor, type SourceConfinement, type SourceListing } from './source';

export interface PrepareDataDeps {
  s3: S3Client;
  bucket: string;
  /** The configured key prefix (`s3.prefix`), e.g. "llmtwin/". */
  prefix: string;
  region: string;
  generator: LlmtwinConfig['generator'];
  /** Where local and S3 sources may be read from (config `sources`). */
  sources: LlmtwinConfig['sources'];
  /** `prepareData.threads`: threads per build (0: one per core, at most 4). */
  threads?: number;
  /** Where staging files go (default: the OS temp folder). */
  scratchRoot?: string;
  /** `prepareData.checkpointEvery`: how often a build records how far it got (default 10 s). */
  checkpointEveryMs?: number;
}

const HEARTBEAT_EVERY_MS = 1000;

/**
 * The data-queue activities of prepare-data. `planDataset` is cheap (a listing and a fingerprint pass)
 * and answers "which dataset would this be, and does it exist already?"; `buildDataset` does the work
 * and publishes it. Both are idempotent: the dataset lives at a prefix named by its content hash.
 */
export function createPrepareDataActivities(deps: PrepareDataDeps) {
  const confinement: SourceConfinement = { localRoots: deps.sources.localRoots, s3Allowed: deps.sources.s3Allowed, bucket: deps.bucket };
  async function planDataset(rawInput: PrepareDataInput): Promise<DatasetPlan> {
    const settings = parseOrFail(PrepareDataInputSchema, rawInput, 'prepareData input');
    const generator = generatorIdentity(settings, deps.generator);
    const signal = Context.current().cancellationSignal;
    // One source for the listing and the fingerprints: a local source that is a single file knows it from its listing.
    const source = sourceFor(settings, deps.s3, confinement);
    const listing = await source.list(signal);
    requireSupportedFiles(listing);
    const heartbeat = throttledHeartbeat();
    const fingerprints = await fingerprintSource(source, listing, tmpdir(), signal, heartbeat);
    const datasetHash = computeDatasetHash(settings, fingerprints, generator);
    const location = datasetLocation(deps.bucket, deps.prefix, datasetHash);
    await ensureBucket(deps.s3, deps.bucket, deps.region, deps.prefix);
    const existing = await readExistingManifest(deps.s3, location, datasetHash, signal);
    return {
      datasetHash,
      files: listing.entries.length,
      bytes: totalBytes(listing),
      ...(existing ? { existing: resultFromManifest(existing, `${location.uri}${MANIFEST_FILE}`, true) } : {}),
    };
  }

  async function buildDataset(rawRequest: BuildDatasetRequest): Promise<PrepareDataResult> {
    const request = parseOrFail(BuildDatasetRequestSchema, rawRequest, 'buildDataset request');
    const settings = request.input;
    const generator = generatorIdentity(settings, deps.generator);
    const context = Context.current();
    const signal = context.cancellationSignal;
    const location = datasetLocation(deps.bucket, deps.prefix, request.datasetHash);
    const manifestUri = `${location.uri}${MANIFEST_FILE}`;
    await ensureBucket(deps.s3, deps.bucket, deps.region, deps.prefix);
    const { workflowExecution, activityId } = context.info;
    const builtBy = { workflowId: workflowExecution?.workflowId ?? '', runId: workflowExecution?.runId ?? '', activityId };
    const madeHere = (manifest: Manifest) =>
      manifest.builtBy?.workflowId === builtBy.workflowId &&
      manifest.builtBy.runId === builtBy.runId &&
      manifest.builtBy.activityId === builtBy.activityId;
    // One scratch folder per dataset and activity: a retry of this activity finds its own, another
    // workflow building the same dataset at the same time does not collide with it.
    const scratchRoot = join(deps.scratchRoot ?? tmpdir(), 'llmtwin-prepare');
    const scratchDir = join(
      scratchRoot,
      `${request.datasetHash.slice(0, 16)}-${stableHash(`${workflowExecution?.workflowId ?? ''}|${activityId}`)}`,
    );
    const existing = await readExistingManifest(deps.s3, location, request.datasetHash, signal);
    if (existing) {
      // Published, by an earlier attempt of this activity or by another build: what an earlier attempt
      // here staged for its retry is no longer needed.
      await rm(scratchDir, { recursive: true, force: true });
      return resultFromManifest(existing, manifestUri, !madeHere(existing));
    }

    const removed = await sweepDeadScratch(scratchRoot, DEAD_SCRATCH_AFTER_MS, scratchDir);
    if (removed.length > 0) context.log.info('removed the scratch folders of builds that died', { removed });
    const stagedMarker = join(scratchDir, 'staged.json');
    const heartbeat = throttledHeartbeat();
    const source = sourceFor(settings, deps.s3, confinement);
    const listing = await source.list(signal);
    requireSupportedFiles(listing);

    const stopTouching = keepScratchAlive(scratchDir, SCRATCH_TOUCH_EVERY_MS);
    try {
      // Resume: an earlier attempt on this worker that finished processing left its outcome behind;
      // one that was stopped while processing left a checkpoint of how far it got.
      let outcome = await readStaged(stagedMarker);
      if (!outcome) {
        const instructor = instructorFor(settings, deps.generator);
        const checkpointPath = join(scratchDir, CHECKPOINT_FILE);
        const resume = fitsListing(readCheckpoint(checkpointPath, request.datasetHash), listing);
        const processWith = async (from: ProcessCheckpoint | undefined) => {
          await (from ? removeAllBut(scratchDir, [CHECKPOINT_FILE, STAGED_DOCUMENTS_FILE]) : freshFolder(scratchDir));
          if (from)
            context.log.info('resuming the build from its checkpoint', { filesDone: from.filesDone, filesTotal: listing.entries.length });
          return processSource({
            settings,
            source,
            listing,
            scratchDir,
            instructor,
            signal,
            threads: prepareThreads(deps.threads ?? 1, availableParallelism()),
            onProgress: (progress) => heartbeat({ ...progress, datasetHash: request.datasetHash }),
            checkpoints: {
              path: checkpointPath,
              datasetHash: request.datasetHash,
              everyMs: deps.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS,
              ...(from ? { resume: from } : {}),
            },
          });
        };
        const processed = await processWith(resume).catch((error: unknown) => {
          if (!(error instanceof StaleCheckpointError)) throw error;
          context.log.warn('the checkpoint does not match its staged documents; starting the build over', { reason: error.message });
          return processWith(undefined);
        });
        const actualHash = computeDatasetHash(settings, processed.fingerprints, generator);
        if (actualHash !== request.datasetHash) {
          throw validationFailure(
            `the source changed while the dataset was being prepared (planned ${request.datasetHash.slice(0, 12)}, read ${actualHash.slice(0, 12)}); run prepare-data again`,
          );
        }
        if (processed.train.records + processed.test.records === 0) throw noUsableText(listing, processed);
        outcome = { ...processed, generator: instructor.report() };
        await writeFile(stagedMarker, JSON.stringify(outcome));
      }

      const progress: PrepareDataProgress = {
        phase: 'upload',
        datasetHash: request.datasetHash,
        filesDone: 0,
        filesTotal: 2,
        bytesDone: 0,
        bytesTotal: outcome.train.bytes + outcome.test.bytes,
      };
      context.heartbeat(progress);
      for (const [name, staged] of [
        ['train.jsonl', outcome.train],
        ['test.jsonl', outcome.test],
      ] as const) {
        const before = progress.bytesDone;
        await uploadStaged(deps.s3, location, name, staged, signal, (sent) => heartbeat({ ...progress, bytesDone: before + sent }));
        progress.filesDone += 1;
        progress.bytesDone = before + staged.bytes;
        context.heartbeat(progress);
      }
      const manifest = buildManifest(settings, listing, request.datasetHash, location, outcome, builtBy);
      const published = await putManifest(deps.s3, location, manifest, signal);
      // Another build of this dataset published first (same hash, same bytes): its manifest stands.
      const standing = published === 'exists' ? await readExistingManifest(deps.s3, location, request.datasetHash, signal) : manifest;
      if (!standing) {
        throw ApplicationFailure.create({
          type: ERROR_TYPES.transient,
          message: `${manifestUri} exists but cannot be read yet; trying again`,
        });
      }
      await rm(scratchDir, { recursive: true, force: true });
      return resultFromManifest(standing, manifestUri, !madeHere(standing));
    } catch (error) {
      // A cancelled or invalid build leaves nothing behind. Other failures keep the staged files and the
      // checkpoint for the retry, and so does an attempt stopped by a worker shutting down or a timeout
      // (its signal aborts too, but the build is not over: its retry comes back to this folder).
      const cancelled = signal.aborted && context.cancellationDetails?.cancelRequested === true;
      if (cancelled || isNonRetryable(error)) await rm(scratchDir, { recursive: true, force: true });
      throw error;
    } finally {
      stopTouching();
    }
  }

  return { planDataset, buildDataset };
}

export type PrepareDataActivities = ReturnType<typeof createPrepareDataActivities>;

const CHECKPOINT_FILE = 'checkpoint.json';
const DEFAULT_CHECKPOINT_EVERY_MS = 10_000;

/** A checkpoint is for this listing when the files it did are this listing's first files, in order. */
function fitsListing(checkpoint: ProcessCheckpoint | undefined, listing: SourceListing): ProcessCheckpoint | undefined {
  if (!checkpoint || checkpoint.filesDone > listing.entries.length || checkpoint.fingerprints.length !== checkpoint.filesDone)
    return undefined;
  return checkpoint.fingerprints.every((fingerprint, index) => fingerprint.path === listing.entries[index]!.path) ? checkpoint : undefined;
}

async function freshFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

/** What a killed attempt left besides what its retry resumes from: half-written outputs, S3 downloads. */
async function removeAllBut(dir: string, keep: readonly string[]): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(
    names
      .filter((name) => !keep.includes(name) && !name.startsWith('.'))
      .map((name) => rm(join(dir, name), { recursive: true, force: true })),
  );
}

/** A live build touches its scratch folder this often; one untouched for the longer time died (retries wait at most 2 min). */
const SCRATCH_TOUCH_EVERY_MS = 10_000;
const DEAD_SCRATCH_AFTER_MS = 15 * 60_000;

type StagedOutcome = ProcessOutcome & { generator?: Manifest['generator'] };

function buildManifest(
  settings: PrepareDataSettings,
  listing: SourceListing,
  datasetHash: string,
  location: ReturnType<typeof datasetLocation>,
  outcome: StagedOutcome,
  builtBy: NonNullable<Manifest['builtBy']>,
): Manifest {
  const file = (name: string, staged: StagedOutcome['train']) => ({
    key: `${location.keyPrefix}${name}`,
    uri: `${location.uri}${name}`,
    sha256: staged.sha256,
    bytes: staged.bytes,
    records: staged.records,
  });
  return {
    schemaVersion: 2,
    datasetHash,
    codeVersion: DATASET_CODE_VERSION,
    createdAt: new Date().toISOString(),
    builtBy,
    source: {
      kind: listing.kind,
      location: listing.location,
      files: listing.entries.length + listing.skipped.length,
      bytes: totalBytes(listing),
    },
    config: settingsForManifest(settings),
    record: { format: 'jsonl', fields: ['id', 'instruction', 'output', 'source', 'title', 'tokens'] },
    files: { train: file('train.jsonl', outcome.train), test: file('test.jsonl', outcome.test) },
    counts: { ...outcome.counts, trainRecords: outcome.train.records, testRecords: outcome.test.records },
    tokens: outcome.tokens,
    dedup: outcome.dedup,
    boilerplate: outcome.boilerplate,
    quality: outcome.quality,
    skippedFiles: outcome.skippedFiles,
    skippedRecords: outcome.skippedRecords,
    ...(outcome.generator ? { generator: outcome.generator } : {}),
    warnings: outcome.warnings,
  };
}

function generatorIdentity(settings: PrepareDataSettings, generator: LlmtwinConfig['generator']): GeneratorIdentity {
  if (settings.instruct.mode !== 'generator') return null;
  if (!generator.baseUrl || !generator.model) {
    throw validationFailure(
      'instruct.mode is "generator" but no generator is configured: set LLMTWIN_GENERATOR_BASE_URL and LLMTWIN_GENERATOR_MODEL on the data worker',
    );
  }
  return {
    model: generator.model,
    baseUrl: generator.baseUrl,
    temperature: generator.temperature,
    promptVersion: GENERATOR_PROMPT_VERSION,
  };
}

function instructorFor(settings: PrepareDataSettings, generator: LlmtwinConfig['generator']): Instructor {
  if (settings.instruct.mode !== 'generator' || !generator.baseUrl || !generator.model) return templateInstructor;
  return chatGeneratorInstructor({
    baseUrl: generator.baseUrl,
    model: generator.model,
    apiKey: generator.apiKey,
    concurrency: generator.concurrency,
    maxRetries: generator.maxRetries,
    timeoutMs: durationToMs(generator.timeout),
    temperature: generator.temperature,
    inputUsdPerMillionTokens: generator.inputUsdPerMillionTokens,
    outputUsdPerMillionTokens: generator.outputUsdPerMillionTokens,
  });
}

function requireSupportedFiles(listing: SourceListing): void {
  if (listing.entries.length > 0) return;
  if (listing.skipped.length === 0)
    throw validationFailure(
      `the source ${listing.location} is empty: put the author's writing there (Markdown, text, HTML, JSON or JSONL)`,
    );
  const examples = listing.skipped.slice(0, 5).map((item) => `${item.source} (${item.reason})`);
  throw validationFailure(
    `the source ${listing.location} has no readable files: ${listing.skipped.length} skipped, e.g. ${examples.join('; ')}`,
  );
}

function noUsableText(listing: SourceListing, outcome: ProcessOutcome) {
  const reasons = outcome.skippedFiles.slice(0, 5).map((item) => `${item.source}: ${item.reason}`);
  const { counts } = outcome;
  return validationFailure(
    `no usable text in ${listing.location}: ${counts.filesRead} files read, ${counts.filesSkipped} skipped${reasons.length ? ` (${reasons.join('; ')})` : ''}; ` +
      `${counts.documents} documents, ${counts.emptyDocuments} empty after cleaning, ${counts.exactDuplicates + counts.nearDuplicates} duplicates, ` +
      `${counts.skippedRecords} records skipped, ${counts.shortChunksDropped} chunks shorter than chunk.minTokens`,
  );
}

async function readStaged(path: string): Promise<StagedOutcome | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StagedOutcome;
  } catch {
    return undefined;
  }
}

function totalBytes(listing: SourceListing): number {
  return listing.entries.reduce((sum, entry) => sum + entry.size, 0) + listing.skipped.reduce((sum, item) => sum + item.size, 0);
}

/** Heartbeats at most once a second: progress for the UI and CLI, and the channel cancellation arrives on. */
function throttledHeartbeat(): (details: PrepareDataProgress) => void {
  let last = 0;
  return (details) => {
    const now = Date.now();
    if (now - last < HEARTBEAT_EVERY_MS) return;
    last = now;
    Context.current().heartbeat(details);
  };
}

function isNonRetryable(error: unknown): boolean {
  return Boolean((error as { nonRetryable?: boolean } | undefined)?.nonRetryable);
}
