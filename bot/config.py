"""Settings from the environment (or a .env file beside where reflectbot runs)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, description="any SQLAlchemy URL; default SQLite")
    telegram_bot_token: str | None = None
    telegram_base_url: str | None = Field(default=None, description="another Bot API server")
    telegram_webhook_secret: str | None = None
    idle_minutes: int = Field(default=240, ge=1, description="after this long idle, ask before carrying on")
    retention_days: int = Field(default=90, ge=1, description="reflections older than this are deleted")
