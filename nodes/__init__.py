"""Node types: each a declaration (type, version, schema, ports) plus a run function.

`nodes.registry` is the only list of node types; validation, the catalog and the
engine all read it. Third-party apps add types with `@register_node`."""

from nodes.registry import NodeCall, NodeResult, NodeType, WaitFor, register_node, registry

__all__ = ["NodeCall", "NodeResult", "NodeType", "WaitFor", "register_node", "registry"]
