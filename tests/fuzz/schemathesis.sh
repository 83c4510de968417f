#!/usr/bin/env bash
# API fuzzing: generates requests from the OpenAPI document the server
# serves (GET /api/v2/openapi.json, whichever contract that is) and fails on
# any 5xx, any response the document does not allow, any request that breaks
# the document yet is accepted, and any request it allows that is refused
# for a reason the document could have stated (the checks are below).
#
# Usage: tests/fuzz/schemathesis.sh path/to/iteration [max-examples]
#
# The tool is installed from PyPI into a throwaway virtual environment; the
# server is the given binary, `serve --demo --in-memory`, on a free port of
# 127.0.0.1. Path keys are fixed to the demo world's, so that requests reach
# the handlers instead of stopping at a 404. Runs in one to two minutes
# on two cores (installing the tool included) with the default of 12
# examples per operation (FUZZ_MAX_EXAMPLES or the second argument changes
# it), about 2 770 cases over all 33 operations of the document; the seed
# is fixed (FUZZ_SEED changes it). The temporary directory (venv,
# logs) and the server are removed on exit, whatever the outcome;
# FUZZ_REPORT_DIR keeps a copy of the JUnit report.
#
# The checks: no 5xx; every answer as the document describes it (status,
# content type, headers, body schema); every request that breaks the
# document refused (negative_data_rejection: a 2xx to a body, query or path
# value the document does not allow fails the run); and every request the
# document allows accepted (positive_data_acceptance), where "accepted"
# also counts the answers a schema cannot predict:
# - 404 (a key that names nothing in the world: the tool makes up keys
#   inside bodies and query values), 409 (key_exists for a key already
#   taken, optimistic_locking_error for a stale flagConfigVersion), 401,
#   403 and 429: the tool's own default list of accepted statuses, kept;
# - 400 only for the operations below, whose rules the document cannot
#   state: that a key names a flag, metric, group, context kind, holdout or
#   experiment of the project (rules 2.13 to 2.18, 5.2, 5.9, 5.10); sums
#   and counts across fields (allocations sum to 100, one baseline, exactly
#   one default unit, a layer at most 100 percent, a funnel of 2 or more);
#   fields that depend on others (a click metric's selector, unit only when
#   numeric); a JSON Patch path that must exist in the resource; a lifecycle
#   precondition (stopping what does not run, deleting or archiving what is
#   in use, rules 3.6 to 3.8, 4.8, 4.10, 4.13); and the filter languages of
#   the lists (`field:value` and `field operator value` clauses, rules 3.3,
#   4.3, 4.10, 4.12, 5.1). Everywhere else (the reads of one resource, the
#   holdout list, the context kinds, the settings, this document) a 400 to
#   a request the document allows fails the run. Where the document could
#   state a rule, it does instead (openapi.rs: page bounds, required
#   fields, non-empty instructions), and the tool then generates only
#   requests that keep it.
# The operations with a 400 are listed in [[operations]] below; FUZZ_CHECKS
# picks other checks (`all` runs the tool's every check).
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

# Rules the document cannot state (see the comment at the top): a 400 to a
# request it allows is the server applying one of them.
[[operations]]
include-operation-id = [
  "getFeatureFlags", "getMetrics", "getMetricGroups", "getExperiments", "getExperimentsAnyEnv", "getLayers",
  "postFeatureFlag", "patchFeatureFlag", "deleteFeatureFlag",
  "postMetric", "patchMetric", "deleteMetric",
  "createMetricGroup", "patchMetricGroup", "deleteMetricGroup",
  "putContextKind", "putExperimentationSettings",
  "createExperiment", "patchExperiment", "createIteration",
  "postHoldout", "patchHoldout", "createLayer", "updateLayer",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
TOML

echo "== fuzzing $base/api/v2/openapi.json with $max_examples examples per operation"
status=0
(cd "$work" && "$work/venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run \
  "$base/api/v2/openapi.json" \
  --url "$base" \
  --header "Authorization: api-demo-writer" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance}" \
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
