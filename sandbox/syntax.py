"""Compile-time checks, run in the worker before anything reaches the jail."""

import ast
import functools

USER_FILENAME = "<code>"
# Names that only escape attempts use. Catching them here gives an early, friendly
# error; it is not a wall (getattr with a built string walks past it).
SUSPICIOUS_ATTRIBUTES = frozenset({
    "__subclasses__", "__globals__", "__builtins__", "__code__", "__closure__",
    "__loader__", "__spec__", "tb_frame", "f_back", "f_globals", "f_locals",
    "f_builtins", "gi_frame", "cr_frame", "ag_frame", "gi_code",
})


@functools.lru_cache(maxsize=512)
def check_syntax(code: str) -> dict | None:
    """None when `code` compiles and defines a top-level run(); else {message, line, column}."""
    if not isinstance(code, str):
        return {"message": "The code must be a string", "line": 1, "column": 0}
    try:
        tree = ast.parse(code, filename=USER_FILENAME)
        compile(tree, USER_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return {"message": f"SyntaxError: {exc.msg}", "line": exc.lineno or 1,
                "column": max((exc.offset or 1) - 1, 0)}
    except (ValueError, RecursionError, MemoryError) as exc:
        return {"message": f"The code cannot be compiled: {exc}", "line": 1, "column": 0}
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "run":
            return {"message": "run(ctx) must be a plain def, not async def",
                    "line": node.lineno, "column": node.col_offset}
    if not any(isinstance(node, ast.FunctionDef) and node.name == "run" for node in tree.body):
        return {"message": "The code must define a function run(ctx)", "line": 1, "column": 0}
    return None


@functools.lru_cache(maxsize=512)
def find_forbidden_attribute(code: str) -> dict | None:
    """The first attribute access that only an escape attempt needs, or None."""
    try:
        tree = ast.parse(code, filename=USER_FILENAME)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
            return {"message": f"The attribute {node.attr} is not allowed in code nodes",
                    "line": node.lineno, "column": node.col_offset}
        if isinstance(node, ast.Name) and node.id in ("__builtins__", "__loader__"):
            return {"message": f"The name {node.id} is not allowed in code nodes",
                    "line": node.lineno, "column": node.col_offset}
    return None
