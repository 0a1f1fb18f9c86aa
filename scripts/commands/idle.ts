import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  IDLE_MONITOR_ID_POLICIES,
  IDLE_MONITOR_WORKFLOW_TYPE,
  idleMonitorWorkflowId,
  keepAliveSignal,
  pauseSignal,
  policyFromConfig,
  policyProblem,
  resumeSignal,
  setPolicySignal,
  statusQuery,
  type IdleMonitorInput,
  type IdleMonitorStatus,
  type IdleMonitorWorkflow,
  type IdlePolicy,
  type IdlePolicyPatch,
  type IdleSummary,
} from '../../common/idle/contract';
import { formatDuration } from '../../common/idle/decision';
import { IdleMonitorInputSchema, IdlePolicyPatchSchema } from '../../common/idle/schemas';
import type { CliContext } from '../cli-context';
import { NotFoundError, UsageError } from '../cli-errors';
import { checkedInput } from '../cli-input';
import { fieldLines, printResult } from '../cli-output';
import { awaitRun, describeRunOf } from '../run-follower';
import { registerFleetCommands } from './idle-fleet';
import type * as endpointsModule from '../../activities/aws/endpoints';

interface PolicyFlags {
  interval?: string;
  window?: string;
  grace?: string;
  asyncMetric?: string;
}

const ASYNC_METRIC_HELP =
  'asynchronous endpoints publish no Invocations: judge them by this AWS/SageMaker metric, e.g. InvocationsProcessed (default: config idle.asyncMetric; unset: never deleted as idle)';

const POLICY_FLAGS: Readonly<Record<string, string>> = {
  'policy.checkInterval': '--interval',
  'policy.window': '--window',
  'policy.grace': '--grace',
  'policy.asyncMetric': '--async-metric',
  checkInterval: '--interval',
  window: '--window',
  grace: '--grace',
  asyncMetric: '--async-metric',
  endpointName: '<endpoint>',
};

/**
 * `llmtwin endpoints ...`: the idle stage (one monitor per endpoint: start, signal, query, stop) and the
 * fleet commands (idle-fleet.ts). Monitors run on the idle queue, so a worker must serve it.
 */
