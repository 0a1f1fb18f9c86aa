import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * The project's root folder (where package.json is), the same whether this code runs from source
 * (tsx, jest) or compiled into dist/: files that are not compiled (jobs/, .venv, examples/) are found
 * from here, never from a fixed number of `..` that only holds for one of the two.
 */
export const PROJECT_ROOT = findProjectRoot(__dirname);

function findProjectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'jobs'))) return dir;
    if (dirname(dir) === dir) return resolve(start, '..');
  }
}

/** A configured local path: relative ones start at the project root, not at whatever folder a process was started in. */
export function projectPath(path: string): string {
  return isAbsolute(path) ? path : resolve(PROJECT_ROOT, path);
}
