import { Context } from '@temporalio/activity';
import { effectiveComputeBackend, type LlmtwinConfig } from '../../common/config';
import type { EndpointStep } from '../../common/deploy/contract';
import type { DeployPlanInput, DeploymentPlan } from '../../common/deploy/plan';
import { localServingFor } from '../../platform/local-endpoints';
import { pollingFor } from '../aws/job-polling';
import type { AutoScalingSender, SageMakerRuntimeSender, SageMakerSender } from '../aws/clients';
import { trainingComputeFor } from '../fine-tune';
import type { TrainingCompute } from '../fine-tune/training-compute';
import { localComputeOptionsFor, requireJobsPython } from '../local/local-jobs';
import { applyAutoscaling, suspendAutoscaling } from './autoscaling';
import { compensateDeployment, rollbackEndpoint } from './compensation';
import { ensureEndpoint } from './endpoint';
import { localServingCompute, localServingOptions } from './local-serving';
import { planDeployment } from './plan';
import { ensureEndpointConfig, ensureModel } from './resources';
import { sageMakerServingCompute, type ServingCompute } from './serving-compute';
import { smokeTest } from './smoke';
import { waitForEndpoint } from './wait';

export interface DeployDeps {
  sagemaker: SageMakerSender;
  autoscaling: AutoScalingSender;
  runtime: SageMakerRuntimeSender;
  config: LlmtwinConfig;
  /** What serves endpoints; by default the configured backend (compute.backend). */
  serving?: ServingCompute;
  /** Where the training jobs it deploys ran (the same backend by default). */
  training?: TrainingCompute;
}

export function servingComputeFor(config: LlmtwinConfig, sagemaker: SageMakerSender): ServingCompute {
  if (effectiveComputeBackend(config) === 'sagemaker') return sageMakerServingCompute(sagemaker);
  return localServingCompute(
    sagemaker,
    localServingOptions(localComputeOptionsFor(config), config.resourceNamePrefix, config.deploy.localMetricsInterval),
  );
}

/** The deploy stage's side effects, on the control queue: the model, config and endpoint, autoscaling, the smoke test, undoing. */
export function createDeployActivities(deps: DeployDeps) {
  const { config, sagemaker, autoscaling } = deps;
  const serving = deps.serving ?? servingComputeFor(config, sagemaker);
  const training = deps.training ?? trainingComputeFor(config, sagemaker);
  const polling = pollingFor(config, serving.backend);
  const endpointDeps = { sagemaker, autoscaling, serving, polling };
  const local = serving.backend === 'local' ? localServingFor(config) : undefined;
  const signal = () => Context.current().cancellationSignal;

  return {
    /** What to serve, on what, under which names: resolved once, recorded by the workflow. */
    async planDeployment(input: DeployPlanInput): Promise<DeploymentPlan> {
      if (serving.backend === 'local') requireJobsPython(localComputeOptionsFor(config).python, 'jobs/serve');
      return planDeployment({ sagemaker, training, config, backend: serving.backend }, input.settings, input.runId);
    },

    async ensureModel(input: { plan: DeploymentPlan }) {
      return ensureModel(sagemaker, input.plan, signal());
    },

    async ensureEndpointConfig(input: { plan: DeploymentPlan }) {
      return ensureEndpointConfig(sagemaker, input.plan, signal());
    },

    /** Creates the endpoint, or moves it to the plan's config (blue/green); adopts what an earlier attempt did. */
    async ensureEndpoint(input: { plan: DeploymentPlan; runId: string }): Promise<EndpointStep> {
      const { plan } = input;
      const step = await ensureEndpoint(
        {
          sagemaker,
          update: serving.update,
          suspendAutoscaling: () => suspendAutoscaling(autoscaling, plan.endpointName, plan.variantName),
        },
        plan,
        input.runId,
        signal(),
      );
      // After the endpoint names the config: a local server's first look then finds it, so an endpoint it
      // cannot find later was deleted (one launched first could not tell, and outlived a quick deletion).
      await serving.prepare(plan);
      return step;
    },

    async waitForEndpoint(input: { endpointName: string; configName: string; timeout: string }) {
      return waitForEndpoint({ sagemaker, serving, polling }, input);
    },

    async applyAutoscaling(input: { plan: DeploymentPlan }) {
      return applyAutoscaling(autoscaling, input.plan);
    },

    async smokeTest(input: { plan: DeploymentPlan }) {
      return smokeTest({ sagemaker, runtime: deps.runtime }, input.plan, local);
    },

    /** After a failure or a cancel: deletes what this run made and puts back what served before. */
    async compensateDeployment(input: { plan: DeploymentPlan; step: EndpointStep | null; runId: string }) {
      return compensateDeployment(endpointDeps, input);
    },

    async rollbackEndpoint(input: { endpointName: string; toConfigName?: string; timeout?: string }) {
      return rollbackEndpoint(endpointDeps, { ...input, timeout: input.timeout ?? config.deploy.inServiceTimeout });
    },
  };
}

export type DeployActivities = ReturnType<typeof createDeployActivities>;
