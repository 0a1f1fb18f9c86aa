import type { FoundObservation, ParsedIdleMonitorInput } from '../../common/idle/contract';
import {
  checkPolicyPatch,
  checkSweepObservation,
  IdleMonitorInputSchema,
  IdleSweepInputSchema,
  type ParsedIdleSweepInput,
  type PolicyPatchCheck,
} from '../../common/idle/schemas';
import { parseOrFail } from '../../common/shared/validation';

/**
 * The idle workflows' boundary checks, run as local activities so zod runs in the worker's main isolate
 * once per process instead of being evaluated inside every cached workflow (about 0.8 MB each, which
 * is what kept a 1,000-endpoint fleet from fitting a small worker). Results are recorded in history as
 * markers, so a replay never checks again. Pure: no I/O, safe to run any number of times.
 */
/* eslint-disable @typescript-eslint/require-await -- activities return promises; these checks are synchronous */
export function createIdleValidationActivities() {
  return {
    /** A monitor's start (or continue-as-new) input with defaults applied; a ValidationError names each bad field. */
    async checkIdleMonitorInput(raw: unknown): Promise<ParsedIdleMonitorInput> {
      return parseOrFail(IdleMonitorInputSchema, raw, 'idleMonitor input');
    },
    async checkIdleSweepInput(raw: unknown): Promise<ParsedIdleSweepInput> {
      return parseOrFail(IdleSweepInputSchema, raw, 'idleSweep input');
    },
    async checkPolicyPatch(raw: unknown): Promise<PolicyPatchCheck> {
      return checkPolicyPatch(raw);
    },
    async checkSweepObservation(raw: unknown): Promise<FoundObservation | null> {
      return checkSweepObservation(raw);
    },
  };
}

/* eslint-enable @typescript-eslint/require-await */

export type IdleValidationActivities = ReturnType<typeof createIdleValidationActivities>;
