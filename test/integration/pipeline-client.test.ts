import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { cancelPipeline, decideApproval, getProgress, InvalidPipelineInputError, listRuns, startPipeline } from '../../client';
import { stageWorkflowId } from '../../common/pipeline/contract';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The typed client another service would use, against a real dev server. Only the control worker runs,
// so the pipeline waits in prepare-data (its data work has no worker): a run that stays put to look at.
const stack = useStackWorkers({ roles: ['control'] });
const input = { source: { kind: 'local' as const, path: 'examples/corpus' }, twin: 'wren' };

it('starts idempotently, answers progress, lists the run, cancels it with its running stage', async () => {
  const workflowId = uniqueId('pipeline');
  const first = await startPipeline(stack.client, stack.queues.control, input, { workflowId });
  const again = await startPipeline(stack.client, stack.queues.control, input, { workflowId });
  expect([first.existing, again.existing]).toEqual([false, true]);

  let progress = await getProgress(stack.client, workflowId);
  for (let look = 0; look < 50 && progress.current !== 'prepare-data'; look += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    progress = await getProgress(stack.client, workflowId);
  }
  expect(progress).toMatchObject({ twin: 'wren', current: 'prepare-data' });
  expect(progress.stages.map((stage) => [stage.stage, stage.status])).toEqual([
    ['prepare-data', 'running'],
    ['fine-tune', 'pending'],
    ['evaluate', 'pending'],
    ['deploy', 'pending'],
  ]);
  expect((await listRuns(stack.client)).filter((run) => run.workflowId === workflowId)).toEqual([
    expect.objectContaining({ status: 'RUNNING', closeTime: null }),
  ]);

  // No evaluate stage runs yet: there is nothing to approve, and the error says which run was asked.
  await expect(decideApproval(stack.client, workflowId, 'approve', { by: 'ada', reason: 'reads well' })).rejects.toThrow(/not found/i);

  await cancelPipeline(stack.client, workflowId);
  const error = await first.result().catch((failure: unknown) => failure);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const stage = await stack.client.workflow.getHandle(stageWorkflowId(workflowId, 'prepare-data')).describe();
  expect(stage.status.name).toBe('CANCELLED');
  const after = await getProgress(stack.client, workflowId);
  expect(after.stages[0]?.status).toBe('cancelled');
});

it('refuses a bad input before anything starts, naming each field', async () => {
  const workflowId = uniqueId('pipeline');
  const refused = await startPipeline(
    stack.client,
    stack.queues.control,
    { ...input, twin: 'Wren', deploy: { trafficRouting: { type: 'LINEAR' } } },
    { workflowId },
  ).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(InvalidPipelineInputError);
  expect((refused as InvalidPipelineInputError).problems).toEqual([
    expect.stringMatching(/^twin: must be lower-case/),
    expect.stringMatching(/^deploy\.trafficRouting\.percent: LINEAR needs percent/),
  ]);
  expect((await listRuns(stack.client)).map((run) => run.workflowId)).not.toContain(workflowId);
});
