import { buildCreateProcessingJobRequest } from '../../../activities/evaluate/processing-request';
import { evaluationJobName } from '../../../common/evaluate/plan';
import { sampleEvaluationPlan } from '../../helpers/evaluation-plan';
import { trainingImageUri } from '../../../common/fine-tune/images';

const plan = sampleEvaluationPlan({
  modelUri: 's3://b/llmtwin/training/llmtwin-train-x/output/model.tar.gz',
  testUri: 's3://b/llmtwin/datasets/fff/test.jsonl',
  configUri: 's3://b/llmtwin/evaluations/config/abc/evaluation.json',
  codeUri: 's3://b/llmtwin/code/evaluate/def/sourcedir.tar.gz',
  outputUri: 's3://b/llmtwin/evaluations/llmtwin-eval-x/',
  imageUri: trainingImageUri('eu-west-1'),
  volumeSizeGb: 50,
  maxRuntimeSeconds: 7200,
  roleArn: 'arn:aws:iam::111122223333:role/sm',
  datasetHash: 'f'.repeat(64),
  runId: 'wf-1',
  tags: { team: 'ml' },
  kms: { volumeKeyId: 'alias/vol', outputKeyId: 'alias/out' },
});

describe('the evaluation processing job', () => {
  it('sends exactly the CreateProcessingJob SageMaker needs: image, entrypoint, inputs, outputs, role, KMS, stopping condition, tags', () => {
    const name = evaluationJobName(plan);
    const request = buildCreateProcessingJobRequest(plan, name);
    const localPath = (inputName: string) => request.ProcessingInputs?.find((input) => input.InputName === inputName)?.S3Input;
    expect(request).toMatchObject({
      ProcessingJobName: name,
      RoleArn: plan.roleArn,
      AppSpecification: {
        ImageUri:
          '763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312-cu129-ubuntu22.04',
      },
      ProcessingResources: {
        ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.g5.xlarge', VolumeSizeInGB: 50, VolumeKmsKeyId: 'alias/vol' },
      },
      ProcessingOutputConfig: {
        KmsKeyId: 'alias/out',
        Outputs: [
          {
            OutputName: 'evaluation',
            S3Output: { S3Uri: plan.outputUri, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' },
          },
        ],
      },
      StoppingCondition: { MaxRuntimeInSeconds: 7200 },
    });
    expect(request.AppSpecification?.ContainerEntrypoint?.at(-1)).toMatch(
      /cd \/opt\/ml\/processing\/input\/code && tar -xzf sourcedir\.tar\.gz && pip install .* -r evaluate\/requirements\.txt && exec python evaluate\/evaluate\.py$/,
    );
    expect(localPath('model')).toMatchObject({
      S3Uri: plan.modelUri,
      LocalPath: '/opt/ml/processing/input/model',
      S3DataType: 'S3Prefix',
      S3InputMode: 'File',
    });
    expect(localPath('data')).toMatchObject({ S3Uri: plan.testUri, LocalPath: '/opt/ml/processing/input/data' });
    expect(localPath('config')?.LocalPath).toBe('/opt/ml/processing/input/config');
    expect(localPath('code')?.LocalPath).toBe('/opt/ml/processing/input/code');
    expect(localPath('training')).toBeUndefined();
    expect(request.Tags).toEqual([
      { Key: 'llmtwin:managed', Value: 'true' },
      { Key: 'llmtwin:run-id', Value: 'wf-1' },
      { Key: 'llmtwin:dataset-hash', Value: plan.datasetHash },
      { Key: 'llmtwin:stage', Value: 'evaluate' },
      { Key: 'team', Value: 'ml' },
    ]);
  });

  it('names the job after what it evaluates: the same inputs give the same name, another model another', () => {
    const name = evaluationJobName(plan);
    expect(name).toMatch(/^llmtwin-eval-ffffffffffff-[a-z0-9-]+$/);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(evaluationJobName({ ...plan, runId: 'wf-2', tags: {} })).toBe(name);
    expect(evaluationJobName({ ...plan, modelUri: 's3://b/other/model.tar.gz' })).not.toBe(name);
    expect(evaluationJobName({ ...plan, configSha256: 'other' })).not.toBe(name);
  });
});
