import { type WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { createDeployActivities } from '../../activities/deploy';
import { sageMakerServingCompute } from '../../activities/deploy/serving-compute';
import { deployStatusQuery, type DeployInput, type DeployResult } from '../../common/deploy/contract';
import { endpointNameFor } from '../../common/deploy/plan';
import { idleMonitorWorkflowId } from '../../common/idle/contract';
import { MANAGED_TAG } from '../../common/shared/naming';
import { deploy, rollbackEndpoint } from '../../workflows/deploy';
import { ScriptedEndpoints } from '../helpers/fake-endpoints';
import { SCRIPTED_AWS_CONFIG } from '../helpers/fake-training-jobs';
import { workflowFailureOf } from '../helpers/rejection';
import { recordHistoryIfAsked } from '../helpers/replay';
import { uniqueId, useTimeSkippingEnv, withWorker } from '../helpers/temporal';
import { until } from '../helpers/until';

// The REAL deploy activities (describe-before-create, the endpoint step, the wait, autoscaling, the smoke
// test, compensation) against SageMaker's scripted endpoint API: what moto lacks (time to InService,
// UpdateEndpoint, blue/green rollback, Failed). Polling is shortened to milliseconds; the logic is unchanged.
const config = SCRIPTED_AWS_CONFIG;
const MODEL_URI = 's3://llmtwin-test/llmtwin/training/llmtwin-train-x/output/model.tar.gz';
const input: DeployInput = { twin: 'wren', modelUri: MODEL_URI };
const ENDPOINT = endpointNameFor('llmtwin', 'wren');

describe('deploy workflow (time-skipping, scripted SageMaker endpoints)', () => {
  const server = useTimeSkippingEnv();

  function harness(aws = new ScriptedEndpoints()) {
    const activities = createDeployActivities({
      sagemaker: aws.sagemaker,
      autoscaling: aws.autoscaling,
      runtime: aws.runtime,
      config,
      serving: sageMakerServingCompute(aws.sagemaker),
    });
    const taskQueue = uniqueId('tq');
    const workerOptions = { connection: server.env.nativeConnection, taskQueue, maxHeartbeatThrottleInterval: '50ms' as const, activities };
    const start = (args: DeployInput) =>
      server.env.client.workflow.start(deploy, { taskQueue, workflowId: uniqueId('deploy'), args: [args] });
    return {
      aws,
      run: (args: DeployInput = input, record?: string) =>
        withWorker(workerOptions, async () => {
          const handle = await start(args);
          try {
            return await handle.result();
          } finally {
            if (record) await recordHistoryIfAsked(handle, record);
          }
        }),
      during: <T>(body: (handle: WorkflowHandle<typeof deploy>) => Promise<T>, args: DeployInput = input) =>
        withWorker(workerOptions, async () => body(await start(args))),
      rollback: (endpointName: string) =>
        withWorker(workerOptions, async () => {
          const handle = await server.env.client.workflow.start(rollbackEndpoint, {
            taskQueue,
            workflowId: uniqueId('rollback'),
            args: [{ endpointName }],
          });
          const result = await handle.result();
          await recordHistoryIfAsked(handle, 'rollbackEndpoint-rolled-back');
          return result;
        }),
    };
  }

  /** An endpoint the previous deployment left serving: ours, InService on its config. */
  function seeded(aws = new ScriptedEndpoints()) {
    aws.seedEndpoint(ENDPOINT, 'llmtwin-epconfig-old', 'llmtwin-model-old', [
      { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
      { Key: 'llmtwin:run-id', Value: 'deploy-earlier' },
    ]);
    return aws;
  }

  it('creates model, config and endpoint once, waits for InService, autoscales, smoke-tests and starts the idle monitor', async () => {
    const h = harness();
    const result: DeployResult = await h.run(input, 'deploy-created');

    const { aws } = h;
    expect([aws.models.size, aws.configs.size, aws.endpoints.size]).toEqual([1, 1, 1]);
    expect(['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint'].map((command) => aws.count(command))).toEqual([1, 1, 1]);
    expect(aws.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: result.configName });
    expect(result).toMatchObject({
      endpointName: ENDPOINT,
      action: 'created',
      previousConfigName: null,
      compute: 'sagemaker',
      invokeUrl: `https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/${ENDPOINT}/invocations`,
      image: expect.stringContaining('/huggingface-vllm:') as unknown,
      smokeTest: { answer: 'I write about harbours.' },
      monitor: { workflowId: idleMonitorWorkflowId(ENDPOINT), started: true },
      autoscaling: { minInstances: 1, maxInstances: 2 },
    });
    // The vLLM container's settings and the CUDA 13 AMI, from configuration.
    const model = aws.models.get(result.modelName);
    expect(model?.PrimaryContainer).toMatchObject({ ModelDataUrl: MODEL_URI, Environment: { SM_VLLM_MAX_MODEL_LEN: '4096' } });
    expect(aws.configs.get(result.configName)?.ProductionVariants?.[0]).toMatchObject({
      InferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-3-1',
      InstanceType: 'ml.g5.xlarge',
    });
    expect(aws.tagsOf('endpoint', ENDPOINT)).toMatchObject({ 'llmtwin:managed': 'true', 'llmtwin:twin': 'wren' });
    expect([...aws.targets.values()]).toEqual([
      expect.objectContaining({ ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`, MinCapacity: 1, MaxCapacity: 2 }),
    ]);
    expect(aws.policies.size).toBe(1);
    const monitor = await server.env.client.workflow.getHandle(idleMonitorWorkflowId(ENDPOINT)).describe();
    expect(monitor.status.name).toBe('RUNNING');
    await server.env.client.workflow.getHandle(idleMonitorWorkflowId(ENDPOINT)).terminate('test over');
  });

  it('a deployment of an endpoint already watched sends the idle policy it asks for to the running monitor', async () => {
    const h = harness();
    await h.run(input);
    const again = await h.run({ ...input, monitor: { window: '2h' } });
    const monitor = server.env.client.workflow.getHandle(idleMonitorWorkflowId(ENDPOINT));
    const signals = (await monitor.fetchHistory()).events?.filter((event) => event.workflowExecutionSignaledEventAttributes) ?? [];
    await monitor.terminate('test over');

    expect(again).toMatchObject({ action: 'unchanged', monitor: { started: false } });
    expect(signals.map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)).toEqual(['setPolicy']);
  });

  it('a retry after a failure between the model and the endpoint adopts the model: one of each, nothing orphaned', async () => {
    const h = harness();
    // The model is made; then the config call hits a 5xx once (the worker's view: the activity failed).
    h.aws.failNext.set('CreateEndpointConfig', [
      Object.assign(new Error('We encountered an internal error.'), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      }),
    ]);
    h.aws.failNext.set('CreateEndpoint', [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })]);
    const result = await h.run({ ...input, monitor: { enabled: false } });

    expect(result.action).toBe('created');
    expect([h.aws.models.size, h.aws.configs.size, h.aws.endpoints.size]).toEqual([1, 1, 1]);
    expect(h.aws.count('CreateModel')).toBe(1);
    expect(h.aws.count('CreateEndpointConfig')).toBe(2);
    expect(h.aws.count('CreateEndpoint')).toBe(2);
  });

  it('updates a serving endpoint blue/green, keeps the old config, records it for rollback and applies autoscaling again', async () => {
    const aws = seeded();
    const h = harness(aws);
    const result = await h.run(
      { ...input, trafficRouting: { type: 'CANARY', percent: 10, waitInterval: '10m' }, monitor: { enabled: false } },
      'deploy-updated',
    );

    expect(result).toMatchObject({ action: 'updated', previousConfigName: 'llmtwin-epconfig-old' });
    expect(aws.endpoints.get(ENDPOINT)?.configName).toBe(result.configName);
    expect(aws.configs.has('llmtwin-epconfig-old')).toBe(true);
    const [update] = aws.inputsOf<{ DeploymentConfig: unknown }>('UpdateEndpoint');
    expect(update?.DeploymentConfig).toMatchObject({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 600 },
      },
    });
    expect(aws.tagsOf('endpoint', ENDPOINT)).toMatchObject({ 'llmtwin:previous-config': 'llmtwin-epconfig-old' });
    expect(aws.targets.size).toBe(1);
  });

  it('an endpoint that ends Failed fails the run with its FailureReason and leaves nothing of this run behind', async () => {
    const aws = new ScriptedEndpoints();
    aws.createScript = ['Creating', 'Failed'];
    const h = harness(aws);
    const failure = await workflowFailureOf(h.run(input, 'deploy-failed-compensated'));

    expect(failure.type).toBe('EndpointFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('did not pass the ping health check');
    expect([aws.models.size, aws.configs.size, aws.endpoints.size, aws.targets.size]).toEqual([0, 0, 0, 0]);
  });

  it('an update AWS rolls back fails the run; the old config still serves and the new one is gone', async () => {
    const aws = seeded();
    aws.updateOutcome = 'rolled-back';
    const h = harness(aws);
    const failure = await workflowFailureOf(h.run({ ...input, rollbackAlarms: ['latency-p99'], monitor: { enabled: false } }));

    expect(failure.message).toMatch(/was rolled back; it serves llmtwin-epconfig-old again/);
    expect(aws.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: 'llmtwin-epconfig-old' });
    expect([...aws.configs.keys()]).toEqual(['llmtwin-epconfig-old']);
    expect([...aws.models.keys()]).toEqual(['llmtwin-model-old']);
    expect(aws.count('UpdateEndpoint')).toBe(1);
  });

  it('a failed smoke test rolls the update back: the previous config serves again, with its tags', async () => {
    const aws = seeded();
    aws.answer = () => ({ error: 'model not loaded' });
    const h = harness(aws);
    const failure = await workflowFailureOf(h.run({ ...input, monitor: { enabled: false } }, 'deploy-smoke-test-rolled-back'));

    expect(failure.type).toBe('SmokeTestFailed');
    expect(aws.count('UpdateEndpoint')).toBe(2);
    expect(aws.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: 'llmtwin-epconfig-old' });
    expect([...aws.configs.keys()]).toEqual(['llmtwin-epconfig-old']);
    expect(aws.tagsOf('endpoint', ENDPOINT)['llmtwin:run-id']).toBe('deploy-earlier');
    expect(aws.tagsOf('endpoint', ENDPOINT)['llmtwin:previous-config']).toBeUndefined();
  });

  it('cancelling mid-deploy waits for the endpoint to settle, then deletes everything this run made', async () => {
    const aws = new ScriptedEndpoints();
    aws.createScript = ['Creating', ...Array<string>(40).fill('Creating'), 'InService'];
    const h = harness(aws);
    const outcome = await h.during(async (handle) => {
      await until(() => aws.count('DescribeEndpoint') >= 3);
      await handle.cancel();
      const error = await handle.result().catch((failure: unknown) => failure);
      await recordHistoryIfAsked(handle, 'deploy-cancelled');
      return { error, status: await handle.query(deployStatusQuery) };
    });

    expect((outcome.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(outcome.status).toMatchObject({ phase: 'cancelled', compensation: { endpoint: 'deleted' } });
    expect([aws.models.size, aws.configs.size, aws.endpoints.size]).toEqual([0, 0, 0]);
    expect(aws.count('DeleteEndpoint')).toBe(1);
  });

  it('rolls an endpoint back to the config its last deployment replaced', async () => {
    const aws = seeded();
    const h = harness(aws);
    const deployed = await h.run({ ...input, monitor: { enabled: false } });
    const rolled = await h.rollback(ENDPOINT);

    expect(rolled).toEqual({
      endpointName: ENDPOINT,
      fromConfigName: deployed.configName,
      toConfigName: 'llmtwin-epconfig-old',
      changed: true,
    });
    expect(aws.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: 'llmtwin-epconfig-old' });
    expect(aws.tagsOf('endpoint', ENDPOINT)['llmtwin:previous-config']).toBe(deployed.configName);
    // Autoscaling was taken off for the move and put back after it.
    expect(aws.targets.size).toBe(1);
  });

  it('refuses an idle policy its monitor would refuse before it creates anything', async () => {
    const h = harness();
    const failure = await workflowFailureOf(h.run({ ...input, monitor: { window: '1s' } }));

    expect(failure.type).toBe('ValidationError');
    expect(failure.message).toMatch(/monitor: window \(1s\) is shorter than checkInterval \(5m\)/);
    expect(h.aws.calls.filter((call) => call.command.startsWith('Create'))).toEqual([]);
  });

  it('refuses to touch an endpoint that is not ours', async () => {
    const aws = new ScriptedEndpoints();
    aws.seedEndpoint(ENDPOINT, 'theirs-config', 'theirs-model', []);
    const failure = await workflowFailureOf(harness(aws).run({ ...input, monitor: { enabled: false } }));

    expect(failure.type).toBe('ResourceConflict');
    expect(failure.message).toMatch(/is not llmtwin's/);
    expect(aws.count('UpdateEndpoint')).toBe(0);
    expect(aws.endpoints.get(ENDPOINT)?.configName).toBe('theirs-config');
  });
});
