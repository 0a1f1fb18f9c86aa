import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/** The ApplicationFailure a promise rejects with; fails the test if it resolves or rejects with something else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(outcome)}`);
  return outcome;
}

/** The ApplicationFailure a failed workflow run ended with (unwrapping the activity failure it came from, if any). */
export async function workflowFailureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await run.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof WorkflowFailedError)) throw new Error(`expected the run to fail, got ${String(outcome)}`);
  let cause = outcome.cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure cause, got ${String(cause)}`);
  return cause;
}
