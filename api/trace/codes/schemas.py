"""Request and response models of codes and custody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.times import in_utc
from api.trace.codes.service import (
    MAX_GENERATE,
    MAX_GENERATE_PER_REQUEST,
    CodeKind,
    CodeState,
)
from api.trace.common import LOT_PATTERN

CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of the server's clock a line's or scanner's own clock may run."""


def _happened(value: datetime) -> datetime:
    """A time a line or a scanner reports an event at: one that has happened, and that has a
    place in UTC (year 1 east of Greenwich has none)."""
    if in_utc(value) > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(
            f"{value.isoformat()} is in the future; an event is recorded once it has happened"
        )
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_happened)]

MAX_CODES_PER_REQUEST = 10_000
_CODES = Field(
    min_length=1,
    max_length=MAX_CODES_PER_REQUEST,
    description="Digital Link URIs or bare serials (at most 10,000).",
)


class GenerateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"lot": "L20261125A", "count": 1200}}
    )

    lot: str = Field(pattern=LOT_PATTERN)
    count: int = Field(
        strict=True,
        ge=1,
        description=f"at most {MAX_GENERATE_PER_REQUEST:,} a request (larger batches, up to "
        f"{MAX_GENERATE:,}: `jiuyuan codes generate`)",
        json_schema_extra={"maximum": MAX_GENERATE_PER_REQUEST},
    )
    kind: CodeKind = CodeKind.BOTTLE


class CodeBatchOut(BaseModel):
    batch_id: str
    lot: str
    gtin: str
    kind: CodeKind
    count: int
    created_at: str
    caps_issued: bool


class CodeOut(BaseModel):
    uri: str
    serial: str
    gtin: str
    lot: str
    kind: CodeKind
    state: CodeState
    case: str | None = Field(default=None, description="URI of the case holding this bottle.")
    region: str | None = None
    location: str | None = None


class CommissionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"lot": "L20261125A", "code_batch": "cb_…", "location": "GY-LINE-3"}
        },
    )

    lot: str = Field(pattern=LOT_PATTERN)
    codes: list[str] | None = Field(default=None, max_length=MAX_CODES_PER_REQUEST)
    code_batch: str | None = Field(
        default=None, description="Commission every still-unused code of this code batch."
    )
    location: str = Field(min_length=1, max_length=60, description="Bottling line or plant.")
    region: str | None = Field(default=None, max_length=60, description="Shown to the public.")
    at: EventTime | None = Field(
        default=None, description="When it happened, if not now (a line uploading later)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> CommissionIn:
        if (self.codes is None) == (self.code_batch is None):
            raise ValueError("give either codes or code_batch")
        return self


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: str = Field(description="The case code (URI or serial).")
    bottles: list[str] = Field(min_length=1, max_length=24)


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[CaseIn] = Field(min_length=1, max_length=1000)
    location: str | None = Field(default=None, max_length=60)
    at: EventTime | None = Field(
        default=None, description="When it happened, if not now (a line uploading later)."
    )


class UnpackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: str
    bottles: list[str] | None = Field(
        default=None, max_length=24, description="Default: every bottle in the case."
    )
    location: str | None = Field(default=None, max_length=60)


class ReplaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: str
    new: str
    reason: str = Field(min_length=3, max_length=500)


class CustodyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="stored, shipped, received, sold or voided")
    codes: list[str] = _CODES
    location: str | None = Field(default=None, max_length=60)
    region: str | None = Field(default=None, max_length=60)
    party: str | None = Field(default=None, max_length=60)
    holder_kind: str | None = Field(default=None, max_length=16)
    at: EventTime | None = Field(
        default=None, description="When it happened, if not now (a scanner uploading later)."
    )


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    cap_code: str = Field(min_length=16, max_length=40)


class EntriesOut(BaseModel):
    entries: list[str] = Field(description="Ids of the ledger entries written.")
    codes: int = Field(description="How many codes changed.")
