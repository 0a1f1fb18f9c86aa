import type { Client, Workflow, WorkflowHandle, WorkflowStartOptions } from '@temporalio/client';
import { EXIT_CODES, explainFailure, NotFoundError, RunFailedError, UsageError } from './cli-errors';
import { defaultWorkflowId, type CliContext } from './cli-context';
import { notice, printResult } from './cli-output';
import type * as cliProgressModule from 'cli-progress';

/**
 * Follows a run until it ends, for every command that waits on one: progress from the pending
 * activities' heartbeat details (what the worker reports as it goes), drawn as a bar on a terminal or
 * as a line per change otherwise (logs, CI); then the result, or the failure explained (what failed,
 * where, and the run's Web UI link) as a RunFailedError. Ctrl-C stops waiting, not the run: it says so,
 * with the run's id and link, and exits 130. Progress goes to stderr so that stdout holds only the result.
 */

export interface StartOptions {
  /** The id's prefix when none is given: `<prefix>-<time>-<random>`. */
  idPrefix: string;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
  /** Said when detached: how to act on the run later. */
  detachedHint?: (workflowId: string) => string;
  /** The workflow id is an idempotency key: a start with an id in use (running or closed) follows that run instead of failing. */
  reuseRunning?: boolean;
}

/**
 * Starts a stage's run by type name on the control queue and says where to watch it. With `--detach`
 * it prints the run's id (and link) as the result and returns undefined: the caller has nothing to follow.
 */
export async function startRun<W extends Workflow>(
  context: CliContext,
  workflowType: string,
  input: Parameters<W>[0],
  options: StartOptions,
): Promise<WorkflowHandle<W> | undefined> {
  const client = await context.temporal();
  const workflowId = options.workflowId ?? defaultWorkflowId(options.idPrefix);
  let handle: WorkflowHandle<W>;
  let existing = false;
  try {
    // Every stage's workflow takes its one input; the cast only says so to the generic start options.
    handle = await client.workflow.start<W>(workflowType, {
      taskQueue: context.controlQueue,
      workflowId,
      args: [input],
      // As an idempotency key: Temporal refuses a second run with the id (running or closed), and that run is followed.
      ...(options.reuseRunning ? { workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'REJECT_DUPLICATE' } : {}),
    } as unknown as WorkflowStartOptions<W>);
  } catch (error) {
    if (!options.reuseRunning || (error as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw error;
    handle = client.workflow.getHandle<W>(workflowId);
    existing = true;
  }
  context.announce(workflowId, existing ? 'found the earlier run' : 'started');
  if (!options.detach) return handle;
  if (options.detachedHint) notice(options.detachedHint(workflowId));
  printResult(
    { workflowId, status: existing ? 'existing' : 'started', url: context.workflowUrl(workflowId) ?? null },
    Boolean(options.json),
    () => [],
  );
  return undefined;
}

/** What one look at a running workflow shows. */
export interface RunView {
  line: string;
  /** A bar when stderr is a terminal; the line otherwise. */
  bar?: { phase: string; done: number; total: number; detail: string };
}

export interface FollowOptions {
  intervalMs?: number;
  /** Builds the view from the latest heartbeat details of each pending activity (and anything else it reads). */
  view?: (heartbeats: unknown[]) => Promise<RunView | undefined> | RunView | undefined;
  /** The command that cancels the run, shown when waiting is interrupted. */
  cancelHint?: string;
}

/** The handle's part the follower uses; any workflow's handle fits, and its result type comes through. */
type FollowedHandle<Result> = Pick<WorkflowHandle, 'describe' | 'workflowId'> & { result(): Promise<Result> };

export async function awaitRun<Result>(context: CliContext, handle: FollowedHandle<Result>, options: FollowOptions = {}): Promise<Result> {
  const onInterrupt = () => {
    const url = context.workflowUrl(handle.workflowId);
    notice(
      `\ninterrupted: stopped waiting; ${handle.workflowId} goes on${url ? `  ${url}` : ''}${options.cancelHint ? `\ncancel it with: ${options.cancelHint}` : ''}`,
    );
    process.exit(EXIT_CODES.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return options.view ? await followRun(await context.temporal(), handle, { ...options, view: options.view }) : await handle.result();
  } catch (error) {
    if ((error as Error | undefined)?.name === 'WorkflowFailedError') {
      throw new RunFailedError(handle.workflowId, explainFailure(error), context.workflowUrl(handle.workflowId));
    }
    throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** What to use instead, when a command is pointed at a run of another stage. */
const OTHER_STAGE_HINTS: Readonly<Record<string, (workflowId: string) => string>> = {
  idleMonitor: (workflowId) => `to stop watching the endpoint: llmtwin endpoints stop-monitor ${workflowId.replace(/^idle-monitor-/, '')}`,
  fineTune: (workflowId) => `to cancel it: llmtwin fine-tune cancel ${workflowId}`,
};

/**
 * A run this command may act on: it exists (else NotFound, exit 3) and is of the command's workflow type
 * (else a usage error that says what it is; nothing is done to it).
 */
export async function describeRunOf(context: CliContext, workflowId: string, workflowType: string): Promise<{ status: string }> {
  const client = await context.temporal();
  let description: Awaited<ReturnType<WorkflowHandle['describe']>>;
  try {
    description = await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') {
      throw new NotFoundError(`no run with workflow id ${workflowId} (the id is printed when a run starts, and listed in the Web UI)`, {
        workflowId,
      });
    }
    throw error;
  }
  if (description.type !== workflowType) {
    const hint = OTHER_STAGE_HINTS[description.type]?.(workflowId);
    throw new UsageError(
      `${workflowId} is ${/^[aeiou]/i.test(description.type) ? 'an' : 'a'} ${description.type} run, not a ${workflowType} run; nothing was done to it${hint ? ` (${hint})` : ''}`,
      {
        workflowId,
        workflowType: description.type,
      },
    );
  }
  return { status: description.status.name };
}

async function followRun<Result>(
  client: Client,
  handle: FollowedHandle<Result>,
  options: FollowOptions & Required<Pick<FollowOptions, 'view'>>,
): Promise<Result> {
  const result = handle.result();
  let settled = false;
  void result.then(
    () => (settled = true),
    () => (settled = true),
  );
  const display = ProgressDisplay.create();
  try {
    while (!settled) {
      // A look that fails (the run just ended, a server hiccup) shows nothing this time; the next one tries again.
      const view = await Promise.resolve()
        .then(async () => options.view(await pendingHeartbeats(client, handle)))
        .catch(() => undefined);
      if (view) display.show(view);
      await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000))]);
    }
  } finally {
    display.stop();
  }
  return result;
}

