"""stageflow JSON pipelines (seed 001) → nodeflow/v1 documents (IMPORT.md "stageflow").

- `entry` becomes a trigger.manual whose output (the run's input) is the session's initial context;
- `stage` nodes become `stage.<Stage>` nodes, registered with `stage_node` (a `@register_node`
  wrapper): params `config`, `arguments` {stage input: context path}, `outputs` {stage result
  key: path written into `vars`}. A path a stage writes is read from `vars`, any other from `input`;
- `condition` → logic.switch (each `if` a case leading to its `then`, `else` → `default`);
- `parallel` → a flow.noop fanning out to its children, joined by a flow.merge before `next`;
- `terminal` → flow.terminal whose result carries the artifacts (null where a path was not
  written on the path taken: stageflow's artifacts are optional, flow.terminal's `artifacts`
  fail on a missing path)."""

import re

from importers.report import ImportReport, NotThisFormat
from nodes.registry import NodeResult, register_node

API_VERSION = "nodeflow/v1"  # the document version these importers write

NODE_TYPES = ("stage", "condition", "parallel", "terminal")
STAGE_PARAMS_SCHEMA = {
    "type": "object",
    "properties": {
        "config": {"type": "object", "title": "Stage config"},
        "arguments": {"type": "object", "additionalProperties": {"type": "string"},
                      "title": "Arguments (stage input: context path)"},
        "outputs": {"type": "object", "additionalProperties": {"type": "string"},
                    "title": "Outputs (result key: variable)"},
    },
    "additionalProperties": False,
}


def stage_node(stage_name, **options):
    """Register `run(arguments, config) -> dict` as the node type `stage.<stage_name>`."""

    def decorate(function):
        def run(call):
            arguments = {name: _read(call.context, path) for name, path in (call.params.get("arguments") or {}).items()}
            result = function(arguments, call.params.get("config") or {}) or {}
            written = {}
            for key, path in (call.params.get("outputs") or {}).items():
                if key in result:
                    written[path.split(".", 1)[1] if path.startswith("vars.") else path] = result[key]
            return NodeResult(output=result, vars=written)

        run.__doc__ = function.__doc__
        register_node(f"stage.{stage_name}", title=stage_name, category="stage", params_schema=STAGE_PARAMS_SCHEMA,
                      instant=options.pop("instant", True), **options)(run)
        return function

    return decorate


def _read(context, path):
    value = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def looks_like_stageflow(document):
    return (isinstance(document, dict) and "entry" in document and isinstance(document.get("nodes"), list)
            and any(isinstance(n, dict) and n.get("type") in NODE_TYPES for n in document["nodes"]))


