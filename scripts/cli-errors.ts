import type * as temporalCommon from '@temporalio/common';

/**
 * Exit codes a script can rely on (README, "Exit codes"), and the errors that carry them. Every command
 * ends in one of these; `scripts/cli.ts` prints the error (stderr for people, one JSON document on
 * stdout with `--json`) and exits with its code.
 */
export const EXIT_CODES = {
  ok: 0,
  /** The run (a workflow) failed, was cancelled, terminated or timed out. */
  runFailed: 1,
  /** Bad usage or input: an unknown flag, a value the schema refuses, a file that is not JSON. Nothing was started. */
  usage: 2,
  /** What the command acts on does not exist (a workflow id, an endpoint, a monitor). Nothing was started. */
  notFound: 3,
  /** Interrupted (Ctrl-C) while waiting; the run goes on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** What `--json` prints under `error`, besides `kind` and `message`. */
    readonly details: Record<string, unknown> = {},
    readonly kind = 'error',
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, EXIT_CODES.usage, details, 'usage');
  }
}

export class NotFoundError extends CliError {
  override name = 'NotFoundError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, EXIT_CODES.notFound, details, 'not-found');
  }
}

/** What went wrong in a run, from the innermost failure the worker recorded. */
export interface RunFailure {
  /** failed | cancelled | terminated | timed-out */
  outcome: string;
  /** The innermost application failure's type, e.g. `ValidationError` (absent for cancel, terminate, timeout). */
  type?: string;
  message: string;
  retryable?: boolean;
  /** Where it happened: the activity (`planDataset`) or the child workflow (`fineTune`), when it did not happen in the workflow itself. */
  activity?: string;
  childWorkflow?: string;
  /** The failure's own causes, outermost first (the raw AWS error, say). */
  causes?: string[];
}

/**
 * Says what a failed run's failure was and where it happened: the first application failure (or
 * cancellation, termination, timeout) below the activity and child-workflow wrappers, which is where
 * our code said what went wrong and what to do. Its own causes (the raw AWS error, say) follow as `causes`.
 */
export function explainFailure(error: unknown): RunFailure {
  // Loaded here, not at start-up: only a failed run needs the failure classes.
  const { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, TerminatedFailure, TimeoutFailure } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@temporalio/common') as typeof temporalCommon;
  let activity: string | undefined;
  let childWorkflow: string | undefined;
  let node: unknown = (error as { cause?: unknown } | undefined)?.cause ?? error;
  while (node instanceof ActivityFailure || node instanceof ChildWorkflowFailure) {
    if (node instanceof ActivityFailure) activity = node.activityType;
    else childWorkflow = node.execution?.workflowId ?? undefined;
    node = node.cause;
  }
  const where = { ...(activity ? { activity } : {}), ...(childWorkflow ? { childWorkflow } : {}) };
  const causes: string[] = [];
  for (let cause = (node as { cause?: unknown } | undefined)?.cause; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) {
    causes.push(cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ${cause.message}` : cause.message);
  }
  const more = causes.length > 0 ? { causes } : {};
  if (node instanceof ApplicationFailure) {
    return { outcome: 'failed', type: node.type ?? 'Error', message: node.message, retryable: !node.nonRetryable, ...where, ...more };
  }
  if (node instanceof CancelledFailure) return { outcome: 'cancelled', message: node.message || 'the run was cancelled', ...where };
  if (node instanceof TerminatedFailure) return { outcome: 'terminated', message: node.message || 'the run was terminated', ...where };
  if (node instanceof TimeoutFailure) return { outcome: 'timed-out', message: `timed out (${String(node.timeoutType)})`, ...where };
  return { outcome: 'failed', message: node instanceof Error ? node.message : String(node), ...where, ...more };
}

export class RunFailedError extends CliError {
  override name = 'RunFailedError';
  constructor(
    readonly workflowId: string,
    readonly failure: RunFailure,
    url: string | undefined,
  ) {
    const where = failure.activity ? ` in activity ${failure.activity}` : failure.childWorkflow ? ` in ${failure.childWorkflow}` : '';
    const what = failure.type ? `${failure.type}: ${failure.message}` : failure.message;
    super(
      `${workflowId} ${failure.outcome}${where}: ${what}${url ? `\n  ${url}` : ''}`,
      EXIT_CODES.runFailed,
      { workflowId, ...(url ? { url } : {}), ...failure },
      'run-failed',
    );
  }
}
