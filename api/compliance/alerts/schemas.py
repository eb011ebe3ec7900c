"""What the compliance API takes and returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.compliance.alerts.repository import AlertRow
from api.compliance.geo.gazetteer import gazetteer
from api.trace.common import local_text


class SignalOut(BaseModel):
    signal: str = Field(
        description="transfer_outside, inbound_scan_outside, opened_outside, "
        "consumer_scans_outside, too_many_devices or impossible_travel"
    )
    strength: Literal["strong", "weak", "clone"]
    points: int
    at: str = Field(description="first seen (UTC, the ledger's form)")
    count: int = Field(description="facts merged, consumers (weak) or devices (clone)")
    entries: list[str] = Field(description="ledger entry ids the signal rests on")
    observations: int = Field(description="consumer scans the signal rests on")
    place: str | None = Field(None, description="GB/T 2260 code of where")
    party: str | None = None


class AlertOut(BaseModel):
    id: str
    kind: Literal["diversion", "clone"]
    strength: Literal["strong", "weak", "clone"]
    state: Literal["new", "investigating", "confirmed", "dismissed"]
    dealer_id: str | None
    region_id: str | None = Field(description="the dealer's home region")
    code: str = Field(description="the case (diversion) or code (clone) as a Digital Link path")
    gtin: str | None
    score: int
    signals: list[SignalOut]
    observations: list[dict[str, Any]]
    place: str | None
    place_name: str | None
    to_region_id: str | None
    allocated_at: str | None
    first_seen_at: str
    last_seen_at: str
    detected_at: str
    updated_at: str
    revision: int
    appeal_state: Literal["open", "answered"] | None
    appeal_reason: str | None
    decided_at: str | None
    decision_reason: str | None
    entry_ids: list[str] = Field(description="the ledger entries this alert wrote, oldest first")


class AlertEventOut(BaseModel):
    n: int
    at: str
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    entry_id: str


class AlertDetail(AlertOut):
    events: list[AlertEventOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"to": "confirmed", "reason": "店方入库扫码记录与出库单不符，已电话核实"}]
        },
    )

    to: Literal["investigating", "confirmed", "dismissed"]
    reason: str | None = Field(None, max_length=2000, description="needed to confirm or dismiss")


class AppealIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "该箱为团购客户自提，附发票与提货单"}]},
    )

    reason: str = Field(min_length=1, max_length=2000)


class RunOut(BaseModel):
    mode: str
    scans: int
    movements: int
    signals: dict[str, int] = Field(description="signals seen, alert or not, by name")
    findings: dict[str, int] = Field(description="findings by kind:strength")
    raised: int
    updated: int


def shown(value: Any) -> str | None:
    return local_text(value) if value is not None else None


def alert_out(a: AlertRow) -> AlertOut:
    return AlertOut(
        id=a.alert_id,
        kind=a.kind,  # type: ignore[arg-type]
        strength=a.strength,  # type: ignore[arg-type]
        state=a.state,  # type: ignore[arg-type]
        dealer_id=a.dealer_id,
        region_id=a.region_id,
        code=a.code_key,
        gtin=a.gtin,
        score=a.score,
        signals=[SignalOut(**s) for s in a.signals],
        observations=a.observations,
        place=a.place,
        place_name=gazetteer().place_for_code(a.place).name if a.place else None,
        to_region_id=a.to_region_id,
        allocated_at=shown(a.allocated_at),
        first_seen_at=local_text(a.first_seen_at),
        last_seen_at=local_text(a.last_seen_at),
        detected_at=local_text(a.detected_at),
        updated_at=local_text(a.updated_at),
        revision=a.revision,
        appeal_state=a.appeal_state,  # type: ignore[arg-type]
        appeal_reason=a.appeal_reason,
        decided_at=shown(a.decided_at),
        decision_reason=a.decision_reason,
        entry_ids=a.entry_ids,
    )
