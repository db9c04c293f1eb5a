"""Validation of workflow documents: every problem at once, each {code, message, node_id, edge, path}.

`validate_document(document)` never raises for any JSON value; it answers [] when the
document can be published and run, else a list of problems. `path` points into the
document (`nodes[2].params.url`), `node_id` names the node concerned, `edge` is the
edge concerned (`{"from", "to", "port"}`); each is null when it does not apply.

Problem codes (stable: clients and tests match on them; ERROR_CODES holds the text):

| code                      | what is wrong                                                          |
|---------------------------|------------------------------------------------------------------------|
| invalid_document          | the document is not a JSON object                                      |
| missing_api_version       | no `api_version`                                                       |
| unsupported_api_version   | an `api_version` this server cannot read (newer, older or malformed)   |
| unknown_key               | a key the format does not define (top level, node, edge, retry, …)     |
| missing_key               | a required key is absent (`nodes`, a node's `id` or `type`, …)         |
| invalid_value             | a value of the wrong type or out of range (`timeout_s`, `on_error`, …) |
| invalid_node_id           | a node id that does not match `[a-z][a-z0-9_]{0,63}`                   |
| duplicate_node_id         | two nodes with one id                                                  |
| unknown_node_type         | `type` is not a registered node type                                   |
| unknown_node_version      | the node type has no such `version`                                    |
| invalid_params            | `params` fail the node type's parameter schema                         |
| invalid_input_schema      | `input_schema` is not a valid JSON Schema                              |
| edge_to_missing_node      | an edge's `from` or `to` names no node                                 |
| unknown_port              | an edge leaves a port its source node does not have                    |
| duplicate_edge            | the same edge (from, port, to) twice                                   |
| edge_into_trigger         | an edge ends at a trigger node (triggers start executions)             |
| cycle                     | the graph has a cycle (the message names its nodes)                    |
| no_trigger                | no trigger node                                                        |
| unreachable_node          | a node no trigger leads to                                             |
| invalid_expression        | a `{{ … }}` expression that does not parse                             |
| invalid_jsonlogic         | a JsonLogic condition that is not well formed                          |
| unknown_context_key       | an expression or condition reads outside input, vars, execution, nodes, globals |
| unknown_node_reference    | an expression or condition reads `nodes.X` and there is no node X      |
| non_ancestor_reference    | it reads `nodes.X` where X is not upstream of the node                 |
| invalid_body              | a composite node's body (`params.graph`) has no one `trigger.group` to start at, or another trigger |
| document_too_deep         | the document nests too deeply to be checked                            |
| too_many_errors           | more problems than MAX_PROBLEMS; the list was cut                      |
"""

import hashlib
import json
import re
import threading

import jsonschema
from cachetools import LRUCache
from jsonschema.exceptions import best_match

from engine import code_reads, expressions, jsonlogic, schemas
from engine import pins as pins_rules
from engine.graph import MAIN, Graph
from nodes.registry import UnknownNodeType, registry
from engine import document as document_schemas
from engine.document import API_VERSION, NODE_ID_PATTERN

NODE_ID = re.compile(NODE_ID_PATTERN)
MAX_PROBLEMS = 200
# Documents nest far less in practice; the limit keeps every recursive walk (jsonschema,
# expressions) well inside Python's recursion limit. The API refuses deeper bodies anyway.
MAX_DEPTH = 100
# What an execution's context holds (FORMAT.md; `globals`: COMPOSITION.md "Variables beyond one run").
CONTEXT_KEYS = ("input", "vars", "execution", "nodes", "globals")
_MAX_SHOWN = 80  # characters of a value quoted in a message

