import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  IDLE_MONITOR_ID_POLICIES,
  IDLE_MONITOR_WORKFLOW_TYPE,
  idleMonitorWorkflowId,
  keepAliveSignal,
  pauseSignal,
  policyFromConfig,
  resumeSignal,
  setPolicySignal,
  statusQuery,
  type IdleMonitorInput,
  type IdleMonitorWorkflow,
  type IdlePolicyPatch,
} from '../../common/idle/contract';
import { IdleMonitorInputSchema, IdlePolicyPatchSchema } from '../../common/idle/schemas';
import { formatDuration } from '../../common/idle/decision';
import {
  formatIdle,
  IDLE_SWEEP_WORKFLOW_TYPE,
  type IdleSweepInput,
  type IdleSweepResult,
  type IdleSweepWorkflow,
} from '../../common/idle/sweep';
import { createAwsClients, destroyAwsClients } from '../../platform/aws-clients';
import { describeWorkflowIfExists } from '../../platform/temporal-client';
import { checkedInput } from '../cli-input';
import { printResult, type CliContext } from '../cli-context';
import { runIdleMonitorDemo } from '../demos/idle';
import { describeIdleSweepSchedule, removeIdleSweepSchedule, upsertIdleSweepSchedule } from '../schedules/idle-sweep';

interface PolicyFlags {
  interval?: string;
  window?: string;
  grace?: string;
}

/**
 * `llmtwin endpoints ...`: the fleet report, one idle monitor per endpoint (start, signal, query) and
 * the schedule of the fleet sweep. Everything goes through workflows, so a worker must be running.
 */
