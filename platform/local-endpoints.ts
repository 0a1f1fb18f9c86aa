import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LOCAL_SERVER_FILE, MAX_SERVE_GENERATIONS, serveJobName } from '../common/deploy/plan';

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
export type LocalServer = z.output<typeof LocalServerFileSchema> & { jobName: string };

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
