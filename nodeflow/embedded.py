"""Embedded mode: the web server, a real Celery worker and beat, all in this one process.

SQLite, the in-memory broker and the in-memory channel layer need no outside
service; the worker consumes real Celery messages on a thread pool."""

import asyncio
import errno
import logging
import socket
import threading
import time

from django.conf import settings
from django.core.management import call_command

from nodeflow.celery import app

logger = logging.getLogger("nodeflow.embedded")

_worker = None
WORKER_THREADS = 4


def embedded_worker_state():
    alive = _worker is not None and _worker.blueprint is not None and _worker.blueprint.state == 1
    return {"ok": alive, "count": 1 if alive else 0, "names": [_worker.hostname] if alive else [], "embedded": True}


def _start_worker():
    global _worker
    from celery.worker import WorkController

    from nodes.registry import QUEUES

    from executions import tasks

    tasks.worker_name_override = "embedded@nodeflow"
    _worker = WorkController(
        app=app,
        pool_cls="threads",
        concurrency=WORKER_THREADS,
        hostname="embedded@nodeflow",
        queues=list(QUEUES),
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel=logging.WARNING,
    )
    thread = threading.Thread(target=_worker.start, name="celery-worker", daemon=True)
    thread.start()
    return thread


def _start_beat():
    from celery.beat import EmbeddedService

    beat = EmbeddedService(app, thread=True, scheduler_cls=settings.CELERY_BEAT_SCHEDULER)
    beat.start()
    return beat


class PortTaken(OSError):
    """The address to serve on is in use (another NodeFlow, or another program): said before anything starts."""


def _bind(host, port):
    """The listening socket, bound before anything else starts, so that a taken port is said at once and
    "is up" is printed only once NodeFlow holds its address (issue 25)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(exc.errno, f"port {port} on {host} is already in use (another NodeFlow, or another "
                            f"program): stop it, or start on another port with  nodeflow dev --port {port + 1}") from None
        raise
    listener.listen(2048)
    return listener


SANDBOX_FIX = "sudo apt-get install bubblewrap libseccomp2  (or: make run, which installs them as make test does)"


def sandbox_note(status):
    """The start-up line about the code-node sandbox when code nodes cannot run as they should (a new
    user's first Python node was refused without a word before, issue 25), with the command that fixes it."""
    if status.get("mode") == "unavailable":
        return f"  code nodes: DISABLED, {status.get('detail', '')}\n  fix: {SANDBOX_FIX}\n"
    if status.get("mode") == "weak":
        return f"  code nodes: WEAK sandbox ({status.get('detail', '')})\n  fix: {SANDBOX_FIX}\n"
    return None


def run(host="127.0.0.1", port=8000, stdout=None):
    """Run NodeFlow until interrupted (Ctrl-C or SIGTERM). PortTaken when the port is in use."""
    import uvicorn

    def say(text):
        if stdout is not None:
            stdout.write(text)
            stdout.flush()

    started = time.monotonic()
    listener = _bind(host, port)
    call_command("migrate", interactive=False, verbosity=0)
    from executions.recovery import requeue_orphans
    from executions.tasks import dispatcher

    _start_worker()
    beat = _start_beat()
    requeue_orphans(dispatcher)

    # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from any client on
    # 127.0.0.1 as the client's address (and so dodge login lockouts and throttles);
    # NodeFlow reads that header itself, from NODEFLOW_NUM_PROXIES proxies only.
    config = uvicorn.Config("nodeflow.asgi:application", host=host, port=port, log_level="warning", lifespan="off",
                            proxy_headers=False)
    server = uvicorn.Server(config)
    url = f"http://{host}:{port}/"
    from django.contrib.auth import get_user_model

    has_admin = get_user_model().objects.filter(is_superuser=True).exists()
    try:  # a Ctrl-C from here on, even while these lines print, stops everything cleanly
        say(f"NodeFlow (embedded mode) is up at {url}  (started in {time.monotonic() - started:.1f} s)\n")
        say(f"  database: {settings.DATABASES['default']['NAME']}\n")
        import sandbox

        note = sandbox_note(sandbox.sandbox_status())
        if note:
            say(note)
        if has_admin:
            say(f"  admin: {url}admin/\n")
        else:
            say("  no admin user yet: create one with  .venv/bin/python manage.py createsuperuser\n")
        say("Press Ctrl-C to stop.\n")
        asyncio.run(server.serve(sockets=[listener]))
    except KeyboardInterrupt:
        pass  # uvicorn stops gracefully on Ctrl-C, then re-raises it
    finally:
        say("Stopping NodeFlow...\n")
        beat.stop()
        if _worker is not None:
            _worker.stop(in_sighandler=False)
        listener.close()
        say("Stopped.\n")
