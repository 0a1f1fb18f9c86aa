import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  type DescribeEndpointConfigCommandOutput,
} from '@aws-sdk/client-sagemaker';
import type { TeardownReport } from '../../common/idle/contract';
import { isNotFound, toAwsFailure } from '../aws/errors';
import { describeModelIfExists, readOwnershipTags } from '../aws/endpoints';
import type { AutoScalingSender, SageMakerSender } from '../aws/clients';

export const SAGEMAKER_SCALABLE_DIMENSION = 'sagemaker:variant:DesiredInstanceCount' as const;

export function variantResourceId(endpointName: string, variantName: string): string {
  return `endpoint/${endpointName}/variant/${variantName}`;
}

/**
 * What a teardown will touch, fixed before anything is deleted and kept in workflow history, so a
 * retried teardown still knows the config and models after the endpoint itself is gone.
 */
export interface TeardownPlan {
  endpointName: string;
  variantNames: string[];
  endpointConfig: { name: string; managed: boolean } | null;
  models: Array<{ name: string; managed: boolean }>;
}

/** Ownership of the endpoint config and its models: only what carries llmtwin:managed=true is ours to delete. */
export async function planTeardown(
  sagemaker: SageMakerSender,
  endpointName: string,
  variantNames: string[],
  config: DescribeEndpointConfigCommandOutput | undefined,
  abortSignal?: AbortSignal,
): Promise<TeardownPlan> {
  if (!config?.EndpointConfigName) return { endpointName, variantNames, endpointConfig: null, models: [] };
  const configTags = config.EndpointConfigArn
    ? await readOwnershipTags(sagemaker, config.EndpointConfigArn, abortSignal)
    : { managed: false };
  const modelNames = [
    ...new Set(
      [...(config.ProductionVariants ?? []), ...(config.ShadowProductionVariants ?? [])].flatMap((variant) =>
        variant.ModelName ? [variant.ModelName] : [],
      ),
    ),
  ];
  const models: TeardownPlan['models'] = [];
  for (const name of modelNames) {
    const arn = await modelArnIfExists(sagemaker, name, abortSignal);
    if (arn) models.push({ name, managed: (await readOwnershipTags(sagemaker, arn, abortSignal)).managed });
  }
  return { endpointName, variantNames, endpointConfig: { name: config.EndpointConfigName, managed: configTags.managed }, models };
}

async function modelArnIfExists(sagemaker: SageMakerSender, modelName: string, abortSignal?: AbortSignal): Promise<string | undefined> {
  return (await describeModelIfExists(sagemaker, modelName, abortSignal))?.ModelArn;
}

/**
 * Deletes in the order that leaves nothing half-alive: autoscaling first (so it cannot scale a
 * deleting endpoint), then the endpoint (this stops the billing), then the config and the models that
 * are ours. Every step treats "already gone" as done, so a retry after any partial run finishes the job.
 */
export async function executeTeardown(
  clients: { sagemaker: SageMakerSender; autoscaling: AutoScalingSender },
  plan: TeardownPlan,
  options: { deleteModel: boolean },
  abortSignal?: AbortSignal,
): Promise<TeardownReport> {
  const report = emptyTeardownReport();
  for (const variantName of plan.variantNames) {
    await deregisterAutoscaling(clients.autoscaling, variantResourceId(plan.endpointName, variantName), report, abortSignal);
  }
  await deleteIgnoringMissing('DeleteEndpoint', `endpoint ${plan.endpointName}`, () =>
    clients.sagemaker.send(new DeleteEndpointCommand({ EndpointName: plan.endpointName }), { abortSignal }),
  );
  report.endpointDeleted = true;
  if (plan.endpointConfig) {
    const { name, managed } = plan.endpointConfig;
    if (managed) {
      await deleteIgnoringMissing('DeleteEndpointConfig', `endpoint config ${name}`, () =>
        clients.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }), { abortSignal }),
      );
    }
    report.endpointConfig = {
      name,
      deleted: managed,
      reason: managed ? 'ours (llmtwin:managed=true)' : 'kept: not tagged llmtwin:managed=true',
    };
  }
  for (const model of plan.models) {
    const deletable = options.deleteModel && model.managed;
    if (deletable) {
      await deleteIgnoringMissing('DeleteModel', `model ${model.name}`, () =>
        clients.sagemaker.send(new DeleteModelCommand({ ModelName: model.name }), { abortSignal }),
      );
    }
    const reason = !options.deleteModel
      ? 'kept: deleteModel is false'
      : model.managed
        ? 'ours (llmtwin:managed=true)'
        : 'kept: not tagged llmtwin:managed=true';
    report.models.push({ name: model.name, deleted: deletable, reason });
  }
  return report;
}

