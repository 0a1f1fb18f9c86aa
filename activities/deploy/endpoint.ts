import {
  AddTagsCommand,
  CreateEndpointCommand,
  DeleteTagsCommand,
  UpdateEndpointCommand,
  type DescribeEndpointCommandOutput,
  type UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import type { EndpointStep, SuspendedAutoscaling, TrafficRouting } from '../../common/deploy/contract';
import { ENDPOINT_TAGS, type DeploymentPlan } from '../../common/deploy/plan';
import { SERVED_MODEL_PACKAGE_TAG } from '../../common/evaluate/registry';
import { durationToMs } from '../../common/shared/durations';
import { ERROR_TYPES } from '../../common/shared/errors';
import { conflictFailure } from '../../common/shared/validation';
import { MANAGED_TAG, RUN_ID_TAG_KEY } from '../../common/shared/naming';
import { awsCall, isAlreadyExists, toAwsFailure } from '../aws/errors';
import { describeEndpointIfExists, readTags } from '../aws/endpoints';
import type { SageMakerSender } from '../aws/clients';

/**
 * The endpoint step: CreateEndpoint when there is none, UpdateEndpoint with a blue/green policy when it
 * serves another config, nothing when it serves this one. The endpoint's tags remember who moved it
 * last (llmtwin:run-id) and what it served before (llmtwin:previous-config), written before the update is
 * asked for: a retry after a crash then knows it made the change, and rollback knows where to go back.
 */

/** Moves an endpoint to another config; SageMaker's UpdateEndpoint, or the local stand-in (moto has none). */
export type EndpointUpdater = (request: UpdateEndpointCommandInput, abortSignal?: AbortSignal) => Promise<void>;

export function sageMakerUpdater(sagemaker: SageMakerSender): EndpointUpdater {
  return async (request, abortSignal) => {
    await awsCall({ operation: 'UpdateEndpoint', resource: `endpoint ${request.EndpointName ?? ''}` }, () =>
      sagemaker.send(new UpdateEndpointCommand(request), { abortSignal }),
    );
  };
}

const seconds = (duration: string) => Math.round(durationToMs(duration) / 1000);

/** UpdateEndpoint with SageMaker's blue/green deployment: the new fleet comes up, traffic shifts as asked, alarms roll it back. */
export function updateEndpointRequest(
  endpointName: string,
  configName: string,
  routing: TrafficRouting,
  rollbackAlarms: readonly string[],
): UpdateEndpointCommandInput {
  const step = routing.percent === undefined ? undefined : { Type: 'CAPACITY_PERCENT' as const, Value: routing.percent };
  return {
    EndpointName: endpointName,
    EndpointConfigName: configName,
    RetainAllVariantProperties: false,
    DeploymentConfig: {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: routing.type,
          WaitIntervalInSeconds: seconds(routing.waitInterval),
          ...(routing.type === 'CANARY' && step ? { CanarySize: step } : {}),
          ...(routing.type === 'LINEAR' && step ? { LinearStepSize: step } : {}),
        },
        TerminationWaitInSeconds: seconds(routing.terminationWait),
        MaximumExecutionTimeoutInSeconds: seconds(routing.maximumExecutionTimeout),
      },
      ...(rollbackAlarms.length > 0 ? { AutoRollbackConfiguration: { Alarms: rollbackAlarms.map((AlarmName) => ({ AlarmName })) } } : {}),
    },
  };
}

/** The served-version tag follows what the endpoint serves: set for a registry version, removed otherwise. */
export async function tagServed(
  sagemaker: SageMakerSender,
  arn: string,
  tags: Array<{ Key: string; Value: string }>,
  modelVersionArn: string | null,
  abortSignal?: AbortSignal,
): Promise<void> {
  const all = modelVersionArn ? [...tags, { Key: SERVED_MODEL_PACKAGE_TAG, Value: modelVersionArn }] : tags;
  await awsCall({ operation: 'AddTags', resource: arn }, () =>
    sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: all }), { abortSignal }),
  );
  if (!modelVersionArn) {
    await awsCall({ operation: 'DeleteTags', resource: arn }, () =>
      sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: [SERVED_MODEL_PACKAGE_TAG] }), { abortSignal }),
    );
  }
}

const SETTLED = new Set(['InService', 'Failed', 'OutOfService']);

