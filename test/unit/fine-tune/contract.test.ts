import { resolveConfig } from '../../../common/config';
import { isValidSageMakerName } from '../../../common/shared/naming';
import { FineTuneInputSchema, trainingJobName } from '../../../common/fine-tune/contract';
import { trainingImageUri, UnknownTrainingImageError } from '../../../common/fine-tune/images';
import { describeIssues } from '../../../common/shared/validation';
import fineTuneExample from '../../../examples/fine-tune.json';
import { samplePlan } from '../../helpers/fake-training-jobs';

describe('trainingImageUri', () => {
  it('resolves the Hugging Face PyTorch training image per region and version', () => {
    expect(trainingImageUri('us-east-1')).toBe(
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312-cu129-ubuntu22.04',
    );
    expect(trainingImageUri('eu-south-1', { transformers: '5.3.0', pytorch: '2.9.0' })).toBe(
      '692866216735.dkr.ecr.eu-south-1.amazonaws.com/huggingface-pytorch-training:2.9.0-transformers5.3.0-gpu-py312-cu130-ubuntu22.04',
    );
    expect(trainingImageUri('cn-north-1')).toMatch(/^727897471807\.dkr\.ecr\.cn-north-1\.amazonaws\.com\.cn\//);
  });

  it('names the known choices for an unknown version or region', () => {
    expect(() => trainingImageUri('us-east-1', { transformers: '4.99.0', pytorch: '2.8.0' })).toThrow(UnknownTrainingImageError);
    expect(() => trainingImageUri('us-east-1', { transformers: '4.99.0', pytorch: '2.8.0' })).toThrow(
      /known: transformers 4\.56\.2 \+ pytorch 2\.8\.0/,
    );
    expect(() => trainingImageUri('xx-nowhere-1')).toThrow(/no Hugging Face training image registry known for region xx-nowhere-1/);
  });
});

describe('trainingJobName', () => {
  it('is deterministic, valid for SageMaker, and keyed by every input that changes the model', () => {
    const plan = samplePlan();
    const name = trainingJobName(plan, 'ml.g5.2xlarge', 'run-a');
    expect(isValidSageMakerName(name)).toBe(true);
    expect(name).toMatch(/^llmtwin-train-ffffffffffff-g5-2xlarge-/);
    expect(trainingJobName(samplePlan(), 'ml.g5.2xlarge', 'run-b')).toBe(name); // run id only matters with force
    // Key order never matters, values do.
    expect(trainingJobName(samplePlan({ hyperparameters: { ...plan.hyperparameters, epochs: 4 } }), 'ml.g5.2xlarge')).not.toBe(name);
    expect(trainingJobName(samplePlan({ baseModelId: 'meta-llama/Llama-3.2-1B-Instruct' }), 'ml.g5.2xlarge')).not.toBe(name);
    expect(trainingJobName(samplePlan({ codeSha256: 'def' }), 'ml.g5.2xlarge')).not.toBe(name);
    expect(trainingJobName(samplePlan({ datasetHash: 'e'.repeat(64) }), 'ml.g5.2xlarge')).not.toBe(name);
    // Each fallback instance type is its own job, so it needs its own name.
    expect(trainingJobName(plan, 'ml.g5.4xlarge')).not.toBe(name);
  });

  it('adds the workflow run id with force, because training job names are never reusable', () => {
    const forced = samplePlan({ force: true });
    expect(trainingJobName(forced, 'ml.g5.2xlarge', 'run-a')).not.toBe(trainingJobName(forced, 'ml.g5.2xlarge', 'run-b'));
    expect(trainingJobName(forced, 'ml.g5.2xlarge', 'run-a')).toBe(trainingJobName(forced, 'ml.g5.2xlarge', 'run-a'));
    expect(trainingJobName(forced, 'ml.g5.2xlarge', 'run-a')).not.toBe(trainingJobName(samplePlan(), 'ml.g5.2xlarge', 'run-a'));
  });
});

describe('FineTuneInputSchema', () => {
  it('fills in defaults a person can override', () => {
    const settings = FineTuneInputSchema.parse({ datasetUri: 's3://bucket/llmtwin/datasets/abc/' });
    expect(settings).toMatchObject({
      instanceCount: 1,
      force: false,
      hyperparameters: {
        lora: { r: 16, alpha: 32, dropout: 0.05, targetModules: 'all-linear' },
        epochs: 3,
        load4bit: true,
        export: 'merged',
      },
    });
    expect(settings.hyperparameters.datasetFields).toEqual({ instruction: 'instruction', output: 'output', input: 'input' });
  });

  it('accepts the Web UI example (examples/fine-tune.json)', () => {
    expect(FineTuneInputSchema.safeParse(fineTuneExample).success).toBe(true);
  });

  it.each([
    [{ datasetUri: 's3://bucket/x', image: { transformersVersion: '4.56.2' } }, 'image'],
    [{ datasetUri: 's3://bucket/x', huggingFaceToken: { token: 'hf_secret' } }, 'huggingFaceToken'],
    [
      { datasetUri: 's3://bucket/x', vpc: { securityGroupIds: ['default'], subnets: ['subnet-1a'] } },
      'vpc.securityGroupIds.0: must be a security group id',
    ],
    [{ datasetUri: 's3://bucket/x', spot: { maxWait: 'forever' } }, 'spot.maxWait: must be a positive duration'],
    [{ datasetUri: 's3://bucket/x', tags: { 'aws:owner': 'me' } }, 'tags.aws:owner: the aws: and llmtwin: prefixes are reserved'],
  ])('rejects %j naming %s', (value, field) => {
    const result = FineTuneInputSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!).join('\n')).toContain(field);
  });
});

describe('config.training', () => {
  it('reads its environment variables', () => {
    const config = resolveConfig({
      LLMTWIN_TRAINING_SPOT: 'true',
      LLMTWIN_TRAINING_MAX_RUNTIME: '3h',
      LLMTWIN_TRAINING_BASE_MODEL: 'meta-llama/Llama-3.2-3B-Instruct',
    });
    expect(config.training).toMatchObject({
      spot: true,
      maxRuntime: '3h',
      baseModelId: 'meta-llama/Llama-3.2-3B-Instruct',
      hfTokenEnvVar: 'HF_TOKEN',
      volumeSizeGb: 100,
    });
    expect(() => resolveConfig({ LLMTWIN_HF_TOKEN_SECRET_ARN: 'my-secret' })).toThrow(
      /training\.hfTokenSecretArn \(env LLMTWIN_HF_TOKEN_SECRET_ARN\): must be a Secrets Manager secret ARN/,
    );
  });
});
