import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { effectiveComputeBackend, type LlmtwinConfig } from '../common/config';
import { LOCAL_SERVER_FILE, MAX_SERVE_GENERATIONS, serveJobName } from '../common/deploy/plan';
import { projectPath } from './paths';

/**
 * Where a local endpoint is served: the server of its config, found in the local jobs folder by the
 * file it writes once it answers (url and pid). Used by the client and the smoke test alike.
 */

const LocalServerFileSchema = z.strictObject({
  url: z.url(),
  pid: z.number().int().positive(),
  endpointName: z.string(),
  configName: z.string(),
  startedAt: z.string(),
});
/** Where local endpoints' servers are found: the local jobs folder, and the prefix their job names start with. */
export interface LocalServing {
  jobsDir: string;
  resourceNamePrefix: string;
}

/** On local compute, where its endpoints are served; undefined on SageMaker, where the runtime API serves them. */
export function localServingFor(config: LlmtwinConfig): LocalServing | undefined {
  if (effectiveComputeBackend(config) !== 'local') return undefined;
  return { jobsDir: projectPath(config.compute.local.jobsDir), resourceNamePrefix: config.resourceNamePrefix };
}

export type LocalServer = z.output<typeof LocalServerFileSchema> & { jobName: string };

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process that exited but was not reaped yet (a zombie) still answers signal 0; it serves nothing.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", and comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** The newest generation's server of a config that is still running, if any. */
export function findLocalServer(jobsDir: string, prefix: string, configName: string): LocalServer | undefined {
  let found: LocalServer | undefined;
  for (let generation = 0; generation < MAX_SERVE_GENERATIONS; generation += 1) {
    const jobName = serveJobName(prefix, configName, generation);
    const folder = join(jobsDir, jobName);
    if (!existsSync(folder)) break;
    const file = join(folder, LOCAL_SERVER_FILE);
    if (!existsSync(file)) continue;
    const parsed = LocalServerFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success && isAlive(parsed.data.pid)) found = { ...parsed.data, jobName };
  }
  return found;
}
