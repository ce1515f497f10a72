"""Configuration from the environment (SPEC §4.5), validated once, never logged with secrets."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, field_validator

DEFAULT_DATABASE_URL = "sqlite:///var/events.sqlite"
DEFAULT_READ_DATABASE_URL = "sqlite:///var/read.sqlite"


class Settings(BaseModel):
    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str = DEFAULT_READ_DATABASE_URL
    kafka_bootstrap_servers: str | None = None
    orders_topic: str = "orders.v1"
    shipments_topic: str = "shipments.v1"
    case_events_topic: str = "aftersales.case-events.v1"
    dlq_topic: str = "aftersales.dlq.v1"
    postgres_schema: str | None = Field(None, description="isolates tests on one database")
    inbound_principal: str = Field("system.upstream",
                                   description="the principal the inbound consumer acts as")

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _supported(cls, url: str) -> str:
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(f"expected sqlite:///PATH or postgresql://…, got {redact(url)}")
        return url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {
            "database_url": env.get("AFTERSALES_DATABASE_URL"),
            "read_database_url": env.get("AFTERSALES_READ_DATABASE_URL"),
            "kafka_bootstrap_servers": env.get("KAFKA_BOOTSTRAP_SERVERS"),
            "orders_topic": env.get("AFTERSALES_ORDERS_TOPIC"),
            "shipments_topic": env.get("AFTERSALES_SHIPMENTS_TOPIC"),
            "case_events_topic": env.get("AFTERSALES_CASE_EVENTS_TOPIC"),
            "dlq_topic": env.get("AFTERSALES_DLQ_TOPIC"),
            "postgres_schema": env.get("AFTERSALES_POSTGRES_SCHEMA"),
            "inbound_principal": env.get("AFTERSALES_INBOUND_PRINCIPAL"),
        }
        return cls(**{k: v for k, v in values.items() if v})


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def eventsourcing_env(url: str, schema: str | None = None) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's persistence settings."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    parts = urlsplit(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "aftersales",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "aftersales"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
