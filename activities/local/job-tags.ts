import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobFolder } from './job-folder';

/**
 * AddTags, DeleteTags and ListTags for local jobs: the tags of the create request, plus those added
 * since, one file per key under the job folder's tags/ (written by rename, so a reader never sees half).
 */

export function readLocalJobTags(
  jobsDir: string,
  name: string,
  requestTags: ReadonlyArray<{ Key?: string; Value?: string }>,
): Map<string, string> {
  const tags = new Map<string, string>();
  for (const tag of requestTags) if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? '');
  const dir = jobFolder(jobsDir, name).tags;
  if (!existsSync(dir)) return tags;
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.tmp')) continue;
    tags.set(decodeURIComponent(file), readFileSync(join(dir, file), 'utf8'));
  }
  return tags;
}

export function tagLocalJob(jobsDir: string, name: string, tags: Record<string, string>): void {
  const dir = jobFolder(jobsDir, name).tags;
  mkdirSync(dir, { recursive: true });
  for (const [key, value] of Object.entries(tags)) {
    const path = join(dir, encodeURIComponent(key));
    writeFileSync(`${path}.${process.pid}.tmp`, value);
    renameSync(`${path}.${process.pid}.tmp`, path);
  }
}

export function untagLocalJob(jobsDir: string, name: string, keys: string[]): void {
  const dir = jobFolder(jobsDir, name).tags;
  for (const key of keys) rmSync(join(dir, encodeURIComponent(key)), { force: true });
}
