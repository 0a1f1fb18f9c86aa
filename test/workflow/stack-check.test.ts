import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { StackCheckObject } from '../../common/stack-check/contract';
import { stackCheck } from '../../workflows/stack-check';
import { uniqueId, useTimeSkippingEnv, withWorker } from '../helpers/temporal';

describe('stackCheck workflow (time-skipping)', () => {
  const server = useTimeSkippingEnv();

  const fakeObject: StackCheckObject = { bucket: 'b', key: 'k', uri: 's3://b/k', sha256: 'x', bytes: 1 };

  it('sleeps a simulated day in seconds of real time', async () => {
    const taskQueue = uniqueId('tq');
    const written: string[] = [];
    const activities = {
      async writeStackCheckObject(input: { message: string }) {
        written.push(input.message);
        return fakeObject;
      },
    };
    const startedAt = Date.now();
    const result = await withWorker({ connection: server.env.nativeConnection, taskQueue, activities }, () =>
      server.env.client.workflow.execute(stackCheck, {
        taskQueue,
        workflowId: uniqueId('wf'),
        args: [{ message: 'after a day', delay: '1 day' }],
      }),
    );
    const realSeconds = (Date.now() - startedAt) / 1000;

    expect(result.waitedMs).toBe(24 * 60 * 60 * 1000);
    expect(written).toEqual(['after a day']);
    expect(realSeconds).toBeLessThan(30);
  });

  it('rejects bad input at once, naming the field', async () => {
    const taskQueue = uniqueId('tq');
    const run = withWorker(
      { connection: server.env.nativeConnection, taskQueue, activities: { writeStackCheckObject: async () => fakeObject } },
      () =>
        server.env.client.workflow.execute(stackCheck, { taskQueue, workflowId: uniqueId('wf'), args: [{ message: '', delay: 'soon' }] }),
    );
    const error = await run.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('ValidationError');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toMatch(/message: .*\bdelay: must be a positive duration/);
  });

  it('refuses an unknown key at once, naming it and the nearest valid one', async () => {
    const taskQueue = uniqueId('tq');
    const run = withWorker(
      { connection: server.env.nativeConnection, taskQueue, activities: { writeStackCheckObject: async () => fakeObject } },
      () => server.env.client.workflow.execute(stackCheck, { taskQueue, workflowId: uniqueId('wf'), args: [{ mesage: 'hi' } as never] }),
    );
    const cause = ((await run.catch((failure: unknown) => failure)) as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(cause.message).toMatch(/^invalid stackCheck input: mesage: unknown key; did you mean "message"\?/);
  });
});
