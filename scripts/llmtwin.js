#!/usr/bin/env node
// The `llmtwin` CLI entry. It runs the compiled CLI in dist/ (built by `npm run setup`; starts in about a
// third of the time tsx takes) when dist/ is at least as new as every TypeScript source, and the sources
// through tsx otherwise, so an edit is never run stale: `npm run build` makes the fast path current again.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.llmtwin-built');
const SOURCES = ['common', 'activities', 'workflows', 'workers', 'scripts', 'platform', 'client'];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function compiledIsCurrent() {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return SOURCES.every((dir) => newestSource(join(root, dir)) <= built);
}

if (compiledIsCurrent()) {
  require(join(root, 'dist', 'scripts', 'cli.js'));
} else {
  require('tsx/cjs');
  require('./cli.ts');
}
