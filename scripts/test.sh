#!/usr/bin/env bash
# The README's test command: set everything up, then every test layer. Workflow tests use the
# time-skipping server (global time: serial); integration tests start their own dev stack + moto.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/setup.sh
node_modules/.bin/jest --runInBand "$@"
