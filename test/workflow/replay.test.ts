import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import * as workflows from '../../workflows';
import * as idleWorkflows from '../../workflows/idle';
import { recordedHistories } from '../helpers/replay';
import { workflowBundle } from '../helpers/temporal';

/**
 * Replay options on the queue the history ran on. The SDK names a replay worker's queue itself
 * (fake_replay_queue-N) and its options type leaves taskQueue out, but it applies one given: the fleet
 * sweep derives its exclusive child's id from its queue, so it must replay on the same one.
 */
function onQueue(taskQueue: string, options: ReplayWorkerOptions): ReplayWorkerOptions {
  return { ...options, taskQueue } as ReplayWorkerOptions;
}

// Determinism guard: every recorded history (dev server runs of the main command, and workflow-test
// scenarios recorded with LLMTWIN_RECORD_HISTORIES=1) must replay on today's workflow code.
describe('recorded histories replay on the current workflow code', () => {
  const histories = recordedHistories();

  it('has a recorded history for every workflow the worker registers', () => {
    const recordedTypes = new Set(histories.map((recorded) => recorded.workflowType));
    const registered = Object.entries(workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    expect(registered.filter((name) => !recordedTypes.has(name))).toEqual([]);
  });

  // Idle workflows run on both roles' workers (control keeps the monitors started there before the idle queue existed).
  const cases = histories.flatMap((recorded) => [
    [recorded.name, 'control', recorded] as const,
    ...(recorded.workflowType in idleWorkflows ? [[recorded.name, 'idle', recorded] as const] : []),
  ]);
  // Replayed under the history's name as its workflow id: a workflow that derives ids from its own (the
  // pipeline's child runs) was recorded under that name.
  it.each(cases)('%s replays without nondeterminism on the %s bundle', async (_name, role, recorded) => {
    await expect(
      Worker.runReplayHistory(onQueue(recorded.taskQueue, { workflowBundle: workflowBundle(role) }), recorded.history, recorded.name),
    ).resolves.toBeUndefined();
  });
});

// Before the strict-workflow-inputs patch, unknown input keys were dropped. A run started then with a
// misspelt key must replay as it ran (the key ignored), not fail on the strictness new runs get.
describe('histories from before strict inputs', () => {
  const withUnknownKeys = (name: string, extra: Record<string, unknown>) => {
    const recorded = recordedHistories().find((history) => history.name === name);
    if (!recorded) throw new Error(`no recorded history ${name}`);
    const history = structuredClone(recorded.history);
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload?.data) throw new Error(`${name} has no start input`);
    const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as Record<string, unknown>;
    payload.data = Buffer.from(JSON.stringify({ ...input, ...extra }), 'utf8');
    return history;
  };

  it.each([
    ['prepareData-lenient-inputs-built', { bogusField: 1, chunk: { maxToken: 64 } }],
    ['fineTune-lenient-inputs-created', { instanceTyp: 'ml.p4d.24xlarge' }],
  ])('%s replays with unknown keys in its input', async (name, extra) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle: workflowBundle('control') }, withUnknownKeys(name, extra), `replay-${name}-unknown-keys`),
    ).resolves.toBeUndefined();
  });

  it('the same input in a history recorded after the patch fails, as a new run would', async () => {
    const history = withUnknownKeys('prepareData-built', { bogusField: 1 });
    await expect(
      Worker.runReplayHistory({ workflowBundle: workflowBundle('control') }, history, 'replay-strict-unknown-key'),
    ).rejects.toThrow();
  });
});
