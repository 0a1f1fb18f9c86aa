import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { ProcessCheckpointSchema, type ProcessCheckpoint } from '../../activities/prepare-data/checkpoint';
import {
  datasetBuildWorkflowId,
  ManifestSchema,
  PREPARE_DATA_WORKFLOW_TYPE,
  type PrepareDataWorkflow,
} from '../../common/prepare-data/contract';
import { destroyAwsClients } from '../../platform/aws-clients';
import { cliEnv } from '../helpers/cli';
import { processFolder } from '../helpers/process-folder';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';
import { spawnWorker } from '../helpers/worker-process';
import { WORKER_LOST_FAILURE_TYPE } from '../../workers/attempt-journal';

// A data worker SIGKILLed in the middle of a build's first pass. The worker that replaces it (same
// machine, same scratch disk) finds the dead one's attempt in its journal and reports it, so the build is
// retried as soon as the new worker polls, not after the minute's heartbeat timeout; the retry takes up
// from the last checkpoint instead of reading the corpus again, and publishes the dataset an uninterrupted
// build makes, byte for byte, leaving no scratch.
jest.setTimeout(240_000);

const FILES = 1000;
const root = mkdtempSync(join(realpathSync(tmpdir()), 'llmtwin-resume-'));
const corpus = join(root, 'corpus');
const scratchTmp = join(root, 'tmp');
const config = testConfig();
const env = cliEnv(config, { LLMTWIN_SOURCE_ROOTS: root, LLMTWIN_PREPARE_CHECKPOINT_EVERY: '50ms', TMPDIR: scratchTmp });
const startWorker = () => spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control,data'], env);

/** Distinct essays of a few dozen paragraphs each, from a fixed word list and a seeded generator. */
function writeCorpus(): void {
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  const words = 'harbour light tide rope keel lantern gull pier salt fog anchor drift current chart beacon hull mast sail'.split(' ');
  const sentence = () => Array.from({ length: 8 + (next() % 10) }, () => words[next() % words.length]).join(' ') + '.';
  for (let file = 0; file < FILES; file += 1) {
    const folder = join(corpus, `part-${String(file % 12).padStart(2, '0')}`);
    mkdirSync(folder, { recursive: true });
    const paragraphs = Array.from({ length: 40 }, () => Array.from({ length: 4 }, sentence).join(' '));
    writeFileSync(join(folder, `essay-${String(file).padStart(4, '0')}.md`), `# Essay ${file}\n\n${paragraphs.join('\n\n')}\n`);
  }
}

function checkpointNow(): ProcessCheckpoint | undefined {
  const builds = join(scratchTmp, 'llmtwin-prepare');
  for (const name of readdirSafe(builds)) {
    try {
      return ProcessCheckpointSchema.parse(JSON.parse(readFileSync(join(builds, name, 'checkpoint.json'), 'utf8')));
    } catch {
      // Not written yet.
    }
  }
  return undefined;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

beforeAll(() => {
  writeCorpus();
  mkdirSync(scratchTmp, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('a data worker SIGKILLed mid-build: the retry resumes from its checkpoint and publishes what an unbroken build makes', async () => {
  await resetMoto();
  const aws = testAwsClients(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  let worker = startWorker();
  try {
    await worker.started;
    const handle = await client.workflow.start<PrepareDataWorkflow>(PREPARE_DATA_WORKFLOW_TYPE, {
      args: [{ source: { kind: 'local', path: corpus } }],
      taskQueue: config.temporal.taskQueue,
      workflowId: uniqueId('resumed-build'),
    });
    let killedAt: ProcessCheckpoint | undefined;
    await until(() => {
      killedAt = checkpointNow();
      return killedAt !== undefined && killedAt.filesDone >= FILES / 4;
    }, 120_000);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const killedAtMs = Date.now();
    expect(killedAt!.filesDone).toBeLessThan(FILES);

    worker = startWorker();
    const result = await handle.result();
    expect(result.reused).toBe(false);
    const logLine = (message: string) => {
      const line = worker
        .output()
        .split('\n')
        .find((candidate) => candidate.includes(message));
      return line === undefined ? undefined : (JSON.parse(line) as { time: number; filesDone?: number; activityType?: string });
    };
    expect(logLine("reported a dead worker's activity attempt")).toMatchObject({ activityType: 'buildDataset', outcome: 'retried' });
    const resumed = logLine('resuming the build from its checkpoint');
    expect(resumed).toBeDefined();
    // The new worker's start (it bundles the workflows first: 5-40 s on this machine) and a one-second
    // retry delay; the heartbeat timeout alone would be a minute.
    expect((resumed!.time - killedAtMs) / 1000).toBeLessThan(50);
    // The build ran in the run's datasetBuild child, one per dataset.
    const history = await client.workflow.getHandle(datasetBuildWorkflowId(config.temporal.taskQueue, result.datasetHash)).fetchHistory();
    const buildStarted = history.events?.map((event) => event.activityTaskStartedEventAttributes).find((started) => started?.attempt === 2);
    expect(buildStarted?.lastFailure?.applicationFailureInfo?.type).toBe(WORKER_LOST_FAILURE_TYPE);
    const resumedFrom = resumed!.filesDone!;
    expect(resumedFrom).toBeGreaterThanOrEqual(killedAt!.filesDone);
    expect(resumedFrom).toBeLessThan(FILES);

    const manifestObject = await aws.s3.send(
      new GetObjectCommand({ Bucket: config.s3.bucket, Key: result.manifestUri.replace(`s3://${config.s3.bucket}/`, '') }),
    );
    const manifest = ManifestSchema.parse(JSON.parse(await manifestObject.Body!.transformToString()));
    const unbroken = await processFolder(corpus, {}, mkdtempSync(join(root, 'unbroken-')));
    expect(manifest.files.train).toMatchObject({ sha256: unbroken.train.sha256, records: unbroken.train.records });
    expect(manifest.files.test).toMatchObject({ sha256: unbroken.test.sha256, records: unbroken.test.records });
    expect(manifest.counts.filesRead).toBe(FILES);
    // Published: the build's scratch folder (staged documents, checkpoint, downloads) is gone.
    expect(readdirSafe(join(scratchTmp, 'llmtwin-prepare'))).toEqual([]);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await connection.close();
    destroyAwsClients(aws);
  }
});
