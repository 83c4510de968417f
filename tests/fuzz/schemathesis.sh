#!/usr/bin/env bash
# API fuzzing: generates requests from the OpenAPI document the server
# serves (GET /api/v2/openapi.json, whichever contract that is) and fails on
# any 5xx and on any response the document does not allow (status, content
# type, headers, body schema).
#
# Usage: tests/fuzz/schemathesis.sh path/to/iteration [max-examples]
#
# The tool is installed from PyPI into a throwaway virtual environment; the
# server is the given binary, `serve --demo --in-memory`, on a free port of
# 127.0.0.1. Path keys are fixed to the demo world's, so that requests reach
# the handlers instead of stopping at a 404. Runs in about 2 to 4 minutes
# on two cores with the default of 12 examples per operation
# (FUZZ_MAX_EXAMPLES or the second argument changes it), about 2 700 cases
# over all 33 operations of the document. The temporary directory (venv,
# logs) and the server are removed on exit, whatever the outcome;
# FUZZ_REPORT_DIR keeps a copy of the JUnit report.
#
# The checks: no 5xx, and every answer as the document describes it
# (status, content type, headers, body schema). Two of the tool's checks
# are left out on purpose (FUZZ_CHECKS=all runs them anyway):
# - positive_data_acceptance (ST202, "schema-valid request rejected"):
#   the document cannot say that a metric key must exist, that a layer's
#   reservations add up to at most 100 or that a limit is positive, so
#   almost every generated body breaks a rule of docs/behaviour.md and is
#   rightly refused with a 400, 404 or 409.
# - negative_data_rejection (ST201, "schema-violating request accepted"):
#   what it finds is `null` given for an optional field (`comment`,
#   `version`, `metrics`), which the server reads as absent, as
#   LaunchDarkly's own decoder does, and query values it ignores; nothing
#   accepted changes the state in a way a valid request could not.
set -euo pipefail

binary=${1:?usage: $0 path/to/iteration [max-examples]}
max_examples=${2:-${FUZZ_MAX_EXAMPLES:-12}}
# The tool's 4.x command line and configuration file.
schemathesis_version=${SCHEMATHESIS_VERSION:-'>=4.30,<5'}

[[ -x $binary ]] || { echo "not an executable: $binary" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== installing schemathesis ($schemathesis_version)"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis$schemathesis_version"
"$work/venv/bin/schemathesis" --version

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
echo "== starting $binary on $base"
"$binary" serve --demo --in-memory --no-rate-limit --listen "127.0.0.1:$port" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited:" >&2; cat "$work/server.err" >&2; exit 2
  fi
  sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null

cat >"$work/schemathesis.toml" <<'TOML'
# Every path key names something of the demo world (docs/demo-world.md).
[parameters]
"path.projectKey" = "my-project"
"path.environmentKey" = "production"
"path.experimentKey" = "example-experiment"
"path.featureFlagKey" = "example-flag-for-experiment"
"path.metricKey" = "metric-key-123abc"
"path.metricGroupKey" = "metric-group-key-123abc"
"path.key" = "user"
"path.layerKey" = "checkout-flow"
"path.holdoutKey" = "checkout-holdout"
"path.holdoutId" = "65f0c0ffee00000000000001"
TOML

echo "== fuzzing $base/api/v2/openapi.json with $max_examples examples per operation"
status=0
(cd "$work" && "$work/venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run \
  "$base/api/v2/openapi.json" \
  --url "$base" \
  --header "Authorization: api-demo-writer" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}" \
  --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" \
  --seed "${FUZZ_SEED:-1}" \
  --workers 2 \
  --request-timeout 10 \
  --suppress-health-check all \
  --report junit --report-dir "$work/report") || status=$?

if grep -q "panicked" "$work/server.err"; then
  echo "== the server panicked:" >&2; grep -A5 "panicked" "$work/server.err" >&2; status=1
fi
if [[ -n ${FUZZ_REPORT_DIR:-} ]]; then mkdir -p "$FUZZ_REPORT_DIR" && cp -r "$work/report/." "$FUZZ_REPORT_DIR/"; fi
exit "$status"