/**
 * The latest heartbeat details of each of the run's pending activities, decoded, then those of its
 * running children's (a prepareData run builds its dataset in a child workflow).
 */
export async function pendingHeartbeats(client: Client, handle: Pick<WorkflowHandle, 'describe'>, depth = 0): Promise<unknown[]> {
  const description = await handle.describe();
  const converter = client.options.loadedDataConverter.payloadConverter;
  const own = (description.raw.pendingActivities ?? [])
    .map((activity) => activity.heartbeatDetails?.payloads?.[0])
    .filter((payload) => payload !== undefined && payload !== null)
    .map((payload) => converter.fromPayload<unknown>(payload));
  if (depth >= MAX_CHILD_DEPTH) return own;
  const children = await Promise.all(
    (description.raw.pendingChildren ?? [])
      .filter((child) => child.workflowId)
      .map((child) => pendingHeartbeats(client, client.workflow.getHandle(child.workflowId!, child.runId ?? undefined), depth + 1)),
  );
  return [...own, ...children.flat()];
}

/** Children of children are looked into too (a pipeline's prepareData builds in its own child); no deeper. */
const MAX_CHILD_DEPTH = 2;

class ProgressDisplay {
  private barPhase: string | undefined;
  private lastLine = '';

  private constructor(private readonly bar: cliProgressModule.SingleBar | undefined) {}

  /** A bar only on a terminal (cli-progress is loaded then and only then). */
  static create(): ProgressDisplay {
    if (!process.stderr.isTTY) return new ProgressDisplay(undefined);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a bar is drawn
    const { Presets, SingleBar } = require('cli-progress') as typeof cliProgressModule;
    return new ProgressDisplay(
      new SingleBar({ format: '{phase} |{bar}| {percentage}% {detail}', hideCursor: true, clearOnComplete: true }, Presets.shades_classic),
    );
  }

  show(view: RunView): void {
    if (this.bar && view.bar) {
      const { phase, done, total, detail } = view.bar;
      if (this.barPhase !== phase) {
        if (this.barPhase) this.bar.stop();
        this.bar.start(Math.max(total, 1), done, { phase: phase.padEnd(11), detail });
        this.barPhase = phase;
      }
      this.bar.update(done, { detail });
      return;
    }
    if (view.line === this.lastLine) return;
    notice(`[${new Date().toISOString().slice(11, 19)}] ${view.line}`);
    this.lastLine = view.line;
  }

  stop(): void {
    this.bar?.stop();
  }
}
