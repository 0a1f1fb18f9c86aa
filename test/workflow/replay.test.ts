import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
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

  it.each(histories.map((recorded) => [recorded.name, recorded] as const))('%s replays without nondeterminism', async (_name, recorded) => {
    await expect(Worker.runReplayHistory({ workflowBundle: workflowBundle() }, recorded.history, `replay-${recorded.name}`)).resolves.toBeUndefined();
  });
});
