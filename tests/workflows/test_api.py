"""The workflows REST API (API.md "Workflows"): CRUD, validation, versions, export/import, errors."""

import json

import pytest
from django.test import override_settings

from tests.workflows.documents import changed, codes, document, edge, node
from workflows.models import Workflow, WorkflowVersion
from engine.document import DOCUMENT_SCHEMA_V1

pytestmark = pytest.mark.django_db

LIST = "/api/v1/workflows/"


def detail(workflow_id, suffix=""):
    return f"/api/v1/workflows/{workflow_id}/{suffix}"


def versioned(doc):
    """The document as stored: every node records its type's version (all v1 today)."""
    return changed(doc, lambda d: [n.setdefault("version", 1) for n in d["nodes"]])


def create(client, doc=None, name=None):
    body = {"definition": doc if doc is not None else document()}
    if name is not None:
        body["name"] = name
    response = client.post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


# -- create, read, update, delete ----------------------------------------------------------


def test_create_returns_the_workflow_with_its_validation(alice_client):
    body = create(alice_client, document(name="Signups"))

    assert body["name"] == "Signups"
    assert body["definition"] == versioned(document(name="Signups"))
    assert body["revision"] == 1
    assert body["published_version"] is None
    assert body["active"] is False
    assert body["triggers"] == [{"node_id": "start", "type": "trigger.manual", "url": None, "test_url": None,
                                 "next_runs": []}]
    assert body["validation"] == {"valid": True, "errors": []}
    assert set(body) >= {"id", "created_at", "updated_at"}


def test_an_invalid_draft_is_saved_and_its_errors_returned(alice_client):
    doc = changed(document(), lambda d: d["nodes"].append(node("island", "flow.noop")))

    body = create(alice_client, doc)

    assert body["validation"]["valid"] is False
    assert codes(body["validation"]["errors"]) == ["unreachable_node"]
    assert Workflow.objects.get(pk=body["id"]).definition["nodes"][-1]["id"] == "island"


def test_create_with_only_a_name_starts_an_empty_document(alice_client):
    response = alice_client.post(LIST, {"name": "Blank"}, format="json")

    assert response.status_code == 201
    assert response.json()["definition"] == {"api_version": "nodeflow/v1", "name": "Blank", "nodes": [], "edges": []}
    assert codes(response.json()["validation"]["errors"]) == ["no_trigger"]


def test_the_name_given_is_written_into_the_document(alice_client):
    body = create(alice_client, document(name="Old"), name="New")

    assert body["name"] == "New"
    assert body["definition"]["name"] == "New"


def test_create_without_name_or_definition_is_refused(alice_client):
    assert_error(alice_client.post(LIST, {}, format="json"), 400, "invalid")


@pytest.mark.parametrize("doc, code", [
    (changed(document(), lambda d: d.pop("api_version")), "missing_api_version"),
    (changed(document(), lambda d: d.update(api_version="nodeflow/v2")), "unsupported_api_version"),
])
def test_a_document_without_a_readable_api_version_is_not_stored(alice_client, doc, code):
    error = assert_error(alice_client.post(LIST, {"definition": doc}, format="json"), 400, code)

    assert error["details"][0]["path"] == "api_version"
    assert not Workflow.objects.exists()


def test_list_shows_only_my_workflows(alice_client, bob_client):
    mine = create(alice_client)
    create(bob_client)

    response = alice_client.get(LIST)

    assert response.status_code == 200
    assert [w["id"] for w in response.json()["results"]] == [mine["id"]]


@pytest.mark.parametrize("method, suffix", [
    ("get", ""), ("put", ""), ("patch", ""), ("delete", ""), ("post", "validate/"), ("post", "publish/"),
    ("post", "unpublish/"), ("get", "versions/"), ("get", "versions/1/"), ("get", "export/"), ("post", "run/"),
])
def test_another_users_workflow_answers_404(alice_client, bob_client, method, suffix):
    theirs = create(bob_client)
    alice_client.post(detail(theirs["id"], "publish/"))  # must not publish it either

    response = getattr(alice_client, method)(detail(theirs["id"], suffix), {"definition": document()}, format="json")

    assert_error(response, 404, "not_found")
    assert Workflow.objects.get(pk=theirs["id"]).published_version is None


