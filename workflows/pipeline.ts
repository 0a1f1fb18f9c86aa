import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { DEPLOY_WORKFLOW_TYPE, type DeployInput, type DeployResult } from '../common/deploy/contract';
import { EVALUATE_WORKFLOW_TYPE, type EvaluateInput, type EvaluateResult } from '../common/evaluate/contract';
import { FINE_TUNE_WORKFLOW_TYPE, type FineTuneInput, type FineTuneResult } from '../common/fine-tune/contract';
import {
  PIPELINE_STAGE,
  PIPELINE_STAGES,
  PipelineInputSchema,
  progressQuery,
  stageWorkflowId,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type PipelineStage,
  type StageProgress,
} from '../common/pipeline/contract';
import { PREPARE_DATA_WORKFLOW_TYPE, type PrepareDataInput, type PrepareDataResult } from '../common/prepare-data/contract';
import { regionOfArn, sageMakerConsoleUrl } from '../common/shared/console-links';
import { SEARCH_ATTRIBUTES } from '../common/shared/search-attributes';
import { parseWorkflowInput } from './boundary';

/**
 * The whole twin: prepare data, fine-tune, evaluate (the gate, and a person's approval when asked),
 * deploy, and the endpoint's idle monitor, which deploy starts and which outlives this run. Each stage
 * is a child workflow with an id derived from this one, visible and inspectable on its own, and its
 * history stays there: this one holds a few events per stage. Every stage reuses what a run with the
 * same inputs made, so a rerun on an unchanged source finishes in seconds and creates nothing.
 */
