import {
  AddTagsCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  type DescribeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CompensationReport, EndpointStep, RollbackResult } from '../../common/deploy/contract';
import { ENDPOINT_TAGS, VARIANT_NAME, type DeploymentPlan, type ServedConfig } from '../../common/deploy/plan';
import { SERVED_MODEL_PACKAGE_TAG } from '../../common/evaluate/registry';
import { durationToMs } from '../../common/shared/durations';
import { ERROR_TYPES } from '../../common/shared/errors';
import { MANAGED_TAG, RUN_ID_TAG_KEY } from '../../common/shared/naming';
import { validationFailure } from '../../common/shared/validation';
import { awsCall, toAwsFailure } from '../aws/errors';
import { describeEndpointConfigIfExists, describeEndpointIfExists, describeModelIfExists, readTags } from '../aws/endpoints';
import { sleepBeating, type PollingIntervals } from '../aws/job-polling';
import type { AutoScalingSender, SageMakerSender } from '../aws/clients';
import { deregisterAutoscaling, emptyTeardownReport, isMissing, variantResourceId } from '../idle/teardown';
import { restoreAutoscaling, suspendAutoscaling } from './autoscaling';
import { stepOfRun, tagServed, updateEndpointRequest } from './endpoint';
import type { ServingCompute } from './serving-compute';

/**
 * Undoing a deployment that failed or was cancelled, and rolling an endpoint back on request. The rule:
 * delete only what this run made (tagged with its run id) and nothing that serves; after a failed
 * update the previous config serves again, with its tags and autoscaling as they were.
 */

export interface EndpointDeps {
  sagemaker: SageMakerSender;
  autoscaling: AutoScalingSender;
  serving: ServingCompute;
  polling: PollingIntervals;
}

const MOVING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'Deleting']);

/** Polls (heartbeating) until the endpoint is no longer moving; undefined once it is gone. */
async function settle(deps: EndpointDeps, endpointName: string, timeout: string): Promise<DescribeEndpointCommandOutput | undefined> {
  const context = Context.current();
  const deadline = Date.now() + durationToMs(timeout);
  let intervalMs = deps.polling.initialMs;
  for (;;) {
    const endpoint = await describeEndpointIfExists(deps.sagemaker, endpointName);
    const status = endpoint?.EndpointStatus ?? 'gone';
    if (!endpoint || !MOVING.has(status)) return endpoint;
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.endpointFailed,
        nonRetryable: true,
        message: `endpoint ${endpointName} was still ${status} after ${timeout}; look at it in the SageMaker console before deploying again`,
      });
    }
    context.heartbeat({ endpointName, status });
    await sleepBeating(context, intervalMs, { endpointName, status });
    intervalMs = Math.min(intervalMs * 1.5, deps.polling.maxMs);
  }
}

async function deleteIfGone(operation: string, resource: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isMissing(error)) throw toAwsFailure(error, { operation, resource });
  }
}

async function restoreTags(sagemaker: SageMakerSender, arn: string, tags: Record<string, string | null>): Promise<void> {
  const put = Object.entries(tags).flatMap(([Key, Value]) => (Value === null ? [] : [{ Key, Value }]));
  const drop = Object.entries(tags).flatMap(([key, value]) => (value === null ? [key] : []));
  if (put.length > 0)
    await awsCall({ operation: 'AddTags', resource: arn }, () => sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: put })));
  if (drop.length > 0)
    await awsCall({ operation: 'DeleteTags', resource: arn }, () =>
      sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: drop })),
    );
}

