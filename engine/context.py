"""The context a node sees, and the merge of branch variables at joins.

Variables are stored as a `VarState` only where they change (a node that writes, or
a join that merges); every other node points at the state it inherited. A VarState
remembers which node last wrote each key, so a join can tell a real conflict (two
concurrent branches wrote the key) from a key one branch merely inherited."""

from collections.abc import Mapping
from dataclasses import dataclass, field

MERGE_ERROR = "error"
MERGE_LAST_WRITE = "last_write"
MERGE_FIRST_WRITE = "first_write"
MERGE_COLLECT = "collect"
MERGE_POLICIES = (MERGE_ERROR, MERGE_LAST_WRITE, MERGE_FIRST_WRITE, MERGE_COLLECT)


class MergeConflict(Exception):
    """Two branches wrote different values to the same variable under the `error` policy."""

    def __init__(self, key, writers):
        self.key = key
        self.writers = writers  # [(writer node id, value)]
        described = " and ".join(f"{node_id!r} (value {value!r})" for node_id, value in writers)
        super().__init__(
            f"variable {key!r} was written by parallel branches {described}; "
            f"set settings.merge to last_write, first_write or collect, or write different keys"
        )


@dataclass
class VarState:
    """Variables after a node, with the id of the node that last wrote each key.

    A deleted key stays in `writers` but not in `values`."""

    values: dict = field(default_factory=dict)
    writers: dict = field(default_factory=dict)

    def as_dict(self):
        return {"values": self.values, "writers": self.writers}

    @classmethod
    def from_dict(cls, data):
        if not data:
            return cls()
        return cls(dict(data.get("values") or {}), dict(data.get("writers") or {}))

    def apply(self, writer, changes, deleted=()):
        """A new state with `changes` written (and `deleted` removed) by `writer`."""
        values, writers = dict(self.values), dict(self.writers)
        for key, value in changes.items():
            values[key] = value
            writers[key] = writer
        for key in deleted:
            values.pop(key, None)
            writers[key] = writer
        return VarState(values, writers)


def diff_vars(before, after):
    """(changed, deleted) keys between two plain variable dicts."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    deleted = [k for k in before if k not in after]
    return changed, deleted


@dataclass
class Branch:
    """One taken incoming branch of a join: its state and when its last node finished."""

    source: str
    state: VarState
    finish_order: int


def merge_branches(branches, policy, is_ancestor, join_id):
    """Merge the variables of a join's taken branches (given in edge order).

    A writer that is an ancestor of another writer of the same key was overwritten
    knowingly, so it drops out; several writers left are concurrent and the policy
    decides. `is_ancestor(a, b)` answers whether node a is upstream of node b."""
    if policy not in MERGE_POLICIES:
        raise ValueError(f"unknown merge policy {policy!r}")
    if len(branches) == 1:
        return branches[0].state
    merged = VarState()
    keys = dict.fromkeys(key for branch in branches for key in branch.state.writers)
    for key in keys:
        candidates = {}  # writer -> [value or _DELETED, first edge index, last finish, first finish]
        for index, branch in enumerate(branches):
            writer = branch.state.writers.get(key)
            if writer is None:
                continue
            value = branch.state.values.get(key, _DELETED)
            if writer in candidates:
                entry = candidates[writer]
                entry[2] = max(entry[2], branch.finish_order)
                entry[3] = min(entry[3], branch.finish_order)
            else:
                candidates[writer] = [value, index, branch.finish_order, branch.finish_order]
        concurrent = [w for w in candidates if not any(w != o and is_ancestor(w, o) for o in candidates)]
        if len(concurrent) == 1 or _all_equal(candidates[w][0] for w in concurrent):
            writer = concurrent[0]
            _put(merged, key, candidates[writer][0], writer)
            continue
        if policy == MERGE_ERROR:
            raise MergeConflict(key, [(w, _shown(candidates[w][0])) for w in sorted(concurrent, key=lambda w: candidates[w][1])])
        if policy == MERGE_LAST_WRITE:
            writer = max(concurrent, key=lambda w: candidates[w][2])
            _put(merged, key, candidates[writer][0], writer)
        elif policy == MERGE_FIRST_WRITE:
            writer = min(concurrent, key=lambda w: candidates[w][3])
            _put(merged, key, candidates[writer][0], writer)
        else:  # collect: every concurrent branch's value, in edge order
            ordered = sorted(concurrent, key=lambda w: candidates[w][1])
            values = [candidates[w][0] for w in ordered if candidates[w][0] is not _DELETED]
            _put(merged, key, values, join_id)
    return merged


class _Deleted:
    def __repr__(self):
        return "<deleted>"


_DELETED = _Deleted()


def _put(state, key, value, writer):
    state.writers[key] = writer
    if value is not _DELETED:
        state.values[key] = value


def _all_equal(values):
    values = list(values)
    return all(v == values[0] for v in values[1:])


def _shown(value):
    return None if value is _DELETED else value


class LazyNodes(Mapping):
    """`context.nodes`: each upstream node's `{output, status}`, loaded on first access.

    `visible` is the set of node ids the node may read (its ancestors); `load(ids)`
    returns {id: {"output", "status"}} for those it can find."""

    def __init__(self, visible, load):
        self._visible = visible
        self._load = load
        self._cache = {}

    def __getitem__(self, node_id):
        if node_id not in self._cache:
            if node_id not in self._visible:
                raise KeyError(node_id)
            self._cache.update(self._load([node_id]))
            if node_id not in self._cache:
                raise KeyError(node_id)
        return self._cache[node_id]

    def __iter__(self):
        return iter(sorted(self._visible))

    def __len__(self):
        return len(self._visible)

    def materialise(self):
        """Every visible node's entry as a plain dict, in one load."""
        missing = [node_id for node_id in self._visible if node_id not in self._cache]
        if missing:
            self._cache.update(self._load(missing))
        return {node_id: self._cache[node_id] for node_id in sorted(self._visible) if node_id in self._cache}


def build_context(execution, input_data, variables, nodes, globals_=None):
    """The context document of FORMAT.md; with `globals_`, a node run's snapshot of its owner's
    global variables (engine.globals.Snapshot) as `globals`."""
    context = {"execution": execution, "input": input_data, "vars": variables, "nodes": nodes}
    if globals_ is not None:
        context["globals"] = globals_
    return context
