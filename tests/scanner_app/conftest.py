"""A real Jiuyuan server (uvicorn on a free port, demo data through the real services) and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.config import Settings
from api.db import Database
from api.log.signing import init_signing_key
from api.migrate import upgrade
from tests.api.conftest import make_key
from tests.api.trace.conftest import make_history

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _browser_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (make deps-test installs Debian's chromium)"
    return None


def require_browser() -> None:
    reason = _browser_unavailable()
    if reason is not None:
        if os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)


@dataclass
class Server:
    base: str
    host: str
    app: Any
    bottles: list[str]
    """Digital Link paths of packed bottles; each test scans its own (scans change verdicts)."""

    def url(self, path: str) -> str:
        return self.base + path


BROWSER_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests first: under ``-n`` (``--dist loadscope``: a module's tests go to one
    worker, so its server and world are made once) their modules are the longest, and go out
    while the rest can still fill the other worker."""
    ours = [item for item in items if BROWSER_TESTS in item.path.parents]
    chosen = set(map(id, ours))
    items[:] = ours + [item for item in items if id(item) not in chosen]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_database() -> str:
    """The server's backend; a module may override this fixture (params sqlite, postgresql)."""
    return "sqlite"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_database: str) -> Iterator[Server]:
    """One server per module on SQLite (or PostgreSQL where a module overrides
    ``server_database``): what is tested here is the page, and the resolver's storage contract
    is tested on both backends in tests/api/trace/."""
    require_browser()
    data_dir = tmp_path_factory.mktemp("scanner_app")
    url = f"sqlite:///{data_dir / 'jiuyuan.db'}"
    schemas = None
    if server_database == "postgresql":
        from tests.conftest import PG_URL, REQUIRE_PG, _postgres_schema_url

        if not PG_URL:
            if REQUIRE_PG:
                pytest.fail("JIUYUAN_REQUIRE_POSTGRES=1 but JIUYUAN_TEST_POSTGRES_URL is not set")
            pytest.skip("PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL to run it")
        schemas = _postgres_schema_url(PG_URL)
        url = next(schemas)
    upgrade(url)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        log_origin="test.jiuyuan.local/log",
        checkpoint_interval_s=0.1,
    )
    init_signing_key(settings.resolved_signing_key_file, settings.log_origin)
    app = create_app(settings)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        # A product, base liquors, a blend, a batch, bottles packed in cases: through the API.
        db = Database(settings.resolved_database_url)
        key = make_key(db, "admin")
        db.dispose()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
            history = make_history(api)  # type: ignore[arg-type]
        log = app.state.log
        log.relay()
        log.checkpoint_now()
        paths = ["/" + uri.split("://", 1)[1].split("/", 1)[1] for uri in history.bottles]
        yield Server(base, settings.resolver_host, app, paths)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        if schemas is not None:
            schemas.close()  # drops the schema


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    """Playwright's driver only: browsers are Debian's, never Playwright's downloads."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(driver: Any) -> Iterator[Any]:
    chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def checked_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A zh-CN page in a context of its own (``options``: ``new_context``'s); an uncaught
    script error fails the test."""
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A phone-sized (390×844) page (``checked_page``). Modules with their own needs define
    their own ``page``."""
    yield from checked_page(browser, viewport={"width": 390, "height": 844})


class Held:
    """Requests matching ``pattern`` held back (``page.route``) until ``release``: a slow
    network, for what a page does while an answer is on its way."""

    def __init__(self, page: Any, pattern: str) -> None:
        self.page, self.pattern = page, pattern
        self.routes: list[Any] = []
        page.route(pattern, lambda route: self.routes.append(route))

    def release(self) -> None:
        """Wait until a request is held, then let the held ones (and any later) through."""
        deadline = time.monotonic() + 30
        while not self.routes:
            assert time.monotonic() < deadline, f"no request to {self.pattern} was made"
            self.page.wait_for_timeout(20)  # lets Playwright dispatch the route to us
        for route in self.routes:
            route.continue_()
        self.page.unroute(self.pattern)
