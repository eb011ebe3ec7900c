"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

import scanner_app
from anchoring.endpoints import router as anchoring_router
from anchoring.service import start_anchoring
from api.auth.endpoints import router as auth_router
from api.body_guard import check_json_body
from api.catalogue.endpoints import router as catalogue_router
from api.channel.endpoints import router as channel_router
from api.checkpoints.endpoints import router as checkpoints_router
from api.compliance.endpoints import router as compliance_router
from api.config import Settings, get_settings
from api.db import Database
from api.entries.endpoints import router as entries_router
from api.entries.schemas import EntryIn
from api.errors import install_error_handlers
from api.log.service import LogService
from api.log.signing import load_signing_key
from api.orders.endpoints import router as orders_router
from api.returns.endpoints import router as returns_router
from api.shipments.endpoints import router as shipments_router
from api.stock.endpoints import router as stock_router
from api.stored_value.endpoints import router as stored_value_router
from api.stored_value.member_endpoints import router as members_router
from api.trace.resolver.endpoints import router as resolver_router
from api.trace.router import router as trace_router

DESCRIPTION = """
Jiuyuan's append-only ledger: RFC 6962 Merkle tree, hash chain, C2SP signed checkpoints.
Reads are public; writes need an API key (`jiuyuan keys api-key --role writer`).
See `docs/ledger.md` for the formats and how to verify anything independently.
"""


def create_app(settings: Settings | None = None, *, background: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        signer = load_signing_key(settings.resolved_signing_key_file)
        app.state.settings = settings
        app.state.db = db
        app.state.log = LogService(db, settings, signer, background=background)
        # Anchoring worker (off unless JIUYUAN_ANCHOR_BACKEND=web3); a lease lets one anchor.
        anchoring = start_anchoring(settings, db, signer.verifier()) if background else None
        try:
            yield
        finally:
            if anchoring is not None:
                anchoring.close()
            app.state.log.close()
            db.dispose()

    app = FastAPI(
        title="Jiuyuan 酒源",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(check_json_body)],
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # The scan lookup first: routes are matched in order, and it is the busiest public path.
    app.include_router(resolver_router)
    app.include_router(entries_router)
    app.include_router(checkpoints_router)
    app.include_router(anchoring_router)
    app.include_router(auth_router)
    app.include_router(channel_router)
    app.include_router(catalogue_router)
    app.include_router(orders_router)
    app.include_router(stock_router)
    app.include_router(shipments_router)
    app.include_router(returns_router)
    app.include_router(trace_router)
    app.include_router(compliance_router)
    app.include_router(members_router)
    app.include_router(stored_value_router)

    static = Path(scanner_app.__file__).parent / "static"
    # The QR decoder of the scan page, from npm (make node-deps); absent node_modules → 404.
    jsqr = StaticFiles(directory=scanner_app.JSQR_DIST, check_dir=False)
    app.mount("/vendor/jsqr", jsqr, name="jsqr")
    swagger = StaticFiles(directory=scanner_app.SWAGGER_UI_DIST, check_dir=False)
    app.mount("/vendor/swagger-ui", swagger, name="swagger_ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API docs (Swagger UI), from this server's own copy when ``make node-deps``
        installed one, else from the CDN FastAPI names."""
        local = (scanner_app.SWAGGER_UI_DIST / "swagger-ui-bundle.js").is_file()
        assets = (
            {
                "swagger_js_url": "/vendor/swagger-ui/swagger-ui-bundle.js",
                "swagger_css_url": "/vendor/swagger-ui/swagger-ui.css",
                "swagger_favicon_url": "/vendor/swagger-ui/favicon-32x32.png",
            }
            if local
            else {}
        )
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} API", **assets)

    app.mount("/app", StaticFiles(directory=static, html=True), name="scanner_app")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/app/")

    @app.get("/healthz", tags=["service"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            # POST /v1/entries reads its body itself (to refuse floats before any parsing
            # loses them), so its model is added to the schema by hand.
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["EntryIn"] = EntryIn.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
