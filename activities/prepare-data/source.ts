import { createWriteStream } from 'node:fs';
import { lstat, opendir, realpath, rm, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import {
  FORMAT_EXTENSIONS,
  SOURCE_FORMATS,
  type PrepareDataSettings,
  type SkippedItem,
  type SourceFormat,
} from '../../common/prepare-data/contract';
import { parseS3Uri, s3Uri } from '../../common/shared/naming';
import { awsCall, toAwsFailure } from '../aws/errors';
import { errnoCode, UNREADABLE_CODES } from './failures';
import { validationFailure } from '../../common/shared/validation';
import type { S3Sender } from '../aws/clients';

/**
 * Where the author's writing comes from: a local folder (walked recursively, sorted) or an S3 prefix
 * (ListObjectsV2, sorted by key). Either way the rest of the stage sees the same listing and reads
 * each file from a local path: S3 objects are streamed to a temporary file one at a time, so memory
 * stays flat whatever the object sizes, and every file can be checked before any of it is used.
 */

export interface SourceEntry {
  /** Path relative to the source root, with "/" separators: the name used in reports and records. */
  path: string;
  size: number;
  format: SourceFormat;
  /** S3 only: the ETag from the listing, the object's fingerprint. */
  etag?: string;
  /** S3 only: the object key. */
  key?: string;
}

export interface SourceListing {
  kind: 'local' | 's3';
  /** Absolute folder or s3:// URI, for the manifest. */
  location: string;
  entries: SourceEntry[];
  /** Files that will not be read, with the reason (unsupported type, hidden, symbolic link...). */
  skipped: Array<SkippedItem & { size: number }>;
}

export interface FetchedFile {
  localPath: string;
  /** S3 only: the ETag of the object actually read (compared with the listing's). */
  etag?: string;
  release(): Promise<void>;
}

export interface SourceAccess {
  list(signal?: AbortSignal): Promise<SourceListing>;
  fetch(entry: SourceEntry, scratchDir: string, signal?: AbortSignal): Promise<FetchedFile>;
}

/** Classifies a file name by extension: a format, or why it is skipped. */
export function formatOf(path: string, include: readonly SourceFormat[]): SourceFormat | { reason: string } {
  const extension = extname(path).toLowerCase();
  const format = SOURCE_FORMATS.find((candidate) => FORMAT_EXTENSIONS[candidate].includes(extension));
  if (!format) {
    const supported = SOURCE_FORMATS.flatMap((candidate) => FORMAT_EXTENSIONS[candidate]).join(' ');
    return { reason: `unsupported file type ${extension ? `"${extension}"` : '(no extension)'}; supported: ${supported}` };
  }
  if (!include.includes(format)) return { reason: `${format} files are not included (formats.include)` };
  return format;
}

/** Code-unit order, not locale order: the same on every machine. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Where a data worker may read from. A local source must lie under one of `localRoots` (default: the
 * worker's working directory), after every symbolic link is resolved, so `--source ../../etc` or a link
 * that leaves the root is refused before anything is read; an S3 source outside the configured bucket
 * must match a prefix of `s3Allowed`.
 */
export interface SourceConfinement {
  localRoots: readonly string[];
  /** The bucket the datasets go to: sources in it are always allowed. */
  bucket: string;
  s3Allowed: readonly string[];
}

/** Open: any path, any bucket (tools and tests that read a folder of their own). */
export const UNCONFINED: SourceConfinement = { localRoots: ['/'], bucket: '', s3Allowed: ['s3://'] };

export function localSource(path: string, settings: PrepareDataSettings, confinement: SourceConfinement = UNCONFINED): SourceAccess {
  const root = resolve(path);
  let rootIsFile: boolean | undefined;
  // The roots, resolved once per source (not once per file).
  let roots: Promise<ResolvedRoots> | undefined;
  return {
    async list(signal) {
      // Confinement first: a path outside the roots is refused without saying whether it exists.
      await requireInsideRoots(root, confinement);
      const rootStat = await stat(root).catch((error: unknown) => {
        if (errnoCode(error) === 'ENOENT')
          throw validationFailure(
            `source.path ${root} does not exist on the data worker (relative paths resolve against ${process.cwd()})`,
          );
        throw validationFailure(`source.path ${root} cannot be read: ${errnoCode(error) ?? 'unknown error'}`, { cause: error });
      });
      const listing: SourceListing = { kind: 'local', location: root, entries: [], skipped: [] };
      const add = (absolute: string, size: number, base: string) => {
        const name = relative(base, absolute).split(sep).join('/') || basename(absolute);
        const format = formatOf(name, settings.formats.include);
        if (typeof format === 'string') listing.entries.push({ path: name, size, format });
        else listing.skipped.push({ source: name, reason: format.reason, size });
      };
      rootIsFile = rootStat.isFile();
      if (rootStat.isFile()) {
        add(root, rootStat.size, resolve(root, '..'));
      } else if (rootStat.isDirectory()) {
        await walk(root, root, listing, add, signal);
      } else {
        throw validationFailure(`source.path ${root} is neither a folder nor a file`);
      }
      listing.entries.sort((a, b) => byName(a.path, b.path));
      listing.skipped.sort((a, b) => byName(a.source, b.source));
      return listing;
    },
    async fetch(entry) {
      // A source that is one file lists that file under its own name; fetched before a listing, ask the disk.
      rootIsFile ??= (await stat(root).catch(() => undefined))?.isFile() ?? false;
      const localPath = rootIsFile ? root : join(root, ...entry.path.split('/'));
      // Checked again as each file is read: a folder swapped for a link after the listing must not
      // lead out of the roots.
      // The file is then read by the path that was checked (links resolved), not the one listed.
      const real = await requireInsideRoots(localPath, confinement, 'a file of source.path', (roots ??= resolvedRoots(confinement)));
      return { localPath: real, release: () => Promise.resolve() };
    },
  };
}

async function walk(
  root: string,
  folder: string,
  listing: SourceListing,
  add: (absolute: string, size: number, base: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  let directory;
  try {
    // Names as bytes: one that is not valid UTF-8 is skipped with a reason, never a failure of the corpus.
    directory = await opendir(folder, { encoding: 'buffer' as BufferEncoding });
  } catch (error) {
    const code = errnoCode(error);
    if (code && UNREADABLE_CODES.has(code))
      throw validationFailure(`cannot read folder ${folder}: ${code}; fix its permissions or remove it from the source`, { cause: error });
    throw error;
  }
  // The files' sizes are asked for 64 at a time, not one after another: each answer is a round trip
  // to the file system's thread pool (the listing is sorted at the end anyway). Sub-folders are walked
  // one at a time, so open folders never exceed the depth of the tree.
  const files: string[] = [];
  const folders: string[] = [];
  for await (const item of directory) {
    const bytes = item.name as unknown as Buffer;
    const decoded = decodeName(bytes);
    if (decoded === undefined) {
      const shown = `${relative(root, folder).split(sep).join('/')}${folder === root ? '' : '/'}${escapedName(bytes)}`;
      listing.skipped.push({ source: shown, reason: 'file name is not valid UTF-8: rename it to read it', size: 0 });
      continue;
    }
    const absolute = join(folder, decoded);
    const name = relative(root, absolute).split(sep).join('/');
    if (decoded.startsWith('.')) {
      listing.skipped.push({ source: name, reason: item.isDirectory() ? 'hidden folder, not read' : 'hidden file, not read', size: 0 });
    } else if (item.isSymbolicLink()) {
      listing.skipped.push({ source: name, reason: 'symbolic link, not followed', size: 0 });
    } else if (item.isDirectory()) {
      folders.push(absolute);
    } else if (item.isFile()) {
      files.push(absolute);
    } else {
      listing.skipped.push({ source: name, reason: 'not a regular file', size: 0 });
    }
  }
  for (let start = 0; start < files.length; start += LSTAT_BATCH) {
    const batch = files.slice(start, start + LSTAT_BATCH);
    const sizes = await Promise.all(batch.map(async (file) => (await lstat(file)).size));
    batch.forEach((file, index) => add(file, sizes[index]!, root));
  }
  for (const subfolder of folders) await walk(root, subfolder, listing, add, signal);
}

const LSTAT_BATCH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeName(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A name with its undecodable bytes as \xNN, to show in the report. */
function escapedName(bytes: Buffer): string {
  return [...bytes]
    .map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`))
    .join('');
}

let downloads = 0;

export function s3Source(uri: string, settings: PrepareDataSettings, s3: S3Sender): SourceAccess {
  const { bucket, key: prefix } = parseS3Uri(uri);
  return {
    async list(signal) {
      const listing: SourceListing = { kind: 's3', location: s3Uri(bucket, prefix), entries: [], skipped: [] };
      try {
        for await (const page of paginateListObjectsV2(
          { client: s3 as S3Client },
          { Bucket: bucket, Prefix: prefix },
          { abortSignal: signal },
        )) {
          for (const object of page.Contents ?? []) {
            if (!object.Key || object.Key.endsWith('/')) continue; // folder markers hold no writing
            // S3 prefixes match characters, not folders: `writing` also lists `writing-private/`. Only
            // the object named by the URI itself, or what lies under it as a folder, is the source.
            if (!insidePrefix(object.Key, prefix)) continue;
            const name = object.Key.slice(prefix.length).replace(/^\/+/, '') || basename(object.Key);
            const format = formatOf(name, settings.formats.include);
            const size = object.Size ?? 0;
            if (typeof format === 'string')
              listing.entries.push({ path: name, size, format, etag: object.ETag?.replace(/"/g, '') ?? '', key: object.Key });
            else listing.skipped.push({ source: name, reason: format.reason, size });
          }
        }
      } catch (error) {
        throw toAwsFailure(error, { operation: 'ListObjectsV2', resource: s3Uri(bucket, prefix) });
      }
      listing.entries.sort((a, b) => byName(a.path, b.path));
      listing.skipped.sort((a, b) => byName(a.source, b.source));
      return listing;
    },
    async fetch(entry, scratchDir, signal) {
      const key = entry.key ?? `${prefix}${entry.path}`;
      // Several downloads may be under way at once (look-ahead.ts): each gets a name of its own.
      const localPath = join(scratchDir, `download-${process.pid}-${(downloads += 1)}${extname(entry.path)}`);
      const object = await awsCall({ operation: 'GetObject', resource: s3Uri(bucket, key) }, () =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      try {
        await pipeline(object.Body as Readable, createWriteStream(localPath), { signal });
      } catch (error) {
        await rm(localPath, { force: true });
        if (signal?.aborted) throw signal.reason;
        throw toAwsFailure(error, { operation: 'GetObject (body)', resource: s3Uri(bucket, key) });
      }
      return { localPath, etag: object.ETag?.replace(/"/g, ''), release: () => rm(localPath, { force: true }) };
    },
  };
}

function insidePrefix(key: string, prefix: string): boolean {
  return prefix === '' || prefix.endsWith('/') || key === prefix || key.startsWith(`${prefix}/`);
}

export function sourceFor(settings: PrepareDataSettings, s3: S3Sender, confinement: SourceConfinement = UNCONFINED): SourceAccess {
  if (settings.source.kind === 'local') return localSource(settings.source.path, settings, confinement);
  requireAllowedBucket(settings.source.uri, confinement);
  return s3Source(settings.source.uri, settings, s3);
}

interface ResolvedRoots {
  /** As configured, made absolute. */
  given: string[];
  /** The same after their links are resolved. */
  real: string[];
}

async function resolvedRoots(confinement: SourceConfinement): Promise<ResolvedRoots> {
  const given = (confinement.localRoots.length > 0 ? confinement.localRoots : [process.cwd()]).map((allowed) => resolve(allowed));
  return { given, real: await Promise.all(given.map((allowed) => realpath(allowed).catch(() => allowed))) };
}

async function requireInsideRoots(
  path: string,
  confinement: SourceConfinement,
  what = 'source.path',
  resolving: Promise<ResolvedRoots> = resolvedRoots(confinement),
): Promise<string> {
  const { given, real: roots } = await resolving;
  const isInside = (candidate: string, folders: readonly string[]) =>
    folders.some((folder) => candidate === folder || candidate.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`));
  // A path that does not exist (yet) is judged as written; one that does, after its links are resolved.
  const real = await realpath(path).catch(() => path);
  if (isInside(real, roots)) return real;
  // Where a link inside the roots leads is shown (the user can see that link); of a path outside the
  // roots nothing is said, not even whether it exists.
  const via = real !== path && (isInside(path, given) || isInside(path, roots)) ? ` (a link to ${real})` : '';
  throw validationFailure(
    `${what} ${path}${via} is outside the folders this data worker may read: ${roots.join(', ')}. ` +
      'Put the writing under one of them, or add its folder to sources.localRoots (LLMTWIN_SOURCE_ROOTS) on the data worker',
  );
}

function requireAllowedBucket(uri: string, confinement: SourceConfinement): void {
  const { bucket } = parseS3Uri(uri);
  if (bucket === confinement.bucket) return;
  const normalized = uri.endsWith('/') ? uri : `${uri}/`;
  if (confinement.s3Allowed.some((prefix) => normalized.startsWith(prefix.endsWith('/') || prefix === 's3://' ? prefix : `${prefix}/`)))
    return;
  throw validationFailure(
    `source.uri ${uri} is outside the bucket this deployment writes to (${confinement.bucket}): ` +
      'reading another bucket needs its prefix in sources.s3Allowed (LLMTWIN_SOURCE_S3_ALLOW) on the data worker',
  );
}
