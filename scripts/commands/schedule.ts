import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Command } from 'commander';
import { PIPELINE_WORKFLOW_TYPE, PipelineInputSchema, type PipelineInput } from '../../common/pipeline/contract';
import { formatDuration } from '../../common/idle/decision';
import { DurationSchema } from '../../common/shared/duration-schema';
import type { CliContext } from '../cli-context';
import { NotFoundError, UsageError } from '../cli-errors';
import { checkedInput, readInputFile } from '../cli-input';
import { printResult } from '../cli-output';
import { sourceFrom } from './prepare-data';

/**
 * `llmtwin schedule`: scheduled retraining over Temporal Schedules. Each schedule starts twinPipeline
 * with one fixed input (cron or interval, overlap skip by default, a catch-up window, jitter). On an
 * unchanged source a run reuses every stage and finishes in seconds; a changed one trains, and the new
 * model replaces the serving one only if it beats it.
 */

const OVERLAP: Readonly<Record<string, ScheduleOverlapPolicy>> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
};

interface CreateOptions {
  every?: string;
  cron?: string;
  source?: string;
  twin?: string;
  input?: string;
  overlap: string;
  catchupWindow: string;
  jitter?: string;
  paused?: boolean;
  json?: boolean;
}

function duration(value: string, flag: string): string {
  if (!DurationSchema.safeParse(value).success) throw new UsageError(`${flag}: "${value}" is not a duration such as 7d, 12h or 30m`);
  return value;
}

function specOf(options: CreateOptions): ScheduleSpec {
  if (Boolean(options.every) === Boolean(options.cron))
    throw new UsageError('give one of --every <duration> (such as 7d) or --cron <expression> (such as "0 3 * * 1")');
  const jitter = options.jitter ? { jitter: duration(options.jitter, '--jitter') } : {};
  if (options.every) return { intervals: [{ every: duration(options.every, '--every') }], ...jitter };
  return { cronExpressions: [options.cron as string], ...jitter };
}

function pipelineInput(options: CreateOptions): PipelineInput {
  const fromFile = options.input ? readInputFile(options.input) : {};
  const raw = {
    ...fromFile,
    ...(options.source ? { source: sourceFrom(options.source) } : {}),
    ...(options.twin ? { twin: options.twin } : {}),
  };
  if (raw.source === undefined || raw.twin === undefined)
    throw new UsageError('the pipeline needs --source and --twin (or an --input file with both)');
  return checkedInput(PipelineInputSchema, raw, 'pipeline input', { flags: { source: '--source', twin: '--twin' } });
}

async function describe(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new NotFoundError(`no schedule ${scheduleId} (llmtwin schedule list shows them)`);
    throw error;
  }
}

function view(description: ScheduleDescription) {
  const action = description.action.type === 'startWorkflow' ? description.action : undefined;
  return {
    scheduleId: description.scheduleId,
    paused: description.state.paused,
    note: description.state.note ?? null,
    spec: {
      intervals: (description.spec.intervals ?? []).map((interval) => ({ everyMs: Number(interval.every) })),
      cronExpressions: (description.spec as { cronExpressions?: string[] }).cronExpressions ?? [],
      calendars: description.spec.calendars?.length ?? 0,
    },
    overlap: description.policies.overlap,
    catchupWindowMs: Number(description.policies.catchupWindow),
    workflowType: action?.workflowType ?? null,
    workflowIdPrefix: action?.workflowId ?? null,
    input: (action?.args?.[0] as PipelineInput | undefined) ?? null,
    nextRuns: description.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()),
    recentRuns: description.info.recentActions.slice(-5).map((run) => ({
      scheduledAt: run.scheduledAt.toISOString(),
      workflowId: run.action.workflow.workflowId,
    })),
    runningRuns: description.info.runningActions.map((run) => run.workflow.workflowId),
  };
}