ERROR_CODES = {
    "invalid_document": "The document is not a JSON object.",
    "missing_api_version": "The document has no api_version.",
    "unsupported_api_version": "The document's api_version is not one this server can read (newer, older or malformed).",
    "unknown_key": "A key the format does not define.",
    "missing_key": "A required key is absent.",
    "invalid_value": "A value of the wrong type or out of range.",
    "invalid_node_id": "A node id that does not match [a-z][a-z0-9_]{0,63}.",
    "duplicate_node_id": "Two nodes share one id.",
    "unknown_node_type": "The node's type is not registered.",
    "unknown_node_version": "The node type has no such version.",
    "invalid_params": "The node's params fail its type's parameter schema.",
    "invalid_input_schema": "input_schema is not a valid JSON Schema.",
    "edge_to_missing_node": "An edge's from or to names no node.",
    "unknown_port": "An edge leaves a port its source node does not have.",
    "duplicate_edge": "The same edge (from, port, to) appears twice.",
    "edge_into_trigger": "An edge ends at a trigger node.",
    "cycle": "The graph has a cycle.",
    "no_trigger": "The workflow has no trigger node.",
    "unreachable_node": "No trigger leads to the node.",
    "invalid_expression": "A {{ expression }} that does not parse.",
    "invalid_jsonlogic": "A JsonLogic rule that is not well formed.",
    "unknown_context_key": "An expression or condition reads something other than input, vars, execution, nodes or "
                           "globals.",
    "unknown_node_reference": "An expression or condition reads nodes.X and there is no node X.",
    "non_ancestor_reference": "An expression or condition reads nodes.X where X is not upstream of the node.",
    "invalid_body": "A composite node's body does not start at exactly one trigger.group, or holds another trigger.",
    "unknown_pinned_node": "pins (or a test case's pins) name a node the document does not have.",
    "duplicate_test_name": "Two test cases share one name.",
    "unknown_expected_node": "A test case expects something of a node the document does not have.",
    "document_too_deep": "The document nests too deeply to be checked.",
    "too_many_errors": "More problems than can be listed; the list was cut.",
}


class InvalidWorkflow(ValueError):
    """The workflow's document has validation errors, so it cannot be published or run."""

    def __init__(self, errors):
        super().__init__(f"the workflow has {len(errors)} validation error(s): {errors[0]['message']}")
        self.errors = errors


def problem(code, message, node_id=None, edge=None, path=None):
    assert code in ERROR_CODES, code
    return {"code": code, "message": message, "node_id": node_id, "edge": edge, "path": path}


def validate_document(document):
    """Every problem of the document, or [] when it can be published and run."""
    if _nests_deeper_than(document, MAX_DEPTH):
        return [problem("document_too_deep", f"the document nests deeper than {MAX_DEPTH} levels", path="")]
    try:
        key = _cache_key(document)
    except (TypeError, ValueError):  # not JSON (a Python object in it): checked, not cached
        return _validate(document)
    with _results_lock:
        found = _results.get(key)
    if found is None:
        found = _validate(document)
        with _results_lock:
            _results[key] = found
    return [{**item, "edge": dict(item["edge"]) if item["edge"] else item["edge"]} for item in found]


def _validate(document):
    problems = _Problems()
    try:
        _DocumentCheck(document, problems).run()
    except _TooManyProblems:
        problems.items.append(problem("too_many_errors", f"more than {MAX_PROBLEMS} problems; fix these first"))
    except RecursionError:
        return [problem("document_too_deep", "the document nests too deeply to be checked", path="")]
    return problems.items


# The last results of validate_document, by document content: jsonschema makes a check cost
# milliseconds (seconds for 10,000 nodes), and the same document is checked again and again:
# on save, on publish, before every run.
_results = LRUCache(maxsize=256)
_results_lock = threading.Lock()


def _cache_key(document):
    # The registry is part of the key: a node type registered later changes the answer.
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(), id(registry), len(registry.all())


def api_version_problem(document):
    """The problem with the document's api_version (missing, newer, malformed), or None."""
    if not isinstance(document, dict):
        return problem("invalid_document", "the workflow document must be a JSON object", path="")
    if "api_version" not in document:
        return problem("missing_api_version", f"the document has no api_version; this server reads {API_VERSION!r}",
                       path="api_version")
    version = document["api_version"]
    if isinstance(version, str) and version in document_schemas.SCHEMAS:
        return None
    major = document_schemas.api_version_major(version)
    current = document_schemas.api_version_major(API_VERSION)
    if major is None:
        message = f"api_version {_show(version)} is not a NodeFlow document version (expected {API_VERSION!r})"
    elif major > current:
        message = (f"this document is {version}, newer than this server can read (up to {API_VERSION}); "
                   "upgrade NodeFlow to use it")
    else:
        message = f"api_version {version} is no longer supported (this server reads {API_VERSION})"
    return problem("unsupported_api_version", message, path="api_version")