export function registerEndpoints(endpoints: Command, context: CliContext): void {
  endpoints.addHelpText('after', '\nMonitors and sweeps need a worker on the idle queue (`npm run worker`, or `npm start`).');

  endpoints
    .command('monitor <endpoint>')
    .description('start the idle monitor of an endpoint (returns the running one if there is one); the endpoint must exist')
    .option('--interval <duration>', 'check interval (default: config idle.checkInterval)')
    .option('--window <duration>', 'delete after this long without invocations, at least one interval (default: config idle.window)')
    .option('--grace <duration>', 'protection after InService (default: one window)')
    .option('--async-metric <metric>', ASYNC_METRIC_HELP)
    .option('--keep-model', 'keep the model when deleting the endpoint')
    .option('--wait', 'wait until the monitor ends and print its summary')
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: PolicyFlags & { keepModel?: boolean; wait?: boolean; json?: boolean }) => {
      const input: IdleMonitorInput = checkedInput(
        IdleMonitorInputSchema,
        { endpointName, policy: { ...policyFromConfig(context.config.idle), ...policyPatch(options) }, deleteModel: !options.keepModel },
        'monitor input',
        { flags: POLICY_FLAGS },
      );
      await requireEndpoint(context, endpointName);
      const client = await context.temporal();
      const workflowId = idleMonitorWorkflowId(endpointName);
      const wasRunning = (await runStatus(client, workflowId)) === 'RUNNING';
      const handle = await client.workflow.start<IdleMonitorWorkflow>(IDLE_MONITOR_WORKFLOW_TYPE, {
        taskQueue: context.idleQueue,
        workflowId,
        ...IDLE_MONITOR_ID_POLICIES,
        args: [input],
      });
      // A running monitor keeps its own policy: say which one is in force.
      const policy = wasRunning ? (await handle.query(statusQuery).catch(() => undefined))?.policy : (input.policy as IdlePolicy);
      context.announce(workflowId, wasRunning ? 'already running (its policy is unchanged; change it with set-policy):' : 'started');
      if (options.wait) {
        const summary = await awaitRun(context, handle, { cancelHint: `llmtwin endpoints stop-monitor ${endpointName}` });
        printResult(summary, Boolean(options.json), () => summaryLines(summary));
        return;
      }
      const started = {
        workflowId,
        endpointName,
        started: !wasRunning,
        url: context.workflowUrl(workflowId) ?? null,
        ...(policy ? policyInForce(policy) : {}),
      };
      printResult(started, Boolean(options.json), () => policyLines(policy));
    });

  endpoints
    .command('status <endpoint>')
    .description("the monitor's status (state, last check, last invocation, time until deletion), or its summary once it ended")
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: { json?: boolean }) => {
      const client = await context.temporal();
      const workflowId = idleMonitorWorkflowId(endpointName);
      const { status } = await monitorOf(context, endpointName);
      const handle = client.workflow.getHandle<IdleMonitorWorkflow>(workflowId);
      if (status !== 'RUNNING') {
        const summary = status === 'COMPLETED' ? await handle.result() : undefined;
        printResult({ monitor: status.toLowerCase(), ...(summary ?? {}) }, Boolean(options.json), () =>
          summary ? summaryLines(summary) : [`the monitor of ${endpointName} ended: ${status.toLowerCase()}`],
        );
        return;
      }
      const view = await handle.query(statusQuery);
      // The monitor computed its countdown at its last check; the deadline itself is what holds now.
      const timeUntilDeletionMs = view.deleteAt === null ? null : Math.max(0, Date.parse(view.deleteAt) - Date.now());
      const shown = {
        monitor: 'running',
        ...view,
        timeUntilDeletionMs,
        timeUntilDeletion: timeUntilDeletionMs === null ? null : formatDuration(timeUntilDeletionMs),
      };
      printResult(shown, Boolean(options.json), () => statusLines(view, timeUntilDeletionMs));
    });

  const signalCommand = (name: string, signal: string, description: string, send: (client: Client, workflowId: string) => Promise<void>) =>
    endpoints
      .command(`${name} <endpoint>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (endpointName: string, options: { json?: boolean }) => {
        const workflowId = await runningMonitorOf(context, endpointName);
        await send(await context.temporal(), workflowId);
        printResult({ workflowId, endpointName, signal, sent: true }, Boolean(options.json), () => [`${signal} sent to ${workflowId}`]);
      });
  signalCommand('keep-alive', 'keepAlive', 'count as an invocation now: the deletion moves one window away', (client, id) =>
    client.workflow.getHandle(id).signal(keepAliveSignal),
  );
  signalCommand('pause', 'pause', 'never delete until resumed (the monitor keeps checking and reporting)', (client, id) =>
    client.workflow.getHandle(id).signal(pauseSignal),
  );
  signalCommand('resume', 'resume', 'back to normal rules (idle time is not reset; send keep-alive for that)', (client, id) =>
    client.workflow.getHandle(id).signal(resumeSignal),
  );

  endpoints
    .command('set-policy <endpoint>')
    .description("change a running monitor's interval, window, grace or async metric (the window must be at least one interval)")
    .option('--interval <duration>', 'check interval, e.g. "5m"')
    .option('--window <duration>', 'idle window, e.g. "2h"')
    .option('--grace <duration>', 'grace after InService, e.g. "0s" or "1h" (unset: one window)')
    .option('--async-metric <metric>', ASYNC_METRIC_HELP)
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: PolicyFlags & { json?: boolean }) => {
      const patch = checkedInput(IdlePolicyPatchSchema, policyPatch(options), 'policy', { flags: POLICY_FLAGS });
      const workflowId = await runningMonitorOf(context, endpointName);
      const handle = (await context.temporal()).workflow.getHandle<IdleMonitorWorkflow>(workflowId);
      const current = await handle.query(statusQuery);
      const policy: IdlePolicy = { ...current.policy, ...(patch as Partial<IdlePolicy>) };
      const problem = policyProblem(policy);
      if (problem) throw new UsageError(`invalid policy: ${problem}; nothing was sent`, { policy });
      await handle.signal(setPolicySignal, patch);
      printResult({ workflowId, endpointName, sent: true, ...policyInForce(policy) }, Boolean(options.json), () => [
        `setPolicy sent to ${workflowId}`,
        ...policyLines(policy),
      ]);
    });

  endpoints
    .command('stop-monitor <endpoint>')
    .description('stop watching an endpoint WITHOUT deleting it: it stays up, and bills, until something else deletes it')
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: { json?: boolean }) => {
      const workflowId = await runningMonitorOf(context, endpointName);
      const handle = (await context.temporal()).workflow.getHandle<IdleMonitorWorkflow>(workflowId);
      const view = await handle.query(statusQuery).catch(() => undefined);
      if (view?.state === 'deleting')
        throw new UsageError(`the monitor of ${endpointName} is deleting it right now; let the teardown finish`, { workflowId });
      await handle.cancel();
      await handle.result().catch(() => undefined);
      const cost =
        view?.costPerDayUsd === null || view?.costPerDayUsd === undefined ? 'an unknown amount' : `about $${view.costPerDayUsd.toFixed(2)}`;
      printResult(
        { workflowId, endpointName, stopped: true, endpointKept: true, costPerDayUsd: view?.costPerDayUsd ?? null },
        Boolean(options.json),
        () => [
          `stopped ${workflowId}: ${endpointName} stays up, unwatched, and costs ${cost} a day until it is deleted.`,
          `The next fleet sweep (if scheduled) starts a new monitor with the default policy; to keep the endpoint,`,
          `tag it llmtwin:keep=true, or keep a monitor and use: llmtwin endpoints pause ${endpointName}`,
        ],
      );
    });

  registerFleetCommands(endpoints, context);
}

function policyPatch(options: PolicyFlags): IdlePolicyPatch {
  return {
    ...(options.interval ? { checkInterval: options.interval } : {}),
    ...(options.window ? { window: options.window } : {}),
    ...(options.grace ? { grace: options.grace } : {}),
    ...(options.asyncMetric ? { asyncMetric: options.asyncMetric } : {}),
  };
}

/** The policy with the grace spelled out: unset, it is one window, and it follows the window when that changes. */
function policyInForce(policy: IdlePolicy) {
  return { policy, grace: policy.grace ?? policy.window, graceFollowsWindow: policy.grace === undefined };
}

function policyLines(policy: IdlePolicy | undefined): string[] {
  if (!policy) return [];
  const grace = policy.grace === undefined ? `${policy.window} (one window; set --grace to fix it)` : policy.grace;
  const asyncRule = policy.asyncMetric ? `; asynchronous endpoints judged by ${policy.asyncMetric}` : '';
  return [
    `policy  check every ${policy.checkInterval}, delete after ${policy.window} without invocations, grace after InService ${grace}${asyncRule}`,
  ];
}

async function runStatus(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return undefined;
    throw error;
  }
}

/** The endpoint's monitor run (any status); NotFound (exit 3) when it never had one. */
async function monitorOf(context: CliContext, endpointName: string): Promise<{ status: string }> {
  try {
    return await describeRunOf(context, idleMonitorWorkflowId(endpointName), IDLE_MONITOR_WORKFLOW_TYPE);
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(`no idle monitor for ${endpointName}; start one with: llmtwin endpoints monitor ${endpointName}`, {
        endpointName,
      });
    }
    throw error;
  }
}

/** The id of the endpoint's running monitor; NotFound (exit 3) when it has none running. */
async function runningMonitorOf(context: CliContext, endpointName: string): Promise<string> {
  const { status } = await monitorOf(context, endpointName);
  if (status !== 'RUNNING') {
    throw new NotFoundError(
      `the idle monitor of ${endpointName} is not running (${status.toLowerCase()}); start one with: llmtwin endpoints monitor ${endpointName}`,
      {
        endpointName,
        monitor: status.toLowerCase(),
      },
    );
  }
  return idleMonitorWorkflowId(endpointName);
}

/** Monitoring an endpoint that does not exist would start a monitor that only finds it gone: refuse first. */
async function requireEndpoint(context: CliContext, endpointName: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the AWS SDK loads only for commands that call AWS
  const { describeEndpointIfExists } = require('../../activities/aws/endpoints') as typeof endpointsModule;
  const endpoint = await describeEndpointIfExists(context.aws().sagemaker, endpointName).catch((error: unknown) => {
    throw new Error(`cannot check endpoint ${endpointName}: ${(error as Error).message}`);
  });
  if (!endpoint) {
    const where = context.config.aws.target === 'local' ? 'the local stack (moto)' : `${context.config.aws.region}`;
    throw new NotFoundError(`endpoint ${endpointName} does not exist in ${where}; nothing was started`, { endpointName });
  }
}

function statusLines(view: IdleMonitorStatus, timeUntilDeletionMs: number | null): string[] {
  return fieldLines({
    endpoint: `${view.endpointName} (${view.endpointStatus ?? 'unknown'})`,
    state: view.state,
    deletes: view.deleteAt
      ? `${view.deleteAt} (in ${formatDuration(timeUntilDeletionMs ?? 0)})`
      : view.paused
        ? 'never while paused'
        : 'not scheduled',
    'last call': view.lastInvocationAt ?? 'none seen',
    'in service': view.inServiceAt,
    'last check': view.lastCheck ? `${view.lastCheck.at}: ${view.lastCheck.action} (${view.lastCheck.reason})` : null,
    policy: `every ${view.policy.checkInterval}, window ${view.policy.window}, grace ${view.policy.grace ?? `${view.policy.window} (one window)`}`,
    cost: view.costPerDayUsd === null ? 'unknown' : `$${view.costPerDayUsd.toFixed(2)}/day`,
    'refused policy': view.rejectedPolicy,
    checks: `${view.checks} in ${view.runs} run(s), ${view.keepAlives} keep-alive(s)`,
  });
}

function summaryLines(summary: IdleSummary): string[] {
  const lines = [summary.message];
  const shown = {
    uptime: summary.uptime,
    'idle cost': summary.estimatedIdleCostUsd === null ? null : `~$${summary.estimatedIdleCostUsd.toFixed(2)}`,
  };
  for (const [key, value] of Object.entries(shown)) if (value !== null) lines.push(`${key}: ${value}`);
  return lines;
}
