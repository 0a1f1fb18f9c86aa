#!/usr/bin/env bash
# The README's main command: set everything up, start the embedded stack, run the pipeline's most
# complete path on it and print the results. The stack keeps running for the Web UI afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# --jobs: the jobs venv too (torch, transformers, peft, trl): the fine-tune stage trains for real here.
bash scripts/setup.sh --jobs
node_modules/.bin/tsx scripts/dev.ts start
node_modules/.bin/tsx scripts/demos/main.ts
