"""The node-type registry.

A node type is data (type, version, title, category, parameter JSON Schema, ports,
defaults) plus a run function `run(call: NodeCall) -> NodeResult | value`. Several
versions of one type live side by side; the highest is `latest`. Built-in types and
those of installed apps (`<app>/nodes.py`, or modules named in
NODEFLOW["NODE_MODULES"]) are imported on first use."""

import importlib
import importlib.util
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from engine.graph import ERROR_PORT, MAIN
from engine.scheduling import JOIN_ALL

# The trigger node types are the triggers app's own (triggers/nodes.py), found like any app's.
BUILTIN_MODULES = (
    "nodes.flow",
    "nodes.merge",
    "nodes.logic",
    "nodes.data",
    "nodes.code_python.v1",
    "nodes.http_request.v1",
    "nodes.composition",
)

QUEUES = ("default", "http", "sandbox")


class UnknownNodeType(LookupError):
    """No registered node type has this name (or this version)."""


@dataclass(frozen=True)
class NodeType:
    """A node type's declaration plus its run function."""

    type: str
    version: int
    title: str
    category: str
    run: Callable
    params_schema: dict = field(default_factory=lambda: {"type": "object", "properties": {}})
    ports_in: tuple = (MAIN,)
    ports_out: tuple = (MAIN,)
    defaults: dict = field(default_factory=dict)
    description: str = ""
    queue: str = "default"
    # Params that are not expression templates (code, JsonLogic): passed through as written.
    raw_params: frozenset = frozenset()
    # Params holding JsonLogic rules, as JSON-pointer-ish paths ("condition", "cases.*.condition").
    jsonlogic_params: tuple = ()
    trigger: bool = False
    # Ports that depend on params (logic.switch); returns the full list of output ports.
    dynamic_ports: Callable | None = None
    # Join behaviour that depends on params (flow.merge mode "first").
    join_mode: Callable | None = None
    # Checks beyond the JSON Schema, at save time: check_params(params) -> [(param name, message)].
    check_params: Callable | None = None
    # Does no network or sandbox work and returns at once: the worker that made such a node
    # ready runs it itself, with no trip through the broker (see executions.executing.run_nodes).
    instant: bool = False
    # Reaches nothing outside its own process (a sandboxed code node: no network, no files), so a
    # run can be stopped and run again with nobody outside the wiser: a worker that finished the node
    # before it in a chain may run it inside that finish's transaction, within `NodeCall.here_ms`
    # (executions.finishing._run_here). Its run function raises NotHere when it cannot finish in it.
    contained: bool = False

    def output_ports(self, node):
        """Every port a node of this type can emit, given the node (its params and on_error)."""
        params = {**self.defaults, **(node.get("params") or {})}
        ports = list(self.dynamic_ports(params)) if self.dynamic_ports else list(self.ports_out)
        if node.get("on_error") == "route" and ERROR_PORT not in ports:
            ports.append(ERROR_PORT)
        return ports

    def join_mode_of(self, node):
        if self.join_mode is None:
            return JOIN_ALL
        return self.join_mode({**self.defaults, **(node.get("params") or {})})

    def catalog_entry(self, latest):
        return {
            "type": self.type,
            "version": self.version,
            "latest": latest,
            "title": self.title,
            "category": self.category,
            "description": self.description,
            "params_schema": self.params_schema,
            "defaults": self.defaults,
            "ports": {"in": list(self.ports_in), "out": list(self.ports_out), "dynamic": self.dynamic_ports is not None},
            "trigger": self.trigger,
            "queue": self.queue,
        }


@dataclass
class NodeCall:
    """What a run function gets: its rendered params and the context it may read."""

    node_id: str
    node: dict
    params: dict
    context: dict  # read it, do not change it: its input is shared with the nodes that run next here
    execution_id: str
    attempt: int = 1
    upstream: list = field(default_factory=list)  # taken predecessors, in edge order
    logs: list = field(default_factory=list)
    owner_id: int | None = None  # the execution's owner: whose credentials the node may use
    # Secret values the node used (credentials): masked wherever the run's data is stored.
    secrets: set = field(default_factory=set)
    # Which try of the node this is: `attempt` counts every time it ran, this one only the tries
    # that ended on their own (a run again after a lost worker is the same try, the same call).
    try_number: int = 1
    # What the run used outside this thread, as the node type measures it (stored with the node run):
    # a code node its sandbox child's sandbox_cpu_ms and peak_memory_kb, an HTTP node bytes_in and bytes_out.
    resources: dict = field(default_factory=dict)
    # Set when a contained node runs inside a finish transaction: the most milliseconds it may take
    # there. One that needs longer raises NotHere, and runs again after the commit.
    here_ms: int | None = None

    def idempotency_key(self):
        """The same for every run of this try of this node in this execution, and for no other."""
        return f"nodeflow:{self.execution_id}:{self.node_id}:{self.try_number}"

    def log(self, message, level="info"):
        self.logs.append({"ts": datetime.now().astimezone().isoformat(), "level": level, "message": str(message)})

    def upstream_outputs(self):
        """{node id: output} of the taken predecessors, in edge order."""
        return {node_id: self.context["nodes"][node_id]["output"] for node_id in self.upstream}


