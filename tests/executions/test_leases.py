"""Lease renewal (executions/leases.py): a renewal that fails is logged and counted, not swallowed."""

import logging

import pytest
from django.core.cache import cache

from executions import leases


@pytest.mark.django_db(transaction=True)  # a renewal closes its connection after each beat
def test_a_failed_renewal_is_logged_counted_and_escalates_once_it_outlasts_the_lease(caplog, monkeypatch, settings,
                                                                                     client):
    cache.delete(leases.RENEWAL_FAILURES_KEY)
    settings.NODEFLOW = {**settings.NODEFLOW, "NODE_LEASE_S": 30}
    clock = iter([100.0, 131.0])
    monkeypatch.setattr(leases, "_clock", lambda: next(clock))
    monkeypatch.setattr(leases, "_failing_since", None)
    bad = [("not-an-execution-id", "n", 1)]  # the database refuses the id: the renewal fails
    with caplog.at_level(logging.WARNING, logger="nodeflow.engine"):
        assert leases.renew(bad) is False
        assert leases.renew(bad) is False
    levels = [record.levelno for record in caplog.records if "could not renew" in record.getMessage()]
    assert levels == [logging.WARNING, logging.ERROR]  # the second one came after a whole lease had passed
    assert cache.get(leases.RENEWAL_FAILURES_KEY) == 2
    settings.NODEFLOW = {**settings.NODEFLOW, "METRICS_TOKEN": "t"}
    scraped = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert "nodeflow_lease_renewal_failures_total 2.0" in scraped


@pytest.mark.django_db(transaction=True)
def test_a_renewal_that_works_again_says_so(caplog, monkeypatch):
    monkeypatch.setattr(leases, "_failing_since", 0.0)
    monkeypatch.setattr(leases, "_clock", lambda: 12.5)
    with caplog.at_level(logging.WARNING, logger="nodeflow.engine"):
        assert leases.renew([]) is True
    assert any("works again after 12.5 s" in record.getMessage() for record in caplog.records)
    assert leases._failing_since is None