/** Moves a settled endpoint back to a config (blue/green all at once), with its autoscaling off during the move and back after. */
async function moveBack(deps: EndpointDeps, endpoint: DescribeEndpointCommandOutput, to: ServedConfig, timeout: string) {
  const endpointName = endpoint.EndpointName as string;
  await deps.serving.prepare(to);
  const suspended = await suspendAutoscaling(deps.autoscaling, endpointName, VARIANT_NAME);
  await deps.serving.update(
    updateEndpointRequest(
      endpointName,
      to.configName,
      { type: 'ALL_AT_ONCE', waitInterval: '0s', terminationWait: '0s', maximumExecutionTimeout: '1h' },
      [],
    ),
  );
  const after = await settle(deps, endpointName, timeout);
  if (after?.EndpointConfigName !== to.configName || after.EndpointStatus !== 'InService') {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.endpointFailed,
      nonRetryable: true,
      message: `endpoint ${endpointName} did not go back to ${to.configName}: it is ${after?.EndpointStatus ?? 'gone'} on ${after?.EndpointConfigName ?? 'nothing'}${after?.FailureReason ? ` (${after.FailureReason})` : ''}`,
    });
  }
  await restoreAutoscaling(deps.autoscaling, suspended);
  for (;;) {
    const served = await deps.serving.ready(to.configName);
    if (served.ready) return;
    if (served.failure) throw ApplicationFailure.create({ type: ERROR_TYPES.endpointFailed, nonRetryable: true, message: served.failure });
    await sleepBeating(Context.current(), deps.polling.initialMs, { endpointName, waiting: served.detail });
  }
}

/** What serves a config, read from SageMaker: its (first) variant's model's artifact. */
async function servedConfig(
  sagemaker: SageMakerSender,
  endpointName: string,
  configName: string,
): Promise<ServedConfig & { modelVersionArn: string | null }> {
  const config = await describeEndpointConfigIfExists(sagemaker, configName);
  if (!config) throw validationFailure(`endpoint config ${configName} does not exist any more, so the endpoint cannot go back to it`);
  const variant = config.ProductionVariants?.[0];
  const model = variant?.ModelName ? await describeModelIfExists(sagemaker, variant.ModelName) : undefined;
  const modelUri = model?.PrimaryContainer?.ModelDataUrl;
  if (!modelUri)
    throw validationFailure(
      `endpoint config ${configName} serves no model with an artifact (its model ${variant?.ModelName ?? '?'} is gone)`,
    );
  const version = model?.ModelArn ? ((await readTags(sagemaker, model.ModelArn)).get(SERVED_MODEL_PACKAGE_TAG) ?? null) : null;
  return { endpointName, configName, variantName: variant?.VariantName ?? VARIANT_NAME, modelUri, modelVersionArn: version };
}

