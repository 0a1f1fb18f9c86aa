import { Context } from '@temporalio/activity';
import { observationOf, type EndpointObservation, type TeardownReport } from '../../common/idle/contract';
import { boundSweepRows, type IdleSweepResult } from '../../common/idle/sweep';
import type { PricingConfig } from '../../common/shared/pricing';
import { loadEndpoint } from './endpoint-reads';
import { InvocationBatcher } from './invocation-batcher';
import { invocationTargets } from './invocations';
import { sweepFleet, type SweepDeps, type SweepFleetInput } from './sweep';
import { SweepReadCache } from './sweep-cache';
import { executeTeardown, planTeardown, type TeardownPlan } from './teardown';
import type { AutoScalingSender, CloudWatchSender, SageMakerSender } from '../aws/clients';

export interface IdleActivityDeps {
  sagemaker: SageMakerSender;
  cloudwatch: CloudWatchSender;
  autoscaling: AutoScalingSender;
  pricing: PricingConfig;
  /** The project's resource name prefix (config resourceNamePrefix): where the sweep looks for orphans. */
  resourceNamePrefix: string;
  orphanGraceMs?: number;
  orphanScanEveryMs?: number;
  describeConcurrency?: number;
  temporalClient?: SweepDeps['temporalClient'];
}

/** Where the metric window ends is the workflow's business: `now` always comes from the caller. */
export interface ObserveInput {
  endpointName: string;
  windowMs: number;
  now: number;
  /** The policy's asyncMetric: what to read for an asynchronous endpoint (unset: nothing, it is not measurable). */
  asyncMetric?: string;
}

export interface TeardownPlanResult {
  observation: EndpointObservation;
  /** Null when the endpoint is gone or tagged keep: nothing to delete. */
  plan: TeardownPlan | null;
}

/**
 * The idle monitor's and the sweep's side effects, on the idle queue (and the control queue, for monitors
 * started there before the idle queue existed): SageMaker control-plane calls and CloudWatch reads.
 * Each is idempotent: reads are reads, and the teardown treats "already gone" as done.
 */
export function createIdleActivities(deps: IdleActivityDeps) {
  // The worker's memory of the fleet: sweeps skip what has not changed, and a monitor's read takes its
  // endpoint's config from here (configs never change).
  const readCache = new SweepReadCache();
  // Monitors confirming deletions at the same moment share GetMetricData calls.
  const invocationReads = new InvocationBatcher(deps.cloudwatch);
  async function observe(input: ObserveInput, abortSignal: AbortSignal) {
    const loaded = await loadEndpoint(
      deps.sagemaker,
      input.endpointName,
      { pricing: deps.pricing, configs: readCache.configs },
      abortSignal,
    );
    if (!loaded) return { loaded, observation: { found: false, endpointName: input.endpointName, observedAt: input.now } as const };
    const targets = invocationTargets(loaded.snapshot, input.asyncMetric);
    // No targets (an asynchronous endpoint without asyncMetric): no call, and no reading.
    const reading = targets.length > 0 ? await invocationReads.read(targets, input, abortSignal) : undefined;
    const observation: EndpointObservation = observationOf(loaded.snapshot, reading, input.now, input.windowMs, input.asyncMetric);
    return { loaded, observation };
  }

  return {
    /** One endpoint's state and its Invocations over the window ending at `now`. */
    async observeEndpoint(input: ObserveInput): Promise<EndpointObservation> {
      return (await observe(input, Context.current().cancellationSignal)).observation;
    },

    /** A fresh observation right before a deletion, and what that deletion would touch. */
    async planEndpointTeardown(input: ObserveInput): Promise<TeardownPlanResult> {
      const abortSignal = Context.current().cancellationSignal;
      const { loaded, observation } = await observe(input, abortSignal);
      if (!loaded || !observation.found || observation.keep) return { observation, plan: null };
      const variantNames = observation.variants.map((variant) => variant.variantName);
      return { observation, plan: await planTeardown(deps.sagemaker, input.endpointName, variantNames, loaded.config, abortSignal) };
    },

    /** Autoscaling, endpoint, then the config and models that are ours; safe to retry at any point. */
    async teardownEndpoint(input: { plan: TeardownPlan; deleteModel: boolean }): Promise<TeardownReport> {
      return executeTeardown(deps, input.plan, { deleteModel: input.deleteModel }, Context.current().cancellationSignal);
    },

    /** The fleet sweep (see sweep.ts). */
    async sweepFleet(input: SweepFleetInput): Promise<IdleSweepResult> {
      const result = await sweepFleet({ ...deps, readCache }, input);
      // What the last sweep saw, on the worker's metrics endpoint (a gauge: each sweep replaces the figure).
      const meter = Context.current().metricMeter;
      meter.createGauge('llmtwin_endpoints_managed', 'int', 'endpoints tagged llmtwin:managed=true at the last sweep').set(result.managed);
      meter
        .createGauge('llmtwin_endpoints_monitored', 'int', 'endpoints with a running idle monitor at the last sweep')
        .set(result.monitorsStarted + result.monitorsAlreadyRunning);
      meter
        .createGauge(
          'llmtwin_sweep_sagemaker_calls',
          'int',
          'SageMaker calls the last sweep made (list pages, reads of new or changed endpoints)',
        )
        .set(result.reads?.sageMakerCalls ?? 0);
      return boundSweepRows(result);
    },
  };
}

export type IdleActivities = ReturnType<typeof createIdleActivities>;
export type { TeardownPlan } from './teardown';
