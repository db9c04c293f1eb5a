"""One module per n8n node type: a new type is one file in this package.

Each module declares
- `N8N_TYPES`: the n8n type names it translates (`n8n-nodes-base.if`, …);
- `VERSIONS`: the (lowest, highest) `typeVersion` it knows, both included;
- `JSON_PATH` (optional): where n8n's `$json` of this node lies under its NodeFlow output
  (`"body"` for HTTP Request, whose output is `{status, headers, body}`);
- `passes_items_through(node)` (optional): True when n8n's node hands its input items on
  unchanged (IF, Switch, No Operation, a timed Wait), so that its `$json` is its input node's;
- `translate(node, ctx) -> Translation`, raising `NotTranslated(reason)` when the node's
  settings have no equivalent (the importer then leaves a placeholder and reports it)."""

import importlib
import pkgutil
from dataclasses import dataclass, field


class NotTranslated(ValueError):
    """This node (with these settings) has no NodeFlow equivalent."""


@dataclass
class Translation:
    """A NodeFlow node made from one n8n node."""

    type: str
    params: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    # NodeFlow ports for each n8n output index; a connection from output i becomes one edge per port.
    outputs: list = field(default_factory=lambda: [["main"]])
    # Fields of the NodeFlow node beyond type and params (timeout_s…).
    extra: dict = field(default_factory=dict)


_TRANSLATORS = None


def translators():
    """{n8n type: module}, imported once from this package's modules."""
    global _TRANSLATORS
    if _TRANSLATORS is None:
        found = {}
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for n8n_type in getattr(module, "N8N_TYPES", ()):
                found[n8n_type] = module
        _TRANSLATORS = found
    return _TRANSLATORS


def supported_types():
    """[{"type", "versions": [lowest, highest]}] of every translated n8n type."""
    return [{"type": name, "versions": list(module.VERSIONS)} for name, module in sorted(translators().items())]


def option(params, *path, default=None):
    """params[path[0]][path[1]]… or `default`."""
    value = params
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


def pairs(ctx, entries, where, name_key="name", value_key="value"):
    """n8n's [{name, value}] lists as a {name: value} object with values rewritten."""
    result = {}
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or not entry.get(name_key):
            continue
        result[str(entry[name_key])] = ctx.value(entry.get(value_key, ""), f"{where}[{index}]")
    return result
