#!/usr/bin/env python3
"""Can LaunchDarkly's own generated Python client read every answer of this server?

Each check calls one method of the `launchdarkly_api` package exactly as a user
of that package would (strict model validation left on, as it is by default),
then validates the raw JSON body of the same answer against the response schema
of that operation in the OpenAPI document. A check passes only when both hold:
the generated models accept the body, and the body satisfies the schema.

Schemas come from the server's own `GET /api/v2/openapi.json`; for an operation
that document does not describe, from the document given with `--spec` (or the
ITERATION_COMPAT_SPEC environment variable). Nothing of the spec is copied here.

An operation the server does not serve (it answers 404 `not_found` "no
resource at ..." for unknown routes, or 405 for a known path) is reported as
SKIP; the server serves every operation of the contract, so a SKIP fails the
run too, unless `--allow-unserved` is given (for pointing this at an older
build).

Usage:
    ld_client_compat.py --binary PATH/TO/iteration [--spec SPEC.json]
    ld_client_compat.py --base-url http://127.0.0.1:8080 [--spec SPEC.json]

Output: one line per check, `PASS name`, `FAIL name: reason` (details
indented below), or `SKIP name: not served`, then `N passed, M failed, K skipped`.
Exit status 1 when any check failed, 2 when the run could not start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import launchdarkly_api as ld
from launchdarkly_api.exceptions import ApiException
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from pydantic import ValidationError

PROJECT = "my-project"
ENV = "production"
WRITER = "api-demo-writer"
READER = "api-demo-reader"
SEMANTIC_PATCH = "application/json; domain-model=launchdarkly.semanticpatch"
# The demo world's flag variations and rule (DEMO_WORLD.md).
FLAG = "example-flag-for-experiment"
CONTROL = "e432f62b-55f6-49dd-a02f-eb24acf39d05"
TOP_BUTTON = "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10"
HOLDOUT_ID = "65f0c0ffee00000000000001"
EXPANDS = [
    "previousIterations",
    "draftIteration",
    "secondaryMetrics",
    "treatments",
    "analysisConfig",
    "mutableFieldsByStatus",
]


# ---------------------------------------------------------------------------
# The generated client, with a record of the last exchange


class RecordingApiClient(ld.ApiClient):
    """The generated ApiClient, unchanged, except that it remembers the last
    request it sent and the raw answer it got, so that the same answer the
    models read can also be checked against the schema."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_request: Optional[dict] = None
        self.last_response: Any = None

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        self.last_request = {"method": method, "url": url, "headers": dict(header_params or {}), "body": body}
        self.last_response = None
        response = super().call_api(method, url, header_params, body, post_params, _request_timeout)
        self.last_response = response
        return response


def make_client(base_url: str, token: str) -> RecordingApiClient:
    config = ld.Configuration(host=base_url, api_key={"ApiKey": token})
    return RecordingApiClient(config)


# ---------------------------------------------------------------------------
# The OpenAPI documents


class Schemas:
    """Response schemas by operation id: the served document first, then the
    fallback document."""

    def __init__(self, served: Optional[dict], fallback: Optional[dict], fallback_first: bool) -> None:
        docs = [("served", served), ("spec file", fallback)]
        if fallback_first:
            docs.reverse()
        self.docs = [(name, doc) for name, doc in docs if doc]

    @staticmethod
    def _operation(doc: dict, operation_id: str) -> Optional[dict]:
        for item in doc.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    return operation
        return None

    def response(self, operation_id: str, status: Optional[int] = None):
        """(source name, document, documented status, schema or None), or None
        when no document describes the operation (with that status)."""
        for name, doc in self.docs:
            operation = self._operation(doc, operation_id)
            if operation is None:
                continue
            responses = operation.get("responses", {})
            if status is None:
                codes = sorted(code for code in responses if code.startswith("2"))
                if not codes:
                    continue
                code = codes[0]
            else:
                code = str(status)
                if code not in responses:
                    continue
            response = resolve(doc, responses[code])
            content = response.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            schema = media.get("schema") if media else None
            return name, doc, int(code), schema
        return None


