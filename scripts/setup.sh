#!/usr/bin/env bash
# Idempotent setup into project-local, git-ignored folders. A second run on a ready machine takes
# seconds: each part is skipped while the hash of what it was installed from is unchanged.
#   scripts/setup.sh          node_modules + .venv (dev stack) + dist (the compiled CLI and workers)
#   scripts/setup.sh --jobs   also .venv-jobs (torch/transformers/peft/trl for jobs/ and its pytest suite)
set -euo pipefail
cd "$(dirname "$0")/.."

want_jobs=false
for arg in "$@"; do
  case "$arg" in
    --jobs) want_jobs=true ;;
    *) echo "setup.sh: unknown argument $arg (use --jobs)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

fingerprint() { cat "$@" | sha256sum | cut -c1-16; }
# The requirement files and those they include with -r (one level): a changed pin in an included file reinstalls too.
with_included() {
  local file
  for file in "$@"; do
    echo "$file"
    sed -n 's/^-r[[:space:]]*//p' "$file" | while read -r included; do echo "$(dirname "$file")/$included"; done
  done
}

# install_venv DIR REQUIREMENTS...: (re)creates DIR only when the requirements changed.
install_venv() {
  local dir="$1"; shift
  local want; want="$(fingerprint $(with_included "$@"))-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [[ -f "$dir/.llmtwin-installed" && "$(cat "$dir/.llmtwin-installed")" == "$want" ]]; then
    echo "setup: $dir is up to date"
    return
  fi
  echo "setup: installing $dir from $*"
  [[ -x "$dir/bin/python" ]] || "$PYTHON" -m venv "$dir"
  local reqs=(); for file in "$@"; do reqs+=(-r "$file"); done
  "$dir/bin/pip" install --quiet --disable-pip-version-check "${reqs[@]}"
  echo "$want" > "$dir/.llmtwin-installed"
}

# Node packages, exactly as locked.
want_node="$(fingerprint package-lock.json)"
if [[ -f node_modules/.llmtwin-installed && "$(cat node_modules/.llmtwin-installed)" == "$want_node" ]]; then
  echo "setup: node_modules is up to date"
else
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_node" > node_modules/.llmtwin-installed
fi

install_venv .venv scripts/requirements-dev-stack.txt

# The compiled CLI and workers (dist/), which ./llmtwin runs when they are current: rebuilt whenever a
# TypeScript source is newer than the last build (./llmtwin falls back to tsx until then).
if [[ -f dist/.llmtwin-built && -z "$(find common activities workflows workers scripts platform client tsconfig.json tsconfig.build.json -newer dist/.llmtwin-built \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]]; then
  echo "setup: dist is up to date"
else
  echo "setup: npm run build"
  npm run build --silent
fi

if $want_jobs; then
  if [[ -f jobs/requirements-ci.txt ]]; then
    install_venv .venv-jobs jobs/requirements-ci.txt
  else
    echo "setup: no jobs/requirements-ci.txt yet; skipping .venv-jobs"
  fi
fi
