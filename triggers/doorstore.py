"""Where the webhook door writes what it accepted: AcceptedRequest rows, in batches, on an async psycopg pool.

A 202 promises that the request survives a crash of every NodeFlow process, so its row is
committed before the answer; Redis alone is not durable. Each web process (each event
loop) has one `AcceptedStore`: `store()` queues a row and returns once a transaction
holding it has committed. Up to NODEFLOW_WEBHOOK_DOOR_POOL_SIZE transactions are under
way at once, each taking every row queued meanwhile (up to NODEFLOW_WEBHOOK_DOOR_BATCH):
under load one commit serves many requests (a group commit), alone a request pays one.

A batch refused by a constraint (a trigger deleted between its lookup and the insert) is
written again row by row, so one bad row refuses only its own request. After a commit `after_commit(ids)`
runs in a thread: it asks a worker to turn the rows into executions (triggers.accepted)."""

import asyncio
import logging
import weakref

from django.conf import settings
from django.db import connections
from psycopg import IntegrityError
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from triggers.models import AcceptedRequest

logger = logging.getLogger("nodeflow.triggers")

_TABLE = AcceptedRequest._meta.db_table
INSERT = f'INSERT INTO "{_TABLE}" ("id", "endpoint_id", "version", "input", "received_at") VALUES '
_ROW = "(%s, %s, %s, %s, now())"
# Options of Django's that are not libpq's.
_DJANGO_ONLY_OPTIONS = {"pool", "isolation_level", "assume_role", "server_side_binding", "cursor_factory", "context"}
POOL_TIMEOUT_S = 10  # like Django's own pool (nodeflow.settings): then the request is answered 503


def conninfo(alias="default"):
    """libpq's connection string for Django's database `alias` (its test database while tests run)."""
    config = connections[alias].settings_dict
    params = {"dbname": config["NAME"], "user": config.get("USER"), "password": config.get("PASSWORD"),
              "host": config.get("HOST"), "port": config.get("PORT")}
    params.update({key: value for key, value in (config.get("OPTIONS") or {}).items()
                   if key not in _DJANGO_ONLY_OPTIONS})
    return make_conninfo(**{key: value for key, value in params.items() if value not in (None, "")})


class AcceptedStore:
    """Batched, durable writes of accepted requests for one event loop."""

    def __init__(self, after_commit, *, pool_size=None, batch=None, dsn=None):
        self.after_commit = after_commit
        self.pool_size = pool_size or settings.NODEFLOW["WEBHOOK_DOOR_POOL_SIZE"]
        self.batch = batch or settings.NODEFLOW["WEBHOOK_DOOR_BATCH"]
        self.pool = AsyncConnectionPool(dsn or conninfo(), min_size=1, max_size=self.pool_size, open=False,
                                        timeout=POOL_TIMEOUT_S, name="nodeflow-webhook-door",
                                        kwargs={"autocommit": True})
        self._opened = None
        self._pending = []
        self._writers = 0

    async def store(self, row_id, endpoint_id, version, input_data):
        """Return once the row is committed; raise what the database raised (the request is refused)."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append(((row_id, endpoint_id, version, Jsonb(input_data)), future))
        if self._writers < self.pool_size:
            self._writers += 1
            asyncio.get_running_loop().create_task(self._drain())
        await asyncio.shield(future)  # a client that goes away does not undo a commit under way

    async def _drain(self):
        try:
            if self._opened is None:
                self._opened = asyncio.ensure_future(self.pool.open(wait=False))
            await self._opened
            while self._pending:
                batch = self._pending[: self.batch]
                del self._pending[: len(batch)]
                await self._write(batch)
        except BaseException as exc:  # the pool cannot open: refuse what waits, a later request tries again
            self._opened = None
            self._fail(self._pending, exc)
            self._pending = []
            if not isinstance(exc, Exception):
                raise
        finally:
            self._writers -= 1

    async def _write(self, batch):
        try:
            await self._insert([row for row, _ in batch])
        except Exception as exc:  # noqa: BLE001 — whatever failed is told to the requests that wait on it
            if len(batch) == 1 or not isinstance(exc, IntegrityError):
                self._fail(batch, exc)
                return
            for one in batch:  # one row may be the cause: the others are written all the same
                await self._write([one])
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        ids = [str(row[0]) for row, _ in batch]
        asyncio.get_running_loop().run_in_executor(None, self._after_commit, ids)

    async def _insert(self, rows):
        """One INSERT of every row: one statement is one transaction (autocommit), one round trip."""
        values = ", ".join([_ROW] * len(rows))
        params = [value for row in rows for value in row]
        async with self.pool.connection() as connection:
            await connection.execute(INSERT + values, params)

    def _after_commit(self, ids):
        try:
            self.after_commit(ids)
        except Exception:  # noqa: BLE001 — the rows are committed: recovery starts them
            logger.warning("accepted webhook requests not handed to a worker; recovery starts them", exc_info=True)

    @staticmethod
    def _fail(batch, exc):
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def close(self):
        await self.pool.close()


_stores = weakref.WeakKeyDictionary()  # event loop → its AcceptedStore


def store_for_loop(after_commit):
    """This event loop's AcceptedStore (made on first use)."""
    loop = asyncio.get_running_loop()
    found = _stores.get(loop)
    if found is None:
        found = _stores[loop] = AcceptedStore(after_commit)
    return found


async def close_loop_store():
    """Close this event loop's store, if it has one (tests; a server simply exits)."""
    found = _stores.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.close()
