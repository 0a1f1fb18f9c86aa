import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import * as idleWorkflows from '../../workflows/idle';
import { recordedHistories } from '../helpers/replay';
import { workflowBundle } from '../helpers/temporal';

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
  it.each(cases)('%s replays without nondeterminism on the %s bundle', async (_name, role, recorded) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle: workflowBundle(role) }, recorded.history, `replay-${recorded.name}`),
    ).resolves.toBeUndefined();
  });
});
