"""Settings, read once from the environment (prefix ``JIUYUAN_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Jiuyuan has. Nothing else reads ``os.environ``."""

    model_config = SettingsConfigDict(env_prefix="JIUYUAN_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to an SQLite file jiuyuan.db under data_dir.",
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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jiuyuan.db').as_posix()}"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "checkpoint-signing.key"


@lru_cache
def get_settings() -> Settings:
    return Settings()
