import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ProcessIdentity, ProcessTable } from '../../../activities/local/process-identity';
import { attemptJournal, journalFolderName, reportLostAttempts, WORKER_LOST_FAILURE_TYPE } from '../../../workers/attempt-journal';
import { testLogger } from '../../helpers/test-logger';

const target = { address: '127.0.0.1:7233', namespace: 'default' };
const BOOT = '3f1c0a52-9d4e-4c1b-8a57-0c6f2b7e9d10';
const self: ProcessIdentity = { pid: process.pid, startTicks: 500, bootId: BOOT };
const dead: ProcessIdentity = { pid: 4242, startTicks: 900, bootId: BOOT };

/** A machine where only the given processes run. */
function tableOf(...live: ProcessIdentity[]): ProcessTable {
  return { identityOf: (pid) => live.find((identity) => identity.pid === pid), signal: () => false };
}

/** What a Client's activity.fail was asked, and how it answers each call. */
function recordingClient(answer: (token: string) => Promise<void> = async () => undefined) {
  const failed: Array<{ token: string; failure: ApplicationFailure }> = [];
  const unstuck: unknown[] = [];
  const client = {
    workflowService: {
      resetStickyTaskQueue: async (request: unknown) => {
        unstuck.push(request);
        return {};
      },
    },
    activity: {
      fail: async (token: Uint8Array, failure: ApplicationFailure) => {
        failed.push({ token: Buffer.from(token).toString('base64'), failure });
        await answer(Buffer.from(token).toString('base64'));
      },
    },
  } as unknown as Parameters<typeof reportLostAttempts>[2];
  return { client, failed, unstuck };
}

const folderOf = (identity: ProcessIdentity) => journalFolderName(identity);

/** An entry as a worker process `owner` left it. */
function leaveEntry(root: string, owner: ProcessIdentity, name: string, token: string, server = target, folder = folderOf(owner)): string {
  const dir = join(root, folder);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      taskToken: token,
      ...server,
      taskQueue: 'llmtwin-data',
      workflowId: 'wf-1',
      runId: 'run-1',
      activityType: 'buildDataset',
      activityId: '2',
      attempt: 1,
      startedAt: '2026-12-07T10:00:00.000Z',
    }),
  );
  return path;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'attempt-journal-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the attempt journal', () => {
  const info = { activityType: 'buildDataset', taskQueue: 'llmtwin-data', taskToken: Buffer.from('token-1'), isLocal: false };

  it('holds an entry with the task token while the attempt runs, and none after, whether it succeeds or fails', async () => {
    const journal = attemptJournal(root, target, tableOf(self));
    const env = new MockActivityEnvironment(info, { interceptors: [journal], logger: testLogger });
    const folder = join(root, folderOf(self));
    const seen = await env.run(async () =>
      readdirSync(folder).map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as object),
    );
    expect(seen).toEqual([
      expect.objectContaining({
        taskToken: Buffer.from('token-1').toString('base64'),
        ...target,
        activityType: 'buildDataset',
        attempt: 1,
      }),
    ]);
    expect(readdirSync(folder)).toEqual([]);

    const failing = new MockActivityEnvironment(info, { interceptors: [journal], logger: testLogger });
    await expect(
      failing.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(readdirSync(folder)).toEqual([]);
  });

  it("writes what a scan reads back once the worker is dead (the config's whole temporal section given as the target)", async () => {
    const temporalSection = { ...target, taskQueue: 'llmtwin', tls: false };
    const env = new MockActivityEnvironment(info, {
      interceptors: [attemptJournal(root, temporalSection, tableOf(self))],
      logger: testLogger,
    });
    const { client, failed } = recordingClient();
    // Scanned while the attempt runs, on a machine where this process is gone.
    const lost = await env.run(() => reportLostAttempts(root, temporalSection, client, tableOf()));
    expect(lost).toEqual([expect.objectContaining({ activityType: 'buildDataset', deadWorkerPid: process.pid, outcome: 'retried' })]);
    expect(failed.map((call) => call.token)).toEqual([Buffer.from('token-1').toString('base64')]);
  });

  it('journals no local activity (its workflow task moves to another worker by itself)', async () => {
    const env = new MockActivityEnvironment({ ...info, isLocal: true }, { interceptors: [attemptJournal(root, target, tableOf(self))] });
    expect(await env.run(async () => existsSync(join(root, folderOf(self))))).toBe(false);
  });

  it('lets the attempt run when the journal cannot be written, and says so once, not with every attempt', async () => {
    writeFileSync(join(root, 'not-a-folder'), '');
    const warnings: string[] = [];
    const logger = { ...testLogger, warn: (message: string) => warnings.push(message) };
    const journal = attemptJournal(join(root, 'not-a-folder'), target, tableOf(self));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const env = new MockActivityEnvironment(info, { interceptors: [journal], logger });
      expect(await env.run(async () => 'ran')).toBe('ran');
    }
    expect(warnings).toEqual([expect.stringContaining('set worker.attemptsDir (LLMTWIN_WORKER_ATTEMPTS_DIR)')]);
  });
});

