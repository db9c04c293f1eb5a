"""The shape of a workflow: nodes, edges, and the questions the scheduler asks of them."""

from collections import deque
from dataclasses import dataclass
from functools import cached_property

MAIN = "main"
ERROR_PORT = "error"


@dataclass(frozen=True)
class Edge:
    """One edge, from a source node's output port to a target node."""

    source: str
    target: str
    port: str = MAIN
    index: int = 0  # position in the document's edge list: the "edge order" of merges

    def as_dict(self):
        return {"from": self.source, "to": self.target, "port": self.port}


class Graph:
    """An immutable DAG built from a workflow document's nodes and edges.

    Building it does not validate the document (nodes.validation does); it only
    needs node ids and edges between known nodes. Ancestor sets are computed lazily,
    once per node, as integer bitsets so that a 10,000-node graph stays cheap."""

    def __init__(self, nodes, edges):
        self.nodes = {node["id"]: node for node in nodes}
        self.order = [node["id"] for node in nodes]
        self._position = {node_id: i for i, node_id in enumerate(self.order)}
        self.edges = [
            Edge(e["from"], e["to"], e.get("port") or MAIN, i)
            for i, e in enumerate(edges)
            if e.get("from") in self.nodes and e.get("to") in self.nodes
        ]
        self.incoming = {node_id: [] for node_id in self.order}
        self.outgoing = {node_id: [] for node_id in self.order}
        for edge in self.edges:
            self.outgoing[edge.source].append(edge)
            self.incoming[edge.target].append(edge)
        self._ancestor_bits = {}

    @classmethod
    def from_document(cls, document):
        return cls(document.get("nodes") or [], document.get("edges") or [])

    def node(self, node_id):
        return self.nodes[node_id]

    def predecessors(self, node_id):
        """Distinct source nodes of the node's incoming edges, in edge order."""
        return list(dict.fromkeys(edge.source for edge in self.incoming[node_id]))

    def successors(self, node_id):
        return list(dict.fromkeys(edge.target for edge in self.outgoing[node_id]))

    def roots(self):
        return [node_id for node_id in self.order if not self.incoming[node_id]]

    @cached_property
    def topological_order(self):
        """Kahn's order, ties broken by document order; raises ValueError on a cycle."""
        indegree = {node_id: len(self.incoming[node_id]) for node_id in self.order}
        ready = deque(node_id for node_id in self.order if indegree[node_id] == 0)
        order = []
        while ready:
            node_id = ready.popleft()
            order.append(node_id)
            for edge in self.outgoing[node_id]:
                indegree[edge.target] -= 1
                if indegree[edge.target] == 0:
                    ready.append(edge.target)
        if len(order) != len(self.order):
            raise ValueError("the graph has a cycle")
        return order

    def find_cycle(self):
        """One cycle as a list of node ids (first node repeated at the end), or None."""
        WHITE, GREY, BLACK = 0, 1, 2
        colour = dict.fromkeys(self.order, WHITE)
        for start in self.order:
            if colour[start] != WHITE:
                continue
            stack = [(start, iter(self.successors(start)))]
            path = [start]
            colour[start] = GREY
            while stack:
                node_id, children = stack[-1]
                for child in children:
                    if colour[child] == GREY:
                        return path[path.index(child):] + [child]
                    if colour[child] == WHITE:
                        colour[child] = GREY
                        stack.append((child, iter(self.successors(child))))
                        path.append(child)
                        break
                else:
                    colour[node_id] = BLACK
                    stack.pop()
                    path.pop()
        return None

    def _bits(self, node_id):
        bits = self._ancestor_bits.get(node_id)
        if bits is not None:
            return bits
        # Iterative post-order so a 10,000-node chain does not hit the recursion limit.
        stack = [node_id]
        while stack:
            current = stack[-1]
            pending = [p for p in self.predecessors(current) if p not in self._ancestor_bits]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current in self._ancestor_bits:
                continue
            bits = 0
            for parent in self.predecessors(current):
                bits |= self._ancestor_bits[parent] | (1 << self._position[parent])
            self._ancestor_bits[current] = bits
        return self._ancestor_bits[node_id]

    def is_ancestor(self, ancestor_id, node_id):
        return bool(self._bits(node_id) >> self._position[ancestor_id] & 1)

    def ancestors(self, node_id):
        """The node's ancestors, in document order."""
        bits = self._bits(node_id)
        return [self.order[i] for i in range(bits.bit_length()) if bits >> i & 1]

    def ancestor_view(self, node_id):
        """The node's ancestors as a collection: `in` is a bit test; the list is built only if iterated."""
        return _AncestorView(self, node_id)

    def reachable_from(self, start_ids):
        seen, queue = set(start_ids), deque(start_ids)
        while queue:
            for child in self.successors(queue.popleft()):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return seen


class _AncestorView:
    """A node's ancestors, lazily: most node runs only ask whether one node is upstream."""

    __slots__ = ("graph", "node_id", "_list")

    def __init__(self, graph, node_id):
        self.graph, self.node_id, self._list = graph, node_id, None

    def __contains__(self, other):
        return other in self.graph.nodes and self.graph.is_ancestor(other, self.node_id)

    def _ids(self):
        if self._list is None:
            self._list = self.graph.ancestors(self.node_id)
        return self._list

    def __iter__(self):
        return iter(self._ids())

    def __len__(self):
        return len(self._ids())