def test_anonymous_requests_are_refused(client):
    assert_error(client.get(LIST), 401, "not_authenticated")


def test_retrieve(alice_client):
    created = create(alice_client)

    body = alice_client.get(detail(created["id"])).json()

    assert body["id"] == created["id"]
    assert body["definition"] == created["definition"]
    assert "validation" not in body


def test_put_replaces_the_draft_and_bumps_the_revision(alice_client):
    created = create(alice_client)
    new = changed(document(), lambda d: d["nodes"][1]["params"]["vars"].update(extra=1))

    response = alice_client.put(detail(created["id"]), {"name": "Renamed", "definition": new}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2
    assert body["name"] == "Renamed"
    assert body["definition"]["nodes"][1]["params"]["vars"]["extra"] == 1
    assert body["validation"] == {"valid": True, "errors": []}


def test_put_needs_the_definition(alice_client):
    created = create(alice_client)

    assert_error(alice_client.put(detail(created["id"]), {"name": "x"}, format="json"), 400, "invalid")


def test_patch_name_only_renames_without_touching_the_nodes(alice_client):
    created = create(alice_client)

    body = alice_client.patch(detail(created["id"]), {"name": "Renamed"}, format="json").json()

    assert body["name"] == "Renamed"
    assert body["definition"] == {**created["definition"], "name": "Renamed"}


def test_saving_the_same_draft_again_keeps_the_revision(alice_client):
    created = create(alice_client)

    body = alice_client.patch(detail(created["id"]), {"definition": created["definition"]}, format="json").json()

    assert body["revision"] == 1


def test_patch_with_an_invalid_draft_returns_its_errors(alice_client):
    created = create(alice_client)
    broken = changed(created["definition"], lambda d: d["edges"].append(edge("done", "start")))

    body = alice_client.patch(detail(created["id"]), {"definition": broken}, format="json").json()

    assert set(codes(body["validation"]["errors"])) == {"unknown_port", "edge_into_trigger", "cycle"}
    assert body["revision"] == 2


def test_delete(alice_client):
    created = create(alice_client)

    assert alice_client.delete(detail(created["id"])).status_code == 204
    assert not Workflow.objects.exists()


# -- validate --------------------------------------------------------------------------------


def test_validate_a_posted_document(alice_client):
    doc = changed(document(), lambda d: d["edges"].append(edge("work", "ghost")))

    response = alice_client.post(f"{LIST}validate/", {"definition": doc}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["errors"] == [{"code": "edge_to_missing_node", "message": body["errors"][0]["message"],
                               "node_id": None, "edge": {"from": "work", "to": "ghost"}, "path": "edges[2].to"}]


def test_validate_a_posted_valid_document(alice_client):
    body = alice_client.post(f"{LIST}validate/", {"definition": document()}, format="json").json()

    assert body == {"valid": True, "errors": []}


def test_validate_a_posted_non_object(alice_client):
    body = alice_client.post(f"{LIST}validate/", {"definition": [1, 2]}, format="json").json()

    assert body["valid"] is False
    assert codes(body["errors"]) == ["invalid_document"]


def test_validate_without_a_definition_is_a_400(alice_client):
    assert_error(alice_client.post(f"{LIST}validate/", {}, format="json"), 400, "invalid")


def test_validate_a_stored_workflow(alice_client):
    created = create(alice_client, document(nodes=[node("idle", "flow.noop")], edges=[]))

    body = alice_client.post(detail(created["id"], "validate/")).json()

    assert body["valid"] is False
    assert codes(body["errors"]) == ["no_trigger"]


# -- publish, versions -------------------------------------------------------------------------


def test_publish_freezes_a_version_with_increasing_numbers(alice_client, alice):
    created = create(alice_client)

    first = alice_client.post(detail(created["id"], "publish/"))
    second = alice_client.post(detail(created["id"], "publish/"))

    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == 1 and second.json()["number"] == 2
    assert first.json()["definition"] == created["definition"]
    assert first.json()["created_by"] == "alice"
    body = alice_client.get(detail(created["id"])).json()
    assert body["published_version"] == 2
    assert body["active"] is True


def test_publishing_an_invalid_draft_is_refused_with_its_errors(alice_client):
    created = create(alice_client, document(nodes=[node("idle", "flow.noop")], edges=[]))

    error = assert_error(alice_client.post(detail(created["id"], "publish/")), 400, "invalid_workflow")

    assert codes(error["details"]) == ["no_trigger"]
    assert not WorkflowVersion.objects.exists()


def test_a_published_version_never_changes_when_the_draft_does(alice_client):
    created = create(alice_client)
    alice_client.post(detail(created["id"], "publish/"))
    new = changed(created["definition"], lambda d: d["nodes"][1]["params"]["vars"].update(greeting="changed"))

    alice_client.put(detail(created["id"]), {"definition": new}, format="json")

    version = alice_client.get(detail(created["id"], "versions/1/")).json()
    assert version["definition"] == created["definition"]
    assert version["revision"] == 1
    assert alice_client.get(detail(created["id"])).json()["definition"] == new


def test_unpublish(alice_client):
    created = create(alice_client)
    alice_client.post(detail(created["id"], "publish/"))

    response = alice_client.post(detail(created["id"], "unpublish/"))

    assert response.status_code == 200
    assert response.json()["published_version"] is None
    assert response.json()["active"] is False
    assert WorkflowVersion.objects.count() == 1  # the version itself stays


def test_versions_list_newest_first(alice_client):
    created = create(alice_client)
    alice_client.post(detail(created["id"], "publish/"))
    alice_client.post(detail(created["id"], "publish/"))

    body = alice_client.get(detail(created["id"], "versions/")).json()

    assert body["count"] == 2
    assert [(v["number"], v["published"]) for v in body["results"]] == [(2, True), (1, False)]
    assert "definition" not in body["results"][0]


def test_unknown_version_answers_404(alice_client):
    created = create(alice_client)

    assert_error(alice_client.get(detail(created["id"], "versions/3/")), 404, "not_found")


# -- export and import -------------------------------------------------------------------------


def full_document():
    """A valid document using every part of the format, with every node's version given."""
    return {
        "api_version": "nodeflow/v1",
        "name": "Enrich new signups",
        "description": "Everything the format has.",
        "settings": {"timeout_s": 3600, "merge": "collect", "max_parallel": 8},
        "input_schema": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
        "nodes": [
            {"id": "start", "type": "trigger.webhook", "version": 1, "name": "Signup hook", "position": [80, 200],
             "params": {"auth": "none", "response": "async"}},
            {"id": "lookup", "type": "data.set", "version": 1, "name": "Look up", "position": [320, 200.5],
             "params": {"vars": {"email": "{{ input.body.email }}", "ünïcode": "✓"}},
             "retry": {"max_attempts": 3, "backoff_s": 1, "max_backoff_s": 30, "jitter": True},
             "timeout_s": 15, "on_error": "route"},
            {"id": "known", "type": "logic.if", "version": 1, "position": [560, 200],
             "params": {"condition": {">": [{"var": "nodes.lookup.output.count"}, 0]}}},
            {"id": "failed", "type": "flow.fail", "version": 1, "params": {"message": "lookup failed"}},
            {"id": "done", "type": "flow.terminal", "version": 1, "position": [1040, 200],
             "params": {"result": {"email": "{{ vars.email }}", "n": 1.5, "none": None, "list": [1, "two"]}}},
        ],
        "edges": [
            {"from": "start", "to": "lookup"},
            {"from": "lookup", "to": "known"},
            {"from": "lookup", "port": "error", "to": "failed"},
            {"from": "known", "port": "true", "to": "done"},
            {"from": "known", "port": "false", "to": "done"},
        ],
    }


def test_full_document_is_valid(alice_client):
    body = alice_client.post(f"{LIST}validate/", {"definition": full_document()}, format="json").json()

    assert body == {"valid": True, "errors": []}


def test_create_export_import_round_trips_the_document_unchanged(alice_client):
    created = create(alice_client, full_document())

    exported = alice_client.get(detail(created["id"], "export/"))
    imported = alice_client.post(f"{LIST}import/", {"format": "nodeflow", "document": exported.json()},
                                 format="json")
    exported_again = alice_client.get(detail(imported.json()["id"], "export/"))

    assert exported.status_code == 200 and imported.status_code == 201
    assert exported.json() == full_document()
    assert imported.json()["name"] == "Enrich new signups"
    assert imported.json()["validation"] == {"valid": True, "errors": []}
    assert imported.json()["id"] != created["id"]
    assert json.dumps(exported_again.json(), sort_keys=True) == json.dumps(full_document(), sort_keys=True)


def test_export_a_published_version(alice_client):
    created = create(alice_client)
    alice_client.post(detail(created["id"], "publish/"))
    alice_client.patch(detail(created["id"]), {"name": "Later"}, format="json")

    assert alice_client.get(detail(created["id"], "export/?version=published")).json() == created["definition"]
    assert alice_client.get(detail(created["id"], "export/?version=1")).json() == created["definition"]
    assert alice_client.get(detail(created["id"], "export/")).json()["name"] == "Later"
    assert_error(alice_client.get(detail(created["id"], "export/?version=9")), 404, "not_found")
    assert_error(alice_client.get(detail(created["id"], "export/?version=newest")), 400, "invalid")


def test_import_of_an_unknown_format_is_a_400(alice_client):
    assert_error(alice_client.post(f"{LIST}import/", {"format": "zapier", "document": {}}, format="json"), 400,
                 "invalid")


def test_import_of_a_newer_document_is_refused(alice_client):
    doc = changed(document(), lambda d: d.update(api_version="nodeflow/v3"))

    assert_error(alice_client.post(f"{LIST}import/", {"format": "nodeflow", "document": doc}, format="json"), 400,
                 "unsupported_api_version")


# -- malformed requests get a 4xx in the error envelope, never a 500 ---------------------------


def test_a_body_that_is_not_json_is_a_400(alice_client):
    response = alice_client.post(LIST, data="{not json", content_type="application/json")

    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize("body", [
    {"name": ["a", "list"], "definition": document()},
    {"name": "x", "definition": "a string"},
    {"name": "x", "definition": [document()]},
    {"name": "x" * 201, "definition": document()},
    {"name": "", "definition": document()},
    [1, 2, 3],
    "just a string",
])
def test_wrong_types_are_a_400(alice_client, body):
    response = alice_client.post(LIST, data=json.dumps(body), content_type="application/json")

    assert_error(response, 400, "invalid")
    assert not Workflow.objects.exists()


def test_a_5_megabyte_body_is_refused_with_413(alice_client):
    doc = document(nodes=[node(f"n{i}", "flow.noop", name="x" * 200) for i in range(20_000)])
    body = json.dumps({"name": "big", "definition": doc})
    assert len(body) > 5_000_000

    response = alice_client.post(LIST, data=body, content_type="application/json")

    assert_error(response, 413, "payload_too_large")


@override_settings(NODEFLOW={**__import__("django.conf").conf.settings.NODEFLOW, "MAX_DOCUMENT_BYTES": 2048})
def test_a_document_over_the_limit_is_refused_with_413(alice_client):
    doc = document(nodes=[node(f"n{i}", "flow.noop") for i in range(100)])

    assert_error(alice_client.post(LIST, {"definition": doc}, format="json"), 413, "document_too_large")


def test_deeply_nested_json_is_a_400(alice_client):
    body = '{"name": "deep", "definition": ' + "[" * 100_000 + "]" * 100_000 + "}"

    assert_error(alice_client.post(LIST, data=body, content_type="application/json"), 400, "malformed_request")


def test_moderately_nested_json_past_the_limit_is_a_400(alice_client):
    body = '{"name": "deep", "definition": {"api_version": "nodeflow/v1", "nodes": ' + "[" * 150 + "]" * 150 + "}}"

    assert_error(alice_client.post(LIST, data=body, content_type="application/json"), 400, "malformed_request")


def test_nan_is_not_json(alice_client):
    body = '{"name": "nan", "definition": {"api_version": "nodeflow/v1", "nodes": [], "x": NaN}}'

    assert_error(alice_client.post(LIST, data=body, content_type="application/json"), 400, "malformed_request")


@pytest.mark.parametrize("text", ["nul \\u0000 inside", "lone surrogate \\ud800"])
def test_strings_postgresql_cannot_store_are_a_400(alice_client, text):
    body = '{"definition": {"api_version": "nodeflow/v1", "name": "%s", "nodes": []}}' % text

    assert_error(alice_client.post(LIST, data=body, content_type="application/json"), 400, "malformed_request")
    assert not Workflow.objects.exists()


def test_a_surrogate_pair_is_fine(alice_client):
    body = '{"definition": {"api_version": "nodeflow/v1", "name": "smile \\ud83d\\ude00", "nodes": []}}'

    response = alice_client.post(LIST, data=body, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["name"] == "smile \U0001F600"


def test_unknown_api_path_answers_404_in_the_envelope(alice_client):
    assert_error(alice_client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_non_uuid_workflow_id_answers_404(alice_client):
    assert_error(alice_client.get(detail("not-a-uuid")), 404, "not_found")


def test_method_not_allowed_is_in_the_envelope(alice_client):
    assert_error(alice_client.get(f"{LIST}validate/"), 405, "method_not_allowed")


# -- schema and docs ---------------------------------------------------------------------------


def test_openapi_schema_documents_the_workflow_endpoints(alice_client):
    response = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ["/api/v1/workflows/", "/api/v1/workflows/{id}/", "/api/v1/workflows/validate/",
                 "/api/v1/workflows/{id}/validate/", "/api/v1/workflows/{id}/publish/",
                 "/api/v1/workflows/{id}/unpublish/", "/api/v1/workflows/{id}/versions/",
                 "/api/v1/workflows/{id}/versions/{number}/", "/api/v1/workflows/{id}/export/",
                 "/api/v1/workflows/import/", "/api/v1/node-types/"]:
        assert path in paths, path
    components = schema["components"]["schemas"]
    assert components["WorkflowDocument"]["properties"]["nodes"]["items"]["required"] == ["id", "type"]
    assert "validation" in components["SavedWorkflow"]["properties"]
    created = paths["/api/v1/workflows/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/SavedWorkflow"}


def test_api_docs_page_renders(alice_client):
    response = alice_client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_document_schema_is_served(client):
    response = client.get("/api/schema/nodeflow/v1/")

    assert response.status_code == 200
    assert response.json()["properties"]["api_version"]["enum"] == ["nodeflow/v1"]


def test_generating_the_openapi_schema_leaves_the_document_schema_intact(client):
    before = json.dumps(DOCUMENT_SCHEMA_V1, sort_keys=True)

    client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert json.dumps(DOCUMENT_SCHEMA_V1, sort_keys=True) == before


def test_unknown_document_schema_version_answers_404(client):
    assert_error(client.get("/api/schema/nodeflow/v9/"), 404, "not_found")
