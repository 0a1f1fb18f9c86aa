import type { EvaluationPlan } from '../../common/evaluate/plan';

/** An evaluation plan with every field set, for tests; `overrides` replace what a test is about. */
export function sampleEvaluationPlan(overrides: Partial<EvaluationPlan> = {}): EvaluationPlan {
  return {
    twin: 'wren',
    trainingJobName: 'llmtwin-train-x',
    baseModelId: 'llmtwin-toy',
    compute: 'sagemaker',
    modelUri: 's3://bkt/llmtwin/training/llmtwin-train-x/output/model.tar.gz',
    testUri: `s3://bkt/llmtwin/datasets/${'d'.repeat(64)}/test.jsonl`,
    configUri: 's3://bkt/llmtwin/evaluations/config/abc/',
    configSha256: 'abc',
    codeUri: 's3://bkt/llmtwin/code/evaluate/def/sourcedir.tar.gz',
    codeSha256: 'def',
    imageUri:
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py311-cu128-ubuntu22.04',
    instanceType: 'ml.g5.xlarge',
    volumeSizeGb: 100,
    maxRuntimeSeconds: 3600,
    roleArn: 'arn:aws:iam::123456789012:role/sm',
    datasetHash: 'd'.repeat(64),
    runId: 'run-1',
    resourceNamePrefix: 'llmtwin',
    force: false,
    tags: {},
    gate: { thresholds: {}, champion: { primaryMetric: 'perplexity', tolerance: 0.02 } },
    approvalTimeout: '72h',
    jobName: 'llmtwin-eval-dddddddddddd-x',
    outputUri: 's3://bkt/llmtwin/evaluations/llmtwin-eval-dddddddddddd-x/',
    ...overrides,
  };
}
