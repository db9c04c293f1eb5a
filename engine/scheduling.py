"""Readiness and skip propagation: which nodes run, and which are skipped, after a node ends.

A node is ready when every incoming edge is resolved: taken (its source completed and
emitted the edge's port) or not taken (its source was skipped, or emitted another
port). A ready node with at least one taken edge runs; one with none is skipped, and
the skip flows on. A node whose join mode is `first` starts at its first taken edge."""

from dataclasses import dataclass, field

from engine.states import NodeStatus

JOIN_ALL = "all"
JOIN_FIRST = "first"

N = NodeStatus


def emitted_ports(status, ports):
    """The ports a node run emitted: those it recorded, once it completed or failed down a port
    (on_error: route). A skipped, cancelled or unfinished node emitted none."""
    return tuple(ports or ()) if status in (N.COMPLETED, N.FAILED) else ()


def edge_taken(edge, ports):
    """The one definition of a taken edge: its source emitted the edge's port."""
    return edge.port in ports


def edge_resolved(status, ports):
    """Whether a source's outgoing edges are resolved: it was skipped, it completed, or it failed
    down a port. A node that failed without one ended its execution and resolves nothing."""
    return status in (N.SKIPPED, N.COMPLETED) or (status == N.FAILED and bool(ports))


def join_counters(graph, node_id, runs):
    """(unresolved incoming edges, taken incoming edges) of `node_id` from its predecessors'
    current states; `runs` maps node id → (status, ports)."""
    remaining = taken = 0
    for edge in graph.incoming[node_id]:
        status, ports = runs[edge.source]
        if not edge_resolved(status, ports):
            remaining += 1
        elif edge_taken(edge, emitted_ports(status, ports)):
            taken += 1
    return remaining, taken


def taken_sources(graph, node_id, runs, join_mode=JOIN_ALL, finish_order=None):
    """The predecessors whose edge into `node_id` was taken, in edge order; for a `first`
    join only the one that finished first (`finish_order` maps node id → its finish sequence)."""
    taken = []
    for edge in graph.incoming[node_id]:
        status, ports = runs[edge.source]
        if edge.source not in taken and edge_taken(edge, emitted_ports(status, ports)):
            taken.append(edge.source)
    if join_mode == JOIN_FIRST and taken:
        taken = [min(taken, key=lambda source: (finish_order or {}).get(source) or 0)]
    return taken


@dataclass
class JoinState:
    """How many of a node's incoming edges are still open, and how many were taken."""

    remaining: int
    taken: int = 0
    started: bool = False  # set once the node was queued or skipped

    def resolve(self, taken):
        if self.remaining <= 0:
            raise ValueError("an edge resolved twice")
        self.remaining -= 1
        if taken:
            self.taken += 1


@dataclass
class Decision:
    """What the scheduler decided after a node ended: nodes to start and nodes to skip."""

    start: list = field(default_factory=list)
    skip: list = field(default_factory=list)
    touched: dict = field(default_factory=dict)  # node id -> JoinState after the change


def propagate(graph, node_id, emitted_ports, join_states, join_mode=lambda node_id: JOIN_ALL):
    """Resolve the outgoing edges of `node_id`, which emitted `emitted_ports`
    (empty for a skipped node), and follow skips transitively.

    `join_states` maps node id -> JoinState for every node whose state may change;
    it is updated in place (callers load the rows they need and save those in
    `Decision.touched`). A node whose JoinState says `started` is left alone, except
    that its counters still move, so a late edge into a `first` join is absorbed."""
    decision = Decision()
    work = [(node_id, frozenset(emitted_ports))]
    while work:
        source, ports = work.pop()
        for edge in graph.outgoing[source]:
            state = join_states[edge.target]
            state.resolve(edge_taken(edge, ports))
            decision.touched[edge.target] = state
            if state.started:
                continue
            first = join_mode(edge.target) == JOIN_FIRST
            if state.taken and (first or state.remaining == 0):
                state.started = True
                decision.start.append(edge.target)
            elif state.remaining == 0:
                state.started = True
                decision.skip.append(edge.target)
                work.append((edge.target, frozenset()))
    return decision


def first_join_losers(graph, join_id, open_nodes):
    """Nodes to cancel when a `first` join starts: open nodes upstream of the join
    whose every path leads only into the join (so nothing else needs them).

    Paths are followed up to the join and not past it: what comes after the join
    needs the join, not the losing branches."""
    upstream = set(graph.ancestors(join_id))
    losers = []
    for node_id in open_nodes:
        if node_id not in upstream:
            continue
        seen, stack, exclusive = set(), [node_id], True
        while stack and exclusive:
            for child in graph.successors(stack.pop()):
                if child == join_id or child in seen:
                    continue
                if child not in upstream:
                    exclusive = False
                    break
                seen.add(child)
                stack.append(child)
        if exclusive:
            losers.append(node_id)
    return losers
