import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema, NonNegativeDurationSchema } from '../shared/duration-schema';
import { policyProblem } from './policy';

/** The idle stage's worker-side defaults: the policy a monitor gets when its starter names none. */
export const IDLE_CONFIG = configSection({
  key: 'idle',
  schema: z
    .strictObject({
      checkInterval: DurationSchema.default('5m'),
      window: DurationSchema.default('60m'),
      /** Protects new endpoints; defaults to one idle window when unset. */
      grace: NonNegativeDurationSchema.optional(),
    })
    .superRefine((policy, ctx) => {
      const problem = policyProblem(policy);
      if (problem) ctx.addIssue({ code: 'custom', path: ['window'], message: problem });
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_IDLE_CHECK_INTERVAL', path: 'idle.checkInterval', kind: 'string' },
    { name: 'LLMTWIN_IDLE_WINDOW', path: 'idle.window', kind: 'string' },
    { name: 'LLMTWIN_IDLE_GRACE', path: 'idle.grace', kind: 'string' },
  ],
});
