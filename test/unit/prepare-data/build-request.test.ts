import { ApplicationFailure } from '@temporalio/common';
import { BuildDatasetRequestSchema, datasetBuildWorkflowId } from '../../../common/prepare-data/contract';
import { parseOrFail } from '../../../common/shared/validation';

// datasetBuild is a workflow a person can start from the Web UI: its hash names an S3 prefix and a
// scratch folder that a failed build removes, so only a real dataset hash passes.
const HASH = 'ab'.repeat(32);
const source = { kind: 'local', path: '/corpus' } as const;

it('takes a planned request', () => {
  expect(parseOrFail(BuildDatasetRequestSchema, { input: { source }, datasetHash: HASH }, 'datasetBuild input').datasetHash).toBe(HASH);
});

it.each([
  ['a path in the hash', { input: { source }, datasetHash: '../../../../tmp/x' }, 'datasetHash: a dataset hash is 64 lowercase hex digits'],
  ['a short hash', { input: { source }, datasetHash: 'abc' }, 'datasetHash: a dataset hash is 64 lowercase hex digits'],
  ['an unknown key', { input: { source }, datasetHash: HASH, force: true }, 'force: unknown key'],
  ['an unknown key in the input', { input: { source, chunk: { maxToken: 4 } }, datasetHash: HASH }, 'input.chunk.maxToken: unknown key'],
])('refuses %s, naming the field, without retries', (_case, request, message) => {
  let failure: unknown;
  try {
    parseOrFail(BuildDatasetRequestSchema, request, 'datasetBuild input');
  } catch (error) {
    failure = error;
  }
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ nonRetryable: true });
  expect((failure as ApplicationFailure).message).toContain(message);
});

it('names one build per dataset and queue', () => {
  expect(datasetBuildWorkflowId('llmtwin', HASH)).toBe(`dataset-build-llmtwin-${HASH.slice(0, 32)}`);
  expect(datasetBuildWorkflowId('other', HASH)).not.toBe(datasetBuildWorkflowId('llmtwin', HASH));
});
