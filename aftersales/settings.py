"""Configuration from the environment (SPEC §4.5), validated once, never shown with secrets.

A database URL is never echoed in an error: it may hold a password. Messages name the
variable and what is wrong with it; `redact` shows a URL without its password, and `scrub`
takes every configured secret out of any text before it is printed or logged (both in
aftersales/secrets.py, which needs no settings)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftersales.secrets import ENV_FILE
from projections.db import database_file, postgres_params

if TYPE_CHECKING:
    from consumers.kafka_clients import KafkaConnection

DEFAULT_DATABASE_URL = "sqlite:///var/events.sqlite"
DEFAULT_READ_DATABASE_URL = "sqlite:///var/read.sqlite"
DEFAULT_CASE_EVENT_MAX_BYTES = 1_000_000
PREFIX = "AFTERSALES_"
ALIASES = {"kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS"}  # the usual name, also read
DEFAULT_RETENTION_DAYS = 1095  # three years after the last case closed
GROUP_PATTERN = r"^[A-Za-z0-9._-]{1,200}$"  # a Kafka group id (no spaces or control characters)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# One bootstrap address: host (a name, IPv4, or [IPv6]) and port; no user info, no path.
_BROKER_ADDRESS = re.compile(r"(?:[A-Za-z_]{1,20}://)?(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\])"
                             r":[0-9]{1,5}")
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class ConfigError(ValueError):
    """The configuration is invalid; the message names the variable, never its value."""


def variable(field: str) -> str:
    """The environment variable (or .env line) that sets a field."""
    return PREFIX + field.upper()


class Settings(BaseSettings):
    """Every setting, from AFTERSALES_* environment variables or a .env file in the working
    directory (the environment wins); KAFKA_BOOTSTRAP_SERVERS is read too."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True, validate_by_name=True)

    database_url: str = DEFAULT_DATABASE_URL
    read_database_url: str = DEFAULT_READ_DATABASE_URL
    kafka_bootstrap_servers: str | None = Field(None, validation_alias=AliasChoices(
        variable("kafka_bootstrap_servers"), "KAFKA_BOOTSTRAP_SERVERS"))
    orders_topic: str = "orders.v1"
    shipments_topic: str = "shipments.v1"
    case_events_topic: str = "aftersales.case-events.v1"
    case_states_topic: str = "aftersales.cases.v1"
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
    case_states_partitions: int = Field(6, ge=1, le=10_000,
                                        description="when creating the topic")
    # Kafka security, passed to every client (producers, consumers, admin)
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA certificates (PEM) to trust")
    kafka_ssl_certfile: Path | None = Field(None, description="client certificate (PEM)")
    kafka_ssl_keyfile: Path | None = Field(None, description="client private key (PEM)")
    kafka_ssl_password: SecretStr | None = Field(None, description="the key file's password")
    kafka_ssl_check_hostname: bool = True
    # Kafka client tuning
    kafka_linger_ms: int = Field(5, ge=0, le=60_000)
    kafka_session_timeout_ms: int = Field(6000, ge=1000, le=300_000)
    kafka_heartbeat_ms: int = Field(1000, ge=100, le=60_000)

    def kafka(self) -> KafkaConnection:
        """How every Kafka client connects (raises ConfigError without bootstrap servers)."""
        from consumers.kafka_clients import KafkaConnection  # kafka: only for Kafka's users

        if not self.kafka_bootstrap_servers:
            raise ConfigError(f"{variable('kafka_bootstrap_servers')} (or "
                              "KAFKA_BOOTSTRAP_SERVERS) is not set")
        security: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            assert self.kafka_sasl_password is not None  # checked by _security_is_complete
            security.update(sasl_mechanism=self.kafka_sasl_mechanism,
                            sasl_plain_username=self.kafka_sasl_username,
                            sasl_plain_password=self.kafka_sasl_password.get_secret_value())
        if self.kafka_security_protocol.endswith("SSL"):
            security["ssl_check_hostname"] = self.kafka_ssl_check_hostname
            for option in ("cafile", "certfile", "keyfile"):
                path = getattr(self, f"kafka_ssl_{option}")
                if path is not None:
                    security[f"ssl_{option}"] = str(path)
            if self.kafka_ssl_password is not None:
                security["ssl_password"] = self.kafka_ssl_password.get_secret_value()
        return KafkaConnection(self.kafka_bootstrap_servers, security, self.kafka_linger_ms,
                               self.kafka_session_timeout_ms, self.kafka_heartbeat_ms)

    @field_validator("retention_days", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "off" else value

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _supported(cls, url: str) -> str:
        check_url(url)
        return url

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _addresses(cls, servers: str | None) -> str | None:
        if servers is not None and not all(
                _BROKER_ADDRESS.fullmatch(part.strip()) for part in servers.split(",")):
            raise ValueError("give host:port[,host:port...] (a PROTOCOL:// prefix is allowed); "
                             "credentials never go in the address but in "
                             "AFTERSALES_KAFKA_SASL_USERNAME and _PASSWORD (the value is not "
                             "shown)")
        return servers

    @field_validator("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is not None and not os.access(path, os.R_OK):
            raise ValueError("no readable file there (the path is not shown)")
        return path

    @model_validator(mode="after")
    def _security_is_complete(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_mechanism and self.kafka_sasl_username
                         and self.kafka_sasl_password):
            raise ValueError(f"{variable('kafka_security_protocol')} SASL_… needs "
                             f"{variable('kafka_sasl_mechanism')}, "
                             f"{variable('kafka_sasl_username')} and "
                             f"{variable('kafka_sasl_password')}")
        if not sasl and self.kafka_sasl_mechanism:
            raise ValueError(f"{variable('kafka_sasl_mechanism')} is set but "
                             f"{variable('kafka_security_protocol')} is not SASL_PLAINTEXT or "
                             "SASL_SSL")
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError(f"{variable('kafka_ssl_keyfile')} needs "
                             f"{variable('kafka_ssl_certfile')}")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings from the environment and .env (``environ`` first, when given); a
        ConfigError names each bad variable, never its value."""
        given: dict[str, Any] = {}
        if environ is not None:
            for field in cls.model_fields:
                for name in (variable(field), ALIASES.get(field)):
                    if name and environ.get(name):
                        given[field] = environ[name]
                        break
        try:
            return cls(**given)
        except ValidationError as error:
            raise config_error(
                error, lambda field: variable(field) if field in cls.model_fields else field
            ) from None


M = TypeVar("M", bound=BaseModel)


def config_error(error: ValidationError, name_of: Callable[[str], str]) -> ConfigError:
    """A ConfigError naming, for each problem, the variable ``name_of`` gives its field (the
    problem alone when that is empty) and what is wrong, never the value."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        named = name_of(field)
        problems.append(f"{named}: {message}" if named else message)
    return ConfigError("invalid configuration: " + "; ".join(problems))


def from_variables(model: type[M], names: Mapping[str, str],
                   environ: Mapping[str, str] | None = None) -> M:
    """``model`` from the variables ``names`` gives its fields (``environ``, else the process
    environment; an empty one is unset); a ConfigError names each bad variable."""
    env = os.environ if environ is None else environ
    values = {field: env.get(name) for field, name in names.items()}
    try:
        return model.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as error:
        raise config_error(error, lambda field: names.get(field, "configuration")) from None


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


def eventsourcing_env(url: str, schema: str | None = None) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's persistence settings."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        database_file(path, "AFTERSALES_DATABASE_URL")
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
        # a connection (new, or free in the pool) within 3 s, else the call fails: the library
        # tries each call 10 times, so a store that went away fails a worker's step in about
        # 30 s, not 100 s per call (its health then turns failing at the second failure)
        "POSTGRES_CONNECT_TIMEOUT": "3",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "4",
        "APPLICATION_RECORDER_TOPIC": "aftersales.postgres_recorder:PostgresStoreRecorder",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env
