import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { create as createTar, extract as extractTar } from 'tar';
import { parseS3Uri } from '../../common/shared/naming';

/**
 * Moving a local job's data the way SageMaker does: an S3Prefix channel copies every object under the
 * prefix into the channel folder (named by what follows the prefix's last "/"), and the model and output
 * folders leave as model.tar.gz and output.tar.gz, streamed (models are gigabytes), multipart when large.
 */

/** Every object under the prefix, into `dir`; returns the number of files. A tarball is unpacked instead. */
export async function downloadPrefix(
  s3: S3Client,
  uri: string,
  dir: string,
  options: { unpack: boolean; optional: boolean },
  signal: AbortSignal,
): Promise<number> {
  const { unpack } = options;
  const { bucket, key: prefix } = parseS3Uri(uri);
  const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  await mkdir(dir, { recursive: true });
  let files = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), {
      abortSignal: signal,
    });
    for (const object of page.Contents ?? []) {
      if (!object.Key || object.Key.endsWith('/')) continue;
      const body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }), { abortSignal: signal })).Body as Readable;
      if (unpack) {
        await pipeline(body, extractTar({ cwd: dir }), { signal });
      } else {
        const target = join(dir, object.Key.slice(base.length));
        await mkdir(dirname(target), { recursive: true });
        await pipeline(body, createWriteStream(target), { signal });
      }
      files += 1;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (files === 0 && !options.optional) throw new Error(`no object under ${uri}: the input is missing from S3`);
  return files;
}

/** The folder's files, relative, sorted ("" when it is empty or missing). */
async function filesIn(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Uploads a folder as one tarball (its files at the archive's root, as SageMaker packs /opt/ml/model) or
 * file by file under a prefix (checkpoints). Returns undefined when the folder is empty: nothing is uploaded.
 */
export async function uploadFolder(
  s3: S3Client,
  dir: string,
  uri: string,
  as: 'tar.gz' | 'files',
  kmsKeyId?: string,
): Promise<string | undefined> {
  const encryption = kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId } : {};
  const files = await filesIn(dir);
  if (files.length === 0) return undefined;
  const { bucket, key } = parseS3Uri(uri);
  if (as === 'tar.gz') {
    const body = Readable.from(createTar({ gzip: true, cwd: dir, portable: true }, files) as AsyncIterable<Buffer>);
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/gzip', ...encryption },
    }).done();
    return uri;
  }
  const prefix = key.endsWith('/') || key === '' ? key : `${key}/`;
  for (const file of files) {
    const size = (await stat(join(dir, file))).size;
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: `${prefix}${file}`, Body: size === 0 ? '' : createReadStream(join(dir, file)), ...encryption },
    }).done();
  }
  return uri;
}
