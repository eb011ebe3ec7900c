"""Request and response models of the product catalogue."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Aroma(StrEnum):
    """The twelve aroma types (香型) of Chinese baijiu, by their pinyin."""

    JIANG = "jiang"
    NONG = "nong"
    QING = "qing"
    MI = "mi"
    FENG = "feng"
    JIAN = "jian"
    ZHIMA = "zhima"
    CHI = "chi"
    TE = "te"
    YAO = "yao"
    LAOBAIGAN = "laobaigan"
    FUYU = "fuyu"


AROMA_ZH: dict[Aroma, str] = {
    Aroma.JIANG: "酱香",
    Aroma.NONG: "浓香",
    Aroma.QING: "清香",
    Aroma.MI: "米香",
    Aroma.FENG: "凤香",
    Aroma.JIAN: "兼香",
    Aroma.ZHIMA: "芝麻香",
    Aroma.CHI: "豉香",
    Aroma.TE: "特香",
    Aroma.YAO: "药香",
    Aroma.LAOBAIGAN: "老白干香",
    Aroma.FUYU: "馥郁香",
}


class ProductIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "gtin": "6901234567892",
                "name_zh": "酒源·酱香典藏 53度 500ml",
                "name_en": "Jiuyuan Jiangxiang Reserve 53% 500 ml",
                "volume_ml": 500,
                "abv_permille": 530,
                "aroma": "jiang",
                "case_size": 6,
            }
        },
    )

    gtin: str = Field(
        description="GTIN-13 (GS1 China prefixes 690–699) or GTIN-14; stored as 14 digits.",
        max_length=14,
    )
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    volume_ml: int = Field(
        strict=True, gt=0, le=20_000, description="Bottle volume in millilitres."
    )
    abv_permille: int = Field(
        strict=True, gt=0, le=1000, description="Alcohol by volume in ‰ (53 %vol = 530)."
    )
    aroma: Aroma = Field(
        description="Aroma type: " + ", ".join(f"{a.value} {z}" for a, z in AROMA_ZH.items())
    )
    case_size: Literal[6, 12] = Field(description="Bottles per case.")


class ProductOut(BaseModel):
    gtin: str
    name_zh: str
    name_en: str
    volume_ml: int
    abv_permille: int
    abv: str = Field(description="As printed on the label, e.g. 53%vol.")
    aroma: Aroma
    aroma_zh: str
    case_size: int
    entry_id: str = Field(description="The ledger entry that registered the product.")
    created_at: str
