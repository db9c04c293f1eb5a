"""OpenTelemetry traces: one trace per execution, one span per node run.

Off unless the standard variables ask for it (OTEL_TRACES_EXPORTER=otlp|console, or an
OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT); when off, the engine pays one boolean check per
node. The trace id is the execution's UUID and the root span id is derived from it,
so the web process and every worker put their spans in the same trace with no
context to carry in task messages."""

import os
import uuid
from contextvars import ContextVar
from datetime import datetime

_tracer = None
_forced_ids = ContextVar("nodeflow_forced_span_ids", default=None)


def enabled():
    return _tracer is not None


def configure(exporter=None):
    """Set up tracing from the OTEL_* environment (or with `exporter`, for tests); returns whether it is on."""
    global _tracer
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if exporter is None and (choice == "none" or (not choice and not endpoint)):
        _tracer = None
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        if choice == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        processor = BatchSpanProcessor(exporter)
    else:
        processor = SimpleSpanProcessor(exporter)
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "nodeflow")})
    provider = TracerProvider(resource=resource, id_generator=_execution_ids())
    provider.add_span_processor(processor)
    _tracer = provider.get_tracer("nodeflow")
    return True


def disable():
    global _tracer
    _tracer = None


def ids_of(execution_id):
    """(trace id, root span id) of an execution."""
    trace_id = uuid.UUID(str(execution_id)).int
    return trace_id, (trace_id >> 64) or 1


def _parent(execution_id):
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    trace_id, span_id = ids_of(execution_id)
    context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(context))


def _execution_ids():
    from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

    class ExecutionIds(IdGenerator):
        """Random ids, except for an execution's root span, whose ids come from the execution id.

        Execution ids are UUID4s, random in their rightmost 7 bytes, as W3C's random flag asks."""

        def __init__(self):
            self._random = RandomIdGenerator()

        def generate_trace_id(self):
            forced = _forced_ids.get()
            return forced[0] if forced else self._random.generate_trace_id()

        def generate_span_id(self):
            forced = _forced_ids.get()
            if forced:
                _forced_ids.set(None)
                return forced[1]
            return self._random.generate_span_id()

        def is_trace_id_random(self):
            return True

    return ExecutionIds()


def _ns(moment):
    return int(moment.timestamp() * 1e9) if isinstance(moment, datetime) else None


def node_span(execution_id, workflow_id, node_id, node_type, attempt):
    """A span around one node run (a child of the execution's root span)."""
    return _tracer.start_as_current_span(
        f"node {node_id}",
        context=_parent(execution_id),
        attributes={
            "nodeflow.execution_id": str(execution_id),
            "nodeflow.workflow_id": str(workflow_id or ""),
            "nodeflow.node_id": node_id,
            "nodeflow.node_type": node_type,
            "nodeflow.attempt": attempt,
        },
    )


def execution_started(execution):
    """A short span in the process that created the execution (the web process, usually)."""
    with _tracer.start_as_current_span("start execution", context=_parent(execution.pk),
                                       attributes={"nodeflow.execution_id": str(execution.pk),
                                                   "nodeflow.workflow_id": str(execution.workflow_id or ""),
                                                   "nodeflow.trigger": execution.trigger}):
        pass


def execution_finished(execution):
    """The execution's root span, emitted when it ends, covering its whole life."""
    from opentelemetry.context import Context

    token = _forced_ids.set(ids_of(execution.pk))
    try:
        span = _tracer.start_span(
            f"execution {execution.pk}",
            context=Context(),  # a root: never the child of whatever span is current here
            start_time=_ns(execution.created_at),
            attributes={"nodeflow.execution_id": str(execution.pk),
                        "nodeflow.workflow_id": str(execution.workflow_id or ""),
                        "nodeflow.trigger": execution.trigger, "nodeflow.status": execution.status},
        )
        span.end(end_time=_ns(execution.finished_at))
    finally:
        _forced_ids.reset(token)
