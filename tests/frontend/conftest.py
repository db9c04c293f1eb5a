"""Browser fixtures: headless Debian Chromium driven by Playwright against the live test server."""

import os
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("NODEFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("NODEFLOW_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "frontend"
VIEWPORT = {"width": 1440, "height": 900}


class Chromium:
    """The package's Chromium, launched again when it has gone away: a browser process that crashed
    (Chromium's own crash, seen in two CI runs, each time in a test's teardown) costs the test it
    crashed in one more try (see `pytest_collection_modifyitems`), not every browser test after it."""

    current = None  # the package's one Chromium, for `chromium_went_away`

    def __init__(self, playwright):
        self.playwright = playwright
        self.instance = None
        Chromium.current = self

    def get(self):
        if self.instance is None or not self.instance.is_connected():
            self.instance = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                            headless=True)
        return self.instance

    def close(self):
        if self.instance is not None and self.instance.is_connected():
            self.instance.close()


def chromium_went_away(error=None):
    """Whether the browser, or the page a test drove, crashed: Chromium's fault, whatever the test did."""
    chromium = Chromium.current
    browser_gone = chromium is not None and chromium.instance is not None and not chromium.instance.is_connected()
    return browser_gone or (page_in_use is not None and page_in_use.crashed)


page_in_use = None  # the page fixture's page while a test runs, for `chromium_went_away`


# Package scope, not session: while Playwright's sync API is open an event loop runs in this
# thread, and every later test that uses async_to_sync (sockets, sync webhooks) would fail.
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/system-deps.sh) or set NODEFLOW_CHROMIUM")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are
    # plain synchronous code all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = Chromium(playwright)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request):
    """A fresh browser page; console errors and page crashes fail the test; a screenshot is kept on failure."""
    if "asgi_live_server" in request.fixturenames:
        # Up before the page and down after it: a server stopping under an open page would break its socket.
        request.getfixturevalue("asgi_live_server")
    context = browser.get().new_context(viewport=VIEWPORT, device_scale_factor=1, accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    page.errors = errors
    page.crashed = False
    page.on("crash", lambda _: setattr(page, "crashed", True))
    global page_in_use
    page_in_use = page
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
    context.close()
    page_in_use = None
    allowed = getattr(page, "allowed_errors", ())
    unexpected = [error for error in errors if not any(text in error for text in allowed)]
    assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)


class AsgiLiveServer:
    """NodeFlow's ASGI application (HTTP and WebSockets, as in production) served by uvicorn in a thread."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"

    def __str__(self):
        return self.url


@pytest.fixture
def asgi_live_server(transactional_db):
    """Like pytest-django's `live_server`, but with WebSockets: the execution view gets its live events.

    It runs in this process, so it uses the test database, and its Channels layer is the Redis one
    tests/settings.py configures (with this run's key prefix): events that a `celery_worker`
    broadcasts reach the page's socket."""
    import asyncio
    import socket
    import threading

    import uvicorn
    from django.db import connections

    from nodeflow.asgi import application

    # The server's threads would otherwise keep their database connections open past the test
    # (CONN_MAX_AGE), and the flush between tests and the test database's removal would wait on them.
    database = connections.settings["default"]
    conn_max_age = database.get("CONN_MAX_AGE")
    database["CONN_MAX_AGE"] = 0
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_level="warning", ws="websockets-sansio"))

    # channels_redis closes this loop's Redis connections itself when asyncio.run closes the loop.
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), name="asgi-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the ASGI test server did not start"
        time.sleep(0.02)
    yield AsgiLiveServer(*listener.getsockname()[:2])
    server.should_exit = True
    thread.join(timeout=15)
    listener.close()
    database["CONN_MAX_AGE"] = conn_max_age


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        # Chromium itself crashed (its crash reporter's lines in the error) in a browser test's teardown
        # in two CI runs out of dozens: a test in which the browser or its page crashed gets one more
        # try, with a new browser, and shows as RERUN in the summary. A test that fails any other way
        # fails at once, and one that crashes Chromium every time fails on its second try.
        if "browser" in fixtures or "page" in fixtures:
            item.add_marker(pytest.mark.flaky(reruns=1, condition=chromium_went_away))
        # Under asgi_live_server the editor's bundle comes through Django, which warns that it streams
        # the static files' synchronous iterators under ASGI (production serves them in front of Django).
        if "asgi_live_server" in fixtures and config.pluginmanager.hasplugin("warnings"):
            item.add_marker(pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def screenshot(page, name):
    """Saves a screenshot under test-artifacts/frontend/ and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