export async function twinPipeline(rawInput: PipelineInput): Promise<PipelineResult> {
  const input = parseWorkflowInput(PipelineInputSchema, rawInput, 'pipeline input');
  const { workflowId } = workflowInfo();
  const runId = input.runId ?? workflowId;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: PIPELINE_STAGE }]);
  const stages: StageProgress[] = PIPELINE_STAGES.map((stage) => ({
    stage,
    status: 'pending',
    workflowId: stageWorkflowId(workflowId, stage),
  }));
  const progress: PipelineProgress = { twin: input.twin, current: null, stages, costUsd: null };
  setHandler(progressQuery, () => progress);

  /** Runs one stage's child workflow, keeping its entry in `progress` current. */
  async function stage<R>(
    name: PipelineStage,
    type: string,
    args: unknown,
    summarize: (result: R) => Pick<StageProgress, 'status' | 'summary' | 'links'>,
  ): Promise<R> {
    const entry = stages.find((candidate) => candidate.stage === name) as StageProgress;
    progress.current = name;
    Object.assign(entry, { status: 'running', startedAt: new Date().toISOString() });
    try {
      const result = await executeChild<(input: unknown) => Promise<R>>(type, { workflowId: entry.workflowId, args: [args] });
      Object.assign(entry, summarize(result), { endedAt: new Date().toISOString() });
      upsertMemo({ summary: memoLine(progress) });
      return result;
    } catch (error) {
      const cancelled = isCancellation(error);
      Object.assign(entry, { status: cancelled ? 'cancelled' : 'failed', endedAt: new Date().toISOString(), error: causeMessage(error) });
      upsertMemo({ summary: memoLine(progress) });
      if (cancelled) throw error;
      throw ApplicationFailure.create({
        type: 'StageFailed',
        nonRetryable: true,
        message: `the ${name} stage failed (its run: ${entry.workflowId})`,
        cause: error as Error,
      });
    }
  }

  const prepareInput: PrepareDataInput = { ...(input.prepareData as object), source: input.source };
  const dataset = await stage<PrepareDataResult>('prepare-data', PREPARE_DATA_WORKFLOW_TYPE, prepareInput, (result) => ({
    status: result.reused ? 'reused' : 'done',
    summary: `${result.datasetHash.slice(0, 12)}: ${result.counts.trainRecords} train / ${result.counts.testRecords} test pairs${result.reused ? ' (reused)' : ''}`,
    links: { dataset: result.datasetUri },
  }));
  progress.datasetHash = dataset.datasetHash;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.datasetHash, value: dataset.datasetHash }]);

  const fineTuneInput: FineTuneInput = { ...(input.fineTune as object), datasetUri: dataset.datasetUri, runId };
  const model = await stage<FineTuneResult>('fine-tune', FINE_TUNE_WORKFLOW_TYPE, fineTuneInput, (result) => ({
    status: result.reused ? 'reused' : 'done',
    summary: `${result.jobName}${result.reused ? ' (reused)' : ''}${result.estimatedCostUsd === null ? '' : `, ~$${result.estimatedCostUsd.toFixed(2)}`}`,
    links: { model: result.artifactsUri, logs: result.logs, ...(result.console ? { console: result.console } : {}) },
  }));
  progress.costUsd = model.estimatedCostUsd;

  const deploySection = input.deploy as (Partial<DeployInput> & { enabled?: boolean }) | undefined;
  const { enabled: deployEnabled = true, ...deployRest } = deploySection ?? {};
  const evaluateInput = {
    ...(input.evaluate as object),
    twin: input.twin,
    trainingJobName: model.jobName,
    runId,
    // The champion is what the twin's endpoint serves, when it has one.
    ...(deployRest.endpointName ? { targetEndpoint: deployRest.endpointName } : {}),
  } as EvaluateInput;
  const verdict = await stage<EvaluateResult>('evaluate', EVALUATE_WORKFLOW_TYPE, evaluateInput, (result) => ({
    status: result.decision === 'approved' ? (result.reused ? 'reused' : 'done') : 'rejected',
    summary: `${result.decision}: version ${result.modelVersion.version} ${result.modelVersion.status}${result.reasons.length > 0 ? ` (${result.reasons.join('; ')})` : ''}`,
    links: { report: result.reportUri, ...(result.console ? { console: result.console } : {}) },
  }));
  progress.metrics = verdict.metrics;

  let deployment: DeployResult | null = null;
  const deployEntry = stages.find((entry) => entry.stage === 'deploy') as StageProgress;
  if (verdict.decision !== 'approved') {
    Object.assign(deployEntry, { status: 'skipped', summary: 'the model was rejected: nothing is deployed' });
  } else if (!deployEnabled) {
    Object.assign(deployEntry, { status: 'skipped', summary: 'deploy.enabled is false' });
  } else {
    const deployInput = { ...deployRest, twin: input.twin, modelVersionArn: verdict.modelVersion.arn, runId } as DeployInput;
    deployment = await stage<DeployResult>('deploy', DEPLOY_WORKFLOW_TYPE, deployInput, (result) => ({
      status: result.action === 'unchanged' ? 'reused' : 'done',
      summary: `${result.endpointName} ${result.action}${result.monitor ? `; watched by ${result.monitor.workflowId}` : ''}`,
      links: { invoke: result.invokeUrl, ...endpointConsole(result) },
    }));
    progress.endpointName = deployment.endpointName;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.endpointName, value: deployment.endpointName }]);
  }
  progress.current = 'done';
  upsertMemo({ summary: memoLine(progress) });

  return {
    twin: input.twin,
    outcome: verdict.decision !== 'approved' ? 'rejected' : deployment ? 'served' : 'registered',
    reasons: verdict.reasons,
    dataset: { datasetHash: dataset.datasetHash, datasetUri: dataset.datasetUri, reused: dataset.reused, counts: dataset.counts },
    model: {
      jobName: model.jobName,
      artifactsUri: model.artifactsUri,
      reused: model.reused,
      estimatedCostUsd: model.estimatedCostUsd,
      finalMetrics: model.finalMetrics,
      compute: model.compute,
    },
    evaluation: {
      decision: verdict.decision,
      reasons: verdict.reasons,
      metrics: verdict.metrics,
      modelVersion: verdict.modelVersion,
      reused: verdict.reused,
      reportUri: verdict.reportUri,
    },
    deployment: deployment
      ? {
          endpointName: deployment.endpointName,
          endpointArn: deployment.endpointArn,
          configName: deployment.configName,
          invokeUrl: deployment.invokeUrl,
          action: deployment.action,
          previousConfigName: deployment.previousConfigName,
          monitor: deployment.monitor,
          smokeTest: deployment.smokeTest,
        }
      : null,
    stages,
  };
}

/** The endpoint's page in the AWS console, for endpoints on SageMaker (its ARN names the region). */
function endpointConsole(result: DeployResult): { console?: string } {
  const region = result.compute === 'sagemaker' ? regionOfArn(result.endpointArn) : undefined;
  return region ? { console: sageMakerConsoleUrl(region, 'endpoint', result.endpointName) } : {};
}

/** The deepest message in a failure's chain: what actually went wrong, not "child workflow failed". */
function causeMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause;
  return current?.message ?? String(error);
}

function memoLine(progress: PipelineProgress): string {
  return `${progress.twin}: ${progress.stages.map((entry) => `${entry.stage} ${entry.status}`).join(', ')}`;
}
