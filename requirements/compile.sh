#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml with pip-tools (pinned), on Python 3.11:
#   core.lock   the core (`pip install plaza`): serves worlds, hosting and the web client
#   serve.lock  core + gen + recsys + lan + cluster: what `bash .ci/serve` and the Dockerfile install
#   all.lock    core + gen + recsys + lan + test: what `bash .ci/install` (and so CI) installs
# serve.lock and core.lock are constrained by all.lock, so every lock pins the same versions.
# Existing pins are kept; pass --upgrade (or -P NAME) to move them.
# torch: the locks pin the CPU build (2.13.0+cpu), which pip finds on PyTorch's CPU index
# (README "Install"); never compile against an index that only has the CUDA build, or the lock
# fills with nvidia-* packages (tests/test_packaging.py checks that it does not).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${PLAZA_PIP_TOOLS_VENV:-${TMPDIR:-/tmp}/plaza-pip-tools}"
if ! [ -x "$tools/bin/pip-compile" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q pip-tools==7.6.2
fi
export CUSTOM_COMPILE_COMMAND="bash requirements/compile.sh"
common=(--quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links "$@")
"$tools/bin/pip-compile" "${common[@]}" --extra gen --extra recsys --extra lan --extra test \
  -o requirements/all.lock pyproject.toml
"$tools/bin/pip-compile" "${common[@]}" -c requirements/all.lock --extra gen --extra recsys --extra lan --extra cluster \
  -o requirements/serve.lock pyproject.toml
"$tools/bin/pip-compile" "${common[@]}" -c requirements/all.lock -o requirements/core.lock pyproject.toml
