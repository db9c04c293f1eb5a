"""GET /api/v1/node-types/: the catalog the editor builds its palette and forms from."""

import jsonschema
import pytest

from nodes.registry import NodeRegistry, register_node, registry

pytestmark = pytest.mark.django_db

URL = "/api/v1/node-types/"


def test_catalog_lists_every_registered_type_and_version(alice_client):
    response = alice_client.get(URL)

    assert response.status_code == 200
    listed = [(entry["type"], entry["version"]) for entry in response.json()]
    assert listed == [(t.type, t.version) for t in registry.all()]
    for name in ["trigger.manual", "trigger.schedule", "trigger.webhook", "logic.if", "logic.switch", "data.set",
                 "flow.merge", "flow.wait", "flow.terminal", "flow.fail", "flow.noop"]:
        assert name in {type_name for type_name, _ in listed}


def test_catalog_entry_has_what_api_md_promises(alice_client):
    entry = next(e for e in alice_client.get(URL).json() if e["type"] == "logic.if")

    assert {"type", "version", "latest", "title", "category", "params_schema", "ports"} <= set(entry)
    assert entry["ports"]["in"] == ["main"]
    assert entry["ports"]["out"] == ["true", "false"]
    assert entry["latest"] is True
    assert entry["raw_params"] == ["condition"]
    assert entry["jsonlogic_params"] == ["condition"]
    assert entry["params_schema"]["required"] == ["condition"]


@pytest.mark.parametrize("node_type", registry.all(), ids=lambda t: f"{t.type} v{t.version}")
def test_each_params_schema_is_a_json_schema_a_form_can_be_built_from(alice_client, node_type):
    entry = next(e for e in alice_client.get(URL).json()
                 if (e["type"], e["version"]) == (node_type.type, node_type.version))
    schema = entry["params_schema"]

    jsonschema.Draft202012Validator.check_schema(schema)
    # A form is one field per property of an object schema; defaults fill them in.
    assert schema["type"] == "object"
    assert isinstance(schema.get("properties", {}), dict)
    for key, value in entry["defaults"].items():
        assert key in schema["properties"], f"default for an undeclared param {key!r}"
        assert not list(jsonschema.Draft202012Validator(schema["properties"][key]).iter_errors(value)), key


def test_catalog_marks_only_the_newest_version_latest(alice_client, monkeypatch):
    scratch = NodeRegistry(modules=())
    for version in (1, 2):
        register_node("acme.score", version, target_registry=scratch)(lambda call: None)
    monkeypatch.setattr("nodes.api.registry", scratch)

    body = alice_client.get(URL).json()

    assert [(e["version"], e["latest"]) for e in body] == [(1, False), (2, True)]
    assert [e["version"] for e in alice_client.get(URL, {"latest": "true"}).json()] == [2]


def test_catalog_filters_by_type(alice_client):
    body = alice_client.get(URL, {"type": "flow.merge"}).json()

    assert [e["type"] for e in body] == ["flow.merge"]


def test_catalog_needs_a_login(client):
    assert client.get(URL).status_code == 401
