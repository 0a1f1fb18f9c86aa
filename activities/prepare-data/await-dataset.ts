import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import {
  resultFromManifest,
  type DatasetWait,
  type DatasetWaitResult,
  type Manifest,
  type PrepareDataProgress,
} from '../../common/prepare-data/contract';
import type { S3Sender } from '../aws/clients';
import { datasetLocation, MANIFEST_FILE, readExistingManifest, type DatasetLocation } from './publish';

/** How often a run waiting for another run's build looks for its manifest: one small GET. */
export const DATASET_POLL_MS = 2_000;

export interface DatasetWaitDeps {
  s3: S3Sender;
  bucket: string;
  prefix: string;
}

/**
 * Waiting for a dataset that another run builds. Only S3 reads, so it runs on the control worker: a
 * wait never holds one of the data worker's few slots, which the builds need.
 */
export function createDatasetWaitActivities(deps: DatasetWaitDeps) {
  /** The dataset once its build publishes it (`reused`), or nothing when `forAtMostMs` passed first. */
  async function awaitDataset(request: DatasetWait): Promise<DatasetWaitResult> {
    const context = Context.current();
    const location = datasetLocation(deps.bucket, deps.prefix, request.datasetHash);
    const progress: PrepareDataProgress = {
      phase: 'waiting',
      building: request.building,
      datasetHash: request.datasetHash,
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
    };
    const manifest = await awaitPublishedManifest(deps.s3, location, request, context.cancellationSignal, () =>
      context.heartbeat(progress),
    );
    return manifest ? { dataset: resultFromManifest(manifest, `${location.uri}${MANIFEST_FILE}`, true) } : {};
  }
  return { awaitDataset };
}

export type DatasetWaitActivities = ReturnType<typeof createDatasetWaitActivities>;

/**
 * The manifest of the dataset, once it is published, or undefined when `forAtMostMs` passed first (the
 * workflow then asks Temporal whether that build still runs). Calls `beat` before each look, so the
 * wait heartbeats; the signal ends it.
 */
async function awaitPublishedManifest(
  s3: S3Sender,
  location: DatasetLocation,
  { datasetHash, forAtMostMs }: DatasetWait,
  signal: AbortSignal,
  beat: () => void,
): Promise<Manifest | undefined> {
  const until = Date.now() + forAtMostMs;
  for (;;) {
    beat();
    const manifest = await readExistingManifest(s3, location, datasetHash, signal);
    if (manifest) return manifest;
    const left = until - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(DATASET_POLL_MS, left), undefined, { signal });
  }
}
