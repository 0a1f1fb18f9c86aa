/**
 * The one naming function. Every SageMaker and S3 name of ours comes from here, deterministic in its
 * inputs, so a retried activity finds the resource its earlier attempt made instead of making another.
 * Pure and workflow-safe: no Node built-ins (the hash is FNV-1a, enough to tell names apart; content
 * addressing of data uses sha256 in activities).
 */

/** SageMaker's rule for job, model, endpoint and config names. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
export const SAGEMAKER_NAME_MAX = 63;
/** An S3 URI with a valid bucket name and an optional key or prefix. */
export const S3_URI_PATTERN = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;
/** A SageMaker instance type such as ml.g5.2xlarge or ml.p6-b200.48xlarge (its shape; common/shared/instance-types.ts knows the names). */
export const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9]+(-[a-z0-9]+)?\.[a-z0-9]+$/;

export type ResourceStage = 'train' | 'eval' | 'twin' | 'model' | 'epconfig' | 'endpoint' | 'serve' | 'check';

export interface ResourceNameParts {
  /** Project-wide prefix from config (`resourceNamePrefix`), e.g. `llmtwin`. */
  prefix: string;
  stage: ResourceStage;
  /**
   * What makes this resource unique: usually the workflow id, plus a content hash for cacheable work.
   * Anything goes; it is slugged for readability and hashed for uniqueness.
   */
  key: string;
}

const HASH_LENGTH = 10;

export function resourceName({ prefix, stage, key }: ResourceNameParts): string {
  const hash = stableHash(`${prefix}|${stage}|${key}`).slice(0, HASH_LENGTH);
  const head = `${slug(prefix)}-${stage}`;
  const room = SAGEMAKER_NAME_MAX - head.length - hash.length - 2;
  const readable = slug(key).slice(0, Math.max(0, room)).replace(/-+$/, '');
  const name = readable ? `${head}-${readable}-${hash}` : `${head}-${hash}`;
  if (!isValidSageMakerName(name)) throw new Error(`resourceName produced an invalid name: ${name}`);
  return name;
}

export function isValidSageMakerName(name: string): boolean {
  return name.length >= 1 && name.length <= SAGEMAKER_NAME_MAX && SAGEMAKER_NAME_PATTERN.test(name);
}

/** Lower-case letters, digits and single hyphens; everything else collapses to one hyphen. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** 64-bit FNV-1a, base36, fixed width: deterministic across runs, processes and the workflow sandbox. */
export function stableHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  // UTF-16 code units rather than UTF-8 bytes: just as deterministic, and needs no TextEncoder.
  for (let index = 0; index < text.length; index += 1) {
    hash ^= BigInt(text.charCodeAt(index));
    hash = (hash * prime) & mask;
  }
  return hash.toString(36).padStart(13, '0');
}

/** Joins S3 key segments under the configured prefix without doubled or leading slashes. */
export function s3Key(prefix: string, ...segments: string[]): string {
  const parts = [prefix, ...segments].flatMap((part) => part.split('/')).filter((part) => part.length > 0);
  return parts.join('/');
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Splits `s3://bucket/key/prefix` into its parts; throws on anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${JSON.stringify(uri)} (expected s3://bucket/key)`);
  return { bucket: match[1] as string, key: match[2] as string };
}

/** Tags every AWS resource of ours carries, so monitors and cleanup find ours and never touch others. */
export const MANAGED_TAG = { key: 'llmtwin:managed', value: 'true' } as const;
export const KEEP_TAG = { key: 'llmtwin:keep', value: 'true' } as const;
export const RUN_ID_TAG_KEY = 'llmtwin:run-id';
export const DATASET_HASH_TAG_KEY = 'llmtwin:dataset-hash';
/** The twin a resource belongs to (its registry group, its endpoint). */
export const TWIN_TAG_KEY = 'llmtwin:twin';

export function resourceTags(context: { runId: string; datasetHash?: string }): Array<{ Key: string; Value: string }> {
  const tags = [
    { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
    { Key: RUN_ID_TAG_KEY, Value: context.runId },
  ];
  if (context.datasetHash) tags.push({ Key: DATASET_HASH_TAG_KEY, Value: context.datasetHash });
  return tags;
}