class StageflowImporter:
    """Translates one stageflow pipeline."""

    def __init__(self, document):
        if not looks_like_stageflow(document):
            raise NotThisFormat("not a stageflow pipeline: it needs `entry` and `nodes` of types "
                                + ", ".join(NODE_TYPES),
                                {"found": sorted(document) if isinstance(document, dict) else type(document).__name__})
        self.document = document
        self.report = ImportReport()
        self.by_id = {}
        for index, node in enumerate(document["nodes"]):
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                raise NotThisFormat(f"not a stageflow pipeline: node {index} has no `id`", {"node": index})
            self.by_id[node["id"]] = node
        if document["entry"] not in self.by_id:
            raise NotThisFormat(f"the entry {document['entry']!r} is not a node of the pipeline",
                                {"entry": document["entry"]})
        self.ids = {}
        taken = set()
        for node_id in self.by_id:
            base = re.sub(r"[^a-z0-9_]+", "_", node_id.lower()).strip("_") or "node"
            base = base if base[0].isalpha() else f"n_{base}"
            candidate, counter = base[:60], 2
            while candidate in taken or candidate == "entry_trigger":
                candidate, counter = f"{base[:56]}_{counter}", counter + 1
            taken.add(candidate)
            self.ids[node_id] = candidate
        # Context paths some stage writes are run variables; every other path is the initial context (input).
        self.written = {path.split(".")[0] for node in self.by_id.values() if node.get("type") == "stage"
                        for path in (node.get("outputs") or {}).values() if isinstance(path, str)}

    def path(self, path):
        return f"vars.{path}" if path.split(".")[0] in self.written else f"input.{path}"

    def rule(self, rule):
        """A JsonLogic rule with its `var` paths read from vars or input."""
        if isinstance(rule, list):
            return [self.rule(item) for item in rule]
        if not isinstance(rule, dict):
            return rule
        if set(rule) == {"var"}:
            arg = rule["var"]
            if isinstance(arg, str) and arg:
                return {"var": self.path(arg)}
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                return {"var": [self.path(arg[0]), *arg[1:]]}
            return rule
        return {op: self.rule(value) for op, value in rule.items()}

    def translate(self):
        nodes, edges = [], []
        trigger = {"id": "entry_trigger", "type": "trigger.manual", "name": "Start (initial context)",
                   "position": [0.0, 0.0]}
        nodes.append(trigger)
        edges.append({"from": "entry_trigger", "to": self.ids[self.document["entry"]]})
        for index, node in enumerate(self.by_id.values()):
            kind = node.get("type")
            node_id = self.ids[node["id"]]
            position = [float(240 * (index + 1)), 0.0]
            handler = getattr(self, f"_{kind}", None) if kind in NODE_TYPES else None
            if handler is None:
                nodes.append({"id": node_id, "type": "flow.noop", "name": node["id"], "position": position,
                              "description": f"Untranslated stageflow node of type {kind!r}"})
                self.report.add_untranslated(node["id"], f"stageflow node type {kind!r} has no translation",
                                             placeholder=node_id)
                if node.get("next") in self.by_id:
                    edges.append({"from": node_id, "to": self.ids[node["next"]]})
                continue
            made, notes = handler(node, node_id, edges)
            for made_node in made:
                made_node.setdefault("position", position)
                nodes.append(made_node)
            self.report.add_translated(node["id"], node_id, notes, type=made[0]["type"])
        _lay_out(nodes, edges)
        name = (self.document.get("metadata") or {}).get("name") or "Imported stageflow pipeline"
        return {"api_version": API_VERSION, "name": str(name), "nodes": nodes, "edges": edges}

    def _next(self, node, node_id, edges):
        if node.get("next"):
            if node["next"] not in self.by_id:
                self.report.warn(f"{node['id']}: next {node['next']!r} is not a node of the pipeline")
            else:
                edges.append({"from": node_id, "to": self.ids[node["next"]]})

    def _stage(self, node, node_id, edges):
        stage = node.get("stage")
        if not isinstance(stage, str) or not stage:
            raise NotThisFormat(f"stage node {node['id']!r} names no `stage`", {"node": node["id"]})
        params = {
            "config": node.get("config") or {},
            "arguments": {name: self.path(path) for name, path in (node.get("arguments") or {}).items()},
            "outputs": {key: f"vars.{path}" for key, path in (node.get("outputs") or {}).items()},
        }
        self._next(node, node_id, edges)
        notes = [f"runs the registered node type stage.{stage}"]
        from nodes.registry import UnknownNodeType, registry

        try:
            registry.get(f"stage.{stage}")
        except UnknownNodeType:
            notes.append(f"stage.{stage} is not registered: register it with importers.stageflow.stage_node")
            self.report.warn(f"{node['id']}: the stage {stage} is not registered on this server (stage.{stage}); "
                             "the draft shows a validation error until it is")
        return [{"id": node_id, "type": f"stage.{stage}", "name": node["id"], "params": params}], notes

    def _condition(self, node, node_id, edges):
        cases = []
        for index, branch in enumerate(node.get("conditions") or []):
            name = f"case_{index + 1}"
            cases.append({"name": name, "condition": self.rule(branch.get("if"))})
            if branch.get("then") in self.by_id:
                edges.append({"from": node_id, "port": name, "to": self.ids[branch["then"]]})
        if node.get("else") in self.by_id:
            edges.append({"from": node_id, "port": "default", "to": self.ids[node["else"]]})
        return [{"id": node_id, "type": "logic.switch", "name": node["id"], "params": {"cases": cases}}], []

    def _parallel(self, node, node_id, edges):
        policy = node.get("policy", "all")
        join_id = f"{node_id}_join"[:64]
        for child in node.get("children") or []:
            if child in self.by_id:
                edges.append({"from": node_id, "to": self.ids[child]})
                edges.append({"from": self.ids[child], "to": join_id})
        if node.get("next") in self.by_id:
            edges.append({"from": join_id, "to": self.ids[node["next"]]})
        mode = "all" if policy == "all" else "first"
        made = [{"id": node_id, "type": "flow.noop", "name": node["id"]},
                {"id": join_id, "type": "flow.merge", "name": f"{node['id']} (join)", "params": {"mode": mode}}]
        return made, [f"fan-out to {', '.join(node.get('children') or [])}, joined by {join_id} (mode {mode})"]

    def _terminal(self, node, node_id, edges):
        result = node.get("result")
        artifacts = node.get("artifacts") or []
        if artifacts:
            values = {path: "{{ " + self.path(path) + " | default(none) }}"
                      for path in artifacts}
            result = {**(result if isinstance(result, dict) else {"result": result}), "artifacts": values}
        notes = ["the artifacts are in the result under `artifacts` (null where not written)"] if artifacts else []
        return [{"id": node_id, "type": "flow.terminal", "name": node["id"], "params": {"result": result}}], notes


def _lay_out(nodes, edges):
    """Positions by depth from the trigger (columns) and order within a depth (rows)."""
    depth = {"entry_trigger": 0}
    for _ in range(len(nodes)):
        changed = False
        for edge in edges:
            if edge["from"] in depth and depth.get(edge["to"], -1) < depth[edge["from"]] + 1 <= len(nodes):
                depth[edge["to"]] = depth[edge["from"]] + 1
                changed = True
        if not changed:
            break
    rows = {}
    for node in nodes:
        column = depth.get(node["id"], 0)
        row = rows.get(column, 0)
        rows[column] = row + 1
        node["position"] = [float(80 + 260 * column), float(120 + 160 * row)]


def translate(document):
    importer = StageflowImporter(document)
    result = importer.translate()
    return result, importer.report.as_dict()
