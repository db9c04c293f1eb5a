"""The history of global variables is kept NODEFLOW_VARIABLE_HISTORY_DAYS, pruned by beat's task."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from engine.globals import GlobalWrite
from variables import services, tasks
from variables.models import VariableChange, VariableRun

pytestmark = pytest.mark.django_db


def test_changes_older_than_the_retention_go_and_the_values_stay(alice):
    for value in (1, 2, 3):
        services.write(alice.pk, [GlobalWrite("k", "set", value)], user=alice)
    old, kept = VariableChange.objects.order_by("id")[:2], VariableChange.objects.order_by("id").last()
    VariableChange.objects.filter(pk__in=[c.pk for c in old]).update(at=timezone.now() - timedelta(days=31))
    VariableRun.objects.create(execution_id="00000000-0000-0000-0000-000000000001", depth=1, change=old[0])
    pending = VariableChange.objects.create(owner=alice, key="k", op="set", triggers="pending",
                                            new=9, new_version=9)
    VariableChange.objects.filter(pk=pending.pk).update(at=timezone.now() - timedelta(days=90))

    assert tasks.prune_history() == 2  # the two old changes (and the chain record of one)
    assert set(VariableChange.objects.values_list("pk", flat=True)) == {kept.pk, pending.pk}  # pending: not yet
    assert not VariableRun.objects.exists()
    assert services.snapshot(alice.pk, {"k"}) == {"k": 3}


def test_zero_days_keeps_the_history_for_ever(alice):
    services.write(alice.pk, [GlobalWrite("k", "set", 1)])
    VariableChange.objects.update(at=timezone.now() - timedelta(days=3650))
    with override_settings(NODEFLOW={**settings.NODEFLOW, "VARIABLE_HISTORY_DAYS": 0}):
        assert services.prune_history() == 0
    assert VariableChange.objects.count() == 1
