"""The import graph of the project keeps the layers of docs/ARCHITECTURE.md.

The graph is read from the source (ast), not by importing it, and counts every import
statement wherever it stands: an import inside a function is a dependency all the same,
only a later one. Migrations and tests are left out. Imports by dotted path in a string
(the node registry, INSTALLED_APPS, Celery's autodiscovery) are not edges: they are how
a lower layer names a higher one without depending on it.

- no cycle between modules;
- no cycle between apps (top-level packages). `nodeflow/` is the project, not an app: it
  wires the apps (urls, asgi, the Celery app) and holds helpers they share (api, crypto,
  env), so its modules enter the app graph one by one: an app may use nodeflow.crypto
  while nodeflow.urls routes to that app, but nodeflow.crypto importing an app is a cycle;
- `engine/` imports neither Django, Celery nor any other project package."""

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "nodeflow"
LEFT_OUT_DIRS = {"migrations", "tests", "node_modules", "__pycache__"}
# What the engine core may not import (besides every other project package).
FRAMEWORKS = {"django", "celery", "kombu", "channels", "channels_redis", "rest_framework", "drf_spectacular",
              "django_celery_beat"}


@dataclass(frozen=True)
class Import:
    """One import statement of a project module that names another project module."""

    source: str
    target: str
    path: Path
    line: int
    in_function: bool

    def __str__(self):
        where = " (inside a function)" if self.in_function else ""
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}{where}"


def project_packages():
    return sorted(path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file() and path.name != "tests")


def project_modules():
    """{dotted module name: file} for every module of the project packages."""
    modules = {}
    for package in project_packages():
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if LEFT_OUT_DIRS & set(relative.parts):
                continue
            parts = relative.with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


class _ImportCollector(ast.NodeVisitor):
    """Every import statement of one module with its line and whether it stands inside a function."""

    def __init__(self):
        self.found = []  # (dotted names it may import, line, in_function)
        self._depth = 0

    def _function(self, node):
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node):
        self.found.append(([alias.name for alias in node.names], node.lineno, self._depth > 0))

    def visit_ImportFrom(self, node):
        self.found.append(((node.level, node.module, [alias.name for alias in node.names]), node.lineno,
                           self._depth > 0))


def _targets(module, is_package, statement, modules):
    """The project modules an import statement loads: `from a import b` is a.b when that is a module, else a."""

    def known(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    if isinstance(statement, list):  # import a.b.c
        return {known(name) for name in statement}
    level, base, names = statement
    if level:  # from ..a import b
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[:len(anchor) - level + 1]
        base = ".".join(anchor + ([base] if base else []))
    return {f"{base}.{name}" if f"{base}.{name}" in modules else known(base) for name in names}


def import_graph():
    """{module: [Import, …]} of the project, edges to project modules only (the first statement per target)."""
    modules = project_modules()
    graph = {}
    for module, path in modules.items():
        collector = _ImportCollector()
        collector.visit(ast.parse(path.read_text(), filename=str(path)))
        edges = {}
        for statement, line, in_function in collector.found:
            for target in _targets(module, path.name == "__init__.py", statement, modules) - {"", module}:
                edges.setdefault(target, Import(module, target, path, line, in_function))
        graph[module] = list(edges.values())
    return graph


def strongly_connected(nodes, successors):
    """The groups of two or more nodes that reach each other (Tarjan, iterative)."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def shortest_cycle(start, successors, within):
    """A shortest path start → … → start through `within`."""
    previous, queue = {}, deque([start])
    while queue:
        node = queue.popleft()
        for child in successors(node):
            if child not in within:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start]


def app_of(module):
    top = module.split(".")[0]
    if top == PROJECT:
        return ".".join(module.split(".")[:2])
    return top


def describe_cycles(groups, successors, evidence, shown_per_edge=3):
    """One paragraph per cycle: a shortest loop, then every import between members of the knot."""
    paragraphs = []
    for group in groups:
        members = set(group)
        lines = [" → ".join(shortest_cycle(group[0], successors, members))]
        if len(group) > 2:
            lines[0] += f"   (a knot of {len(group)}: {', '.join(group)})"
        for a in group:
            for b in successors(a):
                if b in members:
                    statements = evidence(a, b)
                    lines.append(f"    {a} → {b}: " + "; ".join(statements[:shown_per_edge])
                                 + (f"; and {len(statements) - shown_per_edge} more" if len(statements) > shown_per_edge
                                    else ""))
        paragraphs.append("\n".join(lines))
    return "\n".join(paragraphs)


GRAPH = import_graph()


def test_the_graph_holds_every_project_package():
    packages = {module.split(".")[0] for module in GRAPH}
    assert {"engine", "executions", "nodes", "workflows", "triggers", "credentials", "sandbox", "nodeflow",
            "bench", "frontend"} <= packages
    assert any(edge.in_function for edges in GRAPH.values() for edge in edges), "function-level imports are read"


def test_no_import_cycle_between_modules():
    def successors(module):
        return [edge.target for edge in GRAPH[module]]

    def evidence(a, b):
        return [str(edge) for edge in GRAPH[a] if edge.target == b]

    groups = strongly_connected(sorted(GRAPH), successors)

    assert not groups, f"import cycles between modules:\n{describe_cycles(groups, successors, evidence)}"


def test_no_import_cycle_between_apps():
    edges = {}
    for module, imports in GRAPH.items():
        for edge in imports:
            if app_of(module) != app_of(edge.target):
                edges.setdefault((app_of(module), app_of(edge.target)), []).append(edge)
    apps = sorted({app_of(module) for module in GRAPH})

    def successors(app):
        return sorted(b for a, b in edges if a == app)

    def evidence(a, b):
        return [str(edge) for edge in edges[(a, b)]]

    groups = strongly_connected(apps, successors)

    assert not groups, f"import cycles between apps:\n{describe_cycles(groups, successors, evidence)}"


def test_the_engine_imports_no_framework_and_no_other_app():
    problems = []
    for module, path in project_modules().items():
        if app_of(module) != "engine":
            continue
        collector = _ImportCollector()
        collector.visit(ast.parse(path.read_text()))
        for statement, line, _ in collector.found:
            names = statement if isinstance(statement, list) else [statement[1] or ""] if not statement[0] else []
            for name in names:
                top = name.split(".")[0]
                if top in FRAMEWORKS or (top in project_packages() and top != "engine"):
                    problems.append(f"{path.relative_to(ROOT)}:{line} imports {name}")

    assert not problems, "engine/ must stay plain Python:\n" + "\n".join(problems)
