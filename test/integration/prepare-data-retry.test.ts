import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { testLogger } from '../helpers/test-logger';
import { createPrepareDataActivities, type PrepareDataDeps } from '../../activities/prepare-data';
import { ManifestSchema, PrepareDataInputSchema, type DatasetPlan, type PrepareDataProgress } from '../../common/prepare-data/contract';
import { destroyAwsClients, type AwsClients } from '../../platform/aws-clients';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';

// A build whose attempt dies after processing (here: moto refuses the manifest once) is retried by
// Temporal as the same activity. The retry must resume from the staged files, not start over, and
// must not upload the data files a second time.

const CORPUS = join(__dirname, '../../examples/corpus');
const config = testConfig();
let aws: AwsClients;
let scratchRoot: string;

beforeEach(async () => {
  await resetMoto();
  aws = testAwsClients(config);
  scratchRoot = mkdtempSync(join(tmpdir(), 'llmtwin-retry-'));
});
/** The activities as the data worker builds them, against moto, staging under this test's scratch root. */
function activitiesOnMoto(extra: Partial<PrepareDataDeps> = {}) {
  return createPrepareDataActivities({
    s3: aws.s3,
    bucket: config.s3.bucket,
    prefix: config.s3.prefix,
    region: config.aws.region,
    generator: config.generator,
    sources: config.sources,
    scratchRoot,
    ...extra,
  });
}

afterEach(() => {
  destroyAwsClients(aws);
  rmSync(scratchRoot, { recursive: true, force: true });
});

/** moto refuses the first manifest upload with S3's 500; returns the names of the objects put. */
function failManifestOnce(): string[] {
  const sent: string[] = [];
  let failManifest = true;
  aws.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? '';
      if (context.commandName === 'PutObjectCommand') {
        sent.push(key.split('/').pop() ?? key);
        if (key.endsWith('manifest.json') && failManifest) {
          failManifest = false;
          throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'failManifestOnce' },
  );
  return sent;
}

/** One attempt of buildDataset or planDataset as Temporal runs it, recording the phases it heartbeats. */
function attemptOf(workflowId: string, attempt: number) {
  const environment = new MockActivityEnvironment(
    { activityId: '2', attempt, workflowExecution: { workflowId, runId: 'run-1' } },
    { logger: testLogger },
  );
  const phases = new Set<string>();
  environment.on('heartbeat', (details: PrepareDataProgress) => phases.add(details.phase));
  const run = <R>(call: () => Promise<R>) => environment.run<[], R, () => Promise<R>>(call);
  return { run, phases };
}

it('a retried buildDataset resumes from its staged files and uploads only what is missing', async () => {
  const sent = failManifestOnce();
  const activities = activitiesOnMoto();
  const input = PrepareDataInputSchema.parse({ source: { kind: 'local', path: CORPUS } });
  // Both attempts are the same activity of the same workflow: that is what names the scratch folder.
  const attempt = (number: number) => attemptOf('prepare-data-retry', number);

  const plan = await attempt(1).run(() => activities.planDataset(input));
  expect(plan.existing).toBeUndefined();

  const first = attempt(1);
  const failure = await first
    .run(() => activities.buildDataset({ input, datasetHash: plan.datasetHash }))
    .catch((error: unknown) => error as Error);
  expect(failure).toMatchObject({ type: 'TransientAwsError', nonRetryable: false });
  expect(first.phases).toEqual(new Set(['process', 'upload']));
  expect(sent).toEqual(['train.jsonl', 'test.jsonl', 'manifest.json']);
  // The failed attempt kept its staged files for the retry.
  expect(readdirSync(join(scratchRoot, 'llmtwin-prepare'))).toHaveLength(1);

  sent.length = 0;
  const second = attempt(2);
  const result = await second.run(() => activities.buildDataset({ input, datasetHash: plan.datasetHash }));
  expect(result).toMatchObject({ datasetHash: plan.datasetHash, reused: false });
  expect(second.phases).toEqual(new Set(['upload'])); // no second pass over the corpus
  expect(sent).toEqual(['manifest.json']); // train.jsonl and test.jsonl were found in place, same sha256
  const manifest = await aws.s3.send(
    new GetObjectCommand({ Bucket: config.s3.bucket, Key: `${config.s3.prefix}datasets/${plan.datasetHash}/manifest.json` }),
  );
  expect(ManifestSchema.parse(JSON.parse(await manifest.Body!.transformToString())).counts.trainRecords).toBe(result.counts.trainRecords);
  // Published: the scratch folder is gone.
  expect(readdirSync(join(scratchRoot, 'llmtwin-prepare'))).toEqual([]);
});

