"""Report rows as the API returns them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.compliance.reports.rates import Flow, RateRow


class RateOut(BaseModel):
    key: str = Field(description="dealer id, region id, GTIN or month (YYYY-MM, Asia/Shanghai)")
    shipped: int = Field(description="cases allotted from HQ")
    suspected: int = Field(description="of those, with a diversion alert not dismissed")
    confirmed: int = Field(description="of those, with a confirmed diversion alert")
    suspected_permille: int
    confirmed_permille: int

    @classmethod
    def of(cls, r: RateRow) -> RateOut:
        return cls(
            key=r.key,
            shipped=r.shipped,
            suspected=r.suspected,
            confirmed=r.confirmed,
            suspected_permille=r.suspected_permille,
            confirmed_permille=r.confirmed_permille,
        )


class FlowOut(BaseModel):
    from_region: str = Field(description="the diverting dealer's home region")
    to_region: str = Field(description="where the goods turned up; '-' for no sales region")
    suspected: int
    confirmed: int

    @classmethod
    def of(cls, f: Flow) -> FlowOut:
        return cls(
            from_region=f.source,
            to_region=f.destination,
            suspected=f.suspected,
            confirmed=f.confirmed,
        )