describe('reporting the attempts of dead workers', () => {
  it("fails a dead worker's attempts through their task tokens, retryable and at once, and removes its journal", async () => {
    leaveEntry(root, dead, '1.json', 'dG9rZW4tYQ==');
    leaveEntry(root, dead, '7.json', 'dG9rZW4tYg==');
    const { client, failed, unstuck } = recordingClient();

    const lost = await reportLostAttempts(root, target, client, tableOf(self));

    // The workflow's next task goes to any worker, not to the dead one's sticky queue.
    expect(unstuck).toContainEqual({ namespace: 'default', execution: { workflowId: 'wf-1', runId: 'run-1' } });

    expect(failed.map((call) => call.token).sort()).toEqual(['dG9rZW4tYQ==', 'dG9rZW4tYg==']);
    for (const { failure } of failed) {
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: WORKER_LOST_FAILURE_TYPE, nonRetryable: false, nextRetryDelay: '1s' });
      expect(failure.message).toContain(`pid ${dead.pid}`);
    }
    expect(lost).toHaveLength(2);
    expect(lost[0]).toMatchObject({
      workflowId: 'wf-1',

      activityType: 'buildDataset',
      attempt: 1,
      deadWorkerPid: dead.pid,
      outcome: 'retried',
    });
    expect(readdirSync(root)).toEqual([]);
  });

  it('leaves the journals of live workers alone, this one included, and never mistakes a reused pid for the worker', async () => {
    const other: ProcessIdentity = { pid: 77, startTicks: 1, bootId: BOOT };
    leaveEntry(root, self, '1.json', 'c2VsZg==');
    leaveEntry(root, other, '1.json', 'b3RoZXI=');
    // pid 4242 runs again, but it is another process (another start time): the journal's owner is dead.
    leaveEntry(root, dead, '1.json', 'ZGVhZA==');
    const { client, failed } = recordingClient();

    await reportLostAttempts(root, target, client, tableOf(self, other, { ...dead, startTicks: 12_345 }));

    expect(failed.map((call) => call.token)).toEqual(['ZGVhZA==']);
    expect(readdirSync(root).sort()).toEqual([folderOf(other), folderOf(self)].sort());
  });

  it("leaves alone a journal from another PID namespace (another container's), whose pids mean other processes here", async () => {
    const path = leaveEntry(root, dead, '1.json', 'Y29udGFpbmVy', target, journalFolderName(dead, '4026532999'));
    const { client, failed } = recordingClient();
    await reportLostAttempts(root, target, client, tableOf(self));
    expect(failed).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });

  it("keeps another server's entries a day for a worker of that server, then drops them", async () => {
    const fresh = leaveEntry(root, dead, '1.json', 'b3RoZXI=', { address: '10.0.0.9:7233', namespace: 'default' });
    const old = leaveEntry(root, dead, '2.json', 'b3Vycw==', { ...target, namespace: 'staging' });
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    const { client, failed } = recordingClient();
    await reportLostAttempts(root, target, client, tableOf(self));
    expect(failed).toEqual([]);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(old)).toBe(false);
  });

  it('takes an attempt that already ended (NotFound) as reported', async () => {
    leaveEntry(root, dead, '1.json', 'ZW5kZWQ=');
    const { client } = recordingClient(async () => {
      throw new ActivityNotFoundError('not found');
    });
    const lost = await reportLostAttempts(root, target, client, tableOf(self));
    expect(lost).toEqual([expect.objectContaining({ outcome: 'already-over' })]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('puts an entry back when the server did not take the report, so the next scan tries again', async () => {
    const path = leaveEntry(root, dead, '1.json', 'dW5yZWFjaGVk');
    const { client } = recordingClient(async () => {
      throw new Error('14 UNAVAILABLE: connection refused');
    });
    await expect(reportLostAttempts(root, target, client, tableOf(self))).rejects.toThrow('UNAVAILABLE');
    expect(existsSync(path)).toBe(true);

    const retried = recordingClient();
    expect(await reportLostAttempts(root, target, retried.client, tableOf(self))).toHaveLength(1);
  });

  it('reports each attempt once when two workers scan at the same moment', async () => {
    for (let entry = 1; entry <= 5; entry += 1) leaveEntry(root, dead, `${entry}.json`, Buffer.from(`t${entry}`).toString('base64'));
    const { client, failed } = recordingClient(() => new Promise((resolve) => setTimeout(resolve, 5)));
    const [first, second] = await Promise.all([
      reportLostAttempts(root, target, client, tableOf(self)),
      reportLostAttempts(root, target, client, tableOf(self)),
    ]);
    expect(first.length + second.length).toBe(5);
    expect(new Set(failed.map((call) => call.token)).size).toBe(5);
    expect(failed).toHaveLength(5);
  });

  it('drops a damaged entry without a call, and ignores folders that are not journals', async () => {
    const dir = join(root, folderOf(dead));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '1.json'), '{"taskToken": ');
    mkdirSync(join(root, 'lost+found'));
    const { client, failed } = recordingClient();
    expect(await reportLostAttempts(root, target, client, tableOf(self))).toEqual([]);
    expect(failed).toEqual([]);
    expect(readdirSync(root)).toEqual(['lost+found']);
  });

  it('finds nothing when no worker ever wrote a journal', async () => {
    const { client } = recordingClient();
    expect(await reportLostAttempts(join(root, 'never-made'), target, client, tableOf(self))).toEqual([]);
  });
});
