"""Configuration from the environment (SPEC §4.5), validated once, never shown with secrets.

A database URL is never echoed in an error: it may hold a password. Messages name the
variable and what is wrong with it; `redact` shows a URL without its password, and `scrub`
takes every configured secret out of any text before it is printed or logged."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from pydantic import BaseModel, Field, ValidationError, field_validator

from projections.db import postgres_params, private_file

DEFAULT_DATABASE_URL = "sqlite:///var/events.sqlite"
DEFAULT_READ_DATABASE_URL = "sqlite:///var/read.sqlite"
DEFAULT_CASE_EVENT_MAX_BYTES = 1_000_000
DEFAULT_RETENTION_DAYS = 1095  # three years after the last case closed
ENV = {
    "database_url": "AFTERSALES_DATABASE_URL",
    "read_database_url": "AFTERSALES_READ_DATABASE_URL",
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "orders_topic": "AFTERSALES_ORDERS_TOPIC",
    "shipments_topic": "AFTERSALES_SHIPMENTS_TOPIC",
    "case_events_topic": "AFTERSALES_CASE_EVENTS_TOPIC",
    "dlq_topic": "AFTERSALES_DLQ_TOPIC",
    "case_event_max_bytes": "AFTERSALES_CASE_EVENT_MAX_BYTES",
    "postgres_schema": "AFTERSALES_POSTGRES_SCHEMA",
    "inbound_principal": "AFTERSALES_INBOUND_PRINCIPAL",
    "inbound_group": "AFTERSALES_INBOUND_GROUP",
    "projections_group": "AFTERSALES_PROJECTIONS_GROUP",
    "orders_partitions": "AFTERSALES_ORDERS_PARTITIONS",
    "shipments_partitions": "AFTERSALES_SHIPMENTS_PARTITIONS",
    "case_events_partitions": "AFTERSALES_CASE_EVENTS_PARTITIONS",
    "retention_days": "AFTERSALES_RETENTION_DAYS",
}
SECRET_VALUES = ("AFTERSALES_KEK", "AFTERSALES_KEK_PREVIOUS")  # key-encryption keys
URL_VARIABLES = ("AFTERSALES_DATABASE_URL", "AFTERSALES_READ_DATABASE_URL")
GROUP_PATTERN = r"^[A-Za-z0-9._-]{1,200}$"  # a Kafka group id (no spaces or control characters)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the variable, never its value."""


class Settings(BaseModel):
    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str = DEFAULT_READ_DATABASE_URL
    kafka_bootstrap_servers: str | None = None
    orders_topic: str = "orders.v1"
    shipments_topic: str = "shipments.v1"
    case_events_topic: str = "aftersales.case-events.v1"
    dlq_topic: str = "aftersales.dlq.v1"
    case_event_max_bytes: int = Field(
        DEFAULT_CASE_EVENT_MAX_BYTES, ge=64 * 1024, le=64 * 1024 * 1024,
        description="the case-events topic's message size limit; larger events are refused")
    postgres_schema: str | None = Field(None, description="isolates tests on one database")
    inbound_principal: str = Field("system.upstream",
                                   description="the principal the inbound consumer acts as")
    inbound_group: str = Field("aftersales-inbound", pattern=GROUP_PATTERN,
                               description="the inbound consumers' Kafka consumer group")
    projections_group: str = Field(
        "aftersales-projections", pattern=GROUP_PATTERN,
        description="the projection runners' consumer group: one per read database")
    orders_partitions: int = Field(3, ge=1, le=10_000, description="when creating the topic")
    shipments_partitions: int = Field(3, ge=1, le=10_000, description="when creating the topic")
    case_events_partitions: int = Field(6, ge=1, le=10_000,
                                        description="when creating the topic")
    retention_days: int | None = Field(
        DEFAULT_RETENTION_DAYS, ge=1, le=36_500,
        description="days personal data is kept after a customer's last case closed; "
                    "'off': kept until erased by hand")

    @field_validator("retention_days", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "off" else value

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _supported(cls, url: str) -> str:
        check_url(url)
        return url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {field: env.get(variable) for field, variable in ENV.items()}
        try:
            return cls.model_validate({k: v for k, v in values.items() if v})
        except ValidationError as error:
            problems = []
            for problem in error.errors(include_url=False, include_input=False):
                field = str(problem["loc"][0]) if problem["loc"] else ""
                message = problem["msg"].removeprefix("Value error, ")
                problems.append(f"{ENV.get(field, field)}: {message}")
            raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def check_url(url: str) -> None:
    """Raise ValueError (naming the problem, not the value) unless the URL is usable."""
    if url.startswith("sqlite:///"):
        if not url.removeprefix("sqlite:///").strip():
            raise ValueError("sqlite:/// needs a file path, e.g. sqlite:///var/events.sqlite")
        return
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
                         "(the value is not shown: it may hold a password)")
    if _BAD_ESCAPE.search(url):
        raise ValueError("the URL has a % not followed by two hex digits (escape a % in a "
                         "password as %25; the value is not shown)")
    try:
        postgres_params(url)
    except ValueError as error:
        raise ValueError(f"not a usable PostgreSQL URL: {error} (the value is not shown)"
                         ) from None


def redact(url: str) -> str:
    """The URL without its password (also a password given as a query parameter)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        authority = f"{user}{':***' if colon else ''}@{host}"
    path, question, query = path.partition("?")
    if question:
        query = "&".join(f"{k}=***" if "password" in k.lower() else f"{k}={v}"
                         for k, v in parse_qsl(query, keep_blank_values=True))
    return f"{scheme}://{authority}{slash}{path}{question}{query}"


def configured_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every password in the configured URLs, as written and percent-decoded, and the
    key-encryption keys given as values."""
    env = os.environ if environ is None else environ
    found: set[str] = set()
    for variable in URL_VARIABLES:
        url = env.get(variable) or ""
        authority = url.partition("://")[2].partition("/")[0]
        if "@" in authority:
            userinfo = authority.rpartition("@")[0]
            if ":" in userinfo:
                found.add(userinfo.partition(":")[2])
        for key, value in parse_qsl(url.partition("?")[2], keep_blank_values=True):
            if "password" in key.lower():
                found.add(value)
    found |= {unquote(s) for s in found}
    for variable in SECRET_VALUES:
        found |= {part.strip() for part in (env.get(variable) or "").split(",") if part.strip()}
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def scrub(text: str, secrets: list[str] | None = None) -> str:
    """The text with every configured secret replaced by ***."""
    for secret in configured_secrets() if secrets is None else secrets:
        text = text.replace(secret, "***")
    return text


class ScrubSecrets(logging.Filter):
    """A log filter: every configured secret out of each record's text (and traceback)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = configured_secrets()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = scrub(record.getMessage(), self.secrets)
            record.args = None
            if record.exc_info:
                record.exc_text = scrub(logging.Formatter().formatException(record.exc_info),
                                        self.secrets)
                record.exc_info = None
        return True


def eventsourcing_env(url: str, schema: str | None = None) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's persistence settings."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        private_file(path)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    params = postgres_params(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or "aftersales"),
        "POSTGRES_HOST": str(params.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(params.get("port") or 5432),
        "POSTGRES_USER": str(params.get("user") or "aftersales"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
        "APPLICATION_RECORDER_TOPIC": "aftersales.postgres_recorder:PostgresStoreRecorder",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
