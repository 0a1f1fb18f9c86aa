import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { type ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { EvaluateActivities } from '../../activities/evaluate';
import {
  approveUpdate,
  evaluateStatusQuery,
  rejectUpdate,
  type ApprovalStatus,
  type Champion,
  type EvaluateInput,
  type EvaluateResult,
  type EvaluateStatus,
} from '../../common/evaluate/contract';
import type { ModelMetrics } from '../../common/evaluate/gate';
import type { EvaluationPlan } from '../../common/evaluate/plan';
import { evaluate } from '../../workflows/evaluate';
import { sampleEvaluationPlan } from '../helpers/evaluation-plan';
import { recordHistoryIfAsked } from '../helpers/replay';
import { uniqueId, useTimeSkippingEnv, withWorker } from '../helpers/temporal';
import { until } from '../helpers/until';

// The workflow's own logic (gate, registry status, manual approval, timeout, cancel) over scripted
// activities that record what they were asked; the activities themselves run against moto in
// test/integration/evaluate.test.ts.

const TWIN: ModelMetrics = { perplexity: 14.8, rouge_l: 0.047, style_cosine_delta: 1.89, style_char_ngram_distance: 0.56 };
const BASE: ModelMetrics = { perplexity: 266.9, rouge_l: 0.005, style_cosine_delta: 1.91, style_char_ngram_distance: 1 };
const input: EvaluateInput = { twin: 'wren', trainingJobName: 'llmtwin-train-abc' };

function planFor(settings: { twin: string; gate: { thresholds: object; primaryMetric?: string; tolerance?: number } }): EvaluationPlan {
  return sampleEvaluationPlan({
    twin: settings.twin,
    compute: 'local',
    gate: {
      thresholds: settings.gate.thresholds,
      champion: {
        primaryMetric: (settings.gate.primaryMetric ?? 'perplexity') as 'perplexity',
        tolerance: settings.gate.tolerance ?? 0.02,
      },
    },
    approvalTimeout: '2h',
  });
}

class ScriptedEvaluation {
  calls: Array<{ name: string; args: unknown }> = [];
  twin = TWIN;
  champion: Champion | null = null;
  /** Resolved by the test to let the job "finish"; pending forever by default for the cancel test. */
  jobDone: Promise<void> = Promise.resolve();

  count(name: string): number {
    return this.calls.filter((call) => call.name === name).length;
  }

  argsOf<T>(name: string): T {
    return this.calls.find((call) => call.name === name)?.args as T;
  }

  activities(): EvaluateActivities {
    const record = (name: string, args: unknown) => this.calls.push({ name, args });
    const fake = {
      planEvaluation: (args: { settings: Parameters<typeof planFor>[0] }) => {
        record('planEvaluation', args);
        return Promise.resolve(planFor(args.settings));
      },
      startEvaluationJob: (args: unknown) => {
        record('startEvaluationJob', args);
        return Promise.resolve({ jobName: 'llmtwin-eval-dddddddddddd-x', outcome: 'created', status: 'InProgress' });
      },
      waitForEvaluationJob: async (args: { jobName: string }) => {
        record('waitForEvaluationJob', args);
        // Heartbeats, as the real wait does: that is how a cancellation reaches the activity.
        const context = Context.current();
        let done = false;
        void this.jobDone.then(() => (done = true));
        while (!done) {
          context.heartbeat();
          await Promise.race([context.cancelled, context.sleep(50)]);
        }
        return { jobName: args.jobName, logs: '/tmp/jobs/x/log.txt' };
      },
      stopEvaluationJob: (args: { jobName: string }) => {
        record('stopEvaluationJob', args);
        return Promise.resolve({ jobName: args.jobName, status: 'Stopped' });
      },
      readEvaluation: (args: unknown) => {
        record('readEvaluation', args);
        return Promise.resolve({
          metrics: { twin: this.twin, base: BASE, difference: {} },
          samplesScored: 12,
          judge: null,
          evaluationUri: 's3://b/llmtwin/evaluations/x/evaluation.json',
          reportUri: 's3://b/llmtwin/evaluations/x/report.html',
        });
      },
      findChampion: (args: unknown) => {
        record('findChampion', args);
        return Promise.resolve(this.champion);
      },
      registerModelVersion: (args: { status: ApprovalStatus }) => {
        record('registerModelVersion', args);
        return Promise.resolve({ version: { groupName: 'g', arn: 'arn:pkg/1', version: 1, status: args.status }, created: true });
      },
      decideModelVersion: (args: { arn: string; status: ApprovalStatus }) => {
        record('decideModelVersion', args);
        return Promise.resolve({ groupName: 'g', arn: args.arn, version: 1, status: args.status });
      },
    };
    return fake as unknown as EvaluateActivities;
  }
}

describe('evaluate workflow (time-skipping, scripted activities)', () => {
  const server = useTimeSkippingEnv();

  function harness(scripted = new ScriptedEvaluation()) {
    const taskQueue = uniqueId('tq');
    const start = <T>(args: EvaluateInput, body: (handle: WorkflowHandle<typeof evaluate>) => Promise<T>) =>
      withWorker(
        { connection: server.env.nativeConnection, taskQueue, activities: scripted.activities(), maxHeartbeatThrottleInterval: '50ms' },
        async () => body(await server.env.client.workflow.start(evaluate, { taskQueue, workflowId: uniqueId('eval'), args: [args] })),
      );
    return {
      scripted,
      start,
      run: (args: EvaluateInput = input, record?: string) =>
        start(args, async (handle) => {
          try {
            return await handle.result();
          } finally {
            if (record) await recordHistoryIfAsked(handle, record);
          }
        }),
    };
  }

  const awaitingApproval = (handle: WorkflowHandle<typeof evaluate>) =>
    until(async () => (await handle.query(evaluateStatusQuery)).phase === 'awaiting-approval');

  it('approves a twin that passes the thresholds and beats no champion, and registers it Approved', async () => {
    const h = harness();
    const result: EvaluateResult = await h.run({ ...input, gate: { thresholds: { perplexity: 50, rouge_l: 0.01 } } }, 'evaluate-approved');

    expect(result).toMatchObject({
      decision: 'approved',
      reasons: [],
      champion: null,
      modelVersion: { status: 'Approved' },
      reused: false,
    });
    expect(result.checks.map((check) => check.passed)).toEqual([true, true, true]);
    expect(h.scripted.argsOf<{ status: string; gate: string }>('registerModelVersion')).toMatchObject({
      status: 'Approved',
      gate: 'approved',
    });
    expect(h.scripted.count('decideModelVersion')).toBe(0);
  });

  it('ends as rejected, not failed, when a threshold fails: registered Rejected with the reason, nothing awaits approval', async () => {
    const h = harness();
    const result = await h.run(
      { ...input, gate: { thresholds: { perplexity: 10 } }, approval: { mode: 'manual' } },
      'evaluate-rejected-by-gate',
    );

    expect(result.decision).toBe('rejected');
    expect(result.reasons).toEqual(['perplexity <= 10: perplexity is 14.8, above the bound 10']);
    expect(h.scripted.argsOf<{ status: string; description: string }>('registerModelVersion')).toMatchObject({
      status: 'Rejected',
      description: expect.stringContaining('perplexity is 14.8') as string,
    });
    expect(h.scripted.count('decideModelVersion')).toBe(0);
  });

  it('rejects a challenger worse than the champion on the primary metric by more than the tolerance', async () => {
    const scripted = new ScriptedEvaluation();
    scripted.champion = {
      groupName: 'g',
      arn: 'arn:pkg/0',
      version: 1,
      status: 'Approved',
      metrics: { perplexity: 12 },
      source: 'endpoint',
    };
    const h = harness(scripted);
    const result = await h.run({ ...input, targetEndpoint: 'wren-endpoint', gate: { tolerance: 0.1 } });

    expect(result.decision).toBe('rejected');
    expect(result.reasons[0]).toContain("perplexity is 14.8 against the champion's 12: worse by more than 10%");
    expect(h.scripted.argsOf('findChampion')).toMatchObject({ twin: 'wren', targetEndpoint: 'wren-endpoint' });
  });

  it('manual approval: waits in awaiting-approval, refuses a decision without a reason, then records who approved and why', async () => {
    const h = harness();
    const { result, refused, early } = await h.start({ ...input, approval: { mode: 'manual' } }, async (handle) => {
      await awaitingApproval(handle);
      const status: EvaluateStatus = await handle.query(evaluateStatusQuery);
      expect(status).toMatchObject({ modelVersion: { status: 'PendingManualApproval' }, awaiting: { onTimeout: 'reject' } });
      const refused = await handle.executeUpdate(approveUpdate, { args: [{ by: 'ada', reason: '  ' }] }).catch((error: unknown) => error);
      const after = await handle.executeUpdate(approveUpdate, { args: [{ by: 'ada', reason: 'reads like Wren' }] });
      const early = await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bo', reason: 'too late' }] }).catch((error: unknown) => error);
      await recordHistoryIfAsked(handle, 'evaluate-manual-approved');
      expect(after.decision).toMatchObject({ action: 'approve', by: 'ada', via: 'person' });
      return { result: await handle.result(), refused, early };
    });

    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).message).toContain('say why (reason)');
    expect(((early as WorkflowUpdateFailedError).cause as ApplicationFailure).message).toContain('already decided');
    expect(h.scripted.argsOf('registerModelVersion')).toMatchObject({ status: 'PendingManualApproval' });
    expect(h.scripted.argsOf('decideModelVersion')).toMatchObject({
      status: 'Approved',
      decision: { action: 'approve', by: 'ada', reason: 'reads like Wren' },
    });
    expect(result).toMatchObject({ decision: 'approved', manualDecision: { by: 'ada' }, modelVersion: { status: 'Approved' } });
  });

  it('manual rejection: the version is Rejected and the result says by whom and why', async () => {
    const h = harness();
    const result = await h.start({ ...input, approval: { mode: 'manual' } }, async (handle) => {
      await awaitingApproval(handle);
      await handle.executeUpdate(rejectUpdate, { args: [{ by: 'bo', reason: 'too formal' }] });
      return handle.result();
    });

    expect(result.decision).toBe('rejected');
    expect(result.reasons).toEqual(['rejected by bo: too formal']);
    expect(h.scripted.argsOf('decideModelVersion')).toMatchObject({ status: 'Rejected', decision: { action: 'reject', via: 'person' } });
  });

  it('an approval nobody gives times out into the default action (reject), recorded as the timeout', async () => {
    const h = harness();
    const result = await h.run({ ...input, approval: { mode: 'manual', timeout: '2h' } }, 'evaluate-approval-timed-out');

    expect(result.decision).toBe('rejected');
    expect(result.manualDecision).toMatchObject({ action: 'reject', via: 'timeout', by: 'llmtwin' });
    expect(result.reasons[0]).toMatch(/^approval timed out: nobody decided within 2h/);
    expect(h.scripted.argsOf('decideModelVersion')).toMatchObject({ status: 'Rejected' });
  });

  it('an Update sent before anything awaits approval is refused and changes nothing', async () => {
    const scripted = new ScriptedEvaluation();
    let finish!: () => void;
    scripted.jobDone = new Promise((resolve) => (finish = resolve));
    const h = harness(scripted);
    const refused = await h.start({ ...input, approval: { mode: 'manual' } }, async (handle) => {
      await until(() => scripted.count('waitForEvaluationJob') > 0);
      const error = await handle.executeUpdate(approveUpdate, { args: [{ by: 'ada', reason: 'eager' }] }).catch((e: unknown) => e);
      finish();
      await awaitingApproval(handle);
      await handle.executeUpdate(rejectUpdate, { args: [{ by: 'ada', reason: 'now' }] });
      await handle.result();
      return error;
    });
    expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).message).toContain('nothing awaits a decision');
    expect(scripted.argsOf('decideModelVersion')).toMatchObject({ status: 'Rejected' });
  });

  it('cancelling while the job runs stops the job and ends cancelled, registering nothing', async () => {
    const scripted = new ScriptedEvaluation();
    scripted.jobDone = new Promise(() => undefined);
    const h = harness(scripted);
    const error = await h.start(input, async (handle) => {
      await until(() => scripted.count('waitForEvaluationJob') > 0);
      await handle.cancel();
      return handle.result().catch((failure: unknown) => failure);
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(scripted.argsOf('stopEvaluationJob')).toEqual({ jobName: 'llmtwin-eval-dddddddddddd-x' });
    expect(scripted.count('registerModelVersion')).toBe(0);
  });

  it('refuses an input naming no model, naming the field and the fix', async () => {
    const h = harness();
    const error = await h.run({ twin: 'wren' }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('ValidationError');
    expect(cause.message).toContain('trainingJobName');
    expect(h.scripted.count('planEvaluation')).toBe(0);
  });
});
