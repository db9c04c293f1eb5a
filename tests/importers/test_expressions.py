"""n8n expressions: tokenized and parsed, rewritten where NodeFlow has an equivalent, refused otherwise."""

import pytest

from importers.n8n.expressions import Scope, Untranslatable, operand, rewrite_value, tokenize

SCOPE = Scope("nodes.code.output", {"Code": "nodes.code.output", "HTTP Request": "nodes.http_request.output.body"})


@pytest.mark.parametrize("source, rewritten", [
    ("={{ $json.count }}", "{{ nodes.code.output.count }}"),
    ("=Hello {{ $json.name }}!", "Hello {{ nodes.code.output.name }}!"),
    ('={{ $json["a b"].list[0] }}', '{{ nodes.code.output["a b"].list[0] }}'),
    ("={{ $('HTTP Request').item.json.id }}", "{{ nodes.http_request.output.body.id }}"),
    ('={{ $node["HTTP Request"].json.id }}', "{{ nodes.http_request.output.body.id }}"),
    ("={{ $node.Code.json.id }}", "{{ nodes.code.output.id }}"),
    ("={{ $input.item.json.x }}", "{{ nodes.code.output.x }}"),
    ("={{ $input.first().json.x }}", "{{ nodes.code.output.x }}"),
    ("={{ $now }}", "{{ execution.started_at }}"),
    ("={{ $execution.id }}", "{{ execution.id }}"),
    ("={{ $vars.region }}", "{{ globals.region }}"),
    ("={{ $json.a === 'x' && !$json.b }}", '{{ (nodes.code.output.a == "x") and (not nodes.code.output.b) }}'),
    ("={{ $json.n > 2 ? 'big' : 'small' }}", '{{ ("big" if (nodes.code.output.n > 2) else "small") }}'),
    ("={{ 'id-' + $json.id }}", '{{ "id-" ~ nodes.code.output.id }}'),
    ("={{ $json.a + $json.b * 2 }}", "{{ nodes.code.output.a + (nodes.code.output.b * 2) }}"),
    ("={{ false }}", "{{ false }}"),
    ("={{ '}}' }}", '{{ "}}" }}'),
    ("plain text", "plain text"),
    ("a literal {{ brace", 'a literal {{ "{{" }} brace'),
])
def test_expressions_with_an_equivalent_are_rewritten(source, rewritten):
    assert rewrite_value(source, SCOPE) == rewritten


@pytest.mark.parametrize("source, reason", [
    ("={{ $json.items.map(i => i.id) }}", "arrow functions"),
    ("={{ $json.name.toUpperCase() }}", "method calls"),
    ("={{ (() => 1)() }}", "arrow functions"),
    ("={{ (function () { return 1 })() }}", "function"),
    ("={{ `x${$json.a}` }}", "template literals"),
    ("={{ JSON.stringify($json) }}", "method calls"),
    ("={{ $('Code').all() }}", "without .item"),
    ("={{ $('Nope').item.json.x }}", "not in the workflow"),
    ("={{ $env.SECRET }}", "$env has no equivalent"),
    ("={{ $json.a ?? 1 }}", "??"),
    ("={{ { a: 1 } }}", "object literals"),
    ("={{ $json.a", "not closed"),
])
def test_javascript_without_an_equivalent_is_refused_with_the_reason(source, reason):
    with pytest.raises(Untranslatable, match=reason.replace("$", r"\$").replace("?", r"\?")):
        rewrite_value(source, SCOPE)


def test_json_needs_a_single_input_node():
    with pytest.raises(Untranslatable, match="single input node"):
        rewrite_value("={{ $json.x }}", Scope(None, {}))


def test_the_tokenizer_reads_strings_numbers_and_punctuators():
    kinds = [(t.kind, t.value) for t in tokenize("$json['a\\'b'] >= 1.5e2 && x")][:-1]
    assert kinds == [("name", "$json"), ("punct", "["), ("string", "a'b"), ("punct", "]"), ("punct", ">="),
                     ("number", 150.0), ("punct", "&&"), ("name", "x")]


def test_operands_become_jsonlogic():
    assert operand("={{ $json.count }}", SCOPE) == {"var": "nodes.code.output.count"}
    assert operand("={{ $json.a > 3 || $json.b }}", SCOPE) == {
        "or": [{">": [{"var": "nodes.code.output.a"}, 3]}, {"var": "nodes.code.output.b"}]}
    assert operand("=n{{ $json.a }}", SCOPE) == {"cat": ["n", {"var": "nodes.code.output.a"}]}
    assert operand(7, SCOPE) == 7
