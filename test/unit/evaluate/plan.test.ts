import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { planEvaluation } from '../../../activities/evaluate/plan';
import type { TrainingCompute, TrainingJobDescription } from '../../../activities/fine-tune/training-compute';
import { resolveConfig } from '../../../common/config';
import { EvaluateInputSchema } from '../../../common/evaluate/contract';
import { rejectionOf } from '../../helpers/rejection';

const s3 = mockClient(S3Client);
beforeEach(() => {
  s3.reset();
  s3.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
  s3.on(PutObjectCommand).resolves({});
});
const config = resolveConfig({ LLMTWIN_COMPUTE_BACKEND: 'sagemaker', LLMTWIN_S3_BUCKET: 'llmtwin-test', LLMTWIN_METRICS_PORT: '0' });
const HASH = 'a'.repeat(64);
const IMAGE =
  '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py311-cu128-ubuntu22.04';

function trainingJob(status = 'Completed'): TrainingCompute {
  const job = {
    TrainingJobName: 'llmtwin-train-x',
    TrainingJobStatus: status,
    ModelArtifacts: { S3ModelArtifacts: 's3://llmtwin-test/llmtwin/training/llmtwin-train-x/output/model.tar.gz' },
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    HyperParameters: { base_model_id: '"Qwen/Qwen2.5-1.5B-Instruct"', output_field: '"answer"', system_prompt: '"You are Wren."' },
    InputDataConfig: [
      {
        ChannelName: 'train',
        DataSource: { S3DataSource: { S3Uri: `s3://llmtwin-test/llmtwin/datasets/${HASH}/train.jsonl`, S3DataType: 'S3Prefix' } },
      },
      {
        ChannelName: 'test',
        DataSource: { S3DataSource: { S3Uri: `s3://llmtwin-test/llmtwin/datasets/${HASH}/test.jsonl`, S3DataType: 'S3Prefix' } },
      },
    ],
    OutputDataConfig: { S3OutputPath: 's3://llmtwin-test/llmtwin/training/' },
  } as unknown as TrainingJobDescription;
  return {
    backend: 'sagemaker',
    describe: (name) => Promise.resolve(name === 'llmtwin-train-x' ? job : undefined),
    create: () => Promise.reject(new Error('not used')),
    stop: () => Promise.resolve(),
    logLocation: () => '',
    consoleUrl: () => undefined,
    tags: () => Promise.resolve(new Map<string, string>()),
    tag: () => Promise.resolve(),
    untag: () => Promise.resolve(),
  };
}

const plan = (input: object, training = trainingJob()) =>
  planEvaluation({ s3, config, training, backend: 'sagemaker' }, EvaluateInputSchema.parse(input), 'run-1');

function stagedConfig(): Record<string, unknown> {
  const put = s3.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key?.endsWith('evaluation.json'));
  return JSON.parse(put?.args[0].input.Body as string) as Record<string, unknown>;
}

describe('planning an evaluation', () => {
  it('reads the model, test split, base model, fields and image from the training job, and stages the job config', async () => {
    const result = await plan({ twin: 'wren', trainingJobName: 'llmtwin-train-x' });
    expect(result).toMatchObject({
      twin: 'wren',
      modelUri: 's3://llmtwin-test/llmtwin/training/llmtwin-train-x/output/model.tar.gz',
      testUri: `s3://llmtwin-test/llmtwin/datasets/${HASH}/test.jsonl`,
      datasetHash: HASH,
      baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct',
      imageUri: IMAGE,
      instanceType: config.sagemaker.processingInstanceType,
      trainingMetricsUri: 's3://llmtwin-test/llmtwin/training/llmtwin-train-x/output/output.tar.gz',
      gate: { thresholds: {}, champion: { primaryMetric: 'perplexity', tolerance: 0.02 } },
      approvalTimeout: '72h',
    });
    expect(result.outputUri).toBe(`s3://llmtwin-test/llmtwin/evaluations/${result.jobName}/`);
    expect(result.jobName).toMatch(/^llmtwin-eval-aaaaaaaaaaaa-/);
    expect(stagedConfig()).toMatchObject({
      base_model_id: 'Qwen/Qwen2.5-1.5B-Instruct',
      output_field: 'answer',
      instruction_field: 'instruction',
      system_prompt: 'You are Wren.',
      max_samples: 200,
      decoding: { max_new_tokens: 256, temperature: 0.7, top_p: 0.9, seed: 42, batch_size: 8 },
    });
  });

  it('the same inputs give the same job name; another setting that changes the scores gives another', async () => {
    const first = (await plan({ trainingJobName: 'llmtwin-train-x' })).jobName;
    expect((await plan({ trainingJobName: 'llmtwin-train-x', gate: { thresholds: { perplexity: 3 } } })).jobName).toBe(first);
    expect((await plan({ trainingJobName: 'llmtwin-train-x', maxSamples: 50 })).jobName).not.toBe(first);
    expect((await plan({ trainingJobName: 'llmtwin-train-x', force: true })).jobName).not.toBe(first);
  });

  it("puts only a reference to the judge's key in the job config", async () => {
    const byEnv = await plan({
      trainingJobName: 'llmtwin-train-x',
      judge: { baseUrl: 'https://api.example.com/v1', model: 'm', apiKey: { workerEnv: 'JUDGE_KEY' } },
    });
    expect(byEnv.judgeKeyWorkerEnv).toBe('JUDGE_KEY');
    expect(stagedConfig().judge).toEqual({ base_url: 'https://api.example.com/v1', model: 'm', api_key_env: 'LLMTWIN_JUDGE_API_KEY' });
    s3.resetHistory();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:judge-key';
    await plan({
      trainingJobName: 'llmtwin-train-x',
      judge: { baseUrl: 'https://api.example.com/v1', model: 'm', apiKey: { secretArn: arn } },
    });
    expect(stagedConfig().judge).toEqual({ base_url: 'https://api.example.com/v1', model: 'm', api_key_secret_arn: arn });
  });

  it('refuses a training job that does not exist or has not completed, naming the field', async () => {
    const missing = await rejectionOf(plan({ trainingJobName: 'llmtwin-train-nope' }));
    expect(missing).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(missing.message).toMatch(/^trainingJobName: no training job llmtwin-train-nope on SageMaker/);
    const running = await rejectionOf(plan({ trainingJobName: 'llmtwin-train-x' }, trainingJob('InProgress')));
    expect(running.message).toContain('is InProgress, not Completed');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