export async function ensureEndpoint(
  deps: { sagemaker: SageMakerSender; update: EndpointUpdater; suspendAutoscaling: () => Promise<SuspendedAutoscaling | null> },
  plan: DeploymentPlan,
  runId: string,
  abortSignal?: AbortSignal,
): Promise<EndpointStep> {
  const { sagemaker } = deps;
  const described = await describeEndpointIfExists(sagemaker, plan.endpointName, abortSignal);
  if (!described) return createEndpoint(sagemaker, plan, abortSignal);
  const arn = described.EndpointArn as string;
  const tags = await readTags(sagemaker, arn, abortSignal);
  if (tags.get(MANAGED_TAG.key) !== MANAGED_TAG.value) {
    throw conflictFailure(
      `endpoint ${plan.endpointName} exists and is not llmtwin's (no ${MANAGED_TAG.key}=${MANAGED_TAG.value} tag): llmtwin never changes it. Deploy under another endpointName`,
    );
  }
  if (servesOrMovesTo(described, plan.configName)) {
    // This run made it (an earlier attempt that crashed after the call), or it already served this config.
    return (
      stepOfRun(described, tags, plan.configName, runId) ?? {
        action: 'unchanged',
        endpointArn: arn,
        previousConfigName: tags.get(ENDPOINT_TAGS.previousConfig) ?? null,
      }
    );
  }
  const status = described.EndpointStatus ?? 'unknown';
  if (!SETTLED.has(status)) {
    throw conflictFailure(
      `endpoint ${plan.endpointName} is ${status}${described.PendingDeploymentSummary?.EndpointConfigName ? ` (to config ${described.PendingDeploymentSummary.EndpointConfigName})` : ''}: another deployment is under way; deploy again once it is InService`,
    );
  }
  if (status !== 'InService') {
    throw conflictFailure(
      `endpoint ${plan.endpointName} is ${status}${described.FailureReason ? ` (${described.FailureReason})` : ''} and cannot be updated; delete it (aws sagemaker delete-endpoint --endpoint-name ${plan.endpointName}), then deploy again`,
    );
  }
  const current = described.EndpointConfigName as string;
  const before = {
    tags: Object.fromEntries(UNDONE_TAGS.map((key) => [key, tags.get(key) ?? null])),
    // A blue/green update replaces the variant, and SageMaker refuses one while autoscaling is attached.
    autoscaling: await deps.suspendAutoscaling(),
  };
  await tagServed(
    sagemaker,
    arn,
    [
      { Key: RUN_ID_TAG_KEY, Value: runId },
      { Key: ENDPOINT_TAGS.previousConfig, Value: current },
    ],
    plan.modelVersionArn,
    abortSignal,
  );
  await deps.update(updateEndpointRequest(plan.endpointName, plan.configName, plan.trafficRouting, plan.rollbackAlarms), abortSignal);
  return { action: 'updated', endpointArn: arn, previousConfigName: current, before };
}

/** The endpoint tags an update changes, and a compensation puts back. */
export const UNDONE_TAGS = [RUN_ID_TAG_KEY, ENDPOINT_TAGS.previousConfig, SERVED_MODEL_PACKAGE_TAG] as const;

/**
 * What this run did to the endpoint, read from the endpoint itself: it serves (or moves to) the run's
 * config and carries the run's id. Null when this run did not make or move it.
 */
export function stepOfRun(
  described: DescribeEndpointCommandOutput,
  tags: Map<string, string>,
  configName: string,
  runId: string,
): EndpointStep | null {
  if (!servesOrMovesTo(described, configName) || tags.get(RUN_ID_TAG_KEY) !== runId) return null;
  const previous = tags.get(ENDPOINT_TAGS.previousConfig) ?? null;
  return { action: previous ? 'updated' : 'created', endpointArn: described.EndpointArn as string, previousConfigName: previous };
}

function servesOrMovesTo(described: DescribeEndpointCommandOutput, configName: string): boolean {
  return described.EndpointConfigName === configName || described.PendingDeploymentSummary?.EndpointConfigName === configName;
}

async function createEndpoint(sagemaker: SageMakerSender, plan: DeploymentPlan, abortSignal?: AbortSignal): Promise<EndpointStep> {
  const tags = plan.modelVersionArn ? [...plan.tags, { Key: SERVED_MODEL_PACKAGE_TAG, Value: plan.modelVersionArn }] : plan.tags;
  try {
    const created = await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: plan.endpointName, EndpointConfigName: plan.configName, Tags: tags }),
      { abortSignal },
    );
    return { action: 'created', endpointArn: created.EndpointArn as string, previousConfigName: null };
  } catch (error) {
    if (isAlreadyExists(error)) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.transient,
        message: `endpoint ${plan.endpointName} appeared while this deployment created it; looking again`,
        cause: error as Error,
      });
    }
    throw toAwsFailure(error, { operation: 'CreateEndpoint', resource: `endpoint ${plan.endpointName}` });
  }
}
