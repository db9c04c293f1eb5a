"""Issue 21, finding 8: /metrics is not public by default, and a webhook URL nobody has
does not make the server read a big body first."""

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from nodeflow.security import UNKNOWN_HOOK_BODY_BYTES, BodySizeLimit
from tests.triggers.support import published_hook, webhook_doc
from triggers.webhooks import webhook_exists

# -- /metrics ---------------------------------------------------------------------------


@pytest.fixture
def metrics_config(settings):
    def configure(**values):
        settings.NODEFLOW = {**settings.NODEFLOW, "EMBEDDED": False, "METRICS_TOKEN": None,
                             "METRICS_PUBLIC": False, **values}

    return configure


@pytest.mark.django_db
def test_metrics_refuse_anonymous_scrapes_outside_embedded_mode(client, metrics_config):
    metrics_config()

    response = client.get("/metrics")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "NODEFLOW_METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_metrics_answer_a_staff_session_a_bearer_token_an_embedded_server_or_a_public_opt_in(
        client, admin_client, alice, metrics_config):
    metrics_config()
    assert admin_client.get("/metrics").status_code == 200
    client.force_login(alice)  # signed in, not staff
    assert client.get("/metrics").status_code == 401

    metrics_config(METRICS_TOKEN="s3cret")
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics").status_code == 401

    metrics_config(EMBEDDED=True)
    assert Client().get("/metrics").status_code == 200
    metrics_config(METRICS_PUBLIC=True)
    assert Client().get("/metrics").status_code == 200
    metrics_config(EMBEDDED=True, METRICS_TOKEN="s3cret")  # a token, once set, is needed everywhere
    assert Client().get("/metrics").status_code == 401


# -- bodies sent to unknown webhook URLs ------------------------------------------------


class _Recorder:
    def __init__(self, chunks):
        self.incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                         for i, chunk in enumerate(chunks)]
        self.sent, self.read = [], 0

    async def receive(self):
        return self.incoming.pop(0) if self.incoming else {"type": "http.disconnect"}

    async def send(self, message):
        self.sent.append(message)

    async def app(self, scope, receive, send):
        while True:
            message = await receive()
            self.read += len(message.get("body", b""))
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if message["type"] != "http.disconnect":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})


def _post(path, chunks, declared=None):
    recorder = _Recorder(chunks)
    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    async_to_sync(BodySizeLimit(recorder.app, webhook_exists=webhook_exists))(scope, recorder.receive, recorder.send)
    return recorder


@pytest.mark.django_db(transaction=True)
def test_a_big_declared_body_to_an_unknown_webhook_is_refused_before_it_is_read():
    recorder = _post("/hooks/no-such-token", [b""], declared=90 * 1024 * 1024)

    assert recorder.sent[0]["status"] == 413
    assert recorder.read == 0


@pytest.mark.django_db(transaction=True)
def test_a_streamed_body_to_an_unknown_webhook_is_cut_off_after_a_small_limit():
    chunk = b"x" * 16 * 1024
    recorder = _post("/hooks/test/no-such-token", [chunk] * 100)  # 1.6 MB, no Content-Length

    assert [m.get("status") for m in recorder.sent if m["type"] == "http.response.start"] == [413]
    assert recorder.read <= UNKNOWN_HOOK_BODY_BYTES + len(chunk)


@pytest.mark.django_db(transaction=True)
def test_a_known_webhook_still_takes_bodies_up_to_its_own_limit(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc())
    size = 4 * UNKNOWN_HOOK_BODY_BYTES

    recorder = _post(path, [b"x" * size], declared=size)

    assert recorder.read == size and recorder.sent[0]["status"] == 404  # the recorder's own answer


@pytest.mark.django_db(transaction=True)
def test_the_asgi_application_refuses_a_big_body_to_an_unknown_webhook_before_reading_it():
    from nodeflow.asgi import application

    sent, read = [], []

    async def receive():
        read.append(1)
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/hooks/no-such-token", "query_string": b"",
             "headers": [(b"content-length", str(90 * 1024 * 1024).encode()), (b"host", b"localhost")],
             "server": ("localhost", 80)}
    async_to_sync(application)(scope, receive, send)

    # On PostgreSQL the webhook door looks the token up first and answers 404 without reading the
    # body; without it (embedded mode) the size limit answers 413. Either way nothing is read.
    from django.db import connection

    assert sent[0]["status"] == (404 if connection.vendor == "postgresql" else 413)
    assert read == []


@pytest.mark.django_db(transaction=True)
def test_a_small_body_to_an_unknown_webhook_gets_the_404_envelope():
    response = Client().post("/hooks/no-such-token", b"{}", content_type="application/json")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
