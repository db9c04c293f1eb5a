"""Schemathesis against the app's own OpenAPI schema (/api/schema/): every operation, with
generated valid and invalid input, as an authenticated user, must answer without a 500
and as its schema says (status code, content type, body).

Path ids are real objects of the user (a workflow with a published version, a finished
execution, a credential), so the generated input reaches the code behind the 404s.
Bounded: NODEFLOW_FUZZ_EXAMPLES examples per operation and generation mode (default 12),
fewer once a minute has passed, so the whole run stays under two minutes on two cores."""

import logging
import os
import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credentials import services as credential_services
from credentials.models import Credential
from executions.inline import run_inline
from workflows import services as workflow_services
from workflows.models import Workflow

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.timeout(240),
    # The SSE view is async: through this in-process WSGI app Django collects its stream synchronously.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators"),
]

EXAMPLES = int(os.environ.get("NODEFLOW_FUZZ_EXAMPLES", "12"))
BUDGET_S = 60  # past this, each remaining operation gets a quarter of the examples
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DOCUMENT = {
    "api_version": "nodeflow/v1",
    "name": "fuzzed",
    "nodes": [
        {"id": "start", "type": "trigger.manual"},
        {"id": "first", "type": "data.set", "params": {"output": {"n": 1}}},
        {"id": "done", "type": "flow.terminal", "params": {"result": "{{ nodes.first.output }}"}},
    ],
    "edges": [{"from": "start", "to": "first"}, {"from": "first", "to": "done"}],
}


class World:
    """The user's objects the path ids point at; made again when an operation deleted them."""

    def __init__(self, user):
        self.user = user
        self.build()

    def build(self):
        self.workflow, _ = workflow_services.create_workflow(self.user, None, DOCUMENT)
        workflow_services.publish_workflow(self.workflow, self.user)
        self.execution = run_inline(self.workflow.definition, owner=self.user, workflow=self.workflow, revision=1)
        self.credential = credential_services.create_credential(self.user, f"key-{self.workflow.pk}", "bearer",
                                                                {"token": "fuzz-token-1"})

    def ensure(self):
        if not (Workflow.objects.filter(pk=self.workflow.pk).exists()
                and Credential.objects.filter(pk=self.credential.pk).exists()):
            self.build()

    def id_for(self, path):
        if path.startswith("/api/v1/workflows/"):
            return str(self.workflow.pk)
        if path.startswith("/api/v1/executions/"):
            return str(self.execution.pk)
        if path.startswith("/api/v1/credentials/"):
            return str(self.credential.pk)
        return None


@pytest.fixture
def _connections_kept():
    """Requests through the WSGI app must not close the test's database connection (Django's own test
    client does the same): its transaction holds the test data."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(settings, _connections_kept):
    # Throttles off: the fuzzer sends far more requests per minute than a person.
    settings.NODEFLOW = {**settings.NODEFLOW, "THROTTLE_RATES": {}, "LOGIN_FAILURE_LIMIT": 0}
    app = get_wsgi_application()  # (re)configures logging: quiet the request log after it
    # Hundreds of expected 4xx answers would flood the output; a 500 is still logged (ERROR).
    request_log = logging.getLogger("django.request")
    request_log.setLevel(logging.ERROR)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    schema.config.generation.update(max_examples=EXAMPLES)
    yield schema
    request_log.setLevel(logging.NOTSET)


@pytest.fixture
def world(alice):
    return World(alice)


@pytest.fixture
def token(alice):
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=alice)[0].key


def fuzz_operation(operation, mode, world, token, calls, examples, fix_ids=True):
    """Run `examples` generated cases of one operation in one generation mode; the failure or None.

    With fix_ids the path names the user's real objects; an operation whose only input is its
    path then has nothing to make invalid, so its negative cases get generated (invalid) ids."""
    if mode == GenerationMode.NEGATIVE and not (len(operation.query) or len(operation.body)
                                                or len(operation.headers)):
        fix_ids = False  # only the path could be invalid: let the generator make invalid ids
    fixed = {}
    if fix_ids and "{id}" in operation.path:
        fixed["id"] = world.id_for(operation.path)
    if fix_ids and "{execution_id}" in operation.path:
        fixed["execution_id"] = str(world.execution.pk)
    if fix_ids and "{node_id}" in operation.path:
        fixed["node_id"] = "first"

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def check(case):
        world.ensure()
        if fixed:  # the world may have been rebuilt under new ids after a DELETE
            case.path_parameters.update(fixed, **{key: value for key, value in (
                ("id", world.id_for(operation.path)), ("execution_id", str(world.execution.pk))) if key in fixed})
        calls.append(operation.label)
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        return None  # no input that could be invalid (a GET without parameters)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # Schemathesis' FailureGroup: the failing example and what it broke
        return f"{mode.value} {operation.label}: {exc}"
    return None


def test_every_operation_answers_without_a_500_and_as_its_schema_says(api_schema, world, token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    started = time.monotonic()

    failures, calls = [], []
    for operation in operations:
        for mode in MODES:
            # On a machine slower than planned, the later operations get fewer examples, not more time.
            examples = EXAMPLES if time.monotonic() - started < BUDGET_S else max(2, EXAMPLES // 4)
            failure = fuzz_operation(operation, mode, world, token, calls, examples)
            if failure:
                failures.append(failure)
    print(f"schemathesis: {len(operations)} operations, {len(calls)} requests, {time.monotonic() - started:.0f} s")

    assert len(operations) >= 30
    assert failures == [], "\n\n".join(failures)
