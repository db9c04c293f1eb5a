"""Optimistic concurrency on workflow writes (issue 25): a save names the revision it was made on
(`If-Match` or `revision`), and one made on an older revision is refused with 409 instead of
silently dropping the other writer's change."""

import threading

import pytest
from django.db import connection

from tests.workflows.documents import changed, document
from tests.workflows.test_api import assert_error, create, detail
from workflows import services
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def with_extra(doc, value):
    return changed(doc, lambda d: d["nodes"][1]["params"]["vars"].update(extra=value))


def test_a_save_on_the_current_revision_goes_through_and_bumps_it(alice_client):
    created = create(alice_client)

    response = alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 1)},
                                format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 2


def test_the_second_of_two_tabs_gets_409_with_the_current_revision(alice_client):
    created = create(alice_client)
    alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], "tab A")},
                     format="json", HTTP_IF_MATCH='"1"')

    response = alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], "tab B")},
                                format="json", HTTP_IF_MATCH='"1"')

    error = assert_error(response, 409, "revision_conflict")
    assert error["details"] == {"revision": 2, "expected": 1}
    stored = Workflow.objects.get(pk=created["id"])
    assert stored.revision == 2
    assert stored.definition["nodes"][1]["params"]["vars"]["extra"] == "tab A"


@pytest.mark.parametrize("header", ['W/"2"', "2", '"2"'])
def test_if_match_takes_weak_quoted_and_bare_revisions(alice_client, header):
    created = create(alice_client)
    alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 1)}, format="json")

    ok = alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 2)},
                          format="json", HTTP_IF_MATCH=header)
    stale = alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 3)},
                             format="json", HTTP_IF_MATCH=header)

    assert ok.status_code == 200, ok.content
    assert_error(stale, 409, "revision_conflict")


def test_the_revision_field_in_the_body_works_like_if_match(alice_client):
    created = create(alice_client)
    alice_client.patch(detail(created["id"]), {"name": "First"}, format="json")

    stale = alice_client.patch(detail(created["id"]), {"name": "Second", "revision": 1}, format="json")
    fresh = alice_client.patch(detail(created["id"]), {"name": "Second", "revision": 2}, format="json")

    assert assert_error(stale, 409, "revision_conflict")["details"]["revision"] == 2
    assert fresh.status_code == 200
    assert fresh.json()["name"] == "Second"
    assert fresh.json()["revision"] == 3


def test_without_a_revision_the_last_write_wins(alice_client):
    created = create(alice_client)
    alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 1)}, format="json")

    response = alice_client.put(detail(created["id"]), {"definition": with_extra(created["definition"], 2)},
                                format="json")

    assert response.status_code == 200
    assert response.json()["revision"] == 3


def test_if_match_star_matches_any_revision(alice_client):
    created = create(alice_client)
    alice_client.patch(detail(created["id"]), {"name": "First"}, format="json")

    response = alice_client.patch(detail(created["id"]), {"name": "Second"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200


@pytest.mark.parametrize("header", ['"abc"', '"0"', "", '"99999999999"'])
def test_an_unreadable_if_match_is_a_400_naming_it(alice_client, header):
    created = create(alice_client)

    error = assert_error(alice_client.patch(detail(created["id"]), {"name": "x"}, format="json", HTTP_IF_MATCH=header),
                         400, "invalid")

    assert "If-Match" in error["details"]


def test_if_match_and_revision_that_disagree_are_a_400(alice_client):
    created = create(alice_client)

    error = assert_error(alice_client.patch(detail(created["id"]), {"name": "x", "revision": 1}, format="json",
                                            HTTP_IF_MATCH='"2"'), 400, "invalid")

    assert set(error["details"]) == {"revision", "If-Match"}


@pytest.mark.parametrize("revision", [0, "two", True])
def test_a_bad_revision_field_is_a_400_naming_it(alice_client, revision):
    created = create(alice_client)

    error = assert_error(alice_client.patch(detail(created["id"]), {"name": "x", "revision": revision},
                                            format="json"), 400, "invalid")

    assert "revision" in error["details"]


@pytest.mark.django_db(transaction=True)
def test_two_saves_on_one_revision_at_once_let_exactly_one_through(alice):
    workflow, _ = services.create_workflow(alice, "Race", document())
    results = []
    barrier = threading.Barrier(2)

    def save(value):
        try:
            barrier.wait()
            mine = Workflow.objects.get(pk=workflow.pk)
            services.update_workflow(mine, definition=with_extra(workflow.definition, value), expected_revision=1)
            results.append("saved")
        except services.RevisionConflict as exc:
            results.append(exc.current)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(value,)) for value in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=str) == [2, "saved"]
    assert Workflow.objects.get(pk=workflow.pk).revision == 2