export function registerEndpoints(program: Command, context: CliContext): void {
  const endpoints = program
    .command('endpoints')
    .description('SageMaker endpoints: fleet report, idle monitors and the idle sweep schedule (needs a running worker)');

  endpoints
    .command('list')
    .description('every endpoint in the account: status, last invocation, idle time, monitor state, cost per day')
    .option('--window <duration>', 'how far back to read Invocations (default: config idle.window)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { window?: string; json?: boolean }) => {
      const policy = { ...policyFromConfig(context.config.idle), ...(options.window ? { window: options.window } : {}) };
      await sweepOnce(context, { mode: 'report', policy }, 'idle-report', options.json);
    });

  endpoints
    .command('monitor <endpoint>')
    .description('start the idle monitor of an endpoint (returns the running one if there is one)')
    .option('--interval <duration>', 'check interval (default: config idle.checkInterval)')
    .option('--window <duration>', 'delete after this long without invocations (default: config idle.window)')
    .option('--grace <duration>', 'protection after InService (default: one window)')
    .option('--keep-model', 'keep the model when deleting the endpoint')
    .option('--wait', 'wait until the monitor ends and print its summary')
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: PolicyFlags & { keepModel?: boolean; wait?: boolean; json?: boolean }) => {
      const input: IdleMonitorInput = checkedInput(
        IdleMonitorInputSchema,
        { endpointName, policy: { ...policyFromConfig(context.config.idle), ...policyPatch(options) }, deleteModel: !options.keepModel },
        'monitor input',
      );
      const client = await context.temporal();
      const workflowId = idleMonitorWorkflowId(endpointName);
      const wasRunning = (await monitorStatus(client, workflowId)) === 'RUNNING';
      const handle = await client.workflow.start<IdleMonitorWorkflow>(IDLE_MONITOR_WORKFLOW_TYPE, {
        taskQueue: context.idleQueue,
        workflowId,
        ...IDLE_MONITOR_ID_POLICIES,
        args: [input],
      });
      context.announce(workflowId, wasRunning ? 'already running (its policy is unchanged; use set-policy):' : 'started');
      if (options.wait) printResult({ ...(await handle.result()) }, Boolean(options.json));
    });

  endpoints
    .command('status <endpoint>')
    .description("the monitor's status (state, last check, last invocation, time until deletion), or its summary once it ended")
    .option('--json', 'print JSON')
    .action(async (endpointName: string, options: { json?: boolean }) => {
      const client = await context.temporal();
      const handle = client.workflow.getHandle<IdleMonitorWorkflow>(idleMonitorWorkflowId(endpointName));
      const status = await monitorStatus(client, handle.workflowId);
      if (status === undefined)
        throw new Error(`no idle monitor for ${endpointName}; start one with: llmtwin endpoints monitor ${endpointName}`);
      if (status !== 'RUNNING') {
        const summary = status === 'COMPLETED' ? await handle.result() : undefined;
        printResult({ monitor: status.toLowerCase(), ...(summary ?? {}) }, Boolean(options.json));
        return;
      }
      const view = await handle.query(statusQuery);
      printResult(
        { ...view, timeUntilDeletion: view.timeUntilDeletionMs === null ? null : formatDuration(view.timeUntilDeletionMs) },
        Boolean(options.json),
      );
    });

  const signalCommand = (name: string, description: string, send: (client: Client, workflowId: string) => Promise<void>) =>
    endpoints
      .command(`${name} <endpoint>`)
      .description(description)
      .action(async (endpointName: string) => {
        const client = await context.temporal();
        const workflowId = idleMonitorWorkflowId(endpointName);
        if ((await monitorStatus(client, workflowId)) !== 'RUNNING') throw new Error(`no running idle monitor for ${endpointName}`);
        await send(client, workflowId);
        console.log(`${name} sent to ${workflowId}`);
      });
  signalCommand('keep-alive', 'count as an invocation now: the deletion moves one window away', (client, id) =>
    client.workflow.getHandle(id).signal(keepAliveSignal),
  );
  signalCommand('pause', 'never delete until resumed (the monitor keeps checking and reporting)', (client, id) =>
    client.workflow.getHandle(id).signal(pauseSignal),
  );
  signalCommand('resume', 'back to normal rules (idle time is not reset; send keep-alive for that)', (client, id) =>
    client.workflow.getHandle(id).signal(resumeSignal),
  );

  endpoints
    .command('set-policy <endpoint>')
    .description("change a running monitor's interval, window or grace")
    .option('--interval <duration>', 'check interval, e.g. "5m"')
    .option('--window <duration>', 'idle window, e.g. "2h"')
    .option('--grace <duration>', 'grace after InService, e.g. "0s" or "1h"')
    .action(async (endpointName: string, options: PolicyFlags) => {
      const patch = checkedInput(IdlePolicyPatchSchema, policyPatch(options), 'policy');
      const client = await context.temporal();
      const workflowId = idleMonitorWorkflowId(endpointName);
      if ((await monitorStatus(client, workflowId)) !== 'RUNNING') throw new Error(`no running idle monitor for ${endpointName}`);
      await client.workflow.getHandle(workflowId).signal(setPolicySignal, patch);
      console.log(`setPolicy ${JSON.stringify(patch)} sent to ${workflowId}`);
    });

  endpoints
    .command('sweep')
    .description('run the fleet sweep once now: every endpoint tagged llmtwin:managed=true gets a running monitor')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await sweepOnce(context, { mode: 'ensure', policy: policyFromConfig(context.config.idle) }, 'idle-sweep-now', options.json);
    });

  endpoints
    .command('schedule')
    .description('create or update the Temporal Schedule that runs the sweep (idempotent); --delete removes it, --show describes it')
    .option('--every <duration>', 'how often (default: config idle.checkInterval)')
    .option('--report', 'report only: the scheduled sweep starts no monitors')
    .option('--paused', 'create or leave the schedule paused')
    .option('--now', 'when creating, run the first sweep at once')
    .option('--delete', 'delete the schedule (no-op when there is none)')
    .option('--show', 'describe the schedule and its recent runs')
    .action(async (options: { every?: string; report?: boolean; paused?: boolean; now?: boolean; delete?: boolean; show?: boolean }) => {
      const client = await context.temporal();
      const taskQueue = context.idleQueue;
      if (options.delete) {
        const { scheduleId, outcome } = await removeIdleSweepSchedule(client, taskQueue);
        console.log(`${scheduleId}: ${outcome === 'deleted' ? 'deleted' : 'there was no such schedule'}`);
        return;
      }
      if (!options.show) {
        const every = options.every ?? context.config.idle.checkInterval;
        const sweep = { mode: options.report ? ('report' as const) : ('ensure' as const), policy: policyFromConfig(context.config.idle) };
        const { scheduleId, outcome } = await upsertIdleSweepSchedule(client, {
          taskQueue,
          every,
          sweep,
          paused: Boolean(options.paused),
          triggerImmediately: Boolean(options.now),
        });
        console.log(`${scheduleId}: ${outcome}, sweeping every ${every} (${sweep.mode})`);
      }
      const described = await describeIdleSweepSchedule(client, taskQueue);
      if (!described) {
        console.log('no idle sweep schedule; create one with: llmtwin endpoints schedule');
        return;
      }
      printResult(
        {
          scheduleId: described.scheduleId,
          paused: described.state.paused,
          note: described.state.note ?? '',
          every: described.spec.intervals?.map((interval) => formatDuration(Number(interval.every))).join(', ') ?? '',
          nextRuns: described.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()),
          recentRuns: described.info.recentActions
            .slice(-3)
            .map((action) => `${action.takenAt.toISOString()} ${action.action.workflow.workflowId}`),
        },
        false,
      );
    });

  endpoints
    .command('demo')
    .description('local stack only: create a demo endpoint in moto, monitor it with a seconds-scale policy, watch it deleted')
    .action(async () => {
      const client = await context.temporal();
      const aws = createAwsClients(context.config);
      try {
        await runIdleMonitorDemo({ client, config: context.config, sagemaker: aws.sagemaker, taskQueue: context.idleQueue });
      } finally {
        destroyAwsClients(aws);
      }
    });
}

