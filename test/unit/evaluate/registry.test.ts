import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { registerModelVersion, type RegistrationInput } from '../../../activities/evaluate/registration';
import { findChampion, setVersionStatus } from '../../../activities/evaluate/registry';

// The registry calls as AWS answers them, including what moto does not do: ClientToken idempotency,
// PendingManualApproval as the default status, an UpdateModelPackage that keeps metadata it is not sent.
const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());

const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/llmtwin-twin-wren/3';
const input: RegistrationInput = {
  groupName: 'llmtwin-twin-wren-abc',
  twin: 'wren',
  evaluationJobName: 'llmtwin-eval-ddd-x',
  trainingJobName: 'llmtwin-train-x',
  modelUri: 's3://b/t/model.tar.gz',
  imageUri:
    '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py311-cu128-ubuntu22.04',
  baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct',
  datasetHash: 'd'.repeat(64),
  evaluationUri: 's3://b/e/evaluation.json',
  reportUri: 's3://b/e/report.html',
  workflowId: 'evaluate-1',
  twinMetrics: { perplexity: 14.8, rouge_l: 0.05 },
  baseMetrics: { perplexity: 266.9, rouge_l: null },
  status: 'Approved',
  gate: 'approved',
};

describe('the model registry', () => {
  it('creates the group when missing (tagged ours) and one version with ModelMetrics, metadata and a stable ClientToken', async () => {
    sagemaker
      .on(DescribeModelPackageGroupCommand)
      .rejects(Object.assign(new Error('ModelPackageGroup arn:... does not exist.'), { name: 'ValidationException' }));
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: ARN });
    sagemaker.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: ARN, ModelPackageVersion: 3, ModelApprovalStatus: 'Approved' });

    const { version, created } = await registerModelVersion(sagemaker, input);
    expect({ version, created }).toEqual({
      version: { groupName: input.groupName, arn: ARN, version: 3, status: 'Approved' },
      created: true,
    });
    expect(sagemaker.commandCalls(CreateModelPackageGroupCommand)[0]!.args[0].input.Tags).toContainEqual({
      Key: 'llmtwin:managed',
      Value: 'true',
    });
    const request = sagemaker.commandCalls(CreateModelPackageCommand)[0]!.args[0].input;
    expect(request).toMatchObject({
      ModelPackageGroupName: input.groupName,
      ModelPackageDescription: expect.stringMatching(/^llmtwin-eval-ddd-x: /) as string,
      ModelApprovalStatus: 'Approved',
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: input.evaluationUri } } },
      InferenceSpecification: { Containers: [{ Image: input.imageUri, ModelDataUrl: input.modelUri }] },
    });
    expect(request.ClientToken).toHaveLength(36);
    expect(request.CustomerMetadataProperties).toMatchObject({
      'twin.perplexity': '14.8',
      'base.perplexity': '266.9',
      'twin.rouge_l': '0.05',
      'llmtwin:evaluation-job': 'llmtwin-eval-ddd-x',
      'llmtwin:workflow-id': 'evaluate-1',
    });
    // A metric that was not measured is left out, never written as "null".
    expect(request.CustomerMetadataProperties).not.toHaveProperty('base.rouge_l');
  });

  it('a retry finds its version by the evaluation job in the description and creates nothing', async () => {
    sagemaker.on(DescribeModelPackageGroupCommand).resolves({ ModelPackageGroupName: input.groupName });
    sagemaker.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [
        {
          ModelPackageArn: `${ARN}x`,
          ModelPackageVersion: 4,
          ModelPackageDescription: 'llmtwin-eval-other: ...',
          ModelApprovalStatus: 'Approved',
        } as never,
        {
          ModelPackageArn: ARN,
          ModelPackageVersion: 3,
          ModelPackageDescription: 'llmtwin-eval-ddd-x: ...',
          ModelApprovalStatus: 'Approved',
        } as never,
      ],
    });
    const { version, created } = await registerModelVersion(sagemaker, input);
    expect(created).toBe(false);
    expect(version).toMatchObject({ arn: ARN, version: 3 });
    expect(sagemaker.commandCalls(CreateModelPackageCommand)).toHaveLength(0);
  });

  it('a status change sends the metadata whole with the decision, and does nothing when the status is already right', async () => {
    sagemaker.on(DescribeModelPackageCommand).resolves({
      ModelPackageArn: ARN,
      ModelPackageGroupName: input.groupName,
      ModelPackageVersion: 3,
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: { 'twin.perplexity': '14.8' },
    });
    await setVersionStatus(sagemaker, ARN, 'Approved', 'approve by ada (person): fine', {
      'llmtwin:gate': 'approved by ada',
    });
    expect(sagemaker.commandCalls(UpdateModelPackageCommand)[0]!.args[0].input).toEqual({
      ModelPackageArn: ARN,
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'approve by ada (person): fine',
      CustomerMetadataProperties: { 'twin.perplexity': '14.8', 'llmtwin:gate': 'approved by ada' },
    });
    sagemaker.reset();
    sagemaker.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: ARN, ModelApprovalStatus: 'Approved' });
    await setVersionStatus(sagemaker, ARN, 'Approved', 'again', {});
    expect(sagemaker.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
  });

  it('the champion is the Approved version the target endpoint serves (its tag), with the metrics from its metadata', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: 'wren', EndpointArn: 'arn:aws:sagemaker:us-east-1:1:endpoint/wren' });
    sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'llmtwin:model-package', Value: ARN }] });
    sagemaker.on(DescribeModelPackageCommand).resolves({
      ModelPackageArn: ARN,
      ModelPackageGroupName: input.groupName,
      ModelPackageVersion: 3,
      ModelApprovalStatus: 'Approved',
      ModelPackageDescription: 'llmtwin-eval-older: ...',
      CustomerMetadataProperties: { 'twin.perplexity': '12.5', 'twin.rouge_l': '0.06', 'base.perplexity': '200' },
    });
    const champion = await findChampion(sagemaker, input.groupName, 'wren', 'llmtwin-eval-ddd-x');
    expect(champion).toEqual({
      groupName: input.groupName,
      arn: ARN,
      version: 3,
      status: 'Approved',
      metrics: { perplexity: 12.5, rouge_l: 0.06 },
      source: 'endpoint',
    });
  });

  it('no champion when the endpoint does not exist, or serves a version that is not Approved', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .rejects(Object.assign(new Error('Could not find endpoint "wren".'), { name: 'ValidationException' }));
    await expect(findChampion(sagemaker as unknown as SageMakerClient, input.groupName, 'wren')).resolves.toBeNull();
    sagemaker.reset();
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointArn: 'arn:e' });
    sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'llmtwin:model-package', Value: ARN }] });
    sagemaker.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: ARN, ModelApprovalStatus: 'Rejected' });
    await expect(findChampion(sagemaker as unknown as SageMakerClient, input.groupName, 'wren')).resolves.toBeNull();
  });

  it("without a target endpoint, the newest Approved version other than this evaluation's own", async () => {
    sagemaker.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [
        { ModelPackageArn: `${ARN}-self`, ModelPackageDescription: 'llmtwin-eval-ddd-x: ...', ModelApprovalStatus: 'Approved' } as never,
        { ModelPackageArn: ARN, ModelPackageDescription: 'llmtwin-eval-older: ...', ModelApprovalStatus: 'Approved' } as never,
      ],
    });
    sagemaker.on(DescribeModelPackageCommand, { ModelPackageName: ARN }).resolves({
      ModelPackageArn: ARN,
      ModelPackageVersion: 2,
      ModelApprovalStatus: 'Approved',
      CustomerMetadataProperties: { 'twin.perplexity': '20' },
    });
    const champion = await findChampion(sagemaker, input.groupName, undefined, 'llmtwin-eval-ddd-x');
    expect(champion).toMatchObject({ arn: ARN, version: 2, source: 'newest-approved', metrics: { perplexity: 20 } });
    expect(sagemaker.commandCalls(ListModelPackagesCommand)[0]!.args[0].input).toMatchObject({
      ModelApprovalStatus: 'Approved',
      SortOrder: 'Descending',
    });
  });
});