class NotHere(Exception):
    """A contained node could not finish within its NodeCall.here_ms: it runs after the commit instead."""


@dataclass(frozen=True)
class WaitFor:
    """A node asks to wait: until a time, for external input, or both (input with a timeout)."""

    until: datetime | None = None
    input_schema: dict | None = None
    wants_input: bool = False
    # A composite node (nodes.composition) waits for child executions: what to run (a ChildRuns).
    children: Any = None


_UNSET = object()


@dataclass
class NodeResult:
    """A run function's full answer; returning a plain value means NodeResult(output=value)."""

    output: Any = None
    ports: tuple = (MAIN,)
    vars: dict = field(default_factory=dict)
    deleted_vars: tuple = ()
    result: Any = _UNSET
    artifacts: dict | None = None
    wait: WaitFor | None = None
    logs: list = field(default_factory=list)
    # Writes of global variables (engine.globals.GlobalWrite), applied when the node completes, in
    # the transaction that records its completion.
    globals: list = field(default_factory=list)

    @property
    def sets_result(self):
        return self.result is not _UNSET


class NodeRegistry:
    """Node types by (type, version), loaded lazily from the built-in and configured modules."""

    def __init__(self, modules=BUILTIN_MODULES):
        self._modules = modules
        self._types = {}
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, node_type):
        key = (node_type.type, node_type.version)
        existing = self._types.get(key)
        if existing is not None and existing.run is not node_type.run:
            raise ValueError(f"node type {node_type.type} v{node_type.version} is registered twice")
        if node_type.queue not in QUEUES:
            raise ValueError(f"node type {node_type.type}: queue must be one of {QUEUES}")
        self._types[key] = node_type
        return node_type

    def _ensure_loaded(self):
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            for module in self._modules:
                importlib.import_module(module)
            configured = _configured_modules()
            for module in configured or ():
                importlib.import_module(module)
            # Before Django's apps are ready the installed apps' node types cannot be
            # found yet: stay unloaded so the next call looks again.
            self._loaded = configured is not None

    def reload(self):
        """Forget what was loaded and import the node modules again (for tests and plugins)."""
        with self._lock:
            self._loaded = False
        self._ensure_loaded()

    def versions(self, type_name):
        self._ensure_loaded()
        return sorted(version for name, version in self._types if name == type_name)

    def latest_version(self, type_name):
        versions = self.versions(type_name)
        if not versions:
            raise UnknownNodeType(f"unknown node type {type_name!r}")
        return versions[-1]

    def get(self, type_name, version=None):
        self._ensure_loaded()
        if version is None:
            version = self.latest_version(type_name)
        try:
            return self._types[(type_name, version)]
        except KeyError:
            known = self.versions(type_name)
            if not known:
                raise UnknownNodeType(f"unknown node type {type_name!r}") from None
            raise UnknownNodeType(
                f"node type {type_name!r} has no version {version} (versions: {', '.join(map(str, known))})"
            ) from None

    def for_node(self, node):
        return self.get(node.get("type"), node.get("version"))

    def all(self):
        self._ensure_loaded()
        return [self._types[key] for key in sorted(self._types)]

    def catalog(self):
        types = self.all()
        latest = {}
        for node_type in types:
            latest[node_type.type] = max(latest.get(node_type.type, 0), node_type.version)
        return [t.catalog_entry(latest=t.version == latest[t.type]) for t in types]


def _configured_modules():
    """Node modules named in settings and `<app>.nodes` of installed apps; None while Django's apps are not ready."""
    try:
        from django.apps import apps
        from django.conf import settings
    except ImportError:  # the engine core runs without Django
        return []
    if not settings.configured:
        return []
    if not apps.ready:
        return None
    modules = list(settings.NODEFLOW.get("NODE_MODULES", []))
    for config in apps.get_app_configs():
        if config.name == "nodes":
            continue
        if importlib.util.find_spec(f"{config.name}.nodes") is not None:
            modules.append(f"{config.name}.nodes")
    return modules


registry = NodeRegistry()


def register_node(
    type,
    version=1,
    *,
    title=None,
    category="custom",
    params_schema=None,
    ports_out=(MAIN,),
    defaults=None,
    description=None,
    queue="default",
    raw_params=(),
    jsonlogic_params=(),
    trigger=False,
    dynamic_ports=None,
    join_mode=None,
    check_params=None,
    instant=False,
    contained=False,
    target_registry=None,
):
    """Register a function as a node type: `@register_node(type="acme.score", version=1, params_schema={…})`.

    The function receives a NodeCall and returns a NodeResult, or any JSON value as the output."""

    def decorate(run):
        (target_registry or registry).register(
            NodeType(
                type=type,
                version=version,
                title=title or type,
                category=category,
                run=run,
                params_schema=params_schema or {"type": "object", "properties": {}, "additionalProperties": False},
                ports_out=tuple(ports_out),
                defaults=defaults or {},
                description=description or (run.__doc__ or "").strip(),
                queue=queue,
                raw_params=frozenset(raw_params),
                jsonlogic_params=tuple(jsonlogic_params),
                trigger=trigger,
                dynamic_ports=dynamic_ports,
                join_mode=join_mode,
                check_params=check_params,
                instant=instant,
                contained=contained,
            )
        )
        return run

    return decorate
