"""The admin and /healthz say which sandbox mode code nodes run with."""

import pytest


@pytest.mark.django_db
def test_admin_front_page_shows_the_sandbox_mode(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Code node sandbox" in body and "bwrap+seccomp" in body


@pytest.mark.django_db
def test_healthz_reports_the_sandbox_mode(client):
    body = client.get("/healthz").json()
    assert body["sandbox"]["mode"] == "bwrap+seccomp" and body["sandbox"]["detail"]
