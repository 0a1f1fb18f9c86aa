#!/usr/bin/env node
// The `llmtwin` CLI entry: runs the TypeScript sources through tsx, so there is no build step.
require('tsx/cjs');
require('./cli.ts');
