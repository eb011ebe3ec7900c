"""The resolver: ``GET /01/{gtin}/10/{lot}/21/{serial}`` (and the product and lot pages).

HTML for browsers, JSON for ``Accept: application/json`` (or ``?format=json``). A browser's
visit is recorded as a scan under a random device cookie; an API client is recorded when it
sends ``X-Device-Id`` (with ``lat``/``lon`` if its user allowed location).
"""

from __future__ import annotations

import secrets
import threading

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.compliance.detection.thresholds import from_settings
from api.deps import get_app_settings, get_db, get_log
from api.errors import AppError
from api.trace.resolver import html, service
from api.trace.resolver.ratelimit import TokenBuckets, client_address, retry_after
from api.trace.resolver.schemas import Lookup
from ledger.gs1 import GS1Error, parse_digital_link
from scanner_app import consumer as consumer_page

router = APIRouter(tags=["traceability: scan lookup"])

DEVICE_COOKIE = "jy_device"
_lock = threading.Lock()


class InvalidDigitalLink(AppError):
    status_code = 400
    code = "invalid_digital_link"


class TooManyLookups(AppError):
    status_code = 429
    code = "too_many_requests"


async def rate_limit(request: Request) -> None:
    """Per-client token buckets. ``async`` (it never blocks) so that FastAPI runs it on the event
    loop: a sync dependency costs every lookup a hop through the thread pool."""
    settings = get_app_settings(request)
    state = request.app.state
    buckets = getattr(state, "trace_lookup_buckets", None)
    if buckets is None:
        with _lock:
            buckets = getattr(state, "trace_lookup_buckets", None)
            if buckets is None:
                buckets = TokenBuckets(settings.lookup_rate_per_s, settings.lookup_burst)
                state.trace_lookup_buckets = buckets
    client = client_address(
        request.client.host if request.client else None,
        # Several X-Forwarded-For headers are one list, in order (RFC 9110 §5.3).
        ",".join(request.headers.getlist("x-forwarded-for")),
        settings.trusted_proxies,
    )
    # The scan the lookup records keeps a keyed hash of it (``service.client_hash``).
    request.state.lookup_client = client
    wait = buckets.take(client)
    if wait > 0:
        raise TooManyLookups(
            "too many lookups from this client; slow down and retry after the given seconds",
            headers={"Retry-After": retry_after(wait)},
        )


def _problem_page(problem: AppError, fmt: str | None) -> HTMLResponse:
    """A browser's answer for a link that is not one of ours: a page that says so in the
    reader's language and offers to scan another, with the same status an API client gets."""
    if fmt == "html":
        return HTMLResponse(html.problem(problem.message), status_code=problem.status_code)
    page = consumer_page.render({"error": {"code": problem.code, "message": problem.message}})
    return HTMLResponse(page, status_code=problem.status_code)


def _wants_json(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get(
    "/01/{rest:path}",
    response_model=Lookup,
    summary="Scan lookup (GS1 Digital Link resolver)",
    responses={
        200: {"content": {"text/html": {}}},
        400: {"description": "malformed Digital Link (check digit, qualifier order, lengths)"},
        404: {"description": "not a code of this brand (for a known lot: the lot, with why)"},
        410: {"description": "recalled batch or withdrawn code"},
        429: {"description": "rate limited; retry after Retry-After seconds"},
    },
)
def resolve(
    rest: str,
    request: Request,
    format: str | None = Query(None, pattern="^(json|html)$"),
    lat: float | None = Query(
        None, ge=-90, le=90, allow_inf_nan=False, description="device latitude, if allowed"
    ),
    lon: float | None = Query(
        None, ge=-180, le=180, allow_inf_nan=False, description="device longitude"
    ),
    _: None = Depends(rate_limit),
) -> Response:
    """Product, batch, blend with base liquors, storage along the path with excursions,
    custody (regions and dates), scans and a verdict, with every ledger entry's inclusion
    proof against one checkpoint (`checkpoint`), and list-membership proofs for codes."""
    # Read here rather than as sync dependencies: each of those is a thread-pool hop.
    db, settings = get_db(request), get_app_settings(request)
    query = request.url.query
    uri = f"https://{settings.resolver_host}/01/{rest}" + (f"?{query}" if query else "")
    as_json = _wants_json(request, format)
    try:
        link = parse_digital_link(uri)
    except GS1Error as exc:
        problem = InvalidDigitalLink(f"malformed GS1 Digital Link: {exc}")
        if as_json:
            raise problem from None
        return _problem_page(problem, format)
    gtin, lot, serial = link.get("01"), link.get("10"), link.get("21")
    assert gtin is not None
    device = request.headers.get("x-device-id")
    new_cookie = None
    if not as_json and device is None:
        device = request.cookies.get(DEVICE_COOKIE)
        if device is None or len(device) > 64:
            device = new_cookie = secrets.token_urlsafe(16)
    client = getattr(request.state, "lookup_client", None)
    scan = service.ScanInput(device[:128], lat, lon, client) if device and serial else None
    # A lookup that records a scan writes: on SQLite it takes the write lock up front.
    engine = db.writer if scan is not None else db.engine
    try:
        with engine.begin() as conn:
            result = service.lookup(
                conn,
                gtin,
                lot,
                serial,
                host=settings.resolver_host,
                verifier_key=get_log(request).signer.verifier_key(),
                scan=scan,
                thresholds=from_settings(settings),
            )
    except service.UnknownItem as exc:
        if as_json:
            raise
        return _problem_page(exc, format)
    if as_json:
        # Serialised by pydantic-core straight to bytes: no intermediate dicts.
        return Response(
            result.body.model_dump_json(),
            status_code=result.status_code,
            media_type="application/json",
        )
    # Browsers get the scan page, which renders this answer and checks its proofs itself;
    # ?format=html keeps the plain server-rendered page (no JavaScript).
    page = (
        html.render(result.body, uri)
        if format == "html"
        else consumer_page.render(result.body.model_dump(mode="json"))
    )
    response = HTMLResponse(page, status_code=result.status_code)
    if new_cookie is not None:
        response.set_cookie(
            DEVICE_COOKIE, new_cookie, max_age=2 * 365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response
