import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { create as createTar } from 'tar';
import { s3Key, s3Uri } from '../../common/shared/naming';
import { awsCall } from '../aws/errors';
import { headObjectIfExists } from '../aws/s3';
import type { S3Sender } from '../aws/clients';
import { PROJECT_ROOT } from '../../platform/paths';

/**
 * The training entry point (jobs/train) packed as SageMaker script mode expects it (sourcedir.tar.gz
 * with train.py at the root) and stored content-addressed: the same code is uploaded once, and its
 * hash joins the job name, so changed training code never reuses a job trained by older code.
 */

export const TRAINING_CODE_DIR = join(PROJECT_ROOT, 'jobs', 'train');

/** Not shipped: tests and caches. */
const EXCLUDED = /(^|\/)(tests|__pycache__|\.pytest_cache)(\/|$)|\.pyc$/;

export interface PackedCode {
  /** sha256 over the sorted (path, content hash) list: stable across machines, tar versions and mtimes. */
  sha256: string;
  files: string[];
  tarGz: Buffer;
}

export async function packTrainingCode(dir: string = TRAINING_CODE_DIR): Promise<PackedCode> {
  return packCode(dir, [''], 'train.py');
}

/**
 * The files under `root` in the given folders (relative; '' for all), tests and caches left out, packed
 * with their paths relative to `root`. The hash covers paths and contents only, so it is the same on
 * every machine; `entryPoint` must be among the files.
 */
export async function packCode(root: string, folders: readonly string[], entryPoint: string): Promise<PackedCode> {
  const listed = await Promise.all(
    folders.map(async (folder) => (await listFiles(join(root, folder))).map((path) => (folder ? `${folder}/${path}` : path))),
  );
  const files = listed
    .flat()
    .filter((path) => !EXCLUDED.test(path))
    .sort();
  if (!files.includes(entryPoint)) throw new Error(`${root} has no ${entryPoint}: the job's entry point is missing from this installation`);
  const digest = createHash('sha256');
  for (const path of files) {
    const content = await readFile(join(root, path));
    digest.update(`${path}\0${createHash('sha256').update(content).digest('hex')}\n`);
  }
  // portable: no owner/uid; a fixed mtime keeps the archive itself reproducible too.
  const chunks: Buffer[] = [];
  for await (const chunk of createTar({ gzip: true, cwd: root, portable: true, mtime: new Date(0) }, files) as AsyncIterable<Buffer>)
    chunks.push(chunk);
  return { sha256: digest.digest('hex'), files, tarGz: Buffer.concat(chunks) };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Uploads the packed training code unless an object with the same content hash is already there. */
export async function stageTrainingCode(
  s3: S3Sender,
  bucket: string,
  prefix: string,
  dir: string = TRAINING_CODE_DIR,
): Promise<{ uri: string; sha256: string }> {
  return stagePackedCode(s3, bucket, prefix, 'train', await packTrainingCode(dir));
}

/** Content-addressed: `<prefix>code/<stage>/<sha256>/sourcedir.tar.gz`, uploaded once. */
export async function stagePackedCode(
  s3: S3Sender,
  bucket: string,
  prefix: string,
  stage: string,
  packed: PackedCode,
): Promise<{ uri: string; sha256: string }> {
  const key = s3Key(prefix, 'code', stage, packed.sha256, 'sourcedir.tar.gz');
  const uri = s3Uri(bucket, key);
  if (!(await headObjectIfExists(s3, bucket, key))) {
    await awsCall({ operation: 'PutObject', resource: uri }, () =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: packed.tarGz,
          ContentType: 'application/gzip',
          Metadata: { 'llmtwin-code-sha256': packed.sha256 },
        }),
      ),
    );
  }
  return { uri, sha256: packed.sha256 };
}
