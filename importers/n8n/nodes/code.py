"""Code (Python) → code.python with an adapter for `_input` / `_json` / `_items`; JavaScript → untranslated.

n8n runs the code as a function body over items with `.json`; the adapter builds those
items from the input node's output, runs the code as that function, and turns the
returned items back into one value (one item's json, or a list of them)."""

import re
import textwrap

from importers.n8n.nodes import NotTranslated, Translation

N8N_TYPES = ("n8n-nodes-base.code",)
VERSIONS = (1, 2)

_SUPPORTED = {"_input", "_json", "_item", "_items"}
_HELPER = re.compile(r"(?<![A-Za-z0-9_])(_[A-Za-z][A-Za-z0-9_]*|\$[A-Za-z_]+)")

_ADAPTER = '''\
class _Obj(dict):
    """n8n's Python items are read as objects (item.json.x); NodeFlow passes plain JSON."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


def _wrap(value):
    if isinstance(value, dict):
        return _Obj({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Input:
    def __init__(self, items):
        self._items = items

    def all(self):
        return self._items

    def first(self):
        return self._items[0]

    def last(self):
        return self._items[-1]

    @property
    def item(self):
        return self._items[0]


def _items_of(output):
    values = output if isinstance(output, list) else ([] if output is None else [output])
    return [_wrap({"json": v if isinstance(v, dict) else {"value": v}}) for v in values]


def _result(returned):
    returned = _plain(returned)
    if isinstance(returned, dict):
        returned = [returned]
    values = [item.get("json", item) if isinstance(item, dict) else item for item in (returned or [])]
    return values[0] if len(values) == 1 else values

'''


def translate(node, ctx):
    params = node.get("parameters") or {}
    language = params.get("language", "javaScript")
    if language not in ("python", "pythonNative"):
        raise NotTranslated("JavaScript code (code.python runs Python): rewrite it in Python")
    code = params.get("pythonCode", "")
    helpers = sorted(set(_HELPER.findall(code)) - _SUPPORTED)
    if helpers:
        raise NotTranslated(f"the code uses n8n helpers with no equivalent ({', '.join(helpers)})")
    if ctx.scope.current is None:
        raise NotTranslated("Python code needs a single input node to read items from")
    source = ctx.scope.current.split(".")  # nodes.<id>.output[.body]
    reader = "ctx['nodes'][" + repr(source[1]) + "]['output']" + "".join(f"[{p!r}]" for p in source[3:])
    each = params.get("mode", "runOnceForAllItems") == "runOnceForEachItem"
    body = textwrap.indent(code if code.strip() else "pass", "    ")
    if each:
        run = (f"def _n8n_code(_item, _json):\n{body}\n\n\n"
               f"def run(ctx):\n    _all = _items_of({reader})\n"
               "    return _result([_n8n_code(item, item.json) for item in _all])\n")
    else:
        run = (f"def _n8n_code(_input, _items):\n{body}\n\n\n"
               f"def run(ctx):\n    _all = _items_of({reader})\n    return _result(_n8n_code(_Input(_all), _all))\n")
    return Translation("code.python", {"code": _ADAPTER + "\n" + run},
                       ["n8n's Python runs inside an adapter: items are built from the input node's output"])
