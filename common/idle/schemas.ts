import { z } from 'zod';
import { DurationSchema, NonNegativeDurationSchema } from '../shared/duration-schema';
import { SageMakerNameSchema } from '../shared/schemas';
import { policyProblem } from './policy';
import { describeIssues } from '../shared/validation';

/**
 * The idle stage's boundary schemas: what starts a monitor or a sweep, what a monitor carries across
 * continue-as-new, and the payloads people and the sweep signal it. Kept out of the workflows' import
 * graph on purpose: the idle workflows validate with these in local activities, outside the workflow
 * sandbox, because zod evaluated inside it costs about 0.8 MB per cached workflow (workflows/idle/index.ts).
 * The contract's plain parts (ids, signals, reports) are in contract.ts and sweep.ts.
 */

const EndpointNameSchema = SageMakerNameSchema;

/**
 * A metric of AWS/SageMaker, by EndpointName and VariantName, whose per-minute Sum counts an
 * asynchronous endpoint's requests (InvocationsProcessed is the one SageMaker publishes for them).
 */
const AsyncMetricSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,254}$/, 'must be a CloudWatch metric name of AWS/SageMaker, such as InvocationsProcessed');

/** Idle policy. Defaults match config.idle; starters pass config.idle explicitly (policyFromConfig). */
export const IdlePolicySchema = z
  .strictObject({
    /** How often the monitor checks the endpoint. */
    checkInterval: DurationSchema.default('5m'),
    /** A whole window with no invocations makes an endpoint idle. */
    window: DurationSchema.default('60m'),
    /** Protection after the endpoint went InService; unset means one window; "0s" means none. */
    grace: NonNegativeDurationSchema.optional(),
    /**
     * Asynchronous inference endpoints publish no Invocations: unset, they are never deleted as idle
     * ("not measurable"); set, this metric is read for them instead and the normal rules apply.
     */
    asyncMetric: AsyncMetricSchema.optional(),
  })
  .superRefine((policy, ctx) => {
    const problem = policyProblem(policy);
    if (problem) ctx.addIssue({ code: 'custom', path: ['window'], message: problem });
  });
export type IdlePolicy = z.output<typeof IdlePolicySchema>;
export type IdlePolicyInput = z.input<typeof IdlePolicySchema>;

/** The `setPolicy` signal's payload: any subset of the policy. */
export const IdlePolicyPatchSchema = z
  .strictObject({
    checkInterval: DurationSchema.optional(),
    window: DurationSchema.optional(),
    grace: NonNegativeDurationSchema.optional(),
    asyncMetric: AsyncMetricSchema.optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    message: 'give at least one of checkInterval, window, grace, asyncMetric',
  });
export type IdlePolicyPatch = z.input<typeof IdlePolicyPatchSchema>;

const VariantSchema = z.strictObject({
  variantName: z.string(),
  /** Absent for serverless variants, which have no instances to price. */
  instanceType: z.string().optional(),
  instanceCount: z.number().int().nonnegative(),
  /** Price of one instance of this type (config.pricing over the built-in table); absent if unknown. */
  usdPerInstanceHour: z.number().nonnegative().optional(),
});
export type VariantSnapshot = z.output<typeof VariantSchema>;

/**
 * What one look at an endpoint found: SageMaker's view plus the Invocations metric over a window
 * ending at `observedAt`. Made by the monitor's own check or by the fleet sweep (the `observe` signal).
 * Times are epoch milliseconds.
 */
export const FoundObservationSchema = z.strictObject({
  found: z.literal(true),
  endpointName: z.string(),
  observedAt: z.number(),
  /** Length of the metric window that ends at observedAt. */
  windowMs: z.number().nonnegative(),
  status: z.string(),
  creationTime: z.number(),
  lastModifiedTime: z.number(),
  endpointConfigName: z.string().optional(),
  variants: z.array(VariantSchema),
  managed: z.boolean(),
  keep: z.boolean(),
  /** An asynchronous inference endpoint: it publishes no Invocations metric, so it is never judged idle... */
  asynchronous: z.boolean().optional(),
  /** ...unless its reading counts this metric instead (the policy's asyncMetric); absent: not measured. */
  measuredBy: z.string().optional(),
  /** End of the last 1-minute metric period with invocations inside the window; null when none. */
  lastInvocationAt: z.number().nullable(),
  invocationsInWindow: z.number().nonnegative(),
});
export const EndpointObservationSchema = z.discriminatedUnion('found', [
  z.strictObject({ found: z.literal(false), endpointName: z.string(), observedAt: z.number() }),
  FoundObservationSchema,
]);
export type EndpointObservation = z.output<typeof EndpointObservationSchema>;
export type FoundObservation = z.output<typeof FoundObservationSchema>;

