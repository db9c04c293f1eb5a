"""Compiled workflows: a stored definition made ready to run, cached per process.

Definitions are content-addressed and never change, so a compiled workflow is kept for
as long as the cache has room for it."""

from threading import Lock

from cachetools import LRUCache
from django.conf import settings

from engine.graph import Graph
from engine.pins import pins_of
from executions.models import Definition
from nodes.globals_read import global_keys
from nodes.registry import registry


# A workflow of at most this many nodes has all its node runs loaded with the execution's lock: one
# read, whatever its nodes then touch, and no query for the open ones when it settles.
SMALL_GRAPH = 64


class CompiledWorkflow:
    """A workflow document made ready to run: its graph and each node's type."""

    def __init__(self, document):
        self.document = document
        self.graph = Graph.from_document(document)
        self.node_types = {node_id: registry.for_node(node) for node_id, node in self.graph.nodes.items()}
        self.settings = document.get("settings") or {}
        self.merge_policy = self.settings.get("merge", "error")
        # Pinned nodes (DEBUGGING.md) do not run: they complete in the worker that made them ready.
        self.pins = pins_of(document)
        # At most SMALL_GRAPH nodes: its transitions load every node run with the lock, in one round trip.
        self.loads_whole = len(self.graph.order) <= SMALL_GRAPH
        self._global_keys = {}
        self._join_modes = {
            node_id: node_type.join_mode_of(self.graph.nodes[node_id]) for node_id, node_type in self.node_types.items()
        }
        routes = settings.NODEFLOW["QUEUE_ROUTES"]
        # Instant nodes run in the worker that made them ready, unless they carry a time limit
        # (only a task of their own enforces it) or an operator routed their type to a queue.
        self._local = {
            node_id for node_id, node_type in self.node_types.items()
            if node_id in self.pins or node_type.instant and not self.graph.nodes[node_id].get("timeout_s") and node_type.type not in routes
        }
        # Contained nodes found to need longer than a finish transaction gives them (finishing._run_here):
        # in this process they run after the commit from then on.
        self.not_here = set()

    def runs_locally(self, node_id):
        return node_id in self._local

    def join_mode(self, node_id):
        return self._join_modes[node_id]

    def queue(self, node_id):
        node_type = self.node_types[node_id]
        return settings.NODEFLOW["QUEUE_ROUTES"].get(node_type.type, node_type.queue)

    def timeout_s(self, node_id):
        return self.graph.node(node_id).get("timeout_s")

    def global_keys(self, node_id):
        """The global variables node `node_id` reads (nodes.globals_read), found once per process: a
        node's params never change, and walking them costs tens of microseconds per run."""
        try:
            return self._global_keys[node_id]
        except KeyError:
            node_type = self.node_types[node_id]
            keys = global_keys({**node_type.defaults, **(self.graph.node(node_id).get("params") or {})}, node_type)
            self._global_keys[node_id] = keys
            return keys


_cache = LRUCache(maxsize=64)
_lock = Lock()


def compiled_for(definition_sha, load_document=None):
    """The compiled workflow of a stored definition; `load_document` saves the query when
    the caller has the document already."""
    with _lock:
        compiled = _cache.get(definition_sha)
    if compiled is not None:
        return compiled
    document = load_document() if load_document else Definition.objects.get(pk=definition_sha).document
    compiled = CompiledWorkflow(document)
    with _lock:
        _cache[definition_sha] = compiled
    return compiled
