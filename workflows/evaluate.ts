import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { EvaluateActivities } from '../activities/evaluate';
import {
  ApprovalDecisionSchema,
  approveUpdate,
  EVALUATE_STAGE,
  EvaluateInputSchema,
  evaluateStatusQuery,
  rejectUpdate,
  type ApprovalDecision,
  type ApprovalStatus,
  type EvaluateInput,
  type EvaluateResult,
  type EvaluateStatus,
  type ManualDecision,
} from '../common/evaluate/contract';
import { decideGate } from '../common/evaluate/gate';
import { registrationFor } from '../common/evaluate/registry';
import { AWS_CALL, AWS_CREATE, AWS_SETUP, LONG_WAIT, STOP_JOB } from '../common/shared/activity-options';
import { durationToMs } from '../common/shared/durations';
import { SEARCH_ATTRIBUTES } from '../common/shared/search-attributes';
import { describeIssues } from '../common/shared/validation';
import { parseWorkflowInput } from './boundary';

// Planning reads the training job and stages the job's config and code: a few calls and uploads.
const { planEvaluation } = proxyActivities<EvaluateActivities>(AWS_SETUP);
// Waits for the create attempt to finish before cleanup, so a job created at cancellation time is still stopped.
const { startEvaluationJob } = proxyActivities<EvaluateActivities>(AWS_CREATE);
// Polling is only reading: on cancellation, move on to stopping the job at once.
const { waitForEvaluationJob } = proxyActivities<EvaluateActivities>(LONG_WAIT);
// Stopping waits until the job has really stopped.
const { stopEvaluationJob } = proxyActivities<EvaluateActivities>(STOP_JOB);
// One read or a few registry calls each, retried on throttling.
const { readEvaluation, findChampion, registerModelVersion, decideModelVersion } = proxyActivities<EvaluateActivities>(AWS_CALL);

/**
 * Scores a fine-tuned model against its base model with a processing job, applies the quality gate
 * (thresholds, then champion/challenger), registers the version in the twin's Model Package Group
 * with the gate's status, and, when asked, waits for a person's `approve` or `reject` Update. A gate
 * that fails ends the run normally as `rejected`, with the reasons. Cancelling stops the job.
 */
export async function evaluate(rawInput: EvaluateInput): Promise<EvaluateResult> {
  const settings = parseWorkflowInput(EvaluateInputSchema, rawInput, 'evaluate input');
  const info = workflowInfo();
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: EVALUATE_STAGE }]);
  const status: EvaluateStatus = { phase: 'planning' };
  let decision: ManualDecision | undefined;
  setHandler(evaluateStatusQuery, () => status);
  const validator = (given: ApprovalDecision) => {
    if (status.phase !== 'awaiting-approval' || decision) {
      throw new Error(
        `nothing awaits a decision: this evaluation is ${decision ? 'already decided' : status.phase}${status.phase === 'planning' || status.phase === 'evaluating' || status.phase === 'gating' || status.phase === 'registering' ? ' (try again once it awaits approval)' : ''}`,
      );
    }
    const parsed = ApprovalDecisionSchema.safeParse(given);
    if (!parsed.success) throw new Error(`invalid decision: ${describeIssues(parsed.error, ApprovalDecisionSchema).join('; ')}`);
  };
  const decide = (action: ManualDecision['action']) => (given: ApprovalDecision) => {
    decision = { ...ApprovalDecisionSchema.parse(given), action, via: 'person', at: new Date().toISOString() };
    status.decision = decision;
    return status;
  };
  setHandler(approveUpdate, decide('approve'), { validator });
  setHandler(rejectUpdate, decide('reject'), { validator });

  let running: string | undefined;
  try {
    const plan = await planEvaluation({ settings, runId: settings.runId ?? info.workflowId });
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.datasetHash, value: plan.datasetHash }]);
    Object.assign(status, { phase: 'evaluating', jobName: plan.jobName });
    running = plan.jobName;
    const started = await startEvaluationJob({ plan });
    const { logs, console: consoleUrl } = await waitForEvaluationJob({ jobName: plan.jobName });
    running = undefined;
    const report = await readEvaluation({ plan });

    status.phase = 'gating';
    const champion = await findChampion({ twin: plan.twin, targetEndpoint: settings.targetEndpoint, evaluationJobName: plan.jobName });
    const verdict = decideGate(report.metrics.twin, champion?.metrics, plan.gate);
    status.gate = { decision: verdict.decision, reasons: verdict.reasons };
    const manual = settings.approval.mode === 'manual' && verdict.decision === 'approved';
    const initial: ApprovalStatus = verdict.decision === 'rejected' ? 'Rejected' : manual ? 'PendingManualApproval' : 'Approved';

    status.phase = 'registering';
    const registered = await registerModelVersion(registrationFor(plan, report, verdict, info.workflowId, initial));
    let version = registered.version;
    status.modelVersion = version;

    const reasons = [...verdict.reasons];
    if (manual) {
      const timeoutMs = durationToMs(plan.approvalTimeout);
      status.phase = 'awaiting-approval';
      status.awaiting = { deadline: new Date(Date.now() + timeoutMs).toISOString(), onTimeout: settings.approval.onTimeout };
      const decided = await condition(() => decision !== undefined, timeoutMs);
      if (!decided) {
        decision = {
          action: settings.approval.onTimeout,
          by: 'llmtwin',
          reason: `nobody decided within ${plan.approvalTimeout}: the default action (approval.onTimeout) applies`,
          via: 'timeout',
          at: new Date().toISOString(),
        };
      }
      const made = decision as ManualDecision;
      status.decision = made;
      delete status.awaiting;
      version = await decideModelVersion({ arn: version.arn, status: made.action === 'approve' ? 'Approved' : 'Rejected', decision: made });
      status.modelVersion = version;
      if (made.action === 'reject')
        reasons.push(`${made.via === 'timeout' ? 'approval timed out' : `rejected by ${made.by}`}: ${made.reason}`);
    }
    status.phase = 'done';
    await condition(allHandlersFinished);
    return {
      twin: plan.twin,
      decision: version.status === 'Approved' ? 'approved' : 'rejected',
      reasons,
      checks: verdict.checks,
      metrics: report.metrics,
      primaryMetric: plan.gate.champion.primaryMetric,
      champion,
      modelVersion: version,
      ...(status.decision ? { manualDecision: status.decision } : {}),
      jobName: plan.jobName,
      reused: started.outcome === 'reused',
      modelUri: plan.modelUri,
      datasetHash: plan.datasetHash,
      baseModelId: plan.baseModelId,
      samplesScored: report.samplesScored,
      evaluationUri: report.evaluationUri,
      reportUri: report.reportUri,
      compute: plan.compute,
      logs,
      ...(consoleUrl ? { console: consoleUrl } : {}),
    };
  } catch (error) {
    if (isCancellation(error)) {
      if (running) {
        status.phase = 'stopping';
        const jobName = running;
        // Runs to the end even though the workflow is being cancelled: never leave a GPU job running.
        await CancellationScope.nonCancellable(() => stopEvaluationJob({ jobName }));
      }
      status.phase = 'cancelled';
    } else {
      status.phase = 'failed';
    }
    throw error;
  }
}
