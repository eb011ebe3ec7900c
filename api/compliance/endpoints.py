"""HTTP endpoints under /v1/compliance (rules in ``alerts``, ``reports``, ``evidence``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Connection

from api.auth.dependencies import current_principal, require_role
from api.auth.service import Principal, Role
from api.channel.transactions import writing
from api.compliance.alerts import repository as repo
from api.compliance.alerts import runs, workflow
from api.compliance.alerts.schemas import (
    AlertDetail,
    AlertEventOut,
    AlertOut,
    AppealIn,
    DecisionIn,
    RunOut,
    alert_out,
)
from api.compliance.detection.thresholds import from_settings
from api.compliance.evidence.bundle import Bundle
from api.compliance.evidence.export import export_bundle
from api.compliance.reports import chart, rates
from api.compliance.reports.schemas import FlowOut, RateOut
from api.deps import get_app_settings, get_conn, get_log
from api.errors import Forbidden, Unprocessable
from api.log.repository import as_utc
from api.trace.common import SHANGHAI, local_text

router = APIRouter(prefix="/v1/compliance", tags=["compliance"])
AUDITORS = (Role.COMPLIANCE_OFFICER, Role.HQ_ADMIN)


def _scope_filters(principal: Principal) -> dict[str, str | None]:
    if principal.sees_everything:
        return {}
    if principal.role is Role.REGION_MANAGER:
        return {"region_id": principal.scope}
    if principal.role is Role.DEALER_STAFF:
        return {"dealer_id": principal.scope}
    raise Forbidden(f"role {principal.role.value} has no access to compliance alerts")


@router.post(
    "/detection/run",
    response_model=RunOut,
    summary="Run diversion and clone detection over every case and scan",
)
def run_detection(
    request: Request, principal: Principal = Depends(require_role(*AUDITORS))
) -> RunOut:
    settings = get_app_settings(request)
    with writing(request) as conn:
        report = runs.run_detection(conn, from_settings(settings), principal.key_id)
    return RunOut(
        mode=report.mode,
        scans=report.scans,
        movements=report.movements,
        signals=dict(report.signals),
        findings=dict(report.findings),
        raised=report.raised,
        updated=report.updated,
    )


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(
    state: str | None = Query(None, pattern="^(new|investigating|confirmed|dismissed)$"),
    kind: str | None = Query(None, pattern="^(diversion|clone)$"),
    strength: str | None = Query(None, pattern="^(strong|weak|clone)$"),
    dealer_id: str | None = None,
    region_id: str | None = None,
    gtin: str | None = Query(None, pattern=r"^\d{14}$", description="the SKU, 14 digits"),
    since: date | None = Query(None, description="detected on or after this day (Asia/Shanghai)"),
    until: date | None = Query(None, description="detected on or before this day (Asia/Shanghai)"),
    before: str | None = Query(
        None, description="continue after this alert id (the last of the previous page)"
    ),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[AlertOut]:
    if since is not None and until is not None and since > until:
        raise Unprocessable(f"the date range is empty: {since} is after {until}")
    scoped = _scope_filters(principal)
    filters = {"dealer_id": dealer_id, "region_id": region_id}
    for name, value in scoped.items():
        if filters.get(name) not in (None, value):
            raise Forbidden(f"you see the alerts of {value} only")
        filters[name] = value
    cursor: tuple[datetime, str] | None = None
    if before is not None:
        last = workflow.readable(conn, principal, before)
        cursor = (as_utc(last.detected_at), last.alert_id)
    rows = repo.list_alerts(
        conn,
        state=state,
        kind=kind,
        strength=strength,
        gtin=gtin,
        detected_from=_day_start(since),
        detected_until=_day_start(until, after=True),
        before=cursor,
        limit=limit,
        **filters,
    )
    return [alert_out(r) for r in rows]


def _day_start(day: date | None, *, after: bool = False) -> datetime | None:
    """Midnight of ``day`` (``after``: of the day after it) in Asia/Shanghai, as UTC (the form
    the table stores). ``None`` where that lies beyond the calendar's ends (from 0001-01-01,
    up to 9999-12-31): no bound then, as no detection time lies beyond them either."""
    if day is None:
        return None
    try:
        start = datetime.combine(day, time(), SHANGHAI)
        return (start + timedelta(days=1) if after else start).astimezone(UTC)
    except OverflowError:
        return None


@router.get("/alerts/{alert_id}", response_model=AlertDetail, summary="One alert and its history")
def get_alert(
    alert_id: str,
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> AlertDetail:
    _scope_filters(principal)
    return _detail(conn, workflow.readable(conn, principal, alert_id))


def _detail(conn: Connection, alert: repo.AlertRow) -> AlertDetail:
    events = [
        AlertEventOut(**{**e, "at": local_text(e["at"])})
        for e in repo.events_of(conn, alert.alert_id)
    ]
    return AlertDetail(**alert_out(alert).model_dump(), events=events)


@router.post(
    "/alerts/{alert_id}/decision",
    response_model=AlertDetail,
    summary="Investigate, confirm or dismiss an alert (written to the ledger)",
)
def decide(
    alert_id: str,
    body: DecisionIn,
    request: Request,
    principal: Principal = Depends(require_role(*AUDITORS)),
) -> AlertDetail:
    with writing(request) as conn:
        alert = workflow.decide(conn, principal, alert_id, body.to, body.reason)
        return _detail(conn, alert)


@router.post(
    "/alerts/{alert_id}/appeal",
    response_model=AlertDetail,
    summary="The dealer an alert is about contests it (written to the ledger)",
)
def appeal(
    alert_id: str,
    body: AppealIn,
    request: Request,
    principal: Principal = Depends(require_role(Role.DEALER_STAFF)),
) -> AlertDetail:
    with writing(request) as conn:
        alert = workflow.appeal(conn, principal, alert_id, body.reason)
        return _detail(conn, alert)


@router.get(
    "/alerts/{alert_id}/evidence",
    response_model=Bundle,
    summary="The alert's evidence bundle (jiuyuan-evidence/1), verifiable offline",
)
def evidence(
    alert_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> Bundle:
    _scope_filters(principal)
    alert = workflow.readable(conn, principal, alert_id)
    settings = get_app_settings(request)
    return export_bundle(
        conn,
        alert,
        origin=settings.log_origin,
        verifier_key=get_log(request).signer.verifier_key(),
    )


# --- reports ---------------------------------------------------------------------------------


def _rates(conn: Connection, by: rates.Group) -> list[rates.RateRow]:
    return rates.diversion_rates(
        repo.allocation_rows(conn), repo.report_alerts(conn, "diversion"), by
    )


@router.get(
    "/reports/diversion-rates",
    response_model=list[RateOut],
    summary="Diversion rate (diverted ÷ shipped) per dealer, region, SKU or month",
    responses={200: {"content": {"text/csv": {}}}},
)
def diversion_rates(
    by: Literal["dealer", "region", "sku", "month"] = "dealer",
    format: Literal["json", "csv"] = "json",
    _: Principal = Depends(require_role(*AUDITORS)),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[RateOut] | Response:
    rows = _rates(conn, by)
    if format == "csv":
        return PlainTextResponse(
            rates.rates_csv(rows, by, _names(conn, [r.key for r in rows], by)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="diversion-rates-{by}.csv"'},
        )
    return [RateOut.of(r) for r in rows]


@router.get(
    "/reports/diversion-rates.svg",
    summary="The diversion rates as a bar chart (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def diversion_rates_chart(
    by: Literal["dealer", "region", "sku", "month"] = "region",
    top: int = Query(25, ge=1, le=200),
    _: Principal = Depends(require_role(*AUDITORS)),
    conn: Connection = Depends(get_conn, scope="function"),
) -> Response:
    rows = _rates(conn, by)
    labels = _names(conn, [r.key for r in rows], by)
    svg = chart.rates_svg(rows, f"Diversion rate by {by}", labels, top)
    return Response(svg, media_type="image/svg+xml")


@router.get(
    "/reports/flows",
    response_model=list[FlowOut],
    summary="Region-to-region flow of diverted cases (from the dealer's region to where found)",
    responses={200: {"content": {"text/csv": {}}}},
)
def flows(
    format: Literal["json", "csv"] = "json",
    _: Principal = Depends(require_role(*AUDITORS)),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[FlowOut] | Response:
    matrix = rates.flow_matrix(repo.report_alerts(conn, "diversion"))
    if format == "csv":
        return PlainTextResponse(
            rates.flows_csv(matrix, _names(conn, [k for f in matrix for k in f.regions], "region")),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="diversion-flows.csv"'},
        )
    return [FlowOut.of(f) for f in matrix]


def _names(conn: Connection, keys: list[str], by: rates.Group) -> dict[str, str]:
    """The names of the dealers or regions a report is grouped by (none for SKUs, months)."""
    return repo.party_names(conn, keys) if by in rates.NAMED else {}
