import {
  CreateEndpointConfigCommand,
  DescribeEndpointConfigCommand,
  SageMakerClient,
  type DescribeEndpointConfigCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureEndpointConfig } from '../../../activities/deploy/resources';
import type { DeploymentPlan } from '../../../common/deploy/plan';
import { rejectionOf } from '../../helpers/rejection';

// Moto accepts a second create of one name; SageMaker refuses it, also while the first is still in flight.
const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());
const client = new SageMakerClient({ region: 'us-east-1' });

const plan = {
  modelName: 'model-a',
  configName: 'cfg-a',
  instanceType: 'ml.g5.xlarge',
  tags: [{ Key: 'llmtwin:managed', Value: 'true' }],
} as unknown as DeploymentPlan;

const notFound = Object.assign(new Error('Could not find endpoint configuration "cfg-a".'), { name: 'ValidationException' });
const alreadyExists = Object.assign(new Error('Cannot create already existing endpoint configuration "cfg-a".'), {
  name: 'ValidationException',
  $metadata: { httpStatusCode: 400 },
});
const variant = { VariantName: 'AllTraffic', ModelName: 'model-a', InstanceType: 'ml.g5.xlarge' } as const;
const ours: Partial<DescribeEndpointConfigCommandOutput> = {
  EndpointConfigName: 'cfg-a',
  ProductionVariants: [variant],
};

describe('the endpoint config step', () => {
  it('adopts a config a concurrent run made between its describe and its create', async () => {
    sagemaker.on(DescribeEndpointConfigCommand).rejectsOnce(notFound).resolves(ours);
    sagemaker.on(CreateEndpointConfigCommand).rejects(alreadyExists);

    await expect(ensureEndpointConfig(client, plan)).resolves.toBe('exists');
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)).toHaveLength(1);
  });

  it('refused as existing but not yet visible: a retryable failure that looks again, not a validation error', async () => {
    sagemaker.on(DescribeEndpointConfigCommand).rejects(notFound);
    sagemaker.on(CreateEndpointConfigCommand).rejects(alreadyExists);

    const failure = await rejectionOf(ensureEndpointConfig(client, plan));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('endpoint config cfg-a appeared while this run created it');
  });

  it('refuses a config of its name that serves another model, saying what to do', async () => {
    sagemaker.on(DescribeEndpointConfigCommand).resolves({ ...ours, ProductionVariants: [{ ...variant, ModelName: 'other' }] });

    const failure = await rejectionOf(ensureEndpointConfig(client, plan));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('serves model other, not model-a');
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)).toHaveLength(0);
  });
});