export async function compensateDeployment(
  deps: EndpointDeps,
  input: { plan: DeploymentPlan; step: EndpointStep | null; runId: string },
): Promise<CompensationReport> {
  const { plan, runId } = input;
  const { sagemaker } = deps;
  // No step recorded: the endpoint call was in flight when the run failed or was cancelled; ask the endpoint.
  const step = input.step ?? (await stepFromEndpoint(sagemaker, plan, runId));
  const report: CompensationReport = { endpoint: 'untouched', deleted: [], kept: [] };
  const timeout = plan.inServiceTimeout;
  if (step?.action === 'created') {
    const resourceId = variantResourceId(plan.endpointName, plan.variantName);
    await deregisterAutoscaling(deps.autoscaling, resourceId, emptyTeardownReport());
    // A Creating endpoint cannot be deleted until it settles (SageMaker refuses), so wait for that first.
    await settle(deps, plan.endpointName, timeout);
    await deleteIfGone('DeleteEndpoint', `endpoint ${plan.endpointName}`, () =>
      sagemaker.send(new DeleteEndpointCommand({ EndpointName: plan.endpointName })),
    );
    report.endpoint = 'deleted';
    report.deleted.push(`endpoint ${plan.endpointName}`);
  } else if (step?.action === 'updated') {
    const endpoint = await settle(deps, plan.endpointName, timeout);
    if (endpoint && step.previousConfigName) {
      if (endpoint.EndpointConfigName === plan.configName) {
        await moveBack(deps, endpoint, await servedConfig(sagemaker, plan.endpointName, step.previousConfigName), timeout);
      }
      if (step.before) {
        await restoreTags(sagemaker, step.endpointArn, step.before.tags);
        await restoreAutoscaling(deps.autoscaling, step.before.autoscaling);
      }
      report.endpoint = 'rolled-back';
    }
  }
  const serving = (await describeEndpointIfExists(sagemaker, plan.endpointName))?.EndpointConfigName;
  if (serving === plan.configName) {
    report.kept.push(`endpoint config ${plan.configName} and model ${plan.modelName}: the endpoint serves them`);
    return report;
  }
  await deps.serving.release(plan.configName);
  const config = await describeEndpointConfigIfExists(sagemaker, plan.configName);
  if (config?.EndpointConfigArn) {
    if ((await readTags(sagemaker, config.EndpointConfigArn)).get(RUN_ID_TAG_KEY) === runId) {
      await deleteIfGone('DeleteEndpointConfig', `endpoint config ${plan.configName}`, () =>
        sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: plan.configName })),
      );
      report.deleted.push(`endpoint config ${plan.configName}`);
    } else report.kept.push(`endpoint config ${plan.configName}: an earlier run made it`);
  }
  const model = await describeModelIfExists(sagemaker, plan.modelName);
  if (model?.ModelArn) {
    if ((await readTags(sagemaker, model.ModelArn)).get(RUN_ID_TAG_KEY) === runId) {
      await deleteIfGone('DeleteModel', `model ${plan.modelName}`, () =>
        sagemaker.send(new DeleteModelCommand({ ModelName: plan.modelName })),
      );
      report.deleted.push(`model ${plan.modelName}`);
    } else report.kept.push(`model ${plan.modelName}: an earlier run made it`);
  }
  return report;
}

async function stepFromEndpoint(sagemaker: SageMakerSender, plan: DeploymentPlan, runId: string): Promise<EndpointStep | null> {
  const endpoint = await describeEndpointIfExists(sagemaker, plan.endpointName);
  if (!endpoint?.EndpointArn) return null;
  return stepOfRun(endpoint, await readTags(sagemaker, endpoint.EndpointArn), plan.configName, runId);
}

/** `llmtwin rollback`: the endpoint serves the config its last deployment replaced (or the one named) again. */
export async function rollbackEndpoint(
  deps: EndpointDeps,
  input: { endpointName: string; toConfigName?: string; timeout: string },
): Promise<RollbackResult> {
  const { sagemaker } = deps;
  const endpoint = await describeEndpointIfExists(sagemaker, input.endpointName);
  if (!endpoint) throw validationFailure(`endpoint ${input.endpointName} does not exist (llmtwin endpoints list shows the endpoints)`);
  const arn = endpoint.EndpointArn as string;
  const tags = await readTags(sagemaker, arn);
  if (tags.get(MANAGED_TAG.key) !== MANAGED_TAG.value)
    throw validationFailure(`endpoint ${input.endpointName} is not llmtwin's (no ${MANAGED_TAG.key} tag); roll it back yourself`);
  if (endpoint.EndpointStatus !== 'InService') {
    throw validationFailure(`endpoint ${input.endpointName} is ${endpoint.EndpointStatus ?? 'unknown'}; roll back once it is InService`);
  }
  const from = endpoint.EndpointConfigName as string;
  const to = input.toConfigName ?? tags.get(ENDPOINT_TAGS.previousConfig);
  if (!to)
    throw validationFailure(
      `endpoint ${input.endpointName} records no previous config (it was deployed once); name one with --to <config>`,
    );
  if (to === from) return { endpointName: input.endpointName, fromConfigName: from, toConfigName: to, changed: false };
  const target = await servedConfig(sagemaker, input.endpointName, to);
  await tagServed(sagemaker, arn, [{ Key: ENDPOINT_TAGS.previousConfig, Value: from }], target.modelVersionArn);
  await moveBack(deps, endpoint, target, input.timeout);
  return { endpointName: input.endpointName, fromConfigName: from, toConfigName: to, changed: true };
}
