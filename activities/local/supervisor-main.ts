import { superviseJob } from './supervisor';

/**
 * The supervisor's entry point (spawned detached by launcher.ts): `supervisor-main <spec file> <jobs dir>`.
 * Its stdout is a pipe to the launcher, which reads one word, `claimed` or `exists`, and lets go; after
 * that the supervisor writes only to the job's own log, so a worker that is gone costs it nothing.
 */
const [specPath, jobsDir] = process.argv.slice(2);
if (!specPath || !jobsDir) {
  console.error('usage: supervisor-main <spec file> <jobs dir>');
  process.exit(2);
}
// The launcher may be gone by the time it answers (its worker died, or it gave up waiting): a broken
// pipe must not take the job down with it.
process.stdout.on('error', () => undefined);
superviseJob(specPath, jobsDir, (word) => {
  process.stdout.write(`${word}\n`);
  process.stdout.end();
}).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`llmtwin-local: supervisor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
