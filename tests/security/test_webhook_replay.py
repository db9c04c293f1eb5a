"""Issue 21, finding 4: a signed webhook request runs once, however it is replayed.

The attacks: GitHub's replay key was X-GitHub-Delivery, which the signature does not
cover (the same signed body was accepted again as d-2, d-3, d-4); a generic or Stripe
request signed with t = now + window was accepted again once its "seen" marker expired."""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from executions.models import Execution
from tests.triggers.support import assert_error, published_hook, sign, webhook_doc
from triggers import webhooks

pytestmark = pytest.mark.django_db

JSON = "application/json"


def post(path, body, **headers):
    return Client().post(path, body, content_type=JSON, headers=headers)


def test_a_github_body_is_not_accepted_again_under_other_delivery_ids(alice_client):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="gh", hmac_preset="github"))
    body = b'{"action": "opened"}'
    signed = {"X_Hub_Signature_256": f"sha256={sign('gh', body)}"}

    first = post(path, body, X_GitHub_Delivery="d-1", **signed)
    replays = [post(path, body, X_GitHub_Delivery=f"d-{n}", **signed) for n in (2, 3, 4)]

    assert first.status_code == 202
    for replay in replays:
        assert_error(replay, 401, "replayed")
    assert Execution.objects.count() == 1


@pytest.mark.parametrize("preset, header", [("generic", "X_NodeFlow_Signature"), ("stripe", "Stripe_Signature")])
def test_a_signature_dated_in_the_future_is_refused(alice_client, preset, header):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="k3y", hmac_preset=preset))
    body = b'{"n": 1}'
    stamp = int(time.time()) + 300  # t = now + window, as in the report
    signature = f"t={stamp},v1={sign('k3y', f'{stamp}.'.encode() + body)}"

    assert_error(post(path, body, **{header: signature}), 401, "signature_expired")
    assert Execution.objects.count() == 0


@pytest.mark.parametrize("preset", ["generic", "stripe"])
def test_the_seen_marker_lasts_as_long_as_the_signature_is_valid(preset):
    secret, body, window, now = "k3y", b'{"n": 1}', 300, time.time()
    header = webhooks.STRIPE_SIGNATURE if preset == "stripe" else webhooks.GENERIC_SIGNATURE
    for stamp in (int(now) - 100, int(now), int(now) + 20):  # a little skew ahead is allowed
        signature = f"t={stamp},v1={sign(secret, f'{stamp}.'.encode() + body)}"
        mark = webhooks.verify_signature(preset, secret, {header: signature}, body, window, now=now)
        # the signature is accepted until stamp + window: the marker must outlive that moment
        assert now + mark.ttl_s >= stamp + window


def test_a_replay_just_before_the_signature_expires_is_still_refused(alice_client, monkeypatch):
    _, path, _ = published_hook(alice_client, webhook_doc(auth="hmac", secret="k3y", replay_window_s=60))
    body = b'{"n": 1}'
    stamp = int(time.time()) + 25  # within the allowed skew
    signature = f"t={stamp},v1={sign('k3y', f'{stamp}.'.encode() + body)}"
    timeouts = []
    real_add = cache.add

    def add(key, value, timeout=None, **kwargs):
        if key.startswith("hook-seen:"):
            timeouts.append(timeout)
        return real_add(key, value, timeout=timeout, **kwargs)

    monkeypatch.setattr(cache, "add", add)

    assert post(path, body, X_NodeFlow_Signature=signature).status_code == 202
    assert_error(post(path, body, X_NodeFlow_Signature=signature), 401, "replayed")
    assert timeouts and timeouts[0] >= stamp + 60 - time.time()  # kept until the signature expires