def prefix_parts(index):
    """The path parts of the body of node `index`."""
    return ["nodes", index, "params", "graph"]


def _is_trigger(type_name):
    try:
        return isinstance(type_name, str) and registry.get(type_name).trigger
    except UnknownNodeType:
        return False


def format_path(parts):
    """A path into the document as text: ("nodes", 2, "params", "url") -> "nodes[2].params.url"."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


class _TooManyProblems(Exception):
    pass


class _Problems:
    """The problems found so far; stops the check once there are MAX_PROBLEMS."""

    def __init__(self):
        self.items = []

    def add(self, item):
        if len(self.items) >= MAX_PROBLEMS:
            raise _TooManyProblems
        self.items.append(item)


class _DocumentCheck:
    """One validation of one document."""

    def __init__(self, document, problems):
        self.document = document
        self.problems = problems
        self.nodes = {}  # id -> (index, node), first occurrence of each well-formed id
        self.node_types = {}  # id -> NodeType, for nodes of a known type and version
        self.edges = []  # (index, edge) of edges between existing nodes with a usable port
        self.reads = {}  # node id -> [(path, what, context path read)] from its expressions and conditions
        self.graph = None
        self.acyclic = False

    def add(self, code, message, node_id=None, edge=None, path=None):
        self.problems.add(problem(code, message, node_id, edge, path))

    def run(self):
        document = self.document
        version_problem = api_version_problem(document)
        if version_problem is not None:
            self.problems.add(version_problem)
            if version_problem["code"] != "missing_api_version":
                return  # not a v1 document (or not a document): nothing else can be judged
        self.check_schema()
        nodes = document.get("nodes")
        edges = document.get("edges")
        self.check_nodes(nodes if isinstance(nodes, list) else [])
        self.check_edges(edges if isinstance(edges, list) else [])
        self.check_input_schema(document.get("input_schema"))
        if isinstance(nodes, list):  # else there is no graph to judge
            self.check_graph()
            self.check_references()
            self.check_pins(document.get("pins"), ["pins"])
            self.check_tests(document.get("tests"))

    # -- structure -----------------------------------------------------------------------

    def check_schema(self):
        validator = _validator(document_schemas.document_schema(API_VERSION))
        for error in sorted(validator.iter_errors(self.document), key=_error_order):
            parts = list(error.absolute_path)
            if parts == ["api_version"]:
                continue  # api_version_problem() said it already
            node_id, edge = self._owner_of(parts)
            if error.validator == "additionalProperties":
                allowed = error.schema.get("properties", {})
                for key in error.instance:
                    if key not in allowed:
                        self.add("unknown_key", f"unknown key {key!r} in {format_path(parts) or 'the document'}"
                                 f" (allowed: {', '.join(allowed)})", node_id, edge, format_path([*parts, key]))
            elif error.validator == "required":
                for key in error.validator_value:
                    if key not in error.instance and (parts or key != "api_version"):
                        self.add("missing_key", f"{format_path(parts) or 'the document'} has no {key!r}",
                                 node_id, edge, format_path([*parts, key]))
            elif error.validator == "pattern" and len(parts) == 3 and parts[0] == "nodes" and parts[2] == "id":
                self.add("invalid_node_id", f"node id {_show(error.instance)} must match {NODE_ID_PATTERN}",
                         None, None, format_path(parts))
            else:
                self.add("invalid_value", describe(error, format_path(parts)), node_id, edge, format_path(parts))

    def _owner_of(self, parts):
        """(node_id, edge) of the node or edge a schema path points into."""
        if len(parts) >= 2 and parts[0] in ("nodes", "edges") and isinstance(parts[1], int):
            items = self.document.get(parts[0])
            item = items[parts[1]]
            if parts[0] == "nodes":
                node_id = item.get("id") if isinstance(item, dict) else None
                return (node_id if isinstance(node_id, str) and NODE_ID.match(node_id) else None), None
            return None, _edge_ref(item)
        return None, None

    # -- pins and tests (DEBUGGING.md) ---------------------------------------------------

    def check_pins(self, pins, parts):
        if not isinstance(pins, dict):
            return  # absent, or the schema check reported it
        for node_id, pin in pins.items():
            where = format_path([*parts, node_id])
            if node_id not in self.nodes:
                self.add("unknown_pinned_node", f"{where}: there is no node {node_id!r} to pin", path=where)
                continue
            node_type = self.node_types.get(node_id)
            if not pins_rules.is_port_form(pin) or node_type is None:
                continue
            try:
                ports = node_type.output_ports(self.nodes[node_id][1])
            except Exception:  # noqa: BLE001 - a type's port hook on params that failed validation
                continue
            if pin["port"] not in ports:
                self.add("unknown_port", f"{where}.port: {node_id} has no output port {pin['port']!r}; its ports: "
                         f"{', '.join(ports) or 'none'}", node_id, path=f"{where}.port")

    def check_tests(self, tests):
        if not isinstance(tests, list):
            return
        names = {}
        for index, case in enumerate(tests):
            if not isinstance(case, dict):
                continue
            name = case.get("name")
            if isinstance(name, str):
                if name in names:
                    self.add("duplicate_test_name", f"tests[{index}]: the name {name!r} is used by "
                             f"tests[{names[name]}] too", path=format_path(["tests", index, "name"]))
                names.setdefault(name, index)
            self.check_pins(case.get("pins"), ["tests", index, "pins"])
            expect = case.get("expect") if isinstance(case.get("expect"), dict) else {}
            for node_id in expect.get("nodes") or {} if isinstance(expect.get("nodes"), dict) else ():
                if node_id not in self.nodes:
                    where = format_path(["tests", index, "expect", "nodes", node_id])
                    self.add("unknown_expected_node", f"{where}: there is no node {node_id!r}", path=where)
            for rule_index, rule in enumerate(expect.get("assert") or [] if isinstance(expect.get("assert"), list)
                                              else ()):
                where = format_path(["tests", index, "expect", "assert", rule_index])
                for message in jsonlogic.check(rule, path=where):
                    self.add("invalid_jsonlogic", message, path=where)

    # -- nodes ---------------------------------------------------------------------------

    def check_nodes(self, nodes):
        for index, node in enumerate(nodes):
            if not isinstance(node, dict):
                continue  # the schema check reported it
            node_id = node.get("id")
            if not isinstance(node_id, str) or not NODE_ID.match(node_id):
                continue  # ditto (missing key, wrong type or invalid_node_id)
            if node_id in self.nodes:
                first = self.nodes[node_id][0]
                self.add("duplicate_node_id", f"node id {node_id!r} is used by nodes[{first}] and nodes[{index}]",
                         node_id, path=format_path(["nodes", index, "id"]))
                continue
            self.nodes[node_id] = (index, node)
            node_type = self.check_node_type(index, node)
            if node_type is not None:
                self.node_types[node_id] = node_type
                self.check_params(index, node, node_type)

    def check_node_type(self, index, node):
        type_name, version = node.get("type"), node.get("version")
        if not isinstance(type_name, str) or not type_name:
            return None
        if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
            return None  # the schema check reported it
        try:
            return registry.get(type_name, version)
        except UnknownNodeType as exc:
            if registry.versions(type_name):
                self.add("unknown_node_version", str(exc), node["id"], path=format_path(["nodes", index, "version"]))
            else:
                self.add("unknown_node_type", f"{exc} (GET /api/v1/node-types/ lists the registered types)",
                         node["id"], path=format_path(["nodes", index, "type"]))
            return None

    def check_params(self, index, node, node_type):
        params = node.get("params", {})
        if not isinstance(params, dict):
            return  # the schema check reported it
        base = ["nodes", index, "params"]
        effective = {**node_type.defaults, **params}
        for error in sorted(_params_validator(node_type).iter_errors(effective), key=_error_order):
            parts = list(error.absolute_path)
            raw = bool(parts) and parts[0] in node_type.raw_params
            if not raw and _decided_at_run_time(error):
                continue
            where = format_path([*base, *parts])
            self.add("invalid_params", f"{node_type.type} v{node_type.version}: {describe(error, where)}",
                     node["id"], path=where)
        for param, message in node_type.check_params(effective) if node_type.check_params else ():
            self.add("invalid_params", f"{node_type.type} v{node_type.version}: {format_path([*base, param])}: "
                     f"{message}", node["id"], path=format_path([*base, param]))
        self.check_schema_params(index, node, node_type, params)
        reads = self.reads.setdefault(node["id"], [])
        for key, value in params.items():
            if key in node_type.raw_params:
                continue
            for param_path, source in expressions.find(value, path=format_path(["params", key])):
                where = f"nodes[{index}].{param_path}"
                shown = _cut(source) if source.startswith("{{") else f"{{{{ {_cut(source)} }}}}"
                message = expressions.check(source)
                if message:
                    self.add("invalid_expression", f"{shown}: {message}", node["id"], path=where)
                    continue
                reads += [(where, shown, read) for read in expressions.referenced_paths(source)]
        # Source code (a raw param named `code`) is not rendered, but what it reads of ctx["nodes"] must be upstream too.
        if "code" in node_type.raw_params and isinstance(params.get("code"), str):
            where = f"nodes[{index}].params.code"
            reads += [(where, "the code", read) for read in code_reads.node_reads(params["code"])]
        for parts, rule in _jsonlogic_rules(params, node_type.jsonlogic_params):
            where, messages = format_path([*base, *parts]), jsonlogic.check(rule, path=format_path(parts))
            for message in messages:
                self.add("invalid_jsonlogic", message, node["id"], path=where)
            if not messages:
                reads += [(where, f"the JsonLogic at params.{format_path(parts)}", read)
                          for read in jsonlogic.var_paths(rule)]
        if "graph" in node_type.raw_params and isinstance(params.get("graph"), dict):
            self.check_body(index, node, params["graph"])

    def check_body(self, index, node, graph):
        """A composite node's body (COMPOSITION.md): checked as a document of its own, with the same rules,
        each problem given the path from the top (nodes[3].params.graph.nodes[1]…) and the inner node's id."""
        body = {"api_version": API_VERSION, "name": "body", "nodes": graph.get("nodes"), "edges": graph.get("edges")}
        inner = _Problems()
        try:
            _DocumentCheck(body, inner).run()
        except _TooManyProblems:
            pass
        prefix = format_path(["nodes", index, "params", "graph"])
        for item in inner.items:
            if item["code"] == "no_trigger":
                continue  # the body's own rule follows
            path = item["path"] or ""
            self.problems.add({**item, "message": f"in the body of {node['id']!r}: {item['message']}",
                               "node_id": item["node_id"] or node["id"],
                               "path": prefix + (path if path.startswith("[") or not path else "." + path)})
        nodes = graph.get("nodes") if isinstance(graph.get("nodes"), list) else []
        types = [(i, n.get("type")) for i, n in enumerate(nodes) if isinstance(n, dict)]
        entries = [i for i, type_name in types if type_name == "trigger.group"]
        others = [i for i, type_name in types if type_name != "trigger.group" and _is_trigger(type_name)]
        if len(entries) != 1:
            self.add("invalid_body", f"the body of {node['id']!r} must start at exactly one trigger.group node "
                     f"(it has {len(entries)})", node["id"], path=format_path([*prefix_parts(index), "nodes"]))
        for i in others:
            self.add("invalid_body", f"the body of {node['id']!r} cannot hold trigger {nodes[i].get('type')}: a "
                     "body starts at its trigger.group", nodes[i].get("id") or node["id"],
                     path=format_path([*prefix_parts(index), "nodes", i, "type"]))

    def check_input_schema(self, input_schema):
        if not isinstance(input_schema, dict):
            return  # absent, or the schema check reported it
        try:
            jsonschema.Draft202012Validator.check_schema(input_schema)
        except jsonschema.SchemaError as exc:
            where = format_path(["input_schema", *exc.absolute_path])
            self.add("invalid_input_schema", f"input_schema is not a valid JSON Schema: {describe(exc, where)}",
                     path=where)
            return
        for where, message in _pattern_problems(input_schema, "input_schema"):
            self.add("invalid_input_schema", f"{where}: {message}", path=where)

    def check_schema_params(self, index, node, node_type, params):
        """The JSON Schemas a node's params hold (a flow.wait's input schema): valid, with RE2 patterns."""
        for keys in _SCHEMA_PARAMS.get(node_type.type, ()):
            schema = params
            for key in keys:
                schema = schema.get(key) if isinstance(schema, dict) else None
            if not isinstance(schema, dict):
                continue
            base = format_path(["nodes", index, "params", *keys])
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as exc:
                where = format_path(["nodes", index, "params", *keys, *exc.absolute_path])
                self.add("invalid_params", f"{base} is not a valid JSON Schema: {describe(exc, where)}",
                         node["id"], path=where)
                continue
            for where, message in _pattern_problems(schema, base):
                self.add("invalid_params", f"{where}: {message}", node["id"], path=where)

    # -- edges and the graph -------------------------------------------------------------

    def check_edges(self, edges):
        seen = {}
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict):
                continue
            ref = _edge_ref(edge)
            ends_ok = True
            for end in ("from", "to"):
                value = edge.get(end)
                if not isinstance(value, str):
                    ends_ok = False  # missing or not a string: the schema check reported it
                elif value not in self.nodes:
                    ends_ok = False
                    self.add("edge_to_missing_node", f"edge {end} {_show(value)}: there is no such node",
                             edge=ref, path=format_path(["edges", index, end]))
            port = edge.get("port", MAIN)
            if not ends_ok or not isinstance(port, str) or not port:
                continue
            source, target = edge["from"], edge["to"]
            key = (source, port, target)
            if key in seen:
                self.add("duplicate_edge", f"edge {source} ({port}) → {target} is the same as edges[{seen[key]}]",
                         source, ref, format_path(["edges", index]))
                continue
            seen[key] = index
            self.edges.append((index, edge))
            self.check_port(index, edge, source, port, ref)
            target_type = self.node_types.get(target)
            if target_type is not None and target_type.trigger:
                self.add("edge_into_trigger", f"edge {source} → {target}: {target} is a trigger ({target_type.type}); "
                         "triggers start executions and take no input", target, ref, format_path(["edges", index]))

    def check_port(self, index, edge, source, port, ref):
        source_type = self.node_types.get(source)
        if source_type is None:
            return
        node = self.nodes[source][1]
        try:
            ports = source_type.output_ports(node)
        except Exception:  # noqa: BLE001 - a type's port hook on params that failed validation
            return
        if port not in ports:
            have = ", ".join(ports) if ports else "none"
            hint = " (on_error: \"route\" adds an `error` port)" if port == "error" else ""
            self.add("unknown_port", f"edge {source} ({port}) → {edge['to']}: {source} ({source_type.type}) has no "
                     f"output port {port!r}; its ports: {have}{hint}", source, ref,
                     format_path(["edges", index, "port" if "port" in edge else "from"]))

    def check_graph(self):
        order = [{"id": node_id} for node_id in self.nodes]
        edges = [{"from": e["from"], "to": e["to"], "port": e.get("port", MAIN)} for _, e in self.edges]
        self.graph = Graph(order, edges)
        cycles = self.find_cycles()
        self.acyclic = not cycles
        for cycle in cycles:
            closing = next(i for i, e in self.edges if e["from"] == cycle[-2] and e["to"] == cycle[-1])
            self.add("cycle", "the graph has a cycle: " + " → ".join(cycle), cycle[0],
                     _edge_ref(self.document["edges"][closing]), format_path(["edges", closing]))
        triggers = [node_id for node_id, node_type in self.node_types.items() if node_type.trigger]
        if not triggers:
            self.add("no_trigger", "the workflow has no trigger node (add trigger.manual, trigger.webhook or "
                         "trigger.schedule)", path="nodes")
            return
        reachable = self.graph.reachable_from(triggers)
        for node_id, (index, _node) in self.nodes.items():
            if node_id not in reachable:
                self.add("unreachable_node", f"node {node_id!r} is not reachable from a trigger, so it never runs",
                         node_id, path=format_path(["nodes", index]))

    def find_cycles(self):
        """One cycle per strongly connected component that has one, each as [a, b, …, a]."""
        cycles = []
        for component in _strongly_connected(self.graph):
            members = set(component)
            if len(component) == 1 and component[0] not in self.graph.successors(component[0]):
                continue
            sub = Graph([{"id": node_id} for node_id in self.graph.order if node_id in members],
                        [e.as_dict() for e in self.graph.edges if e.source in members and e.target in members])
            cycles.append(sub.find_cycle())
        return cycles

    # -- references to other nodes -------------------------------------------------------

    def check_references(self):
        for node_id, reads in self.reads.items():
            for path, what, read in reads:
                self.check_reference(node_id, read, path, what)

    def check_reference(self, node_id, read, path, what):
        parts = read.split(".")
        if parts[0] not in CONTEXT_KEYS:
            self.add("unknown_context_key", f"{what} reads {read!r}, but the context has no {parts[0]!r} (it holds "
                     f"{', '.join(CONTEXT_KEYS)})", node_id, path=path)
            return
        if parts[0] != "nodes" or len(parts) < 2:
            return
        other = parts[1]
        if other not in self.nodes:
            self.add("unknown_node_reference", f"{what} reads {read!r}, but there is no node {other!r}", node_id,
                     path=path)
        elif other == node_id:
            self.add("non_ancestor_reference", f"{what} reads {read!r}: a node cannot read its own output", node_id,
                     path=path)
        elif self.acyclic and not self.graph.is_ancestor(other, node_id):
            self.add("non_ancestor_reference", f"{what} reads {read!r}, but {other!r} is not upstream of "
                     f"{node_id!r}, so its output may not exist when {node_id!r} runs", node_id, path=path)


