import type { Command } from 'commander';
import { policyFromConfig } from '../../common/idle/contract';
import { formatDuration } from '../../common/idle/decision';
import { IdleSweepInputSchema } from '../../common/idle/schemas';
import {
  formatIdle,
  IDLE_SWEEP_WORKFLOW_TYPE,
  type IdleSweepInput,
  type IdleSweepResult,
  type IdleSweepWorkflow,
} from '../../common/idle/sweep';
import { defaultWorkflowId, type CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput } from '../cli-input';
import { printFields, printJson, printResult } from '../cli-output';
import { awaitRun } from '../run-follower';
import type * as idleSweepModule from '../schedules/idle-sweep';
import type * as idleModule from '../demos/idle';
import type * as sweepModule from '../../activities/idle/sweep';

/* eslint-disable @typescript-eslint/no-require-imports -- the AWS SDK and the sweep's code load only for the commands that use them */

/** `llmtwin endpoints list | sweep | schedule | demo`: the whole fleet, and the Schedule that sweeps it. */
export function registerFleetCommands(endpoints: Command, context: CliContext): void {
  endpoints
    .command('list')
    .description('every endpoint in the account: status, last invocation (keep-alives included), idle time, monitor state, cost per day')
    .option('--window <duration>', 'how far back to read Invocations (default: config idle.window)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { window?: string; json?: boolean }) => {
      const policy = {
        ...policyFromConfig(context.config.idle),
        ...(options.window ? { window: options.window, checkInterval: options.window } : {}),
      };
      const input = IdleSweepInputSchema.parse(
        checkedInput(IdleSweepInputSchema, { mode: 'report', policy }, 'list options', { flags: { 'policy.window': '--window' } }),
      );
      // A report reads and starts nothing: it runs here, with the CLI's own AWS and Temporal clients, and
      // leaves no workflow run behind in the Web UI.
      const { sweepFleet } = require('../../activities/idle/sweep') as typeof sweepModule;
      const aws = context.aws();
      const report = await sweepFleet(
        {
          sagemaker: aws.sagemaker,
          cloudwatch: aws.cloudwatch,
          pricing: context.config.pricing,
          resourceNamePrefix: context.config.resourceNamePrefix,
        },
        { mode: 'report', policy: input.policy, deleteModel: input.deleteModel, now: Date.now(), taskQueue: context.idleQueue },
        { heartbeat: () => undefined, abortSignal: new AbortController().signal, client: await context.temporal() },
      );
      printResult(report, Boolean(options.json), () => fleetLines(report));
    });

  endpoints
    .command('sweep')
    .description('run the fleet sweep once now: every endpoint tagged llmtwin:managed=true gets a running monitor')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const input: IdleSweepInput = { mode: 'ensure', policy: policyFromConfig(context.config.idle) };
      const client = await context.temporal();
      const workflowId = defaultWorkflowId('idle-sweep-now');
      const handle = await client.workflow.start<IdleSweepWorkflow>(IDLE_SWEEP_WORKFLOW_TYPE, {
        taskQueue: context.idleQueue,
        workflowId,
        args: [input],
      });
      context.announce(workflowId);
      const report = await awaitRun(context, handle);
      printResult(report, Boolean(options.json), () => fleetLines(report));
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
    .option('--json', 'print JSON')
    .action(
      async (options: {
        every?: string;
        report?: boolean;
        paused?: boolean;
        now?: boolean;
        delete?: boolean;
        show?: boolean;
        json?: boolean;
      }) => {
        if (options.delete && (options.show || options.every || options.report || options.paused || options.now)) {
          throw new UsageError('--delete takes no other option');
        }
        const schedules = require('../schedules/idle-sweep') as typeof idleSweepModule;
        const client = await context.temporal();
        const taskQueue = context.idleQueue;
        if (options.delete) {
          const outcome = await schedules.removeIdleSweepSchedule(client, taskQueue);
          printResult(outcome, Boolean(options.json), () => [
            `${outcome.scheduleId}: ${outcome.outcome === 'deleted' ? 'deleted' : 'there was no such schedule'}`,
          ]);
          return;
        }
        let change: Awaited<ReturnType<typeof schedules.upsertIdleSweepSchedule>> | undefined;
        if (!options.show) {
          const every = options.every ?? context.config.idle.checkInterval;
          const sweep = { mode: options.report ? ('report' as const) : ('ensure' as const), policy: policyFromConfig(context.config.idle) };
          change = await schedules.upsertIdleSweepSchedule(client, {
            taskQueue,
            every,
            sweep,
            paused: Boolean(options.paused),
            triggerImmediately: Boolean(options.now),
          });
          if (!options.json) console.log(`${change.scheduleId}: ${change.outcome}, sweeping every ${every} (${sweep.mode})`);
        }
        const described = await schedules.describeIdleSweepSchedule(client, taskQueue);
        const shown = described
          ? {
              scheduleId: described.scheduleId,
              paused: described.state.paused,
              note: described.state.note ?? '',
              every: described.spec.intervals?.map((interval) => formatDuration(Number(interval.every))).join(', ') ?? '',
              nextRuns: described.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()),
              recentRuns: described.info.recentActions
                .slice(-3)
                .map((action) => `${action.takenAt.toISOString()} ${action.action.workflow.workflowId}`),
            }
          : undefined;
        if (options.json) printJson({ ...(change ? { outcome: change.outcome } : {}), schedule: shown ?? null });
        else if (shown) printFields(shown);
        else console.log('no idle sweep schedule; create one with: llmtwin endpoints schedule');
      },
    );

  endpoints
    .command('demo')
    .description('local stack only: create a demo endpoint in moto, monitor it with a seconds-scale policy, watch it deleted')
    .option('--json', 'print the summary as JSON (progress goes to stderr)')
    .action(async (options: { json?: boolean }) => {
      const { runIdleMonitorDemo } = require('../demos/idle') as typeof idleModule;
      const summary = await runIdleMonitorDemo({
        client: await context.temporal(),
        config: context.config,
        sagemaker: context.aws().sagemaker,
        taskQueue: context.idleQueue,
        log: (line) => (options.json ? console.error(line) : console.log(line)),
      });
      if (options.json) printJson(summary);
    });
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The fleet as a table for people. */
export function fleetLines(report: IdleSweepResult): string[] {
  if (report.skipped) {
    return [`skipped: sweep ${report.skipped.runningSweep} of this queue is running now and makes the same checks (one sweep at a time)`];
  }
  const header = ['ENDPOINT', 'STATUS', 'INSTANCES', 'LAST INVOCATION', 'IDLE', 'MONITOR', 'COST/DAY'];
  const rows = report.rows.map((row) => [
    `${row.endpointName}${row.keep ? ' (keep)' : ''}${row.managed ? '' : ' (not ours)'}`,
    row.status,
    row.instances,
    row.idleMeasurable === false
      ? 'not published (async)'
      : row.lastInvocationAt
        ? row.lastInvocationAt.slice(0, 19).replace('T', ' ')
        : 'none in window',
    formatIdle(row),
    row.monitorState ? `${row.monitor}: ${row.monitorState}${row.deleteAt ? ` (deletes ${row.deleteAt.slice(11, 19)})` : ''}` : row.monitor,
    row.costPerDayUsd === null ? 'unknown' : `$${row.costPerDayUsd.toFixed(2)}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const table = [header, ...rows].map((line) =>
    line
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
  return [
    ...table,
    ...(report.rowsOmitted
      ? [
          `... and ${report.rowsOmitted} more endpoint(s) not shown: a sweep's result keeps ${report.rows.length} rows (monitors not running, ` +
            'then the costliest) so it fits in workflow history; ./llmtwin endpoints list shows every one',
        ]
      : []),
    '',
    `${report.endpoints} endpoint(s), ${report.managed} managed; fleet $${report.fleetCostPerDayUsd.toFixed(2)}/day; window ${formatDuration(report.windowMs)}; ` +
      `${report.getMetricDataCalls} GetMetricData call(s) for ${report.metricQueries} metric(s)` +
      (report.mode === 'ensure' ? `; monitors started ${report.monitorsStarted}, already running ${report.monitorsAlreadyRunning}` : ''),
    ...readLines(report.reads),
    ...orphanLines(report.orphans),
  ];
}

/** What the sweep cost SageMaker, and how much it knew from the worker's last sweep. */
function readLines(reads: IdleSweepResult['reads']): string[] {
  if (!reads) return [];
  return [
    `${reads.sageMakerCalls} SageMaker call(s): ${reads.listed} listed, ${reads.loaded} read (new or changed), ${reads.tagsReread} tags re-read, ` +
      `${reads.reused} unchanged since the last sweep, ${reads.dropped} gone since`,
  ];
}

/** Managed configs and models that nothing uses: what a sweep deletes (a report only names them). */
function orphanLines(orphans: IdleSweepResult['orphans'] | undefined): string[] {
  if (orphans?.scanned === false)
    return ['orphaned configs and models: not looked for this sweep (an ensure sweep looks once an hour per worker)'];
  if (!orphans || orphans.endpointConfigs.length + orphans.models.length === 0) return [];
  const names = [...orphans.endpointConfigs.map((name) => `config ${name}`), ...orphans.models.map((name) => `model ${name}`)];
  return [`${orphans.deleted ? 'deleted' : 'unused, managed (a sweep deletes them)'}: ${names.join(', ')}`];
}
