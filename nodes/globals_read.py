"""Which global variables a node reads, told from its params before it runs: the keys of its
snapshot (engine.globals.Snapshot). Expressions and JsonLogic conditions name them as
`globals.<key>` paths; a computed key or `globals` as a whole means every key."""

import json

from engine import expressions, jsonlogic
from engine import globals as g
from nodes.validation import _jsonlogic_rules


def global_keys(params, node_type):
    """The set of keys the params read, or None when they cannot be told (every key is loaded)."""
    paths = []
    for key, value in params.items():
        if key in node_type.raw_params:
            continue
        for _, source in expressions.find(value):
            paths += expressions.referenced_paths(source)
    for _, rule in _jsonlogic_rules(params, node_type.jsonlogic_params):
        read = jsonlogic.var_paths(rule)
        if g.ROOT in json.dumps(rule, default=str) and not any(path.split(".")[0] == g.ROOT for path in read):
            return None  # a path computed at run time that may read globals
        paths += read
    return g.keys_read(paths)