export function emptyTeardownReport(): TeardownReport {
  return { endpointDeleted: false, scalingPoliciesDeleted: [], scalableTargetsDeregistered: [], endpointConfig: null, models: [] };
}

/** Scaling policies, then the scalable target, of one variant; a variant without autoscaling costs one read. */
export async function deregisterAutoscaling(
  autoscaling: AutoScalingSender,
  resourceId: string,
  report: TeardownReport,
  abortSignal?: AbortSignal,
): Promise<void> {
  const base = { ServiceNamespace: 'sagemaker' as const, ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION };
  // A scaling policy cannot exist without its scalable target (deregistering one deletes its
  // policies), so a variant without a target needs no second read: one call, not two, per variant.
  const targets = await readAutoscaling('DescribeScalableTargets', resourceId, () =>
    autoscaling.send(new DescribeScalableTargetsCommand({ ...base, ResourceIds: [resourceId] }), { abortSignal }),
  );
  if ((targets?.ScalableTargets ?? []).length === 0) return;
  const policies = await readAutoscaling('DescribeScalingPolicies', resourceId, () =>
    autoscaling.send(new DescribeScalingPoliciesCommand({ ...base, ResourceId: resourceId }), { abortSignal }),
  );
  for (const policy of policies?.ScalingPolicies ?? []) {
    if (!policy.PolicyName) continue;
    const policyName = policy.PolicyName;
    await deleteIgnoringMissing('DeleteScalingPolicy', `scaling policy ${policyName} of ${resourceId}`, () =>
      autoscaling.send(new DeleteScalingPolicyCommand({ ...base, ResourceId: resourceId, PolicyName: policyName }), { abortSignal }),
    );
    report.scalingPoliciesDeleted.push(`${resourceId}:${policyName}`);
  }
  await deleteIgnoringMissing('DeregisterScalableTarget', `scalable target ${resourceId}`, () =>
    autoscaling.send(new DeregisterScalableTargetCommand({ ...base, ResourceId: resourceId }), { abortSignal }),
  );
  report.scalableTargetsDeregistered.push(resourceId);
}

async function readAutoscaling<T>(operation: string, resourceId: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw toAwsFailure(error, { operation, resource: resourceId });
  }
}

/** Deleting what is already gone is success: that is what makes the teardown safe to retry. */
export async function deleteIgnoringMissing(operation: string, resource: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (isMissing(error)) return;
    throw toAwsFailure(error, { operation, resource });
  }
}

/**
 * Not-found in all the shapes these APIs use: SageMaker's ValidationException "Could not find ...",
 * Application Auto Scaling's ObjectNotFoundException ("No scalable target registered ...", "No
 * scaling policy found ..."; some emulators send these texts as ValidationException), and an endpoint
 * that is already Deleting.
 */
export function isMissing(error: unknown): boolean {
  if (isNotFound(error)) return true;
  const err = (error ?? {}) as { name?: string; message?: string };
  if (err.name !== 'ValidationException') return false;
  return /No scal(able target|ing polic(y|ies)) (found|registered)|status Deleting|is (in|already) (the )?Deleting/i.test(
    err.message ?? '',
  );
}
