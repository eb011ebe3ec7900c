"""Settings, read once from the environment (prefix ``JIUYUAN_``)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Jiuyuan has. Nothing else reads ``os.environ``."""

    model_config = SettingsConfigDict(env_prefix="JIUYUAN_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to an SQLite file jiuyuan.db under data_dir.",
    )
    # A connection beyond the pool's size is closed as soon as it is returned, so a pool
    # smaller than the requests in flight opens a new server connection (a new backend, its
    # statements prepared again) for every request over the size: with SQLAlchemy's 5, eight
    # concurrent scan lookups opened about 50 connections in 8 s (docs/traceability.md).
    database_pool_size: int = Field(
        default=15,
        ge=1,
        description="Connections each PostgreSQL engine keeps open: size it to the requests a "
        "server process has in flight.",
    )
    database_max_overflow: int = Field(
        default=5,
        ge=0,
        description="Extra connections an engine may open beyond the pool in a burst; each is "
        "closed when returned.",
    )
    log_origin: str = "jiuyuan.local/log"
    signing_key_file: Path | None = Field(
        default=None,
        description="Checkpoint signing key (C2SP note private key); default data_dir/keys/.",
    )

    # Sequencer: group commit and back-pressure.
    max_batch_entries: int = 2000
    max_pending_entries: int = 50_000
    max_entry_bytes: int = 64 * 1024
    max_entries_per_request: int = 1000
    max_request_bytes: int = 8 * 1024 * 1024

    # Integration and checkpoint publishing.
    checkpoint_interval_s: float = 2.0
    integrate_batch: int = 100_000

    # Traceability (docs/traceability.md): the host printed in GS1 Digital Link codes, and the
    # per-client token bucket of the public scan lookup.
    resolver_host: str = "jiuyuan.local"
    lookup_rate_per_s: float = Field(default=10.0, gt=0)
    lookup_burst: int = Field(default=60, ge=1)
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        'the lookup\'s rate limit believes, as JSON: ["10.0.0.0/8", "127.0.0.1"].',
    )

    # People's bearer tokens and the ordering rules (docs/ordering.md).
    token_secret_file: Path | None = Field(
        default=None, description="JWT signing secret, made on first use; default data_dir/keys/."
    )
    token_lifetime_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    sourcing_policy: Literal["hq-first", "nearest"] = "hq-first"
    stock_share_permille: int = Field(default=300, ge=0, le=1000)

    # Member stored value (docs/stored-value.md). The member master key encrypts phone, name
    # and ID and keys their lookup hash and member tokens: made on first use, never logged.
    # The card rules default to MOFCOM's 2012 single-purpose prepaid card rules.
    member_key_file: Path | None = Field(
        default=None, description="Member data master key; default data_dir/keys/."
    )
    member_qr_lifetime_s: int = Field(default=60, ge=10, le=600)
    stored_value_named_cap_fen: int = Field(default=500_000, ge=0)
    stored_value_anonymous_cap_fen: int = Field(default=100_000, ge=0)
    stored_value_real_name_purchase_fen: int = Field(default=1_000_000, ge=1)
    stored_value_non_cash_purchase_fen: int = Field(default=5_000_000, ge=1)
    stored_value_cap_counts_bonus: bool = True
    stored_value_custody_permille: int = Field(default=400, ge=0, le=1000)

    # Anchoring checkpoints to an EVM chain (docs/anchoring.md). Secrets are SecretStr: never
    # printed, logged or served.
    anchor_backend: Literal["web3", "null"] = Field(
        default="null", description="web3: anchor to the chain at chain_rpc_url; null: off."
    )
    chain_rpc_url: str | None = Field(
        default=None,
        description="JSON-RPC URL (http/https), or 'eth-tester' for web3's in-process chain.",
    )
    chain_id: int | None = Field(
        default=None, description="Expected chain id; the node must report the same one."
    )
    chain_keystore: Path | None = Field(
        default=None, description="Encrypted JSON keystore (eth-account) of the anchoring key."
    )
    chain_keystore_password: SecretStr | None = None
    chain_private_key: SecretStr | None = Field(
        default=None, description="Hex private key; used only when no keystore is set."
    )
    anchor_interval_s: float = Field(default=600.0, gt=0)
    anchor_confirmations: int = Field(
        default=12, ge=1, description="Blocks deep, the transaction's own block counted."
    )
    anchor_max_fee_gwei: Decimal = Field(
        default=Decimal(200), gt=0, description="Ceiling on maxFeePerGas, fee bumps included."
    )
    anchor_stuck_after_s: float = Field(
        default=180.0, gt=0, description="Unmined this long, a transaction is re-sent paying more."
    )
    chain_rpc_timeout_s: float = Field(default=10.0, gt=0)

    # Diversion and clone detection (docs/compliance.md explains each default).
    compliance_alert_score: int = Field(default=100, ge=1)
    compliance_strong_points: int = Field(default=100, ge=1)
    compliance_bottle_points: int = Field(default=12, ge=1)
    compliance_max_devices: int = Field(default=5, ge=1)
    compliance_max_speed_kmh: int = Field(default=1000, ge=1)
    compliance_min_travel_km: int = Field(default=100, ge=1)
    compliance_clone_points: int = Field(default=100, ge=1)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jiuyuan.db').as_posix()}"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "checkpoint-signing.key"

    @property
    def resolved_token_secret_file(self) -> Path:
        return self.token_secret_file or self.data_dir / "keys" / "token-secret"

    @property
    def resolved_member_key_file(self) -> Path:
        return self.member_key_file or self.data_dir / "keys" / "member-data.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()
