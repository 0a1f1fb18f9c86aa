import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';

/**
 * Every AWS SDK command a program can send, found from its entry file by following its value imports
 * (`import type` is not followed: it sends nothing) through the project's own files: each name it
 * imports from `@aws-sdk/*` that is a command, a paginator or lib-storage's Upload.
 */
export interface SentCommand {
  sdkPackage: string;
  name: string;
  file: string;
}

const VALUE_IMPORT =
  /import\s+(?!type\s)(?:[\w*\s{},]*?)\s*from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|export\s+(?!type\s)[\w*\s{},]*?from\s*['"]([^'"]+)['"]/g;
const SDK_IMPORT = /import\s+\{([^}]*)\}\s*from\s*['"]@aws-sdk\/([a-z0-9-]+)['"]/g;

function resolveLocal(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
}

/** `excluding`: folders (relative to the project) whose files are not followed, e.g. code that runs only on the embedded stack. */
export function commandsReachableFrom(entryFiles: readonly string[], excluding: readonly string[] = []): SentCommand[] {
  const seen = new Set<string>();
  const pending = entryFiles.map((file) => resolve(PROJECT_ROOT, file));
  const found: SentCommand[] = [];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file) || excluding.some((folder) => relative(PROJECT_ROOT, file).startsWith(folder))) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(VALUE_IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier?.startsWith('.')) continue;
      const target = resolveLocal(file, specifier);
      if (target) pending.push(target);
    }
    for (const match of source.matchAll(SDK_IMPORT)) {
      const [, names = '', sdkPackage = ''] = match;
      for (const raw of names.split(',')) {
        const name = (raw.trim().split(/\s+as\s+/)[0] ?? '').trim();
        if (!name || name.startsWith('type ')) continue;
        if (/Command$/.test(name) || /^paginate[A-Z]/.test(name) || (sdkPackage === 'lib-storage' && name === 'Upload')) {
          found.push({ sdkPackage, name, file: relative(PROJECT_ROOT, file) });
        }
      }
    }
  }
  return found;
}
