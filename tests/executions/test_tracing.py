"""OpenTelemetry: one trace per execution (its id is the execution id), one span per node run."""

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from executions import tracing
from executions.inline import run_inline
from tests.conftest import load_workflow
from workflows.services import with_node_versions


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    tracing.configure(exporter=exporter)
    yield exporter
    tracing.disable()


@pytest.mark.django_db(transaction=True)
def test_each_node_run_is_a_span_in_the_execution_trace(spans):
    execution = run_inline(with_node_versions(load_workflow("if_else")), input_data={"amount": 5})
    finished = spans.get_finished_spans()
    trace_id, root_id = tracing.ids_of(execution.pk)
    assert {span.context.trace_id for span in finished} == {trace_id}
    nodes = {span.attributes["nodeflow.node_id"]: span for span in finished if span.name.startswith("node ")}
    assert set(nodes) == {"start", "check", "small", "join", "done"}  # "big" was skipped: it never ran
    assert all(span.parent.span_id == root_id for span in nodes.values())
    assert nodes["check"].attributes["nodeflow.node_type"] == "logic.if v1"
    assert nodes["check"].attributes["nodeflow.status"] == "completed" and nodes["check"].attributes["nodeflow.attempt"] == 1
    root = [span for span in finished if span.name.startswith("execution ")]
    assert len(root) == 1 and root[0].context.span_id == root_id and root[0].context.trace_id == trace_id
    assert root[0].parent is None  # the root of the trace, not the child of the last node's span
    assert root[0].attributes["nodeflow.status"] == "succeeded"


@pytest.mark.django_db
def test_tracing_is_off_without_otel_variables(monkeypatch):
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure() is False and not tracing.enabled()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert tracing.configure() is True
    tracing.disable()
