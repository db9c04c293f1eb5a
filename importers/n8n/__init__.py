"""n8n workflow JSON (as n8n exports it) → a nodeflow/v1 document and an import report.

The node types live in `importers.n8n.nodes` (one module each), their expressions go
through `importers.n8n.expressions`. Connections are read by node name and output index;
the error output of a node with `onError: continueErrorOutput` becomes its `error` port."""

import json
import re

from importers.n8n import expressions
from importers.n8n.nodes import NotTranslated, translators
from importers.report import ImportReport, NotThisFormat

API_VERSION = "nodeflow/v1"  # the document version these importers write

CANVAS_NOTES = {"n8n-nodes-base.stickyNote"}
LOOP_TYPE = "n8n-nodes-base.splitInBatches"
SOURCE_PREFIX = "Imported from n8n (workflow id "
CANVAS_SPREAD = (1.5, 1.25)
# Nodes whose whole point is turning lists of items into other lists: NodeFlow passes one value.
MULTI_ITEM_TYPES = {f"n8n-nodes-base.{name}" for name in (
    "splitOut", "itemLists", "aggregate", "summarize", "filter", "sort", "limit", "removeDuplicates")}
_SINGLE_ITEM_NOTE = ("n8n passes lists of items between nodes, NodeFlow one value: the import assumes one item "
                     "where nodes work item by item")


def source_description(n8n_id):
    """The description of a workflow imported from n8n workflow `n8n_id`: how a later import finds it."""
    return f"{SOURCE_PREFIX}{json.dumps(str(n8n_id))})."


def looks_like_n8n(document):
    return (isinstance(document, dict) and isinstance(document.get("nodes"), list)
            and isinstance(document.get("connections"), dict))


def node_ids(names):
    """{n8n name: a unique NodeFlow id derived from it}."""
    ids, taken = {}, set()
    for name in names:
        base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "node"
        if not base[0].isalpha():
            base = f"n_{base}"
        base = base[:60]
        candidate, counter = base, 2
        while candidate in taken:
            candidate = f"{base}_{counter}"
            counter += 1
        taken.add(candidate)
        ids[name] = candidate
    return ids


