import { spawn } from 'node:child_process';
import { isAlive } from '../../../platform/local-endpoints';

// A local server that exited but was not reaped yet (a zombie) still answers signal 0: it is not alive.
it('counts a running process as alive, and a zombie as dead', async () => {
  expect(isAlive(process.pid)).toBe(true);
  // The background sleep's parent execs into a long sleep that never reaps it: a zombie once it ends.
  const shell = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => shell.stdout.once('data', (data: Buffer) => resolve(data.toString()))));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(() => process.kill(pid, 0)).not.toThrow(); // still in the process table
    expect(isAlive(pid)).toBe(false);
  } finally {
    shell.kill('SIGKILL');
  }
});