export function registerSchedule(command: Command, context: CliContext): void {
  command
    .command('create <id>')
    .description('a schedule that runs twinPipeline with this input (every --every, or on --cron)')
    .option('--every <duration>', 'run every this long, e.g. 7d')
    .option('--cron <expression>', 'or on a cron expression, e.g. "0 3 * * 1" (Mondays 03:00 UTC)')
    .option('--source <folder|s3uri>', "the author's writing")
    .option('--twin <name>', "the twin's name")
    .option('--input <file>', 'a JSON pipeline input (like examples/pipeline.json); --source and --twin override it')
    .option('--overlap <policy>', `a run due while one runs: ${Object.keys(OVERLAP).join(', ')}`, 'skip')
    .option('--catchup-window <duration>', 'runs missed while the server was down are caught up within this', '1h')
    .option('--jitter <duration>', 'start each run up to this much later, at random (spreads the load)')
    .option('--paused', 'create it paused')
    .option('--json', 'print JSON')
    .action(async (scheduleId: string, options: CreateOptions) => {
      const overlap = OVERLAP[options.overlap];
      if (!overlap) throw new UsageError(`--overlap: "${options.overlap}" is none of ${Object.keys(OVERLAP).join(', ')}`);
      const input = pipelineInput(options);
      const spec = specOf(options);
      const client = await context.temporal();
      try {
        await client.schedule.create({
          scheduleId,
          spec,
          action: {
            type: 'startWorkflow',
            workflowType: PIPELINE_WORKFLOW_TYPE,
            // The schedule appends each run's time, so every run has an id of its own.
            workflowId: `pipeline-${scheduleId}`,
            taskQueue: context.controlQueue,
            args: [input],
          },
          policies: { overlap, catchupWindow: duration(options.catchupWindow, '--catchup-window') },
          state: { paused: Boolean(options.paused), note: `llmtwin retraining of ${input.twin}` },
        });
      } catch (error) {
        if (error instanceof ScheduleAlreadyRunning) {
          throw new UsageError(`schedule ${scheduleId} exists (llmtwin schedule describe ${scheduleId}); delete it first to change it`);
        }
        // The SDK parses the cron before it sends anything, and refuses a bad one with a TypeError: the user's input, so name the flag.
        if (options.cron && error instanceof TypeError) {
          throw new UsageError(
            `--cron "${options.cron}": ${error.message}; five fields, minute hour day-of-month month day-of-week, such as "0 3 * * 1"`,
          );
        }
        throw error;
      }
      const described = view(await describe(client, scheduleId));
      printResult(described, Boolean(options.json), () => lines(described));
    });

  command
    .command('list')
    .description('the retraining schedules (those that start twinPipeline)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const client = await context.temporal();
      const schedules: Array<{ scheduleId: string; paused: boolean; note: string | null; nextRun: string | null }> = [];
      for await (const summary of client.schedule.list()) {
        if (summary.action?.type !== 'startWorkflow' || summary.action.workflowType !== PIPELINE_WORKFLOW_TYPE) continue;
        schedules.push({
          scheduleId: summary.scheduleId,
          paused: summary.state.paused,
          note: summary.state.note ?? null,
          nextRun: summary.info?.nextActionTimes[0]?.toISOString() ?? null,
        });
      }
      printResult(schedules, Boolean(options.json), () =>
        schedules.length === 0
          ? ['no retraining schedules (llmtwin schedule create <id> --every 7d --source ... --twin ...)']
          : schedules.map(
              (item) =>
                `${item.scheduleId.padEnd(30)} ${item.paused ? 'paused ' : 'active '} next ${item.nextRun ?? '-'}  ${item.note ?? ''}`,
            ),
      );
    });

  command
    .command('describe <id>')
    .description('its spec, policies, pipeline input, next and recent runs')
    .option('--json', 'print JSON')
    .action(async (scheduleId: string, options: { json?: boolean }) => {
      const described = view(await describe(await context.temporal(), scheduleId));
      printResult(described, Boolean(options.json), () => lines(described));
    });

  const simple: Array<[string, string, (client: Client, id: string) => Promise<unknown>]> = [
    [
      'pause',
      'stop starting runs until unpause',
      (client, id) => client.schedule.getHandle(id).pause('paused with llmtwin schedule pause'),
    ],
    ['unpause', 'start runs again', (client, id) => client.schedule.getHandle(id).unpause('unpaused with llmtwin schedule unpause')],
    ['trigger', 'start one run now (the overlap policy applies)', (client, id) => client.schedule.getHandle(id).trigger()],
    ['delete', 'delete the schedule (runs it started go on)', (client, id) => client.schedule.getHandle(id).delete()],
  ];
  for (const [name, summary, act] of simple) {
    command
      .command(`${name} <id>`)
      .description(summary)
      .option('--json', 'print JSON')
      .action(async (scheduleId: string, options: { json?: boolean }) => {
        const client = await context.temporal();
        await describe(client, scheduleId);
        await act(client, scheduleId);
        printResult({ scheduleId, done: name }, Boolean(options.json), () => [`${name}: ${scheduleId}`]);
      });
  }

  command
    .command('backfill <id>')
    .description('run the schedule for the times it would have run between --start and --end')
    .requiredOption('--start <time>', 'ISO time, e.g. 2026-11-01T00:00:00Z')
    .requiredOption('--end <time>', 'ISO time')
    .option('--json', 'print JSON')
    .action(async (scheduleId: string, options: { start: string; end: string; json?: boolean }) => {
      const [start, end] = [new Date(options.start), new Date(options.end)];
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) {
        throw new UsageError('--start and --end: two ISO times, the end after the start');
      }
      const client = await context.temporal();
      await describe(client, scheduleId);
      await client.schedule.getHandle(scheduleId).backfill([{ start, end, overlap: ScheduleOverlapPolicy.ALLOW_ALL }]);
      printResult({ scheduleId, backfilled: { start: start.toISOString(), end: end.toISOString() } }, Boolean(options.json), () => [
        `backfill of ${scheduleId} from ${start.toISOString()} to ${end.toISOString()} asked for`,
      ]);
    });
}

function lines(described: ReturnType<typeof view>): string[] {
  const when = [
    ...described.spec.intervals.map((interval) => `every ${formatDuration(interval.everyMs)}`),
    ...described.spec.cronExpressions.map((cron) => `cron "${cron}"`),
  ];
  return [
    `schedule   ${described.scheduleId}${described.paused ? ' (paused)' : ''}`,
    `runs       ${when.join(', ')}; overlap ${described.overlap}; catch-up window ${formatDuration(described.catchupWindowMs)}`,
    `starts     ${described.workflowType ?? '?'} as ${described.workflowIdPrefix ?? '?'}-<time>`,
    `input      ${JSON.stringify(described.input)}`,
    `next       ${described.nextRuns.join(', ') || '-'}`,
    `recent     ${described.recentRuns.map((run) => run.workflowId).join(', ') || '-'}`,
  ];
}
