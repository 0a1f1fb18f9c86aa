import { checkPolicyPatch, checkSweepObservation, IdleMonitorInputSchema, IdleSweepInputSchema } from '../../common/idle/schemas';
import { parseOrFail, withoutUnknownKeys } from '../../common/shared/validation';
import type { IdleChecks } from './checks';

/**
 * The idle workflows' checks as they ran before CHECKS_OUTSIDE_SANDBOX_PATCH: zod inside the sandbox,
 * with no command of their own. Only histories from then replay through here (see checks.ts);
 * remove this file with a deprecatePatch once no such workflow can still be running.
 */
/* eslint-disable @typescript-eslint/require-await -- IdleChecks returns promises; these checks are synchronous */
export const inSandboxChecks: IdleChecks = {
  // Those runs ignored unknown keys (the schemas were lenient then); they replay the same way.
  checkIdleMonitorInput: async (raw) =>
    parseOrFail(IdleMonitorInputSchema, withoutUnknownKeys(IdleMonitorInputSchema, raw), 'idleMonitor input'),
  checkIdleSweepInput: async (raw) => parseOrFail(IdleSweepInputSchema, withoutUnknownKeys(IdleSweepInputSchema, raw), 'idleSweep input'),
  checkPolicyPatch: async (raw) => checkPolicyPatch(raw),
  checkSweepObservation: async (raw) => checkSweepObservation(raw),
};
/* eslint-enable @typescript-eslint/require-await */
