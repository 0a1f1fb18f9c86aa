import { createHash } from 'node:crypto';
import { DATASET_CODE_VERSION, DATASET_TOKENIZER, type PrepareDataSettings } from '../../common/prepare-data/contract';
import { canonicalJson } from '../../common/shared/canonical-json';
import type { SourceListing } from './source';

/**
 * The dataset hash names the dataset's S3 prefix (`datasets/<hash>/`), so it must change whenever the
 * output could, and stay put otherwise. It is sha256 over a canonical JSON of:
 *   - the code version (DATASET_CODE_VERSION) and the tokenizer,
 *   - the settings, less the source location (the same writing copied elsewhere is the same dataset),
 *   - the generator's identity in generator mode (model, endpoint, temperature, prompt version; never the key),
 *   - every listed file, sorted by relative path: [path, size, digest].
 * The digest is the file's MD5 for a local folder and the object's ETag for S3. For S3 this costs one
 * listing and no download; a single-part ETag is the MD5 of the content, so a folder and its upload
 * hash alike (a multipart ETag differs, which only costs a rebuild, never a wrong reuse). Files that
 * are skipped by type count by path and size only: they are reported, never read.
 */

export interface FileFingerprint {
  path: string;
  size: number;
  digest: string;
}

export type GeneratorIdentity = { model: string; baseUrl: string; temperature: number; promptVersion: string } | null;

export function settingsForManifest(settings: PrepareDataSettings): Record<string, unknown> {
  const { source: _source, ...rest } = settings;
  return rest;
}

export function computeDatasetHash(settings: PrepareDataSettings, files: readonly FileFingerprint[], generator: GeneratorIdentity): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const canonical = canonicalJson({
    codeVersion: DATASET_CODE_VERSION,
    tokenizer: DATASET_TOKENIZER,
    settings: settingsForManifest(settings),
    generator,
    files: sorted.map((file) => [file.path, file.size, file.digest]),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Fingerprints of the files skipped by type: path and size only. */
export function skippedFingerprints(listing: SourceListing): FileFingerprint[] {
  return listing.skipped.map((item) => ({ path: item.source, size: item.size, digest: '' }));
}
