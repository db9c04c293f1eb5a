"""Beat's scheduler: django-celery-beat's, except that schedule fires start their run in beat itself.

A fire sent as a Celery message is lost when the broker refuses it (Redis down at the
minute a schedule is due) or forgets it (Redis restarted without persistence). Beat has
the database at hand, so it starts the execution itself, in one transaction
(workflows.firing.fire_schedule): once the row is written the run cannot be lost, and its
first node is sent to the workers after commit — or, if the broker is away, by recovery
(executions.recovery) when it is back.

Missed fires: beat fires what is due when it runs. A schedule whose slots passed while
beat was stopped fires once when beat comes back, not once per missed slot (celery-beat's
own rule); a fire that finds the database unreachable is tried once more, then logged
and skipped (nothing could record it)."""

import logging

from django.db import InterfaceError, OperationalError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from workflows import firing

logger = logging.getLogger("nodeflow.triggers")

FIRE_SCHEDULE = "triggers.fire_schedule"


class Scheduler(DatabaseScheduler):
    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if entry.task != FIRE_SCHEDULE:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        entry = self.reserve(entry) if advance else entry
        for last_try in (False, True):
            close_old_connections()  # a connection that died with a PostgreSQL restart is replaced
            try:
                firing.fire_schedule(*entry.args, **entry.kwargs)
                return None
            except (OperationalError, InterfaceError):
                if last_try:
                    raise  # beat logs it ("Message Error") and goes on with the next entry
                logger.warning("schedule %s: the database did not answer; trying once more", entry.name)
