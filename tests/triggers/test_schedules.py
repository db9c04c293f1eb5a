"""Schedules: cron and time zone parsing, validation, beat entries following publish, firing."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils.dateparse import parse_datetime
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from executions.models import Execution
from tests.triggers.support import LIST, create, publish, schedule_doc, update
from triggers import schedules, services
from triggers.schedules import InvalidSchedule
from workflows import firing

PARIS = ZoneInfo("Europe/Paris")


# -- parsing (plain Python) -----------------------------------------------------------------


@pytest.mark.parametrize("expression, normalised", [
    ("*/15 9-17 * * mon-fri", "*/15 9-17 * * mon-fri"),
    ("  0   9  1,15 jan-mar *  ", "0 9 1,15 jan-mar *"),
    ("@daily", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
])
def test_valid_cron_expressions_are_read_as_five_fields(expression, normalised):
    assert schedules.parse_cron(expression) == normalised


@pytest.mark.parametrize("expression, says", [
    ("* * * *", "has 4 field(s); it needs 5"),
    ("0 * * * * *", "has 6 field(s); it needs 5"),
    ("61 * * * *", "the minute (0-59) field '61'"),
    ("0 24 * * *", "the hour (0-23) field '24'"),
    ("0 0 32 * *", "the day-of-month (1-31) field '32'"),
    ("0 0 * 13 *", "the month (1-12 or jan-dec) field '13'"),
    ("0 0 * * funday", "the day-of-week (0-6 or sun-sat, 0 = Sunday) field 'funday'"),
    ("0 9 * * 7", "use 0 or sun for Sunday"),
    ("0 0 31 2 *", "never occurs"),
    ("", "has 0 field(s)"),
])
def test_invalid_cron_expressions_are_refused_naming_the_field(expression, says):
    with pytest.raises(InvalidSchedule) as caught:
        schedules.parse_cron(expression)
    assert caught.value.param == "cron"
    assert says in str(caught.value)


def test_time_zones_must_be_iana_names():
    assert schedules.check_timezone("America/New_York") == "America/New_York"
    for name in ("Mars/Olympus", "CEST", "../etc/passwd", ""):
        with pytest.raises(InvalidSchedule, match="not an IANA time zone"):
            schedules.check_timezone(name)


def test_cron_fire_times_follow_the_time_zone_across_a_dst_change():
    schedule = schedules.parse({"cron": "30 9 * * *", "timezone": "Europe/Paris"})
    runs = schedules.next_runs(schedule, datetime(2026, 3, 27, 12, 0, tzinfo=timezone.utc), count=3)
    assert [r.astimezone(PARIS).strftime("%d %H:%M") for r in runs] == ["28 09:30", "29 09:30", "30 09:30"]
    assert [r.astimezone(timezone.utc).hour for r in runs] == [8, 7, 7]  # CET, then CEST


def test_a_day_must_match_both_day_fields_as_beat_reads_them():
    schedule = schedules.parse({"cron": "0 12 13 * fri", "timezone": "UTC"})
    runs = schedules.next_runs(schedule, datetime(2026, 1, 1, tzinfo=timezone.utc), count=2)
    assert [(r.month, r.day, r.strftime("%a")) for r in runs] == [(2, 13, "Fri"), (3, 13, "Fri")]


def test_interval_fire_times_count_from_when_the_schedule_was_published():
    schedule = schedules.parse({"every": 2, "unit": "hours", "timezone": "UTC"})
    anchor = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    runs = schedules.next_runs(schedule, datetime(2026, 1, 1, 15, 30, tzinfo=timezone.utc), count=2, anchor=anchor)
    assert [r.hour for r in runs] == [16, 18]


# -- validation -----------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
@pytest.mark.parametrize("params, path, says", [
    ({"cron": "61 * * * *"}, "nodes[0].params.cron", "minute"),
    ({"every": 5, "timezone": "Nowhere/Town"}, "nodes[0].params.timezone", "IANA"),
    ({"every": 5, "cron": "* * * * *"}, "nodes[0].params", "exactly one"),
    ({"unit": "hours"}, "nodes[0].params", "exactly one"),
])
def test_a_bad_schedule_is_an_invalid_params_error_naming_the_field(alice_client, params, path, says):
    errors = create(alice_client, schedule_doc(**params))["validation"]["errors"]
    assert [(e["code"], e["path"], e["node_id"]) for e in errors] == [("invalid_params", path, "tick")]
    assert says in errors[0]["message"]
    assert alice_client.post(f"{LIST}{create(alice_client, schedule_doc(**params))['id']}/publish/").status_code == 400


# -- beat entries follow publish, unpublish, delete ----------------------------------------


def _tasks(workflow_id):
    return {t.name.rsplit(":", 1)[1]: t for t in PeriodicTask.objects.filter(name__contains=workflow_id)}


@pytestmark_db
def test_publishing_creates_a_beat_entry_per_schedule_node_and_bumps_the_change_marker(alice_client):
    before = PeriodicTasks.last_change()
    doc = schedule_doc(every=2, unit="seconds")
    doc["nodes"].append({"id": "nightly", "type": "trigger.schedule", "params": {"cron": "0 3 * * *",
                                                                                 "timezone": "Europe/Paris"}})
    doc["edges"].append({"from": "nightly", "to": "done"})
    workflow = create(alice_client, doc)
    assert not _tasks(workflow["id"])  # a draft does not fire
    publish(alice_client, workflow["id"])
    tasks = _tasks(workflow["id"])
    assert set(tasks) == {"tick", "nightly"}
    tick, nightly = tasks["tick"], tasks["nightly"]
    assert tick.task == "triggers.fire_schedule" and tick.enabled
    assert tick.args == f'["{workflow["id"]}", "tick"]'
    assert (tick.interval.every, tick.interval.period, tick.crontab) == (2, "seconds", None)
    assert (nightly.crontab.minute, nightly.crontab.hour, str(nightly.crontab.timezone)) == ("0", "3", "Europe/Paris")
    assert nightly.interval is None
    assert PeriodicTasks.last_change() > (before or datetime.min.replace(tzinfo=timezone.utc))


@pytestmark_db
def test_a_new_publish_replaces_the_entries_and_unpublish_removes_them(alice_client):
    workflow = create(alice_client, schedule_doc(every=2, unit="seconds"))
    publish(alice_client, workflow["id"])
    update(alice_client, workflow["id"], schedule_doc(cron="*/5 * * * *"))
    assert _tasks(workflow["id"])["tick"].interval.every == 2  # the draft changed, the published version did not
    marker = PeriodicTasks.last_change()
    publish(alice_client, workflow["id"])
    [task] = _tasks(workflow["id"]).values()
    assert task.interval is None and task.crontab.minute == "*/5"
    assert PeriodicTasks.last_change() > marker
    manual = {"api_version": "nodeflow/v1", "name": "M", "nodes": [{"id": "start", "type": "trigger.manual"}],
              "edges": []}
    update(alice_client, workflow["id"], manual)
    publish(alice_client, workflow["id"])
    assert not _tasks(workflow["id"])
    update(alice_client, workflow["id"], schedule_doc(every=1, unit="minutes"))
    publish(alice_client, workflow["id"])
    marker = PeriodicTasks.last_change()
    assert alice_client.post(f"{LIST}{workflow['id']}/unpublish/").status_code == 200
    assert not _tasks(workflow["id"])
    assert PeriodicTasks.last_change() > marker


@pytestmark_db
def test_deleting_a_published_workflow_removes_its_entries(alice_client):
    workflow = create(alice_client, schedule_doc(every=1, unit="hours"))
    publish(alice_client, workflow["id"])
    assert alice_client.delete(f"{LIST}{workflow['id']}/").status_code == 204
    assert not _tasks(workflow["id"])


@pytestmark_db
def test_the_api_shows_the_next_runs_of_the_published_schedule(alice_client):
    workflow = create(alice_client, schedule_doc(cron="30 9 * * *", timezone="Europe/Paris"))
    assert workflow["triggers"][0]["next_runs"] == []  # not published: it does not fire
    publish(alice_client, workflow["id"])
    [trigger] = alice_client.get(f"{LIST}{workflow['id']}/").json()["triggers"]
    runs = [parse_datetime(r) for r in trigger["next_runs"]]
    assert trigger["url"] is None and len(runs) == 5
    assert all(r.astimezone(PARIS).strftime("%H:%M") == "09:30" for r in runs)
    assert runs == sorted(runs) and runs[0] > datetime.now(timezone.utc)
    assert runs[1] - runs[0] in (timedelta(days=1), timedelta(hours=23), timedelta(hours=25))


# -- firing ---------------------------------------------------------------------------------


@pytestmark_db
def test_firing_starts_the_published_version_with_fired_at_and_the_schedule(alice_client):
    workflow = create(alice_client, schedule_doc(every=2, unit="seconds", timezone="Asia/Tokyo"))
    publish(alice_client, workflow["id"])
    execution = firing.fire_schedule(workflow["id"], "tick")
    assert (execution.trigger, execution.trigger_node, execution.version) == ("schedule", "tick", 1)
    assert execution.input["schedule"] == {"every": 2, "unit": "seconds", "timezone": "Asia/Tokyo"}
    fired_at = datetime.fromisoformat(execution.input["fired_at"])
    assert fired_at.utcoffset() == timedelta(hours=9)
    assert abs(fired_at - datetime.now(timezone.utc)) < timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)  # beat's fire is a transaction of its own, committed
def test_beat_starts_a_fire_itself_so_a_broker_that_is_down_loses_nothing(alice_client):
    import socket

    from celery import Celery
    from django_celery_beat.schedulers import ModelEntry

    from nodeflow.celery import app
    from workflows.beat import Scheduler

    workflow = create(alice_client, schedule_doc(every=2, unit="seconds"))
    publish(alice_client, workflow["id"])
    with socket.socket() as probe:  # a port where nothing listens: Redis is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = Celery("redis-down", broker=f"redis://127.0.0.1:{port}/0", set_as_current=False)
    down.conf.update(task_publish_retry=False, broker_connection_retry=False, broker_connection_max_retries=0,
                     broker_connection_timeout=0.5)
    down.set_current()  # what the engine's sends go through, as in a beat process whose Redis is down
    try:
        scheduler = Scheduler(app=down, lazy=True)
        entry = ModelEntry(_tasks(workflow["id"])["tick"], app=down)
        scheduler.apply_async(entry)  # the send after its commit fails: Redis is down
    finally:
        app.set_current()
    execution = Execution.objects.get(workflow_id=workflow["id"])
    run = execution.node_runs.get(node_id="tick")
    assert (execution.trigger, execution.status, run.status) == ("schedule", "queued", "queued")
    assert run.due_at is not None  # recovery sends it once the broker is back


@pytestmark_db
@pytest.mark.parametrize("overlap, unfinished, started", [
    ("skip", "running", False), ("skip", "waiting", False), ("skip", "succeeded", True), ("allow", "running", True)])
def test_overlap_skip_starts_nothing_while_the_previous_run_is_unfinished(alice_client, overlap, unfinished, started):
    workflow = create(alice_client, schedule_doc(every=1, unit="minutes", overlap=overlap))
    publish(alice_client, workflow["id"])
    previous = firing.fire_schedule(workflow["id"], "tick")
    Execution.objects.filter(pk=previous.pk).update(status=unfinished)
    assert (firing.fire_schedule(workflow["id"], "tick") is not None) is started


@pytestmark_db
def test_a_beat_entry_whose_schedule_is_gone_removes_itself(alice_client):
    workflow = create(alice_client, schedule_doc(every=1, unit="minutes"))
    publish(alice_client, workflow["id"])
    [task] = _tasks(workflow["id"]).values()
    alice_client.post(f"{LIST}{workflow['id']}/unpublish/")
    task.pk = None  # as if beat still had the entry
    task.save()
    assert firing.fire_schedule(workflow["id"], "tick") is None
    assert not _tasks(workflow["id"]) and not Execution.objects.exists()
    assert firing.fire_schedule("00000000-0000-0000-0000-000000000000", "tick") is None


@pytestmark_db
@pytest.mark.parametrize("doc, path", [
    (schedule_doc(every="{{ input.n }}"), "nodes[0].params.every"),
    (schedule_doc(cron="{{ vars.cron }}"), "nodes[0].params.cron"),
])
def test_trigger_params_cannot_hold_expressions(alice_client, doc, path):
    errors = create(alice_client, doc)["validation"]["errors"]
    assert (("invalid_params", path) in [(e["code"], e["path"]) for e in errors]), errors
    assert "cannot hold" in next(e["message"] for e in errors if e["path"] == path)
