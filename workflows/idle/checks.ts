import { ActivityFailure, ApplicationFailure, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { IdleValidationActivities } from '../../activities/idle/validation';
import { LOCAL_CHECK } from '../../common/shared/activity-options';
import type * as inSandboxModule from './checks-in-sandbox';

/**
 * How the idle workflows check what crosses their boundary (start input, `setPolicy`, the sweep's
 * `observe`). The zod schemas run in local activities, outside the workflow sandbox: zod evaluated in
 * the sandbox costs about 0.8 MB per cached workflow, against about 0.1 MB for the monitor itself, and
 * a worker caches one workflow per monitored endpoint. Nothing in this file's static import graph may
 * load zod; test/unit/idle/bundle.test.ts checks that.
 */
export type IdleChecks = {
  [Name in keyof IdleValidationActivities]: (raw: unknown) => ReturnType<IdleValidationActivities[Name]>;
};

/** Histories recorded before this patch validated inside the sandbox and replay with those checks. */
export const CHECKS_OUTSIDE_SANDBOX_PATCH = 'idle-checks-in-local-activities';

const local = proxyLocalActivities<IdleValidationActivities>(LOCAL_CHECK);

const localChecks: IdleChecks = {
  checkIdleMonitorInput: (raw) => failingAsItself(local.checkIdleMonitorInput(raw)),
  checkIdleSweepInput: (raw) => failingAsItself(local.checkIdleSweepInput(raw)),
  checkPolicyPatch: (raw) => local.checkPolicyPatch(raw),
  checkSweepObservation: (raw) => local.checkSweepObservation(raw),
};

/** The checks this run uses: local activities, or the in-sandbox ones when replaying older history. */
export function idleChecks(): IdleChecks {
  if (patched(CHECKS_OUTSIDE_SANDBOX_PATCH)) return localChecks;
  // Required here, not imported: webpack then evaluates zod only in workflows that replay old history.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./checks-in-sandbox') as typeof inSandboxModule).inSandboxChecks;
}

/** A failed check fails the workflow with the check's own message ("invalid idleMonitor input: ..."), not "activity failed". */
async function failingAsItself<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) throw error.cause;
    throw error;
  }
}