# -- helpers -----------------------------------------------------------------------------


# Params that hold a user's JSON Schema, by node type: checked like input_schema. (Their
# instances come from anyone who can post input, so their patterns must be ones RE2 runs.)
_SCHEMA_PARAMS = {"flow.wait": [("input", "schema")]}


def _pattern_problems(schema, base):
    """(document path, message) for each pattern in a user schema that RE2 refuses (engine.schemas)."""
    return [(base + json_path[1:], message) for json_path, message in schemas.check_patterns(schema)]


_validators = {}


def _validator(schema_dict):
    key = id(schema_dict)
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = jsonschema.Draft202012Validator(schema_dict)
    return validator


_params_validators = {}


def _params_validator(node_type):
    key = (node_type.type, node_type.version)
    validator = _params_validators.get(key)
    if validator is None or validator.schema is not node_type.params_schema:
        validator = _params_validators[key] = jsonschema.Draft202012Validator(node_type.params_schema)
    return validator


def _error_order(error):
    """Document order: nodes[2] before nodes[10]."""
    return [(0, part, "") if isinstance(part, int) else (1, 0, part) for part in error.absolute_path], error.validator


def _edge_ref(edge):
    """The edge as problems show it: its from, to and port (when they are JSON scalars)."""
    if not isinstance(edge, dict):
        return None
    return {key: edge[key] for key in ("from", "to", "port") if key in edge and not isinstance(edge[key], (dict, list))}


