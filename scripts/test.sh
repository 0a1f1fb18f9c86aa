#!/usr/bin/env bash
# The README's test command: set everything up, then every test layer. Workflow tests use the
# time-skipping server (global time: serial); integration tests start their own dev stack + moto.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# --jobs: also the cached .venv-jobs (torch/transformers/trl/peft) for the Python jobs' pytest suites.
bash scripts/setup.sh --jobs
node_modules/.bin/jest --runInBand "$@"
# The Python that runs inside SageMaker containers, on CPU with tiny models (no downloads).
HF_HUB_OFFLINE=1 .venv-jobs/bin/python -m pytest jobs -q -p no:cacheprovider