it('a retry that finds the dataset published by another build meanwhile removes what its failed attempt staged', async () => {
  failManifestOnce();
  const activities = activitiesOnMoto();
  const input = PrepareDataInputSchema.parse({ source: { kind: 'local', path: CORPUS } });
  const plan = await attemptOf('planner', 1).run(() => activities.planDataset(input));
  const build = () => activities.buildDataset({ input, datasetHash: plan.datasetHash });

  await expect(attemptOf('builder-a', 1).run(build)).rejects.toMatchObject({ nonRetryable: false });
  expect(readdirSync(join(scratchRoot, 'llmtwin-prepare'))).toHaveLength(1); // kept for the retry
  expect(await attemptOf('builder-b', 1).run(build)).toMatchObject({ reused: false });

  expect(await attemptOf('builder-a', 2).run(build)).toMatchObject({ reused: true });
  expect(readdirSync(join(scratchRoot, 'llmtwin-prepare'))).toEqual([]);
});

it.each([
  ['a worker shutting down', 'WORKER_SHUTDOWN', { workerShutdown: true }, ['checkpoint.json', 'documents.staged']],
  ['a cancellation', 'CANCELLED', { cancelRequested: true }, undefined],
] as const)(
  'a build stopped mid-way by %s keeps its checkpoint for the retry only when the build is not over',
  async (_what, reason, details, kept) => {
    const activities = activitiesOnMoto({ checkpointEveryMs: 0 });
    const input = PrepareDataInputSchema.parse({ source: { kind: 'local', path: CORPUS } });
    const environment = new MockActivityEnvironment(
      { activityId: '2', attempt: 1, workflowExecution: { workflowId: `stopped-${reason}`, runId: 'run-1' } },
      { logger: testLogger },
    );
    const plan = await environment.run<[], DatasetPlan, () => Promise<DatasetPlan>>(() => activities.planDataset(input));
    environment.on('heartbeat', (progress: PrepareDataProgress) => {
      // The first heartbeat of the pass (they come at most once a second; this corpus takes less).
      if (progress.phase === 'process') environment.cancel(reason, new ActivityCancellationDetails(details));
    });
    await expect(environment.run(() => activities.buildDataset({ input, datasetHash: plan.datasetHash }))).rejects.toThrow();
    const folders = readdirSync(join(scratchRoot, 'llmtwin-prepare'));
    if (kept === undefined) expect(folders).toEqual([]);
    else expect(readdirSync(join(scratchRoot, 'llmtwin-prepare', folders[0]!))).toEqual(expect.arrayContaining(kept));
  },
);

it('two workflows building one dataset at once: one publishes it, the other finds it published and says it reused it', async () => {
  const activities = activitiesOnMoto();
  const input = PrepareDataInputSchema.parse({ source: { kind: 'local', path: CORPUS } });
  // As Temporal runs an activity: a retryable failure is attempted again. moto's threaded server
  // sometimes answers two concurrent uploads of one key with an HTML error page (a 500), which S3 never does.
  const run = async <R>(workflowId: string, call: () => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt += 1) {
      const environment = new MockActivityEnvironment(
        { activityId: '2', attempt, workflowExecution: { workflowId, runId: 'run-1' } },
        { logger: testLogger },
      );
      try {
        return await environment.run<[], R, () => Promise<R>>(call);
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.nonRetryable || attempt === 3) throw error;
      }
    }
  };
  const plan = await run('planner', () => activities.planDataset(input));
  const [first, second] = await Promise.all(
    ['builder-a', 'builder-b'].map((workflowId) =>
      run(workflowId, () => activities.buildDataset({ input, datasetHash: plan.datasetHash })),
    ),
  );
  expect([first!.reused, second!.reused].sort()).toEqual([false, true]);
  const manifest = await aws.s3.send(
    new GetObjectCommand({ Bucket: config.s3.bucket, Key: `${config.s3.prefix}datasets/${plan.datasetHash}/manifest.json` }),
  );
  const builtBy = ManifestSchema.parse(JSON.parse(await manifest.Body!.transformToString())).builtBy;
  expect(builtBy?.workflowId).toBe(first!.reused ? 'builder-b' : 'builder-a');
  expect(readdirSync(join(scratchRoot, 'llmtwin-prepare'))).toEqual([]);
});
