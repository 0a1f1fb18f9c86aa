import { ApplicationFailure } from '@temporalio/common';

/** The ApplicationFailure a promise rejects with; fails the test if it resolves or rejects with something else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(outcome)}`);
  return outcome;
}