function policyPatch(options: PolicyFlags): IdlePolicyPatch {
  return {
    ...(options.interval ? { checkInterval: options.interval } : {}),
    ...(options.window ? { window: options.window } : {}),
    ...(options.grace ? { grace: options.grace } : {}),
  };
}

async function monitorStatus(client: Client, workflowId: string): Promise<string | undefined> {
  return (await describeWorkflowIfExists(client, workflowId))?.status;
}

/** The fleet as a table for people. */
/** One sweep now (report or ensure), waited for and printed as the fleet table or JSON. */
async function sweepOnce(context: CliContext, input: IdleSweepInput, idPrefix: string, json = false): Promise<void> {
  const client = await context.temporal();
  const result = await client.workflow.execute<IdleSweepWorkflow>(IDLE_SWEEP_WORKFLOW_TYPE, {
    taskQueue: context.idleQueue,
    workflowId: `${idPrefix}-${Date.now()}`,
    args: [input],
  });
  if (json) console.log(JSON.stringify(result, null, 2));
  else printFleet(result);
}

export function printFleet(report: IdleSweepResult): void {
  const header = ['ENDPOINT', 'STATUS', 'INSTANCES', 'LAST INVOCATION', 'IDLE', 'MONITOR', 'COST/DAY'];
  const rows = report.rows.map((row) => [
    `${row.endpointName}${row.keep ? ' (keep)' : ''}${row.managed ? '' : ' (not ours)'}`,
    row.status,
    row.instances,
    row.lastInvocationAt ? row.lastInvocationAt.slice(0, 19).replace('T', ' ') : 'none in window',
    formatIdle(row),
    row.monitorState ? `${row.monitor}: ${row.monitorState}${row.deleteAt ? ` (deletes ${row.deleteAt.slice(11, 19)})` : ''}` : row.monitor,
    row.costPerDayUsd === null ? 'unknown' : `$${row.costPerDayUsd.toFixed(2)}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const line of [header, ...rows])
    console.log(
      line
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `\n${report.endpoints} endpoint(s), ${report.managed} managed; fleet $${report.fleetCostPerDayUsd.toFixed(2)}/day; window ${formatDuration(report.windowMs)}; ` +
      `${report.getMetricDataCalls} GetMetricData call(s) for ${report.metricQueries} metric(s)` +
      (report.mode === 'ensure' ? `; monitors started ${report.monitorsStarted}, already running ${report.monitorsAlreadyRunning}` : ''),
  );
}
