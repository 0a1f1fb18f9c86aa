import { configSection } from '../config/sections';
import { IdlePolicySchema } from './schemas';

/** The idle stage's worker-side defaults: the policy a monitor gets when its starter names none. */
export const IDLE_CONFIG = configSection({
  key: 'idle',
  // The same policy a monitor's input carries, with the same defaults and the same window rule.
  schema: IdlePolicySchema.prefault({}),
  envVars: [
    { name: 'LLMTWIN_IDLE_CHECK_INTERVAL', path: 'idle.checkInterval', kind: 'string' },
    { name: 'LLMTWIN_IDLE_WINDOW', path: 'idle.window', kind: 'string' },
    { name: 'LLMTWIN_IDLE_GRACE', path: 'idle.grace', kind: 'string' },
    { name: 'LLMTWIN_IDLE_ASYNC_METRIC', path: 'idle.asyncMetric', kind: 'string' },
  ],
});