export const CheckActionSchema = z.enum(['delete', 'wait', 'keep']);

/** Everything the monitor knows; carried through continue-as-new in the input's `state`. */
export const IdleMonitorStateSchema = z.strictObject({
  firstStartedAt: z.number(),
  runs: z.number().int().positive(),
  checks: z.number().int().nonnegative(),
  keepAlives: z.number().int().nonnegative(),
  paused: z.boolean(),
  /** When the endpoint first went InService, as far as this monitor knows; fixes the grace period. */
  inServiceAt: z.number().optional(),
  /** Latest invocation seen in metrics, or a keepAlive. */
  lastInvocationAt: z.number().optional(),
  lastCheck: z
    .strictObject({
      at: z.number(),
      action: CheckActionSchema,
      reason: z.string(),
      source: z.enum(['monitor', 'sweep']),
      deleteAt: z.number().optional(),
    })
    .optional(),
  /** The newest observation of the endpoint (from this monitor's own check or from the sweep). */
  observation: FoundObservationSchema.optional(),
  /** Who made it: a sweep's observation stands in for the monitor's own read while it is fresh. */
  observationFrom: z.enum(['monitor', 'sweep']).optional(),
  /** Why the last `setPolicy` was refused, if it was. */
  rejectedPolicy: z.string().optional(),
  /** Set while AWS calls keep failing (after their retries): the monitor goes on, and says so. */
  degraded: z
    .strictObject({
      since: z.number(),
      failures: z.number().int().positive(),
      during: z.enum(['check', 'teardown']),
      lastError: z.string(),
    })
    .optional(),
  /** Checks or teardown attempts that failed over the monitor's life (each after the activity's own retries). */
  failedAttempts: z.number().int().nonnegative().optional(),
});
export type IdleMonitorState = z.output<typeof IdleMonitorStateSchema>;

export const IdleMonitorInputSchema = z.strictObject({
  endpointName: EndpointNameSchema,
  policy: IdlePolicySchema.prefault({}),
  /** Delete the model(s) the endpoint serves when they are ours (tagged llmtwin:managed=true). */
  deleteModel: z.boolean().default(true),
  /** Continue-as-new after this many checks (well before the history grows large). */
  maxChecksPerRun: z.number().int().min(1).max(5_000).default(200),
  /** Carried across continue-as-new; leave unset when starting a monitor. */
  state: IdleMonitorStateSchema.optional(),
});
export type IdleMonitorInput = z.input<typeof IdleMonitorInputSchema>;
export type ParsedIdleMonitorInput = z.output<typeof IdleMonitorInputSchema>;

/** What starts a fleet sweep (the Schedule passes it). */
export const IdleSweepInputSchema = z
  .strictObject({
    mode: z.enum(['ensure', 'report']).default('ensure'),
    /** Policy of the monitors the sweep starts; its window is also the window the sweep reads. */
    policy: IdlePolicySchema.prefault({}),
    deleteModel: z.boolean().default(true),
  })
  .prefault({});
export type IdleSweepInput = z.input<typeof IdleSweepInputSchema>;
export type ParsedIdleSweepInput = z.output<typeof IdleSweepInputSchema>;

/** A `setPolicy` payload, checked: the fields it sets, or why it was refused. */
export type PolicyPatchCheck = { accepted: true; patch: Partial<IdlePolicy> } | { accepted: false; reason: string };

/** A signal cannot be refused to its sender, so a bad patch comes back as a reason, never as an error. */
export function checkPolicyPatch(raw: unknown): PolicyPatchCheck {
  const parsed = IdlePolicyPatchSchema.safeParse(raw);
  if (!parsed.success) return { accepted: false, reason: describeIssues(parsed.error, IdlePolicyPatchSchema).join('; ') };
  const patch = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined)) as Partial<IdlePolicy>;
  return { accepted: true, patch };
}

/** The sweep's `observe` payload: a found observation, or null (malformed, or "not found", which a monitor verifies itself). */
export function checkSweepObservation(raw: unknown): FoundObservation | null {
  const parsed = EndpointObservationSchema.safeParse(raw);
  return parsed.success && parsed.data.found ? parsed.data : null;
}
