"""Node types used only by tests (loaded through NODEFLOW_NODE_MODULES, in workers too)."""

import gc
import os
import time

from engine.errors import TRANSIENT, NodeError
from nodes.registry import register_node


@register_node("test.sleep", category="test", params_schema={
    "type": "object", "properties": {"seconds": {"type": "number"}, "output": {}}, "additionalProperties": False})
def sleep(call):
    """Holds a worker for `seconds`, then outputs its pid and when it ran."""
    started = time.time()
    time.sleep(float(call.params.get("seconds", 0)))
    return {"pid": os.getpid(), "started": started, "finished": time.time(), "output": call.params.get("output")}


@register_node("test.flaky", category="test", params_schema={
    "type": "object", "properties": {"failures": {"type": "integer"}}, "additionalProperties": False})
def flaky(call):
    """Fails with a transient error on its first `failures` attempts."""
    if call.attempt <= int(call.params.get("failures", 0)):
        raise NodeError(f"flaky failure on attempt {call.attempt}", TRANSIENT)
    return {"attempt": call.attempt}


@register_node("test.gc", category="test")
def gc_state(call):
    """How many objects the garbage collector of the process running it leaves alone (gc.freeze)."""
    return {"frozen": gc.get_freeze_count(), "pid": os.getpid()}


@register_node("test.db_session", category="test")
def db_session(call):
    """The PostgreSQL backend pid of this process's database connection (which session ran the node)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return {"backend_pid": cursor.fetchone()[0], "pid": os.getpid()}


@register_node("test.crash", category="test", params_schema={
    "type": "object", "properties": {"output": {}}, "additionalProperties": False})
def crash(call):
    """A node type with a bug: raises an exception whose text names a server path."""
    raise RuntimeError(f"unexpected state in {__file__}")


@register_node("test.echo", category="test", params_schema={
    "type": "object", "properties": {"value": {}, "nan_at": {"type": "string"}}, "additionalProperties": False})
def echo(call):
    """Outputs `value`; with `nan_at`, an object holding NaN under that key (not JSON: see engine.jsonsafe)."""
    if call.params.get("nan_at"):
        return {call.params["nan_at"]: float("nan")}
    return call.params.get("value")


@register_node("test.spin", category="test", params_schema={
    "type": "object", "properties": {"pid_file": {"type": "string"}}, "additionalProperties": False})
def spin(call):
    """Loops for ever, burning CPU (after writing its process id to `pid_file`, when given)."""
    if call.params.get("pid_file"):
        with open(call.params["pid_file"], "w") as handle:
            handle.write(str(os.getpid()))
    while True:
        pass