def _show(value):
    """A value quoted for a message, cut to a readable length."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


def _json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {dict: "object", list: "array", str: "string", float: "number", type(None): "null"}.get(type(value), "value")


def describe(error, where):
    """A short message for a jsonschema error at `where` (jsonschema's own quote whole instances)."""
    kind, expected, value = error.validator, error.validator_value, error.instance
    where = where or "the value"
    if kind == "type":
        names = [_TYPE_NAMES.get(t, t) for t in (expected if isinstance(expected, list) else [expected])]
        return f"{where} must be {' or '.join(names)}, not {_TYPE_NAMES.get(_json_type(value), 'this')}"
    if kind == "enum":
        return f"{where} must be one of {', '.join(map(_show, expected))}, not {_show(value)}"
    if kind == "const":
        return f"{where} must be {_show(expected)}"
    if kind == "minimum":
        return f"{where} must be at least {expected}, not {_show(value)}"
    if kind == "maximum":
        return f"{where} must be at most {expected}, not {_show(value)}"
    if kind == "exclusiveMinimum":
        return f"{where} must be greater than {expected}, not {_show(value)}"
    if kind == "exclusiveMaximum":
        return f"{where} must be less than {expected}, not {_show(value)}"
    if kind in ("minItems", "maxItems"):
        bounds = error.schema.get("minItems"), error.schema.get("maxItems")
        if bounds[0] == bounds[1]:
            return f"{where} must have exactly {bounds[0]} items, not {len(value)}"
        return f"{where} must have {'at least' if kind == 'minItems' else 'at most'} {expected} items, not {len(value)}"
    if kind in ("minLength", "maxLength"):
        return f"{where} must have {'at least' if kind == 'minLength' else 'at most'} {expected} characters"
    if kind == "pattern":
        return f"{where} {_show(value)} must match {expected}"
    if kind == "required":
        missing = [key for key in expected if key not in value]
        return f"{where} needs {', '.join(map(repr, missing))}"
    if kind == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = [key for key in value if key not in allowed] if isinstance(value, dict) else []
        return f"{where} has unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(allowed) or 'none'})"
    if kind in ("oneOf", "anyOf"):
        detail = best_match(error.context) if error.context else None
        hint = f" ({detail.message[:200]})" if detail is not None else ""
        return f"{where} must match {'exactly one' if kind == 'oneOf' else 'one'} of the allowed forms{hint}"
    message = error.message if len(error.message) <= 200 else error.message[:199] + "…"
    return f"{where}: {message}"


def _decided_at_run_time(error):
    """Whether a params error is about a string with expressions whose value is known only at run time.

    A string that is exactly one {{ expression }} takes the type of its value, so no
    static check applies to it; mixed text renders to a string, so only its type is known."""
    value = error.instance
    if not isinstance(value, str) or "{{" not in value:
        return False
    return error.validator != "type" or _is_one_expression(value)


def _is_one_expression(text):
    """Whether the string is exactly one {{ expression }} (whitespace aside): it then keeps its value's type."""
    stripped = text.strip()
    return stripped.startswith("{{") and stripped.endswith("}}") and len(expressions.find(text)) == 1


def _cut(text):
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _jsonlogic_rules(params, patterns):
    """[(path parts, rule)] of the params named by patterns like "condition" or "cases.*.condition"."""
    found = []
    for pattern in patterns:
        matches = [([], params)]
        for step in pattern.split("."):
            next_matches = []
            for parts, value in matches:
                if step == "*":
                    if isinstance(value, list):
                        next_matches += [([*parts, i], item) for i, item in enumerate(value)]
                    elif isinstance(value, dict):
                        next_matches += [([*parts, key], item) for key, item in value.items()]
                elif isinstance(value, dict) and step in value:
                    next_matches.append(([*parts, step], value[step]))
            matches = next_matches
        found += matches
    return found


def _nests_deeper_than(value, limit):
    """Whether more than `limit` lists/objects nest inside each other, found without recursion."""
    pending = [(value, 0)] if isinstance(value, (dict, list)) else []
    while pending:
        item, depth = pending.pop()
        if depth >= limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _strongly_connected(graph):
    """Tarjan's strongly connected components, iteratively (graphs of 10,000 nodes are fine)."""
    index_of, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in graph.order:
        if root in index_of:
            continue
        work = [(root, iter(graph.successors(root)))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node_id, children = work[-1]
            advanced = False
            for child in children:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.successors(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node_id] = min(low[node_id], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
            if low[node_id] == index_of[node_id]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                components.append(component[::-1])
    return components