class NodeContext:
    """What a node module gets: the node's id and inputs, and rewriting of its parameter values."""

    def __init__(self, importer, node, node_id, scope):
        self.importer = importer
        self.node = node
        self.node_id = node_id
        self.scope = scope
        self.notes = []
        self.untranslated_expressions = 0

    @property
    def report(self):
        return self.importer.report

    @property
    def type_version(self):
        return self.node.get("typeVersion", 1)

    @property
    def input_ids(self):
        """NodeFlow ids of the nodes connected to this node, ordered by n8n input index."""
        return self.importer.inputs_of(self.node["name"])

    def _kept(self, value, where, reason):
        self.untranslated_expressions += 1
        self.notes.append(f"{where}: expression kept as it was ({reason})")
        self.report.warn(f"{self.node['name']}: the expression in {where} has no equivalent ({reason}); "
                         f"it was kept as it was and fails validation until rewritten")
        return value

    def value(self, value, where):
        """A parameter value (deeply) with n8n expressions rewritten, or kept and reported."""
        if isinstance(value, dict):
            return {key: self.value(item, f"{where}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, f"{where}[{index}]") for index, item in enumerate(value)]
        try:
            rewritten = expressions.rewrite_value(value, self.scope)
        except expressions.Untranslatable as exc:
            return self._kept(value, where, str(exc))
        if isinstance(value, str) and "$vars" in value:
            self.notes.append(f"{where}: $vars became globals.*: n8n's variables are not in its export, so "
                              "create those keys as global variables (the Variables page) before a run")
        return rewritten

    def operand(self, value, where):
        """A JsonLogic operand; untranslatable JavaScript stays, inside an operation JsonLogic rejects."""
        try:
            return expressions.operand(value, self.scope)
        except expressions.Untranslatable as exc:
            self._kept(value, where, str(exc))
            return {"n8n_expression": [value]}

    def request_sync_webhook(self):
        self.importer.sync_webhook = True


class N8nImporter:
    """Translates one n8n workflow document."""

    def __init__(self, document, find_workflow=None):
        if not looks_like_n8n(document):
            raise NotThisFormat("not an n8n workflow: an n8n export has a `nodes` list and a `connections` object",
                                {"expected": ["nodes", "connections"],
                                 "found": sorted(document) if isinstance(document, dict) else type(document).__name__})
        self.document = document
        self.report = ImportReport()
        # n8n workflow id → (NodeFlow workflow id, name) of the workflow imported from it, or None.
        self.find_workflow = find_workflow
        self.loops = {}
        self.sync_webhook = False
        self.last_node_webhooks = []
        self.nodes = []
        for index, node in enumerate(document["nodes"]):
            if not isinstance(node, dict) or not all(isinstance(node.get(key), str) for key in ("name", "type")):
                raise NotThisFormat(f"not an n8n workflow: node {index} has no `name` and `type`",
                                    {"node": index})
            self.nodes.append(node)

    def answer_with_last_node(self, webhook_id):
        """The webhook answers with the data of the last node that runs (n8n's responseMode lastNode)."""
        self.last_node_webhooks.append(webhook_id)

    def inputs_of(self, name):
        return [self.ids[source] for _, source in sorted(self.incoming.get(name, [])) if source in self.ids]

    def _read_connections(self, active):
        """[(source, output index, target, input index)] of `main` connections between active nodes."""
        links = []
        for source, kinds in (self.document.get("connections") or {}).items():
            if not isinstance(kinds, dict):
                continue
            for kind, outputs in kinds.items():
                if kind != "main":
                    self.report.warn(f"{source}: `{kind}` connections (n8n AI sub-nodes) are not imported")
                    continue
                for output_index, targets in enumerate(outputs or []):
                    for target in targets or []:
                        if not isinstance(target, dict) or target.get("node") not in active or source not in active:
                            continue
                        links.append((source, output_index, target["node"], int(target.get("index", 0) or 0)))
        return links

    @staticmethod
    def _bridged(links, disabled):
        """The links with each disabled node taken out: n8n passes a disabled node's input on to its main
        output, so what came into it goes to what came out of it."""
        for name in disabled:
            into = [link for link in links if link[2] == name]
            out_of = [link for link in links if link[0] == name and link[1] == 0]
            links = [link for link in links if name not in (link[0], link[2])]
            links += [(source, index, target, target_index) for source, index, _, _ in into
                      for _, _, target, target_index in out_of]
        return links

    def translate(self):
        active = []
        for node in self.nodes:
            if node["type"] in CANVAS_NOTES:
                self.report.warn(f"{node['name']}: a sticky note (canvas text) is not imported")
            elif node.get("disabled"):
                self.report.warn(f"{node['name']}: disabled in n8n, left out (its input goes on to the nodes after it, "
                                 "as n8n passes it through)")
            else:
                active.append(node)
        names = {node["name"] for node in active}
        self.ids = node_ids([node["name"] for node in active])
        disabled = {node["name"] for node in self.nodes if node.get("disabled") and node["type"] not in CANVAS_NOTES}
        links = self._bridged(self._read_connections(names | disabled), disabled)
        self.incoming = {}
        for source, _, target, input_index in links:
            self.incoming.setdefault(target, []).append((input_index, source))
        modules = translators()
        by_name = self._json_paths(active, modules)
        self.json_paths = by_name
        self.loops = self._loops(active, links)
        inside = {name: loop for loop, body in self.loops.items() if isinstance(body, dict)
                  for name in body["body"]}
        outer_by_name = {name: path for name, path in by_name.items() if name not in inside}
        hidden_outside = {name: f"a reference to node {name!r}, which is inside the loop body of {inside[name]!r}: "
                                "its data is not visible outside the loop" for name in inside}

        out_nodes, outputs_of = [], {}
        for node in active:
            name, node_id = node["name"], self.ids[node["name"]]
            sources = {source for _, source in self.incoming.get(name, [])}
            if isinstance(self.loops.get(name), dict):  # the body's way back into a loop is no input of it
                sources -= self.loops[name]["body"]
            if name in inside:
                scope = self._body_scope(inside[name], sources, by_name)
            else:
                scope = expressions.Scope(outer_by_name[next(iter(sources))] if len(sources) == 1 else None,
                                          outer_by_name, hidden_outside)
            ctx = NodeContext(self, node, node_id, scope)
            module = modules.get(node["type"])
            translated, reason = None, None
            if module is None and node["type"] in MULTI_ITEM_TYPES:
                reason = (f"{node['type']} works on lists of items, and NodeFlow passes one value between nodes: "
                          "rebuild it with flow.foreach or a code node")
            elif module is None:
                reason = f"n8n node type {node['type']} has no NodeFlow translation"
            else:
                version = node.get("typeVersion", 1)
                low, high = module.VERSIONS
                if not isinstance(version, (int, float)) or not low <= version <= high:
                    reason = f"{node['type']} type version {version} is not supported (versions {low}–{high})"
                else:
                    try:
                        translated = module.translate(node, ctx)
                    except NotTranslated as exc:
                        reason = str(exc)
            out = {"id": node_id, "name": name}
            if isinstance(node.get("position"), list) and len(node["position"]) == 2:
                # NodeFlow's nodes are wider than n8n's squares: spread the layout so they do not overlap.
                out["position"] = [float(node["position"][0]) * CANVAS_SPREAD[0],
                                   float(node["position"][1]) * CANVAS_SPREAD[1]]
            source_label = f"{node['type']}@{node.get('typeVersion', 1)}"
            if name in inside:
                ctx.notes.append(f"in the loop body of {inside[name]!r} (the flow.foreach {self.ids[inside[name]]!r})")
            if translated is None:
                out.update(type="flow.noop", params={},
                           description=f"Untranslated n8n node ({source_label}): {reason}")
                self.report.add_untranslated(name, reason, n8n_type=source_label, placeholder=node_id)
                outputs_of[name] = None
            else:
                out.update(type=translated.type, params=translated.params, **translated.extra)
                self._settings(node, out, ctx)
                self.report.add_translated(name, node_id, ctx.notes + translated.notes, n8n_type=source_label,
                                           type=translated.type)
                outputs_of[name] = translated.outputs
            out_nodes.append(out)

        if self.sync_webhook:
            for out in out_nodes:
                if out["type"] == "trigger.webhook":
                    out["params"]["response"] = "sync"
        for loop, body in self.loops.items():
            if isinstance(body, dict) and outputs_of.get(loop) is not None:
                out_nodes, links = self._fold_loop(loop, body, out_nodes, links, outputs_of)
        edges = self._acyclic(self._edges(links, outputs_of, {n["id"]: n for n in out_nodes}))
        for webhook_id in self.last_node_webhooks:
            self._answer_with_last_node(webhook_id, out_nodes, edges, by_name)
        self.report.warn(_SINGLE_ITEM_NOTE)
        name = self.document.get("name") if isinstance(self.document.get("name"), str) else "Imported from n8n"
        document = {"api_version": API_VERSION, "name": name or "Imported from n8n", "nodes": out_nodes, "edges": edges}
        source_id = self.document.get("id")
        if isinstance(source_id, (str, int)) and not isinstance(source_id, bool) and str(source_id).strip():
            document["description"] = source_description(source_id)
            self.report.warn(f"the n8n workflow id {str(source_id)!r} is recorded in the draft's description, so that "
                             "Execute Workflow nodes calling it in workflows imported later call this workflow")
        self.types = {node["name"]: node["type"] for node in active}
        pins = self._pins()
        if pins:
            document["pins"] = pins
        return document, pins

    def _loops(self, active, links):
        """{name of each Loop Over Items v3 node: its body, or why it has none that flow.foreach can run}.

        A body is {"body": names of the nodes its loop output reaches before coming back, "entries": those
        it connects to, "back": the one body node whose output goes back to it, "feeder": its input node}."""
        from importers.n8n.nodes.split_in_batches import LOOP_VERSION

        out_of = {}
        for source, index, target, _ in links:
            out_of.setdefault(source, []).append((index, target))
        loops = {}
        for node in active:
            version = node.get("typeVersion", 1)
            if node["type"] == LOOP_TYPE and isinstance(version, (int, float)) and version >= LOOP_VERSION:
                loops[node["name"]] = self._loop_body(node["name"], links, out_of)
        for loop, body in loops.items():
            others = isinstance(body, dict) and sorted(body["body"] & set(loops))
            if others:
                loops[loop] = (f"its loop body holds another Loop Over Items ({', '.join(others)}); nested loops "
                               "are not translated: rebuild them as a flow.foreach inside a flow.foreach's body")
        return loops

    def _loop_body(self, loop, links, out_of):
        entries = sorted({target for index, target in out_of.get(loop, []) if index == 1})
        if not entries or entries == [loop]:
            return "nothing is connected to its loop output: there is no loop body to run for each item"
        body, stack = set(), list(entries)
        while stack:
            name = stack.pop()
            if name != loop and name not in body:
                body.add(name)
                stack.extend(target for _, target in out_of.get(name, []))
        back = sorted({source for source, _, target, _ in links if target == loop and source in body})
        if not back:
            return ("no node of its loop body connects back to it: n8n would run the body for the first batch only; "
                    "connect the body's last node back to the loop node in n8n and import again")
        if len(back) > 1:
            return (f"its loop body comes back to it from {len(back)} nodes ({', '.join(back)}); flow.foreach takes "
                    "one result per item: join those paths in one node (a Merge or No Operation) before the loop "
                    "node in n8n and import again")
        for source, index, target, _ in links:
            if target in body and source not in body and source != loop:
                return (f"{target!r} in its loop body also gets input from {source!r}, outside the loop: a loop "
                        "body sees only the current item")
            if source == loop and index == 0 and target in body:
                return f"its done output leads into its own loop body ({target!r})"
            if source == loop and index > 1:
                return f"it has an output {index}; Loop Over Items has done (0) and loop (1)"
        feeders = sorted({source for source, _, target, _ in links if target == loop and source not in body})
        if len(feeders) != 1:
            return (f"it has {'no input node' if not feeders else 'several input nodes'} outside its loop body; "
                    "flow.foreach needs the one node whose output is the items to loop over")
        return {"body": body, "entries": entries, "back": back[0], "feeder": feeders[0]}

    def _body_scope(self, loop, sources, by_name):
        """The expression scope of a node in `loop`'s body: its nodes' data, the loop node's `$json` being
        the current item (`input.item`), nothing outside it (a body's context is its own)."""
        body = self.loops[loop]["body"]
        loop_path = by_name[loop]
        paths = {name: "input.item" if by_name[name] == loop_path else by_name[name] for name in body}
        paths[loop] = "input.item"
        hidden = {name: f"a reference to node {name!r}, which is outside the loop body of {loop!r}: a loop body "
                        "sees only its own nodes and the current item (pass what it needs through the items)"
                  for name in by_name if name not in paths}
        return expressions.Scope(paths[next(iter(sources))] if len(sources) == 1 else None, paths, hidden)

    def _fold_loop(self, loop, body, out_nodes, links, outputs_of):
        """Move `loop`'s body nodes into its flow.foreach's `params.graph`: a trigger.group before the nodes
        its loop output led to, the body's own connections, and, where the body's result is not its one
        last node's output, a flow.terminal giving what n8n hands back to the loop. Returns the outer
        (nodes, links) without them."""
        names = body["body"]
        ids = {self.ids[name] for name in names}
        inner = [node for node in out_nodes if node["id"] in ids]
        outer = [node for node in out_nodes if node["id"] not in ids]
        foreach = next(node for node in outer if node["id"] == self.ids[loop])
        start_id = "loop_start"
        while start_id in ids:
            start_id += "_"
        start = {"id": start_id, "type": "trigger.group", "name": "Current item", "params": {}}
        if isinstance(foreach.get("position"), list):
            start["position"] = [foreach["position"][0], foreach["position"][1] + 200]
        inner_links = [link for link in links if link[0] in names and link[2] in names]
        edges = self._acyclic(self._edges(inner_links, outputs_of, {node["id"]: node for node in inner}))
        edges = [{"from": start_id, "to": self.ids[name]} for name in body["entries"]] + edges
        back_id = self.ids[body["back"]]
        sinks = [node["id"] for node in inner if not any(edge["from"] == node["id"] for edge in edges)]
        back_node = next(node for node in inner if node["id"] == back_id)
        back_ports = sorted({port for source, index, target, _ in links if source == body["back"] and target == loop
                             for port in self._ports(outputs_of[source], index, back_node)})
        result = self._body_scope(loop, {body["back"]}, self.json_paths).current
        terminal = None
        if sinks != [back_id] or back_ports != ["main"] or result != f"nodes.{back_id}.output":
            terminal_id = "loop_result"
            while terminal_id in ids:
                terminal_id += "_"
            terminal = {"id": terminal_id, "type": "flow.terminal", "name": "Back to the loop",
                        "params": {"result": "{{ " + result + " }}"}}
            edges += [{"from": back_id, "to": terminal_id} | ({} if port == "main" else {"port": port})
                      for port in back_ports or ["main"]]
            self.report.warn(f"{loop}: the loop body's result is what {body['back']!r} hands back to the loop; "
                             f"the terminal node {terminal_id!r} in its body says so (an item whose path does "
                             "not reach it gives null in the list, where n8n's done output leaves it out)")
        foreach["params"]["graph"] = {"nodes": [start, *inner, *([terminal] if terminal else [])], "edges": edges}
        links = [link for link in links if link[0] not in names and link[2] not in names
                 and not (link[0] == loop and link[1] == 1)]
        return outer, links

    @staticmethod
    def _ports(outputs, output_index, node):
        """The NodeFlow ports of a node's n8n output (`outputs`: its Translation's, None for a placeholder)."""
        if outputs is None:
            return ["main"]
        if output_index < len(outputs):
            return outputs[output_index]
        if output_index == len(outputs) and node.get("on_error") == "route":
            return ["error"]
        return []

    def _answer_with_last_node(self, webhook_id, out_nodes, edges, by_name):
        """A terminal after the one node where the webhook's paths end, whose result is that node's data."""
        names = {node_id: name for name, node_id in self.ids.items()}
        reached, stack = set(), [webhook_id]
        while stack:
            current = stack.pop()
            for edge in edges:
                if edge["from"] == current and edge["to"] not in reached:
                    reached.add(edge["to"])
                    stack.append(edge["to"])
        leaves = sorted(node_id for node_id in reached if not any(edge["from"] == node_id for edge in edges))
        webhook = names[webhook_id]
        if len(leaves) != 1 or any(n["id"] == leaves[0] and n["type"] in ("flow.terminal", "flow.fail")
                                   for n in out_nodes):
            self.report.warn(f"{webhook}: n8n answers with the data of the last node that runs; add a terminal "
                             "node to say which (the paths after this webhook do not end in one node)")
            return
        leaf = next(node for node in out_nodes if node["id"] == leaves[0])
        terminal_id = f"{leaf['id'][:50]}_response"
        taken = {node["id"] for node in out_nodes}
        while terminal_id in taken:
            terminal_id += "_"
        position = leaf.get("position", [0.0, 0.0])
        out_nodes.append({"id": terminal_id, "type": "flow.terminal", "name": f"{webhook} response",
                          "position": [position[0] + 240, position[1]],
                          "params": {"result": "{{ " + by_name[names[leaf["id"]]] + " }}"}})
        edges.append({"from": leaf["id"], "to": terminal_id})
        self.report.warn(f"{webhook}: n8n answers with the last node's data; the terminal node {terminal_id!r} "
                         f"after {names[leaf['id']]!r} sets the result the webhook answers")

    def _json_paths(self, active, modules):
        """{n8n name: the context path of that node's `$json`}.

        A node that hands its items on unchanged (IF, Switch, No Operation…) outputs something
        else here (`{result}`, `{case}`, nothing), so its `$json` is its single input node's."""
        nodes = {node["name"]: node for node in active}
        paths = {}

        def path_of(name, seen=()):
            if name in paths:
                return paths[name]
            node, module = nodes[name], modules.get(nodes[name]["type"])
            sources = sorted({source for _, source in self.incoming.get(name, [])})
            passes = module is not None and getattr(module, "passes_items_through", lambda _: False)(node)
            if passes and len(sources) == 1 and sources[0] not in seen:
                path = path_of(sources[0], (*seen, name))
            else:
                json_path = getattr(module, "JSON_PATH", "") if module else ""
                path = f"nodes.{self.ids[name]}.output" + (f".{json_path}" if json_path else "")
            paths[name] = path
            return path

        for name in nodes:
            path_of(name)
        return paths

    def _settings(self, node, out, ctx):
        if node.get("retryOnFail"):
            attempts = node.get("maxTries", 3)
            wait_ms = node.get("waitBetweenTries", 1000)
            out["retry"] = {"max_attempts": int(attempts), "backoff_s": float(wait_ms) / 1000,
                            "max_backoff_s": float(wait_ms) / 1000, "jitter": False}
        on_error = node.get("onError")
        if on_error == "continueErrorOutput":
            out["on_error"] = "route"
        elif on_error == "continueRegularOutput" or node.get("continueOnFail"):
            out["on_error"] = "continue"

    def _edges(self, links, outputs_of, nodes_by_id):
        from nodes.registry import UnknownNodeType, registry

        edges, seen = [], set()
        for source, output_index, target, _ in sorted(links, key=lambda link: (link[2], link[3])):
            from_id, to_id = self.ids[source], self.ids[target]
            node = nodes_by_id[from_id]
            outputs = outputs_of[source]
            if outputs is None:  # a placeholder: every output leaves its main port
                ports = ["main"]
            elif output_index < len(outputs):
                ports = outputs[output_index]
            elif output_index == len(outputs) and node.get("on_error") == "route":
                ports = ["error"]
            else:
                self.report.warn(f"{source}: its output {output_index} has no NodeFlow port; the connection "
                                 f"to {target} is left out")
                continue
            try:
                declared = registry.get(node["type"]).output_ports(node)
            except UnknownNodeType:
                declared = None
            for port in ports:
                if declared is not None and port not in declared:
                    self.report.warn(f"{source}: a {node['type']} node has no output port {port!r}; the "
                                     f"connection to {target} is left out")
                    continue
                key = (from_id, port, to_id)
                if key in seen:
                    continue
                seen.add(key)
                edges.append({"from": from_id, "to": to_id} | ({} if port == "main" else {"port": port}))
        return edges

    def _acyclic(self, edges):
        """The edges without those that close a cycle (n8n loops back to Loop Over Items; a NodeFlow
        graph is a DAG, loops being a node type's business), each one left out reported."""
        kept, reach = [], {}

        def reaches(start, goal):
            seen, stack = set(), [start]
            while stack:
                node = stack.pop()
                if node == goal:
                    return True
                if node not in seen:
                    seen.add(node)
                    stack.extend(reach.get(node, ()))
            return False

        for edge in edges:
            if reaches(edge["to"], edge["from"]):
                names = {v: k for k, v in self.ids.items()}
                self.report.warn(f"{names[edge['from']]} → {names[edge['to']]}: this connection closes a loop; "
                                 "NodeFlow graphs have no cycles (loops are flow.foreach's), so it is left out")
                continue
            reach.setdefault(edge["from"], []).append(edge["to"])
            kept.append(edge)
        return kept

    def _pins(self):
        """pinData as DEBUGGING.md's pins: {node id: output} (one item's json, or a list of them)."""
        pins = {}
        inside = {name for body in self.loops.values() if isinstance(body, dict) for name in body["body"]}
        for name, items in (self.document.get("pinData") or {}).items():
            if name not in self.ids or not isinstance(items, list):
                continue
            if name in inside:
                self.report.warn(f"{name}: its pinData is left out (the node is inside a loop body, which runs "
                                 "each item afresh)")
                continue
            values = [item.get("json", item) if isinstance(item, dict) else item for item in items]
            value = values[0] if len(values) == 1 else values
            module = translators().get(self.types[name])
            json_path = getattr(module, "JSON_PATH", "") if module else ""
            for key in reversed(json_path.split(".") if json_path else []):
                value = {key: value}
            pins[self.ids[name]] = value
        if pins:
            self.report.warn(
                f"pinData of {len(pins)} node(s) became the draft's pins ({', '.join(sorted(pins))}): runs of "
                "the draft use their pinned output instead of running them (unpin them in the run inspector); "
                "published versions run them")
        return pins


def translate(document, find_workflow=None):
    """(nodeflow document, report dict) for an n8n workflow; raises NotThisFormat.

    `find_workflow(n8n workflow id)`: (id, name) of the NodeFlow workflow imported from that n8n
    workflow, or None; without it, Execute Workflow nodes calling a stored workflow stay untranslated."""
    importer = N8nImporter(document, find_workflow)
    result, pins = importer.translate()
    report = importer.report.as_dict()
    report["pins"] = pins
    return result, report

