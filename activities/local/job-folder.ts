import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseOrFail } from '../../common/shared/validation';

/**
 * One local job's folder, `<jobsDir>/<job name>/`, and the files in it:
 *   job.json         what to run (LocalJobSpec), written once before the job is claimed
 *   supervisor.json  who runs it (pid, start time, boot id), written by the supervisor when it claims it
 *   state.json       where it is (LocalJobState), rewritten whole (write, then rename) at every change
 *   log.txt          the program's stdout and stderr, with the supervisor's own lines between
 *   ml/              the /opt/ml tree the program sees (input/, model/, output/, checkpoints/, code/)
 * Creating the folder (mkdir) is the claim: it succeeds for exactly one process, so two workers on one
 * machine never run one job twice.
 */

export const IdentitySchema = z.strictObject({ pid: z.number().int().positive(), startTicks: z.number().int().min(0), bootId: z.string() });

export const LocalJobSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** What the stage asked for (its SageMaker request, without secrets): compared when a job is adopted. */
  request: z.unknown(),
  /** Where S3 is (the worker's own connection settings; credentials come from the inherited environment). */
  aws: z.strictObject({
    target: z.enum(['local', 'aws']),
    region: z.string(),
    endpointUrl: z.string().optional(),
    maxAttempts: z.number().int(),
  }),
  /** S3 objects or prefixes copied into the tree before the program starts (SageMaker's channels). */
  inputs: z.array(
    z.strictObject({
      s3Uri: z.string(),
      dir: z.string(),
      unpack: z.boolean().default(false),
      /** May be empty (checkpoints to resume from, on a first run). */
      optional: z.boolean().default(false),
    }),
  ),
  /** Files written into the tree (hyperparameters.json, resourceconfig.json, ...). */
  files: z.array(z.strictObject({ path: z.string(), content: z.string() })),
  program: z.strictObject({
    command: z.string(),
    args: z.array(z.string()),
    /** Relative to the job's ml/ tree. */
    cwd: z.string(),
    env: z.record(z.string(), z.string()),
    /** Variables passed from the supervisor's own environment, never written to disk (a Hugging Face token). */
    secretEnv: z.array(z.string()),
  }),
  /** Folders uploaded after the program ends; `when` lists the end states that upload them. */
  outputs: z.array(
    z.strictObject({
      dir: z.string(),
      s3Uri: z.string(),
      as: z.enum(['tar.gz', 'files']),
      /** OutputDataConfig.KmsKeyId: uploads are encrypted with it, as SageMaker's are. */
      kmsKeyId: z.string().optional(),
      when: z.array(z.enum(['Completed', 'Stopped', 'Failed'])),
    }),
  ),
  metricDefinitions: z.array(z.strictObject({ Name: z.string(), Regex: z.string() })),
  progressRegex: z.string().optional(),
  maxRuntimeSeconds: z.number().int().positive(),
  stopGraceSeconds: z.number().min(0),
  createdAt: z.string(),
});
export type LocalJobSpec = z.output<typeof LocalJobSpecSchema>;

export const LOCAL_JOB_STATUSES = ['InProgress', 'Stopping', 'Completed', 'Failed', 'Stopped'] as const;
export type LocalJobStatus = (typeof LOCAL_JOB_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<LocalJobStatus> = new Set(['Completed', 'Failed', 'Stopped']);

export const LocalJobStateSchema = z.strictObject({
  status: z.enum(LOCAL_JOB_STATUSES),
  /** SageMaker's secondary status: Starting, Downloading, Training, Uploading, Stopping, MaxRuntimeExceeded, ... */
  phase: z.string(),
  transitions: z.array(z.strictObject({ phase: z.string(), startTime: z.string(), endTime: z.string().optional(), message: z.string() })),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  /** When the program itself ran (SageMaker's TrainingStartTime and TrainingEndTime). */
  programStartedAt: z.string().optional(),
  programEndedAt: z.string().optional(),
  program: IdentitySchema.optional(),
  exitCode: z.number().int().nullable().optional(),
  failureReason: z.string().optional(),
  /** The last value of each metric definition seen in the log. */
  metrics: z.record(z.string(), z.number()),
  firstMetrics: z.record(z.string(), z.number()),
  progress: z.strictObject({ step: z.number().int(), total: z.number().int() }).optional(),
  /** What was uploaded where, by output folder. */
  uploaded: z.record(z.string(), z.string()),
});
export type LocalJobState = z.output<typeof LocalJobStateSchema>;

export function jobFolder(jobsDir: string, name: string) {
  const root = join(jobsDir, name);
  return {
    root,
    spec: join(root, 'job.json'),
    supervisor: join(root, 'supervisor.json'),
    state: join(root, 'state.json'),
    log: join(root, 'log.txt'),
    ml: join(root, 'ml'),
    /** Tags added after creation (AddTags), one file per key: concurrent runs add and remove their own without a lost update. */
    tags: join(root, 'tags'),
  };
}
export type JobFolder = ReturnType<typeof jobFolder>;

/** Replaces a JSON file whole: a reader sees the old or the new content, never half of either. */
export function writeJsonAtomically(path: string, value: unknown): void {
  const temporary = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temporary, path);
}

/** A JSON file checked against its schema; undefined when it does not exist (yet). */
export function readJsonIfExists<T extends z.ZodType>(path: string, schema: T): z.output<T> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseOrFail(schema, JSON.parse(text), path);
}
