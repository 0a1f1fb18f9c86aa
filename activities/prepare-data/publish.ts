import { createReadStream } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ManifestSchema, type Manifest } from '../../common/prepare-data/contract';
import { s3Key, s3Uri } from '../../common/shared/naming';
import { awsCall, readIfExists } from '../aws/errors';
import { headObjectIfExists } from '../aws/s3';
import { abortDeadUploads } from '../aws/s3-uploads';
import type { StagedFile } from './staging';
import type { S3Sender } from '../aws/clients';

/**
 * The content-addressed dataset prefix `<prefix>datasets/<hash>/`: train.jsonl and test.jsonl first
 * (multipart, streamed from disk, each carrying its sha256 as object metadata), manifest.json last. A
 * manifest therefore means a complete dataset; a retry that finds a data file already uploaded with
 * the same sha256 does not upload it again.
 */

export interface DatasetLocation {
  bucket: string;
  /** Key prefix ending with "/". */
  keyPrefix: string;
  uri: string;
}

export const MANIFEST_FILE = 'manifest.json';
const PART_SIZE = 8 * 1024 * 1024;

export function datasetLocation(bucket: string, prefix: string, datasetHash: string): DatasetLocation {
  const keyPrefix = `${s3Key(prefix, 'datasets', datasetHash)}/`;
  return { bucket, keyPrefix, uri: s3Uri(bucket, keyPrefix) };
}

/**
 * The manifest of a complete dataset at this location, or undefined when there is none (or it is not
 * ours to trust: unparseable, another hash, or a data file missing), in which case it is rebuilt.
 */
export async function readExistingManifest(
  s3: S3Sender,
  location: DatasetLocation,
  datasetHash: string,
  signal?: AbortSignal,
): Promise<Manifest | undefined> {
  const key = `${location.keyPrefix}${MANIFEST_FILE}`;
  const text = await readIfExists({ operation: 'GetObject', resource: s3Uri(location.bucket, key) }, async () => {
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }), { abortSignal: signal });
    return (await object.Body?.transformToString('utf-8')) ?? '';
  });
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const manifest = ManifestSchema.safeParse(parsed);
  if (!manifest.success || manifest.data.datasetHash !== datasetHash) return undefined;
  for (const file of [manifest.data.files.train, manifest.data.files.test]) {
    const head = await headObjectIfExists(s3, location.bucket, file.key);
    if (!head || head.ContentLength !== file.bytes) return undefined;
  }
  return manifest.data;
}

/** An upload with no new part for this long is a dead attempt's (a live one sends a part every few seconds). */
const DEAD_UPLOAD_AFTER_MS = 5 * 60_000;

/** Uploads one staged file unless the same bytes (by sha256 metadata) are already there. */
export async function uploadStaged(
  s3: S3Client,
  location: DatasetLocation,
  name: string,
  staged: StagedFile,
  signal?: AbortSignal,
  /** Bytes of this file sent so far, as parts complete: the caller heartbeats, so a long upload never looks stuck. */
  onProgress?: (bytesSent: number) => void,
): Promise<'uploaded' | 'present'> {
  const key = `${location.keyPrefix}${name}`;
  const head = await headObjectIfExists(s3, location.bucket, key);
  if (head?.Metadata?.sha256 === staged.sha256 && head.ContentLength === staged.bytes) return 'present';
  // What an attempt killed mid-upload left: its parts stopped coming minutes ago.
  await abortDeadUploads(s3, location.bucket, key, DEAD_UPLOAD_AFTER_MS);
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: location.bucket,
      Key: key,
      Body: createReadStream(staged.path),
      ContentType: 'application/x-ndjson',
      Metadata: { sha256: staged.sha256 },
    },
    partSize: PART_SIZE,
    queueSize: 2,
    leavePartsOnError: false,
  });
  if (onProgress) upload.on('httpUploadProgress', (progress) => onProgress(progress.loaded ?? 0));
  const abort = () => void upload.abort();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await awsCall({ operation: 'Upload', resource: s3Uri(location.bucket, key) }, () => upload.done());
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (signal?.aborted) throw signal.reason;
  return 'uploaded';
}

/**
 * Publishes the manifest unless one is there already (If-None-Match: *): the first build of a dataset
 * to finish names itself in it, and a concurrent build of the same dataset, or an SDK retry of a put
 * whose answer was lost, finds it instead of replacing it. `exists`: the caller reads the one there.
 */
export async function putManifest(
  s3: S3Sender,
  location: DatasetLocation,
  manifest: Manifest,
  signal?: AbortSignal,
): Promise<'written' | 'exists'> {
  const key = `${location.keyPrefix}${MANIFEST_FILE}`;
  return awsCall({ operation: 'PutObject', resource: s3Uri(location.bucket, key) }, () =>
    s3
      .send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: key,
          Body: `${JSON.stringify(manifest, null, 2)}\n`,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
        { abortSignal: signal },
      )
      .then(
        () => 'written' as const,
        (error: unknown) => {
          if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) return 'exists' as const;
          throw error;
        },
      ),
  );
}
