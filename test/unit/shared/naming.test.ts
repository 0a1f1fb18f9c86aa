import { isValidSageMakerName, parseS3Uri, resourceName, resourceTags, s3Key, stableHash } from '../../../common/shared/naming';

describe('resourceName', () => {
  it('is deterministic and valid for SageMaker', () => {
    const parts = { prefix: 'llmtwin', stage: 'train' as const, key: 'twinPipeline-alice/ds-3f9a' };
    expect(resourceName(parts)).toBe(resourceName(parts));
    expect(isValidSageMakerName(resourceName(parts))).toBe(true);
    expect(resourceName(parts)).toMatch(/^llmtwin-train-twinpipeline-alice-ds-3f9a-[0-9a-z]{10}$/);
  });

  it('differs when any part differs', () => {
    const names = new Set([
      resourceName({ prefix: 'llmtwin', stage: 'train', key: 'a' }),
      resourceName({ prefix: 'llmtwin', stage: 'eval', key: 'a' }),
      resourceName({ prefix: 'llmtwin', stage: 'train', key: 'b' }),
      resourceName({ prefix: 'other', stage: 'train', key: 'a' }),
    ]);
    expect(names.size).toBe(4);
  });

  it('stays within 63 characters for long keys and keeps keys that only differ at the end apart', () => {
    const long = 'x'.repeat(200);
    const first = resourceName({ prefix: 'llmtwin', stage: 'endpoint', key: `${long}-1` });
    const second = resourceName({ prefix: 'llmtwin', stage: 'endpoint', key: `${long}-2` });
    expect(first.length).toBeLessThanOrEqual(63);
    expect(first).not.toBe(second);
    expect(isValidSageMakerName(first)).toBe(true);
  });

  it('handles keys made only of symbols', () => {
    expect(resourceName({ prefix: 'llmtwin', stage: 'model', key: '///' })).toMatch(/^llmtwin-model-[0-9a-z]{10}$/);
  });
});

describe('helpers', () => {
  it('hashes stably', () => {
    expect(stableHash('hello')).toBe(stableHash('hello'));
    expect(stableHash('hello')).not.toBe(stableHash('hellp'));
    expect(stableHash('')).toHaveLength(13);
  });

  it('joins S3 keys without doubled slashes', () => {
    expect(s3Key('llmtwin/', '/datasets/', 'abc', 'train.jsonl')).toBe('llmtwin/datasets/abc/train.jsonl');
    expect(s3Key('', 'a')).toBe('a');
  });

  it('parses S3 URIs and rejects others', () => {
    expect(parseS3Uri('s3://bucket/a/b')).toEqual({ bucket: 'bucket', key: 'a/b' });
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(() => parseS3Uri('https://bucket/a')).toThrow(/not an S3 URI/);
  });

  it('tags resources as ours', () => {
    expect(resourceTags({ runId: 'r1', datasetHash: 'h' })).toEqual([
      { Key: 'llmtwin:managed', Value: 'true' },
      { Key: 'llmtwin:run-id', Value: 'r1' },
      { Key: 'llmtwin:dataset-hash', Value: 'h' },
    ]);
  });
});
