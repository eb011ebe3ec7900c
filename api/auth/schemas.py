"""Pydantic models of the auth API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.channel.timestamps import LocalTime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")
    role: str
    scope: str | None


class PrincipalOut(BaseModel):
    id: str
    kind: str
    role: str
    scope: str | None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(examples=["cd-dealer-zhang"])
    role: str = Field(examples=["dealer_staff"])
    scope: str | None = Field(default=None, description="party the role acts for")
    password: str = Field(min_length=10, max_length=200)
    display_name: str | None = Field(default=None, max_length=200, examples=["张伟"])


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    scope: str | None
    display_name: str
    created_at: LocalTime
    disabled: bool
