"""What user code reads of other nodes: `ctx["nodes"]["X"]` and `ctx["nodes"].get("X")` in a code
node's Python source, found by parsing it (never by running it), so that validation can say when X
is not upstream (issue 25: such reads failed only at run time, and renaming X broke them silently)."""

import ast


def _is_nodes(expression):
    """Whether the expression is `<something>["nodes"]` (the context's nodes, whatever the variable's name)."""
    return (isinstance(expression, ast.Subscript) and isinstance(expression.slice, ast.Constant)
            and expression.slice.value == "nodes")


def node_reads(source):
    """The `nodes.X` paths the code reads with a literal X, in order of appearance, each once.
    Code that does not parse reads nothing here (running it reports the syntax error)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reads = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and _is_nodes(node.value) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and _is_nodes(node.func.value) and node.args and isinstance(node.args[0], ast.Constant)):
            key = node.args[0].value
        if isinstance(key, str) and f"nodes.{key}" not in reads:
            reads.append(f"nodes.{key}")
    return sorted(reads, key=lambda read: source.find(read.split(".", 1)[1]))
