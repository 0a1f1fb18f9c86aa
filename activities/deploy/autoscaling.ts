import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type PutScalingPolicyCommandInput,
} from '@aws-sdk/client-application-auto-scaling';
import type { SuspendedAutoscaling } from '../../common/deploy/contract';
import type { DeploymentPlan } from '../../common/deploy/plan';
import { awsCall } from '../aws/errors';
import type { AutoScalingSender } from '../aws/clients';
import { deregisterAutoscaling, emptyTeardownReport, SAGEMAKER_SCALABLE_DIMENSION, variantResourceId } from '../idle/teardown';

/**
 * Application Auto Scaling for an endpoint's variant: a scalable target (min and max instances) and one
 * target-tracking policy on invocations per instance. Both calls are upserts, so applying again (a
 * retry, or after an update) converges on the plan. A blue/green update replaces the variant, so
 * autoscaling is taken off before an update and put back after it; the teardown (idle) removes it.
 */

const base = { ServiceNamespace: 'sagemaker' as const, ScalableDimension: SAGEMAKER_SCALABLE_DIMENSION };

export function scalingPolicyName(endpointName: string): string {
  return `${endpointName}-invocations-per-instance`.slice(0, 255);
}

export function scalingPolicyRequest(
  plan: DeploymentPlan,
  scaling: NonNullable<DeploymentPlan['autoscaling']>,
): PutScalingPolicyCommandInput {
  return {
    ...base,
    ResourceId: variantResourceId(plan.endpointName, plan.variantName),
    PolicyName: scalingPolicyName(plan.endpointName),
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: scaling.targetInvocationsPerInstance,
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      ScaleInCooldown: scaling.scaleInCooldownSeconds,
      ScaleOutCooldown: scaling.scaleOutCooldownSeconds,
    },
  };
}

export async function applyAutoscaling(
  autoscaling: AutoScalingSender,
  plan: DeploymentPlan,
): Promise<{ resourceId: string; policyName: string } | null> {
  const scaling = plan.autoscaling;
  if (!scaling) return null;
  const resourceId = variantResourceId(plan.endpointName, plan.variantName);
  await awsCall({ operation: 'RegisterScalableTarget', resource: resourceId }, () =>
    autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: resourceId,
        MinCapacity: scaling.minInstances,
        MaxCapacity: scaling.maxInstances,
      }),
    ),
  );
  const policy = scalingPolicyRequest(plan, scaling);
  await awsCall({ operation: 'PutScalingPolicy', resource: resourceId }, () => autoscaling.send(new PutScalingPolicyCommand(policy)));
  return { resourceId, policyName: policy.PolicyName as string };
}

export async function suspendAutoscaling(
  autoscaling: AutoScalingSender,
  endpointName: string,
  variantName: string,
): Promise<SuspendedAutoscaling | null> {
  const resourceId = variantResourceId(endpointName, variantName);
  const targets = await awsCall({ operation: 'DescribeScalableTargets', resource: resourceId }, () =>
    autoscaling.send(new DescribeScalableTargetsCommand({ ...base, ResourceIds: [resourceId] })),
  );
  const target = targets.ScalableTargets?.[0];
  if (!target) return null;
  const policies = await awsCall({ operation: 'DescribeScalingPolicies', resource: resourceId }, () =>
    autoscaling.send(new DescribeScalingPoliciesCommand({ ...base, ResourceId: resourceId })),
  );
  const snapshot: SuspendedAutoscaling = {
    resourceId,
    minCapacity: target.MinCapacity ?? 1,
    maxCapacity: target.MaxCapacity ?? 1,
    policies: (policies.ScalingPolicies ?? []).map((policy): PutScalingPolicyCommandInput => ({
      ...base,
      ResourceId: resourceId,
      PolicyName: policy.PolicyName,
      PolicyType: policy.PolicyType,
      ...(policy.TargetTrackingScalingPolicyConfiguration
        ? { TargetTrackingScalingPolicyConfiguration: policy.TargetTrackingScalingPolicyConfiguration }
        : {}),
      ...(policy.StepScalingPolicyConfiguration ? { StepScalingPolicyConfiguration: policy.StepScalingPolicyConfiguration } : {}),
    })),
  };
  await deregisterAutoscaling(autoscaling, resourceId, emptyTeardownReport());
  return snapshot;
}

export async function restoreAutoscaling(autoscaling: AutoScalingSender, snapshot: SuspendedAutoscaling | null): Promise<void> {
  if (!snapshot) return;
  const { resourceId } = snapshot;
  await awsCall({ operation: 'RegisterScalableTarget', resource: resourceId }, () =>
    autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: resourceId,
        MinCapacity: snapshot.minCapacity,
        MaxCapacity: snapshot.maxCapacity,
      }),
    ),
  );
  for (const policy of snapshot.policies) {
    await awsCall({ operation: 'PutScalingPolicy', resource: resourceId }, () =>
      autoscaling.send(new PutScalingPolicyCommand(policy as PutScalingPolicyCommandInput)),
    );
  }
}
