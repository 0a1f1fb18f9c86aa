import { MockActivityEnvironment } from '@temporalio/testing';
import type { DeployActivities } from '../activities/deploy';
import type { EvaluateActivities } from '../activities/evaluate';
import type { FineTuneActivities } from '../activities/fine-tune';
import type { PrepareDataActivities } from '../activities/prepare-data';
import { DeployInputSchema } from '../common/deploy/contract';
import { EvaluateInputSchema } from '../common/evaluate/contract';
import { decideGate } from '../common/evaluate/gate';
import { registrationFor } from '../common/evaluate/registry';
import { FineTuneInputSchema, trainingJobName } from '../common/fine-tune/contract';
import type { PipelineInput, PipelineStage } from '../common/pipeline/contract';
import { PrepareDataInputSchema } from '../common/prepare-data/contract';
import { activitiesFor, type ActivityDeps } from '../workers/activities';

/**
 * The baseline of bench/pipeline.ts: the activities twinPipeline's stages run, built as the workers
 * build them, called one after another in this process on the happy path, each in a mock activity
 * context (heartbeats go nowhere), with no Temporal in between. Mirrors workflows/<stage>.ts call for
 * call; it has none of their retries, cancellation or clean-up, which is what the pipeline adds.
 * Returns each stage's wall time in seconds.
 */
export async function runStagesInPlainScript(
  deps: ActivityDeps,
  input: PipelineInput,
  runId: string,
): Promise<Record<PipelineStage, number>> {
  const data = caller(activitiesFor('data', deps) as PrepareDataActivities);
  const control = caller(activitiesFor('control', deps) as FineTuneActivities & EvaluateActivities & DeployActivities);
  const seconds = {} as Record<PipelineStage, number>;
  const stage = async <R>(name: PipelineStage, run: () => Promise<R>): Promise<R> => {
    const start = performance.now();
    const result = await run();
    seconds[name] = (performance.now() - start) / 1000;
    return result;
  };

  const dataset = await stage('prepare-data', async () => {
    const settings = PrepareDataInputSchema.parse({ ...input.prepareData, source: input.source });
    const plan = await data('planDataset', settings);
    return plan.existing ?? data('buildDataset', { input: settings, datasetHash: plan.datasetHash });
  });

  const model = await stage('fine-tune', async () => {
    const settings = FineTuneInputSchema.parse({ ...input.fineTune, datasetUri: dataset.datasetUri, runId });
    const plan = await control('planFineTune', { settings, runId, givenHyperparameters: {} });
    const candidate = { instanceType: plan.instanceTypes[0]!, jobName: trainingJobName(plan, plan.instanceTypes[0]!, runId) };
    const existing = await control('findTrainingJob', { plan, candidates: [candidate] });
    if (existing?.jobName !== candidate.jobName) await control('createTrainingJob', { plan, candidate });
    return control('waitForTrainingJob', { ...candidate, instanceCount: plan.instanceCount, spot: plan.spot.enabled });
  });

  const version = await stage('evaluate', async () => {
    const settings = EvaluateInputSchema.parse({ ...input.evaluate, twin: input.twin, trainingJobName: model.jobName, runId });
    const plan = await control('planEvaluation', { settings, runId });
    await control('startEvaluationJob', { plan });
    await control('waitForEvaluationJob', { jobName: plan.jobName });
    const report = await control('readEvaluation', { plan });
    const champion = await control('findChampion', { twin: plan.twin, evaluationJobName: plan.jobName });
    const verdict = decideGate(report.metrics.twin, champion?.metrics, plan.gate);
    if (verdict.decision !== 'approved') throw new Error(`the gate rejected the model: ${verdict.reasons.join('; ')}`);
    const registered = await control('registerModelVersion', registrationFor(plan, report, verdict, runId, 'Approved'));
    return registered.version;
  });

  await stage('deploy', async () => {
    const { enabled: _enabled, ...section } = input.deploy ?? {};
    const settings = DeployInputSchema.parse({ ...section, twin: input.twin, modelVersionArn: version.arn, runId });
    const plan = await control('planDeployment', { settings, runId });
    await control('ensureModel', { plan });
    await control('ensureEndpointConfig', { plan });
    await control('ensureEndpoint', { plan, runId });
    await control('waitForEndpoint', { endpointName: plan.endpointName, configName: plan.configName, timeout: plan.inServiceTimeout });
    await control('applyAutoscaling', { plan });
    const smoke = await control('smokeTest', { plan });
    if (smoke && !smoke.answer) throw new Error('the smoke test got no answer');
  });
  return seconds;
}

type Activity = (...args: never[]) => Promise<unknown>;

/** Calls one of a stage's activities by name, in a mock activity context of its own (as a worker would). */
function caller<T extends { [K in keyof T]: Activity }>(activities: T) {
  return <K extends keyof T>(name: K, ...args: Parameters<T[K]>): ReturnType<T[K]> =>
    new MockActivityEnvironment().run((...given: Parameters<T[K]>) => activities[name](...given), ...args) as ReturnType<T[K]>;
}
