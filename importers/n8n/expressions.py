"""n8n expressions (`={{ … }}`, JavaScript) rewritten into NodeFlow's `{{ … }}` and JsonLogic.

A real tokenizer and a small Pratt parser read the JavaScript inside each `{{ … }}`.
What has an equivalent is rewritten: references to item data (`$json.x`,
`$('Name').item.json.x`, `$node["Name"].json.x`, `$input.item.json.x`,
`$input.first().json.x`), `$now`, `$execution.id`, `$vars.x`, literals, arithmetic,
comparisons, `&&`, `||`, `!` and `?:`. Anything else (method calls, arrow functions,
IIFEs, template literals, other `$` helpers) raises Untranslatable, and the caller
keeps the parameter as it was and reports it."""

import json
import re
from dataclasses import dataclass, field


class Untranslatable(ValueError):
    """A piece of JavaScript with no equivalent in NodeFlow expressions."""


# --- tokenizer -------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    kind: str  # "name", "number", "string", "template", "punct", "end"
    value: object
    start: int


_PUNCTUATORS = sorted(
    ["===", "!==", "...", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "**",
     "+", "-", "*", "/", "%", "<", ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "="],
    key=len, reverse=True,
)
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def tokenize(source):
    """The tokens of a JavaScript expression; raises Untranslatable on text that is not JavaScript."""
    tokens, i, n = [], 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        if source.startswith("//", i) or source.startswith("/*", i):
            raise Untranslatable("comments inside an expression")
        if char in "\"'":
            value, i2 = _read_string(source, i)
            tokens.append(Token("string", value, i))
            i = i2
            continue
        if char == "`":
            raise Untranslatable("template literals (`…`) are JavaScript only")
        match = _NUMBER.match(source, i)
        if match and (char.isdigit() or (char == "." and i + 1 < n and source[i + 1].isdigit())):
            text = match.group()
            tokens.append(Token("number", int(text, 16) if text[:2].lower() == "0x" else _number(text), i))
            i = match.end()
            continue
        match = _NAME.match(source, i)
        if match:
            tokens.append(Token("name", match.group(), i))
            i = match.end()
            continue
        for punct in _PUNCTUATORS:
            if source.startswith(punct, i):
                tokens.append(Token("punct", punct, i))
                i += len(punct)
                break
        else:
            raise Untranslatable(f"unexpected character {char!r}")
    tokens.append(Token("end", None, n))
    return tokens


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _read_string(source, start):
    quote, i, out = source[start], start + 1, []
    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 >= len(source):
                break
            nxt = source[i + 1]
            if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", source[i + 2:i + 6]):
                out.append(chr(int(source[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise Untranslatable("a string is not closed")


# --- parser ---------------------------------------------------------------------------

# AST nodes are tuples: ("lit", value), ("ref", root, [keys]), ("unary", op, x),
# ("binary", op, a, b), ("cond", test, then, else), ("list", [items]).

_BINARY = {
    "||": 1, "??": 1, "&&": 2, "==": 3, "!=": 3, "===": 3, "!==": 3,
    "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6,
}


class _Parser:
    def __init__(self, source):
        self.tokens = tokenize(source)
        self.pos = 0

    @property
    def token(self):
        return self.tokens[self.pos]

    def take(self, kind=None, value=None):
        token = self.token
        if (kind and token.kind != kind) or (value is not None and token.value != value):
            if token.value == "=>":
                raise Untranslatable("arrow functions")
            raise Untranslatable(f"unexpected {token.value!r}" if token.kind != "end" else "unexpected end")
        self.pos += 1
        return token

    def at(self, value):
        return self.token.kind == "punct" and self.token.value == value

    def parse(self):
        if self.token.kind == "end":
            raise Untranslatable("an empty expression")
        node = self.expression()
        if self.token.kind != "end":
            if self.at("=>"):
                raise Untranslatable("arrow functions")
            raise Untranslatable(f"unexpected {self.token.value!r}")
        return node

    def expression(self):
        """A conditional expression (`a ? b : c`), the lowest precedence."""
        test = self.binary(1)
        if not self.at("?"):
            return test
        self.take()
        then = self.expression()
        self.take("punct", ":")
        return ("cond", test, then, self.expression())

    def binary(self, min_precedence):
        left = self.unary()
        while True:
            token = self.token
            precedence = _BINARY.get(token.value) if token.kind == "punct" else None
            if precedence is None or precedence < min_precedence:
                return left
            if token.value == "??":
                raise Untranslatable("the ?? operator")
            self.take()
            left = ("binary", token.value, left, self.binary(precedence + 1))

    def unary(self):
        if self.at("!") or self.at("-") or self.at("+"):
            op = self.take().value
            return ("unary", op, self.unary())
        if self.token.kind == "name" and self.token.value in ("typeof", "new", "delete", "void", "await", "function"):
            raise Untranslatable(f"JavaScript `{self.token.value}`")
        return self.postfix(self.primary())

    def primary(self):
        token = self.token
        if token.kind in ("number", "string"):
            self.take()
            return ("lit", token.value)
        if token.kind == "name":
            self.take()
            literals = {"true": True, "false": False, "null": None, "undefined": None}
            if token.value in literals:
                return ("lit", literals[token.value])
            return ("name", token.value)
        if self.at("("):
            self.take()
            if self.at(")"):
                raise Untranslatable("arrow functions")
            inner = self.expression()
            self.take("punct", ")")
            if self.at("=>"):
                raise Untranslatable("arrow functions")
            if self.at("("):
                raise Untranslatable("immediately invoked functions (IIFE)")
            return inner
        if self.at("["):
            self.take()
            items = []
            while not self.at("]"):
                items.append(self.expression())
                if not self.at("]"):
                    self.take("punct", ",")
            self.take("punct", "]")
            return ("list", items)
        if self.at("{"):
            raise Untranslatable("object literals")
        raise Untranslatable(f"unexpected {token.value!r}" if token.kind != "end" else "unexpected end")

    def postfix(self, node):
        """Member accesses and calls after a primary: `a.b`, `a["b"]`, `a[0]`, `f(…)`."""
        while True:
            if self.at(".") or self.at("?."):
                self.take()
                name = self.take("name").value
                node = ("member", node, name)
            elif self.at("["):
                self.take()
                key = self.expression()
                self.take("punct", "]")
                if key[0] != "lit" or not isinstance(key[1], (str, int)) or isinstance(key[1], bool):
                    raise Untranslatable("computed member access")
                node = ("member", node, key[1])
            elif self.at("("):
                self.take()
                args = []
                while not self.at(")"):
                    args.append(self.expression())
                    if not self.at(")"):
                        self.take("punct", ",")
                self.take("punct", ")")
                node = ("call", node, args)
            else:
                return node


# --- resolving n8n's data references ---------------------------------------------------

@dataclass
class Scope:
    """Where n8n's data references lead for one node.

    `current` is the context path of the node's single upstream node's `$json` (None when
    the node has no single upstream node); `by_name` maps n8n node names to the context path
    of that node's `$json`."""

    current: str | None
    by_name: dict
    # {n8n name: why that node's data cannot be read here} (a loop body's nodes outside it, and the reverse).
    hidden: dict = field(default_factory=dict)


def _chain(node):
    """(root, [(kind, value)…]) of a member/call chain."""
    steps = []
    while node[0] in ("member", "call"):
        if node[0] == "member":
            steps.append(("member", node[2]))
        else:
            steps.append(("call", node[2]))
        node = node[1]
    steps.reverse()
    return node, steps


def _keys(steps, what):
    keys = []
    for kind, value in steps:
        if kind == "call":
            raise Untranslatable(f"method calls on {what}")
        keys.append(value)
    return keys


def _item_of(steps, what):
    """The steps after n8n's item accessor (`.item`, `.first()`, `.last()`) and `.json`."""
    if steps[:1] == [("member", "item")]:
        steps = steps[1:]
    elif len(steps) >= 2 and steps[0] in (("member", "first"), ("member", "last")) and steps[1] == ("call", []):
        steps = steps[2:]
    elif steps[:1] == [("member", "json")] and what.startswith("$node"):
        pass
    else:
        raise Untranslatable(f"{what} without .item, .first() or .last()")
    if steps[:1] != [("member", "json")]:
        raise Untranslatable(f"{what}: only .json is translated (not binary data or other fields)")
    return steps[1:]


def resolve(node, scope):
    """The AST with n8n's references replaced by ("ref", context path, [keys])."""
    kind = node[0]
    if kind in ("member", "call", "name"):
        root, steps = _chain(node)
        if root[0] != "name":
            if steps and steps[-1][0] == "call":
                raise Untranslatable("method calls")
            raise Untranslatable("member access on a computed value")
        name = root[1]
        if name == "$json":
            if scope.current is None:
                raise Untranslatable("$json where the node has no single input node")
            return ("ref", scope.current, _keys(steps, "$json"))
        if name == "$input":
            if scope.current is None:
                raise Untranslatable("$input where the node has no single input node")
            return ("ref", scope.current, _keys(_item_of(steps, "$input"), "$input"))
        if name in ("$", "$node"):
            if name == "$":
                if not steps or steps[0][0] != "call" or len(steps[0][1]) != 1 or steps[0][1][0][0] != "lit":
                    raise Untranslatable("$(…) with a computed node name")
                target, steps = steps[0][1][0][1], steps[1:]
            else:
                if not steps or steps[0][0] != "member":
                    raise Untranslatable("$node without a node name")
                target, steps = steps[0][1], steps[1:]
            if target in scope.hidden:
                raise Untranslatable(scope.hidden[target])
            if target not in scope.by_name:
                raise Untranslatable(f"a reference to node {target!r}, which is not in the workflow")
            what = f"$node[{target!r}]" if name == "$node" else f"$({target!r})"
            return ("ref", scope.by_name[target], _keys(_item_of(steps, what), what))
        if name == "$now" and not steps:
            return ("ref", "execution.started_at", [])
        if name == "$execution" and steps == [("member", "id")]:
            return ("ref", "execution.id", [])
        if name == "$vars" and len(steps) == 1 and steps[0][0] == "member":
            return ("ref", "globals", [steps[0][1]])
        if steps and steps[-1][0] == "call":
            raise Untranslatable(f"method calls ({name}…)")
        raise Untranslatable(f"{name} has no equivalent" if name.startswith("$") else f"the identifier {name!r}")
    if kind == "unary":
        return ("unary", node[1], resolve(node[2], scope))
    if kind == "binary":
        return ("binary", node[1], resolve(node[2], scope), resolve(node[3], scope))
    if kind == "cond":
        return ("cond", *(resolve(part, scope) for part in node[1:]))
    if kind == "list":
        return ("list", [resolve(item, scope) for item in node[1]])
    return node


def parse(source, scope):
    """The resolved AST of one JavaScript expression."""
    return resolve(_Parser(source).parse(), scope)


# --- emitting --------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JINJA_WORDS = {"and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None"}


def path_text(base, keys):
    """A dotted context path for JsonLogic's `var` (None when a key cannot be written in one)."""
    parts = [base] if base else []
    for key in keys:
        text = str(key)
        if "." in text or text == "":
            return None
        parts.append(text)
    return ".".join(parts)


def to_jinja(node):
    kind = node[0]
    if kind == "lit":
        value = node[1]
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value)
    if kind == "ref":
        text = node[1]
        for key in node[2]:
            if isinstance(key, int):
                text += f"[{key}]"
            elif _IDENTIFIER.match(key) and key not in _JINJA_WORDS:
                text += f".{key}"
            else:
                text += f"[{json.dumps(key)}]"
        return text
    if kind == "unary":
        op = {"!": "not "}.get(node[1], node[1])
        return f"{op}{_wrapped(node[2])}"
    if kind == "binary":
        op, left, right = node[1], node[2], node[3]
        if op == "+" and (_is_text(left) or _is_text(right)):
            op = "~"
        op = {"===": "==", "!==": "!=", "&&": "and", "||": "or"}.get(op, op)
        return f"{_wrapped(left)} {op} {_wrapped(right)}"
    if kind == "cond":
        return f"({_wrapped(node[2])} if {_wrapped(node[1])} else {_wrapped(node[3])})"
    if kind == "list":
        return "[" + ", ".join(to_jinja(item) for item in node[1]) + "]"
    raise Untranslatable(f"cannot write {kind}")


def _is_text(node):
    return node[0] == "lit" and isinstance(node[1], str) or (node[0] == "binary" and node[1] == "+" and
                                                              (_is_text(node[2]) or _is_text(node[3])))


def _wrapped(node):
    text = to_jinja(node)
    return f"({text})" if node[0] in ("binary", "cond", "unary") else text


_JSONLOGIC_OPS = {"||": "or", "&&": "and"}


def to_jsonlogic(node):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        path = path_text(node[1], node[2])
        if path is None:
            raise Untranslatable("a key with a dot cannot be read by JsonLogic's var")
        return {"var": path}
    if kind == "unary":
        if node[1] == "!":
            return {"!": [to_jsonlogic(node[2])]}
        if node[1] == "-":
            return {"-": [to_jsonlogic(node[2])]}
        return {"+": [to_jsonlogic(node[2])]}
    if kind == "binary":
        op = node[1]
        if op == "+" and (_is_text(node[2]) or _is_text(node[3])):
            return {"cat": [to_jsonlogic(node[2]), to_jsonlogic(node[3])]}
        return {_JSONLOGIC_OPS.get(op, op): [to_jsonlogic(node[2]), to_jsonlogic(node[3])]}
    if kind == "cond":
        return {"if": [to_jsonlogic(part) for part in node[1:]]}
    if kind == "list":
        return [to_jsonlogic(item) for item in node[1]]
    raise Untranslatable(f"cannot write {kind}")


# --- whole parameter values ------------------------------------------------------------

def split_template(text):
    """[(is_expression, text)…] of an n8n expression string (without its leading "=")."""
    parts, i = [], 0
    while True:
        start = text.find("{{", i)
        if start < 0:
            if i < len(text):
                parts.append((False, text[i:]))
            return parts
        if start > i:
            parts.append((False, text[i:start]))
        end = _closing(text, start + 2)
        parts.append((True, text[start + 2:end]))
        i = end + 2


def _closing(text, start):
    """The index of the `}}` that closes the expression starting at `start` (strings and braces skipped)."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char in "\"'`":
            quote, i = char, i + 1
            while i < len(text) and text[i] != quote:
                i += 2 if text[i] == "\\" else 1
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and text.startswith("}}", i):
                return i
            depth = max(depth - 1, 0)
        i += 1
    raise Untranslatable("an expression is not closed with }}")


def is_expression(value):
    return isinstance(value, str) and value.startswith("=")


def rewrite_value(value, scope):
    """An n8n parameter value as a NodeFlow template string.

    Plain strings stay as they are (a literal `{{` is escaped); `=…` strings have each
    `{{ … }}` rewritten. Raises Untranslatable with the reason."""
    if not is_expression(value):
        return _escape(value) if isinstance(value, str) else value
    out = []
    for is_code, text in split_template(value[1:]):
        if is_code:
            out.append("{{ " + to_jinja(parse(text.strip(), scope)) + " }}")
        else:
            out.append(_escape(text))
    return "".join(out)


def _escape(text):
    return text.replace("{{", '{{ "{{" }}')


def operand(value, scope):
    """An n8n value (literal or `={{ … }}`) as a JsonLogic operand; raises Untranslatable."""
    if not is_expression(value):
        return value
    parts = split_template(value[1:])
    if len(parts) == 1 and parts[0][0]:
        return to_jsonlogic(parse(parts[0][1].strip(), scope))
    pieces = []
    for is_code, text in parts:
        pieces.append(to_jsonlogic(parse(text.strip(), scope)) if is_code else text)
    return {"cat": pieces}