def resolve(doc: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def schema_errors(doc: dict, schema: dict, body: Any, limit: int = 12) -> list[str]:
    """Where `body` breaks `schema` (OpenAPI 3.0: `nullable` honoured, `$ref`s
    resolved within `doc`, properties the schema does not name allowed)."""
    root = dict(schema)
    root["components"] = doc.get("components", {})
    validator = OAS30ReadValidator(root, format_checker=oas30_format_checker)
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        found.append(f"{pointer(error.absolute_path)}: {describe_schema_error(error)}")
    if len(found) > limit:
        found = found[:limit] + [f"... and {len(found) - limit} more"]
    return found


def describe_schema_error(error) -> str:
    message = error.message
    if error.context:
        # anyOf / oneOf: say why the closest branch failed.
        best = min(error.context, key=lambda e: (len(e.path), len(e.message)))
        message += f" (closest: {pointer(best.absolute_path)}: {best.message})"
    if len(message) > 300:
        message = message[:300] + "..."
    return message


def pointer(path) -> str:
    return "/" + "/".join(str(part) for part in path)


# ---------------------------------------------------------------------------
# Checks


@dataclass
class Outcome:
    status: str  # PASS, FAIL, SKIP
    reason: str = ""
    details: list[str] = field(default_factory=list)
    data: Any = None  # the generated model the client returned


class NotServed(Exception):
    pass


class Runner:
    def __init__(self, base_url: str, schemas: Schemas) -> None:
        self.base_url = base_url
        self.schemas = schemas
        self.writer = make_client(base_url, WRITER)
        self.reader = make_client(base_url, READER)
        self.passed = self.failed = self.skipped = 0
        self.results: dict[str, Outcome] = {}

    def report(self, name: str, outcome: Outcome) -> Outcome:
        self.results[name] = outcome
        if outcome.status == "PASS":
            self.passed += 1
            print(f"PASS {name}", flush=True)
        elif outcome.status == "SKIP":
            self.skipped += 1
            print(f"SKIP {name}: {outcome.reason}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {outcome.reason}", flush=True)
            for line in outcome.details:
                print(f"    {line}", flush=True)
        return outcome

    def check(
        self,
        name: str,
        operation_id: str,
        client: RecordingApiClient,
        call: Callable[[], Any],
        expect_status: Optional[int] = None,
    ) -> Outcome:
        """Calls a generated method and checks the answer.

        `expect_status` None: the operation's documented success status.
        Otherwise an error answer with that status is expected (the generated
        client raises ApiException with the error model in `.data`).
        """
        try:
            outcome = self._check(operation_id, client, call, expect_status)
        except NotServed as not_served:
            outcome = Outcome("SKIP", f"not served ({not_served})")
        except Exception as unexpected:  # a bug in this script or the package: still a failure
            outcome = Outcome("FAIL", f"{type(unexpected).__name__}: {unexpected}")
        return self.report(name, outcome)

    def _check(self, operation_id, client, call, expect_status) -> Outcome:
        documented = self.schemas.response(operation_id, expect_status)
        problems: list[str] = []
        for attempt in range(4):
            client.last_request = client.last_response = None
            data = None
            deserialization: list[str] = []
            try:
                answer = call()
                data = answer.data
            except ApiException as error:
                data = error.data
            except ValidationError as error:
                deserialization = describe_validation_error(error)
            except (ValueError, TypeError) as error:
                deserialization = [f"{type(error).__name__}: {error}"]
            response = client.last_response
            # A rate-limited request was not carried out: wait as told, then again.
            if response is None or response.status != 429 or attempt == 3:
                break
            time.sleep(retry_delay(response.headers))
        if response is None:
            return Outcome("FAIL", "no answer", [f"request: {client.last_request}"])
        raw = response.read()
        status = response.status
        text = raw.decode("utf-8", "replace") if raw else ""
        if expect_status is None and status in (404, 405):
            raise_if_not_served(status, text)
        if documented is None:
            wanted = "its documented success status" if expect_status is None else expect_status
            problems.append(
                f"no OpenAPI document describes {operation_id} answering {wanted} "
                f"(the served one lacks it; pass --spec); the answer was {status}"
            )
            source, doc, documented_status, schema = "", {}, None, None
        else:
            source, doc, documented_status, schema = documented
            if status != documented_status:
                problems.append(f"status {status}, documented {documented_status}: {text[:400]}")
        if deserialization:
            problems.append("generated models rejected the body:")
            problems.extend("  " + line for line in deserialization)
        elif data is None and schema is not None and 200 <= status < 300:
            problems.append("the generated client returned no model for this answer")
        if schema is not None:
            try:
                body = json.loads(text)
            except ValueError:
                problems.append(f"body is not JSON: {text[:200]!r}")
            else:
                errors = schema_errors(doc, schema, body)
                if errors:
                    problems.append(f"body breaks the {source} schema for {operation_id} {documented_status}:")
                    problems.extend("  " + line for line in errors)
        elif documented is not None and raw and raw.strip():
            problems.append(f"documented without a body, got {text[:200]!r}")
        if problems:
            first = problems[0].rstrip(":")
            return Outcome("FAIL", first, problems[1:], data)
        return Outcome("PASS", data=data)


def retry_delay(headers: Any) -> float:
    """Seconds to wait after a 429, from `Retry-After` or the reset headers
    (epoch milliseconds), at most one window of ten seconds."""
    try:
        if headers.get("Retry-After"):
            return min(float(headers["Retry-After"]), 10.0) + 0.1
        reset = headers.get("X-Ratelimit-Auth-Token-Reset") or headers.get("X-Ratelimit-Reset")
        if reset:
            return min(max(float(reset) / 1000 - time.time(), 0.0), 10.0) + 0.1
    except (TypeError, ValueError):
        pass
    return 1.0


def raise_if_not_served(status: int, body: Any) -> None:
    """A 404 `not_found` "no resource at ..." names a route the server does not
    have; a 405 a method it does not take on a path it has."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        error = json.loads(text)
    except ValueError:
        return
    if not isinstance(error, dict):
        return
    message = str(error.get("message", ""))
    if status == 404 and error.get("code") == "not_found" and message.startswith("no resource at"):
        raise NotServed("404 " + message)
    if status == 405:
        raise NotServed("405 " + message)


def describe_validation_error(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ())) or "(model)"
        sent = item.get("input")
        # The generated from_dict reads fields with obj.get(): absent reads as null.
        shown = "null or nothing" if sent is None else json.dumps(sent, default=str)
        if len(shown) > 120:
            shown = shown[:120] + "..."
        lines.append(f"{error.title}.{location}: {item.get('msg')} [{item.get('type')}]; server sent {shown}")
    return lines


# ---------------------------------------------------------------------------
# The scenario


def demo_iteration() -> dict:
    """The valid create-iteration body of the demo world."""
    return {
        "hypothesis": "The new button placement will increase conversion",
        "metrics": [
            {"key": "metric-key-123abc"},
            {"key": "metric-group-key-123abc", "isGroup": True},
        ],
        "primarySingleMetricKey": "metric-key-123abc",
        "treatments": [
            {
                "name": "Control",
                "baseline": True,
                "allocationPercent": "50",
                "parameters": [{"flagKey": FLAG, "variationId": CONTROL}],
            },
            {
                "name": "Top button",
                "baseline": False,
                "allocationPercent": "50",
                "parameters": [{"flagKey": FLAG, "variationId": TOP_BUTTON}],
            },
        ],
        "flags": {
            FLAG: {
                "ruleId": CONTROL,
                "flagConfigVersion": 12,
                "notInExperimentVariationId": CONTROL,
            }
        },
        "randomizationUnit": "user",
        "covariateId": "74a49a2b-4834-4246-917e-5d85231d8c2a",
        "attributes": ["country", "device", "os"],
    }


def experiments(run: Runner, suffix: str) -> None:
    api = ld.ExperimentsApi(run.writer)
    reader = ld.ExperimentsApi(run.reader)
    all_expands = ",".join(EXPANDS)
    list_expands = "previousIterations,draftIteration,secondaryMetrics,treatments,analysisConfig"

    def get(label: str, key: str, expand: Optional[str] = None) -> Outcome:
        return run.check(
            f"getExperiment[{key}, {label}]",
            "getExperiment",
            run.reader,
            lambda: reader.get_experiment_with_http_info(PROJECT, ENV, key, expand=expand),
        )

    def get_each_expand(key: str, state: str) -> None:
        for expand in EXPANDS:
            get(f"{state}, expand={expand}", key, expand)
        get(f"{state}, expand=all", key, all_expands)

    def patch(label: str, key: str, instructions: list, content_type: Optional[str] = None) -> Outcome:
        body = ld.ExperimentPatchInput(comment=f"compatibility check: {label}", instructions=instructions)
        return run.check(
            f"patchExperiment[{key}, {label}]",
            "patchExperiment",
            run.writer,
            lambda: api.patch_experiment_with_http_info(PROJECT, ENV, key, body, _content_type=content_type),
        )

    def create_iteration(label: str, key: str, body: dict) -> Outcome:
        iteration = ld.IterationInput.from_dict(body)
        return run.check(
            f"createIteration[{key}, {label}]",
            "createIteration",
            run.writer,
            lambda: api.create_iteration_with_http_info(PROJECT, ENV, key, iteration),
        )

    def start(key: str) -> Outcome:
        # A justification is needed when an iteration already runs (a reused server).
        return patch("startIteration", key, [{"kind": "startIteration", "changeJustification": "compatibility check"}])

    def stop(key: str) -> Outcome:
        instruction = {"kind": "stopIteration", "winningReason": "compatibility check"}
        winner = treatment_id(run, key)
        if winner:
            instruction["winningTreatmentId"] = winner
        return patch("stopIteration", key, [instruction])

    # The seed state.
    run.check("getExperiments", "getExperiments", run.reader, lambda: reader.get_experiments_with_http_info(PROJECT, ENV))
    run.check(
        "getExperiments[expand=all, lifecycleState=archived,active]",
        "getExperiments",
        run.reader,
        lambda: reader.get_experiments_with_http_info(
            PROJECT, ENV, expand=list_expands, lifecycle_state="archived,active"
        ),
    )
    run.check(
        "getExperiments[limit=1, offset=1]",
        "getExperiments",
        run.reader,
        lambda: reader.get_experiments_with_http_info(PROJECT, ENV, limit=1, offset=1),
    )
    for key in ("example-experiment", "example-bandit", "retired-experiment"):
        get("seed", key)

    # A new experiment, walked through its whole lifecycle.
    new_key = f"compat-experiment-{suffix}"
    post = ld.ExperimentPost.from_dict(
        {
            "name": "Compatibility experiment",
            "key": new_key,
            "description": "made by the compatibility check",
            "tags": ["compat"],
            "methodology": "bayesian",
            "iteration": demo_iteration(),
        }
    )
    run.check("createExperiment", "createExperiment", run.writer, lambda: api.create_experiment_with_http_info(PROJECT, ENV, post))
    bandit_post = ld.ExperimentPost.from_dict(
        {
            "name": "Compatibility bandit",
            "key": f"compat-bandit-{suffix}",
            "type": "mab",
            "iteration": {**demo_iteration(), "reallocationFrequencyMillis": 86400000},
        }
    )
    run.check(
        "createExperiment[type=mab]",
        "createExperiment",
        run.writer,
        lambda: api.create_experiment_with_http_info(PROJECT, ENV, bandit_post),
    )
    run.check(
        "createExperiment[duplicate key -> 409]",
        "createExperiment",
        run.writer,
        lambda: api.create_experiment_with_http_info(PROJECT, ENV, post),
        expect_status=409,
    )
    get_each_expand(new_key, "draft")
    start(new_key)
    create_iteration("while running", new_key, demo_iteration())
    get_each_expand(new_key, "running with draft")
    stop(new_key)
    get_each_expand(new_key, "stopped")

    # The demo experiment is in a layer: its stopped iteration has a layerSnapshot.
    create_iteration("demo body", "example-experiment", demo_iteration())
    get_each_expand("example-experiment", "draft")
    start("example-experiment")
    stop("example-experiment")
    get("stopped in a layer, expand=all", "example-experiment", all_expands)

    # The demo bandit: reallocation frequency, started and stopped.
    create_iteration("bandit", "example-bandit", {**demo_iteration(), "reallocationFrequencyMillis": 3600000})
    start("example-bandit")
    get("running, expand=all", "example-bandit", all_expands)
    stop("example-bandit")

    # A funnel metric group as the primary metric.
    funnel = demo_iteration()
    del funnel["primarySingleMetricKey"]
    funnel["primaryFunnelKey"] = "metric-group-key-123abc"
    create_iteration("primaryFunnelKey", new_key, funnel)
    get("funnel draft, expand=all", new_key, all_expands)

    # The other instructions.
    patch("updateName", new_key, [{"kind": "updateName", "value": "Compatibility experiment, renamed"}])
    patch(
        "updateName, semantic patch Content-Type",
        new_key,
        [{"kind": "updateName", "value": "Compatibility experiment"}],
        content_type=SEMANTIC_PATCH,
    )
    patch("updateDescription", new_key, [{"kind": "updateDescription", "value": "described again"}])
    patch(
        "updateExperimentFields",
        new_key,
        [
            {
                "kind": "updateExperimentFields",
                "value": {
                    "hypothesis": {"operation": "update", "value": "A clearer hypothesis"},
                    "tags": {"operation": "add", "value": ["compat-2"]},
                },
            }
        ],
    )
    start(new_key)
    patch(
        "saveAndStartNewIteration",
        new_key,
        [
            {
                "kind": "saveAndStartNewIteration",
                "changeJustification": "compatibility check",
                "value": {"hypothesis": {"operation": "update", "value": "The hypothesis, once more"}},
            }
        ],
    )
    get("after saveAndStartNewIteration, expand=all", new_key, all_expands)
    stop(new_key)
    patch("archiveExperiment", new_key, [{"kind": "archiveExperiment"}])
    get("archived, expand=all", new_key, all_expands)
    patch("restoreExperiment", new_key, [{"kind": "restoreExperiment"}])

    run.check(
        "getExperiments[filter=flagKey,status; expand=all]",
        "getExperiments",
        run.reader,
        lambda: reader.get_experiments_with_http_info(
            PROJECT, ENV, filter=f"flagKey:{FLAG},status:stopped", expand=list_expands
        ),
    )
    run.check(
        "getExperimentsAnyEnv",
        "getExperimentsAnyEnv",
        run.reader,
        lambda: reader.get_experiments_any_env_with_http_info(PROJECT),
    )
    run.check(
        "getExperimentsAnyEnv[expand=all, lifecycleState=archived,active]",
        "getExperimentsAnyEnv",
        run.reader,
        lambda: reader.get_experiments_any_env_with_http_info(
            PROJECT, expand=list_expands, lifecycle_state="archived,active"
        ),
    )

    # Error answers are answers too: the generated client reads them into its error models.
    run.check(
        "getExperiment[unknown key -> 404]",
        "getExperiment",
        run.reader,
        lambda: reader.get_experiment_with_http_info(PROJECT, ENV, f"no-such-experiment-{suffix}"),
        expect_status=404,
    )
    iteration = ld.IterationInput.from_dict(demo_iteration())
    run.check(
        "createIteration[reader token -> 403]",
        "createIteration",
        run.reader,
        lambda: reader.create_iteration_with_http_info(PROJECT, ENV, "example-experiment", iteration),
        expect_status=403,
    )
    bad = ld.IterationInput.from_dict({**demo_iteration(), "treatments": []})
    run.check(
        "createIteration[no treatments -> 400]",
        "createIteration",
        run.writer,
        lambda: api.create_iteration_with_http_info(PROJECT, ENV, "example-experiment", bad),
        expect_status=400,
    )
    unauthorized = ld.ExperimentsApi(make_client(run.base_url, "not-a-token"))
    run.check(
        "getExperiments[unknown token -> 401]",
        "getExperiments",
        unauthorized.api_client,
        lambda: unauthorized.get_experiments_with_http_info(PROJECT, ENV),
        expect_status=401,
    )


def treatment_id(run: Runner, key: str) -> Optional[str]:
    """The `_id` of a treatment of the running iteration, read raw (so that it
    is found even when the models reject the answer)."""
    try:
        request = urllib.request.Request(
            f"{run.base_url}/api/v2/projects/{PROJECT}/environments/{ENV}/experiments/{key}?expand=treatments",
            headers={"Authorization": READER},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            experiment = json.load(answer)
        return experiment["currentIteration"]["treatments"][0]["_id"]
    except Exception:
        return None


def flags(run: Runner, suffix: str) -> None:
    api = ld.FeatureFlagsApi(run.writer)
    reader = ld.FeatureFlagsApi(run.reader)
    run.check("getFeatureFlags", "getFeatureFlags", run.reader, lambda: reader.get_feature_flags_with_http_info(PROJECT))
    run.check(
        "getFeatureFlags[env=production, summary=false]",
        "getFeatureFlags",
        run.reader,
        lambda: reader.get_feature_flags_with_http_info(PROJECT, env=ENV, summary=False),
    )
    for key in (FLAG, "example-flag-key", "retired-flag"):
        run.check(
            f"getFeatureFlag[{key}]",
            "getFeatureFlag",
            run.reader,
            lambda key=key: reader.get_feature_flag_with_http_info(PROJECT, key),
        )
    key = f"compat-flag-{suffix}"
    body = ld.FeatureFlagBody.from_dict(
        {
            "name": "Compatibility flag",
            "key": key,
            "description": "made by the compatibility check",
            "variations": [{"value": "a", "name": "A"}, {"value": "b", "name": "B"}],
            "defaults": {"onVariation": 1, "offVariation": 0},
            "tags": ["compat"],
        }
    )
    run.check("postFeatureFlag", "postFeatureFlag", run.writer, lambda: api.post_feature_flag_with_http_info(PROJECT, body))
    json_patch = ld.PatchWithComment(
        comment="compatibility check",
        patch=[ld.PatchOperation(op="replace", path="/description", value="patched by the compatibility check")],
    )
    run.check(
        "patchFeatureFlag[JSON patch]",
        "patchFeatureFlag",
        run.writer,
        lambda: api.patch_feature_flag_with_http_info(PROJECT, key, json_patch),
    )
    # The generated PatchWithComment model requires `patch`, so a semantic
    # patch body cannot be built with it. The request is serialized by the
    # generated method's own serializer and sent through the generated client,
    # and the answer is read with the same response models.
    semantic = {
        "comment": "compatibility check",
        "environmentKey": ENV,
        "instructions": [{"kind": "turnFlagOn"}],
    }
    run.check(
        "patchFeatureFlag[semantic patch turnFlagOn]",
        "patchFeatureFlag",
        run.writer,
        lambda: send_raw_body(api, "_patch_feature_flag_serialize", {"200": "FeatureFlag"},
                              project_key=PROJECT, feature_flag_key=key, patch_with_comment=semantic,
                              ignore_conflicts=None, dry_run=None, _content_type=SEMANTIC_PATCH),
    )
    run.check(
        "getFeatureFlag[created, env=production]",
        "getFeatureFlag",
        run.reader,
        lambda: reader.get_feature_flag_with_http_info(PROJECT, key, env=ENV),
    )
    run.check("deleteFeatureFlag", "deleteFeatureFlag", run.writer, lambda: api.delete_feature_flag_with_http_info(PROJECT, key))


def send_raw_body(api: Any, serializer: str, types: dict, **params: Any):
    """Sends a body the generated request model cannot express, through the
    generated method's serializer and ApiClient, and deserializes the answer
    with the generated response models."""
    defaults = {"_request_auth": None, "_headers": None, "_host_index": 0, "_content_type": None}
    param = getattr(api, serializer)(**{**defaults, **params})
    response = api.api_client.call_api(*param, _request_timeout=None)
    response.read()
    return api.api_client.response_deserialize(response_data=response, response_types_map=types)


def metrics(run: Runner, suffix: str) -> None:
    api = ld.MetricsApi(run.writer)
    reader = ld.MetricsApi(run.reader)
    run.check("getMetrics", "getMetrics", run.reader, lambda: reader.get_metrics_with_http_info(PROJECT))
    for key in ("metric-key-123abc", "checkout-pageview", "buy-button-click", "org-revenue"):
        run.check(f"getMetric[{key}]", "getMetric", run.reader, lambda key=key: reader.get_metric_with_http_info(PROJECT, key))
    run.check(
        "getMetric[expand=experiments,experimentCount,metricGroups,metricGroupCount]",
        "getMetric",
        run.reader,
        lambda: reader.get_metric_with_http_info(
            PROJECT, "metric-key-123abc", expand="experiments,experimentCount,metricGroups,metricGroupCount"
        ),
    )
    key = f"compat-metric-{suffix}"
    post = ld.MetricPost.from_dict(
        {
            "key": key,
            "name": "Compatibility metric",
            "kind": "custom",
            "eventKey": f"compat-event-{suffix}",
            "isNumeric": True,
            "unit": "ms",
            "successCriteria": "LowerThanBaseline",
            "unitAggregationType": "average",
            "randomizationUnits": ["user"],
            "tags": ["compat"],
        }
    )
    run.check("postMetric", "postMetric", run.writer, lambda: api.post_metric_with_http_info(PROJECT, post))
    patch = [ld.PatchOperation(op="replace", path="/name", value="Compatibility metric, renamed")]
    run.check("patchMetric", "patchMetric", run.writer, lambda: api.patch_metric_with_http_info(PROJECT, key, patch))
    run.check("deleteMetric", "deleteMetric", run.writer, lambda: api.delete_metric_with_http_info(PROJECT, key))


def metric_groups(run: Runner, suffix: str) -> None:
    api = ld.MetricsBetaApi(run.writer)
    reader = ld.MetricsBetaApi(run.reader)
    run.check("getMetricGroups", "getMetricGroups", run.reader, lambda: reader.get_metric_groups_with_http_info(PROJECT))
    for key in ("metric-group-key-123abc", "checkout-guardrails"):
        run.check(
            f"getMetricGroup[{key}]",
            "getMetricGroup",
            run.reader,
            lambda key=key: reader.get_metric_group_with_http_info(PROJECT, key, expand="experiments,experimentCount"),
        )
    key = f"compat-group-{suffix}"
    post = ld.MetricGroupPost.from_dict(
        {
            "key": key,
            "name": "Compatibility group",
            "kind": "standard",
            "maintainerId": "569fdeadbeef1644facecafe",
            "tags": ["compat"],
            "metrics": [{"key": "checkout-pageview", "nameInGroup": "Page view"}],
        }
    )
    run.check("createMetricGroup", "createMetricGroup", run.writer, lambda: api.create_metric_group_with_http_info(PROJECT, post))
    patch = [ld.PatchOperation(op="replace", path="/name", value="Compatibility group, renamed")]
    run.check(
        "patchMetricGroup", "patchMetricGroup", run.writer, lambda: api.patch_metric_group_with_http_info(PROJECT, key, patch)
    )
    run.check(
        "deleteMetricGroup", "deleteMetricGroup", run.writer, lambda: api.delete_metric_group_with_http_info(PROJECT, key)
    )


def context_kinds(run: Runner, suffix: str) -> None:
    api = ld.ContextsApi(run.writer)
    reader = ld.ContextsApi(run.reader)
    run.check(
        "getContextKindsByProjectKey",
        "getContextKindsByProjectKey",
        run.reader,
        lambda: reader.get_context_kinds_by_project_key_with_http_info(PROJECT),
    )
    payload = ld.UpsertContextKindPayload(name="Compatibility kind", description="made by the compatibility check")
    run.check(
        "putContextKind",
        "putContextKind",
        run.writer,
        lambda: api.put_context_kind_with_http_info(PROJECT, f"compat-kind-{suffix}", payload),
    )
    experiments_api = ld.ExperimentsApi(run.writer)
    got = run.check(
        "getExperimentationSettings",
        "getExperimentationSettings",
        run.reader,
        lambda: ld.ExperimentsApi(run.reader).get_experimentation_settings_with_http_info(PROJECT),
    )
    # Put back what was read (the demo world's settings when the read failed).
    units = [
        {"randomizationUnit": "user", "default": True},
        {"randomizationUnit": "organization", "default": False},
    ]
    if got.status == "PASS" and got.data is not None and got.data.randomization_units:
        units = [
            {"randomizationUnit": unit.randomization_unit, "default": bool(unit.default)}
            for unit in got.data.randomization_units
        ]
    put = ld.RandomizationSettingsPut.from_dict({"randomizationUnits": units})
    run.check(
        "putExperimentationSettings",
        "putExperimentationSettings",
        run.writer,
        lambda: experiments_api.put_experimentation_settings_with_http_info(PROJECT, put),
    )


def layers(run: Runner, suffix: str) -> None:
    api = ld.LayersApi(run.writer)
    reader = ld.LayersApi(run.reader)
    run.check("getLayers", "getLayers", run.reader, lambda: reader.get_layers_with_http_info(PROJECT))
    run.check(
        "getLayers[filter=experimentKey:example-experiment]",
        "getLayers",
        run.reader,
        lambda: reader.get_layers_with_http_info(PROJECT, filter="experimentKey:example-experiment"),
    )
    key = f"compat-layer-{suffix}"
    post = ld.LayerPost(key=key, name="Compatibility layer", description="made by the compatibility check")
    run.check("createLayer", "createLayer", run.writer, lambda: api.create_layer_with_http_info(PROJECT, post))
    patch = ld.LayerPatchInput.from_dict(
        {
            "comment": "compatibility check",
            "environmentKey": ENV,
            "instructions": [{"kind": "updateName", "name": "Compatibility layer, renamed"}],
        }
    )
    run.check("updateLayer", "updateLayer", run.writer, lambda: api.update_layer_with_http_info(PROJECT, key, patch))


def holdouts(run: Runner, suffix: str) -> None:
    api = ld.HoldoutsApi(run.writer)
    reader = ld.HoldoutsApi(run.reader)
    run.check("getAllHoldouts", "getAllHoldouts", run.reader, lambda: reader.get_all_holdouts_with_http_info(PROJECT, ENV))
    run.check(
        "getHoldout[checkout-holdout]",
        "getHoldout",
        run.reader,
        lambda: reader.get_holdout_with_http_info(PROJECT, ENV, "checkout-holdout"),
    )
    run.check(
        "getHoldout[expand=all]",
        "getHoldout",
        run.reader,
        lambda: reader.get_holdout_with_http_info(
            PROJECT, ENV, "checkout-holdout",
            expand="draftIteration,previousIterations,secondaryMetrics,treatments,"
            "rel-draftIteration,rel-metrics,rel-previousIterations,rel-secondaryMetrics,rel-treatments",
        ),
    )
    run.check(
        "getHoldoutById",
        "getHoldoutById",
        run.reader,
        lambda: reader.get_holdout_by_id_with_http_info(PROJECT, ENV, HOLDOUT_ID),
    )
    key = f"compat-holdout-{suffix}"
    post = ld.HoldoutPostRequest.from_dict(
        {
            "name": "Compatibility holdout",
            "key": key,
            "description": "made by the compatibility check",
            "randomizationunit": "user",
            "attributes": ["country"],
            "holdoutamount": "5",
            "primarymetrickey": "metric-key-123abc",
            "metrics": [{"key": "metric-key-123abc"}],
            "prerequisiteflagkey": FLAG,
        }
    )
    run.check("postHoldout", "postHoldout", run.writer, lambda: api.post_holdout_with_http_info(PROJECT, ENV, post))
    patch = ld.HoldoutPatchInput.from_dict(
        {"comment": "compatibility check", "instructions": [{"kind": "updateName", "value": "Compatibility holdout, renamed"}]}
    )
    run.check("patchHoldout", "patchHoldout", run.writer, lambda: api.patch_holdout_with_http_info(PROJECT, ENV, key, patch))


# ---------------------------------------------------------------------------
# The server


class Server:
    """`iteration serve --demo --in-memory` on a port the system picks."""

    def __init__(self, binary: str) -> None:
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        self.process = subprocess.Popen(
            [binary, "serve", "--demo", "--in-memory", "--listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            text=True,
        )
        self.base_url = self._wait_for_address(timeout=30)
        # Keep reading what it prints, so that it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_for_address(self, timeout: float) -> str:
        found: list[str] = []

        def read() -> None:
            for line in self.process.stdout:
                match = re.search(r"listening on (https?://\S+)", line)
                if match:
                    found.append(match.group(1).rstrip("/"))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            self.log.seek(0)
            tail = self.log.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"the server printed no address within {timeout} s; its log:\n{tail}")
        return found[0]

    def _drain(self) -> None:
        for _ in self.process.stdout:
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fetch_served_document(base_url: str) -> Optional[dict]:
    request = urllib.request.Request(f"{base_url}/api/v2/openapi.json", headers={"Authorization": READER})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except (urllib.error.URLError, ValueError) as error:
        print(f"note: GET /api/v2/openapi.json failed ({error}); using --spec only", flush=True)
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--binary", help="the iteration binary; started with serve --demo --in-memory")
    target.add_argument("--base-url", help="a server already running the demo world, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--spec",
        default=os.environ.get("ITERATION_COMPAT_SPEC") or None,
        help="OpenAPI document for operations the served document lacks (default: $ITERATION_COMPAT_SPEC)",
    )
    parser.add_argument(
        "--spec-first",
        action="store_true",
        help="validate against --spec wherever it describes the operation, the served document only after it",
    )
    args = parser.parse_args()
    # Stopped from outside: still stop the server it started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    fallback = None
    if args.spec:
        with open(args.spec, encoding="utf-8") as file:
            fallback = json.load(file)

    server = None
    try:
        if args.binary:
            try:
                server = Server(os.path.abspath(args.binary))
            except (OSError, RuntimeError) as error:
                print(f"cannot start the server: {error}", file=sys.stderr)
                return 2
            base_url = server.base_url
        else:
            base_url = args.base_url.rstrip("/")
        served = fetch_served_document(base_url)
        if served is None and fallback is None:
            print("no OpenAPI document: the server serves none and no --spec was given", file=sys.stderr)
            return 2
        print(f"server {base_url}; launchdarkly-api {ld.__version__}", flush=True)
        run = Runner(base_url, Schemas(served, fallback, args.spec_first))
        suffix = f"{int(time.time() * 1000) % 10**10}"
        for group in (experiments, flags, metrics, metric_groups, context_kinds, layers, holdouts):
            group(run, suffix)
    finally:
        if server is not None:
            server.stop()
    summary = f"{run.passed} passed, {run.failed} failed"
    if run.skipped:
        summary += f", {run.skipped} skipped"
    print(summary, flush=True)
    if run.skipped and not ALLOW_UNSERVED:
        print("every operation of the contract must be served; a SKIP means one is not", flush=True)
        return 1
    return 1 if run.failed else 0


ALLOW_UNSERVED = "--allow-unserved" in sys.argv
if ALLOW_UNSERVED:
    sys.argv.remove("--allow-unserved")

if __name__ == "__main__":
    sys.exit(main())
