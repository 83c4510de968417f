#!/usr/bin/env bash
# Runs the LaunchDarkly generated-client compatibility check against a built
# server binary, in a throwaway virtual environment.
#
#   tests/compat/run.sh PATH/TO/iteration [SPEC.json]
#
# SPEC.json (or $ITERATION_COMPAT_SPEC) is the OpenAPI document whose schemas
# are used for operations that the server's own /api/v2/openapi.json does not
# describe. Needs python3 (3.9 or later) and the Python package registry.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PATH/TO/iteration [SPEC.json]" >&2
  exit 2
fi
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [ ! -x "$binary" ]; then
  echo "$0: $1 is not an executable file" >&2
  exit 2
fi
spec="${2:-${ITERATION_COMPAT_SPEC:-}}"
args=(--binary "$binary")
if [ -n "$spec" ]; then
  args+=(--spec "$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")")
fi

python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/iteration-compat.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

if "$python" -m venv "$work/venv" >/dev/null 2>&1; then
  "$work/venv/bin/python" -m pip install --quiet --requirement "$here/requirements.txt"
  "$work/venv/bin/python" "$here/ld_client_compat.py" "${args[@]}" </dev/null
else
  # A Python without the venv module (Debian's without python3-venv): install
  # into a directory of the same throwaway folder instead.
  "$python" -m pip install --quiet --no-warn-conflicts --target "$work/site" --requirement "$here/requirements.txt"
  PYTHONPATH="$work/site" "$python" "$here/ld_client_compat.py" "${args[@]}" </dev/null
fi
