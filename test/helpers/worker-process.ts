import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../platform/paths';

/** A worker as its own process (`npm run worker`, or node on workers/main.ts), its output collected; `started` resolves once it logs that its workers started. */
export function spawnWorker(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string; started: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(command, [...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const started = new Promise<void>((resolve) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes('"workers started"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, started, exited };
}
