"""Secrets out of everything the engine shows: the configured passwords and keys (from the
environment and the .env file), taken out of any text (`scrub`) and log line (`ScrubSecrets`),
and database URLs shown without their password (`redact`). Light on purpose: every command
needs it, also those that never read the settings (``--help``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from dotenv import dotenv_values

SECRET_VALUES = ("AFTERSALES_KEK", "AFTERSALES_KEK_PREVIOUS")  # key-encryption keys
URL_VARIABLES = ("AFTERSALES_DATABASE_URL", "AFTERSALES_READ_DATABASE_URL")
SECRET_VARIABLES = ("AFTERSALES_KAFKA_SASL_PASSWORD", "AFTERSALES_KAFKA_SSL_PASSWORD")
ENV_FILE = ".env"


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
    """Every configured password (in the URLs, as written and percent-decoded; Kafka's), from
    the environment and the .env file."""
    if environ is None:
        dotenv = dotenv_values(ENV_FILE) if Path(ENV_FILE).is_file() else {}
        env: Mapping[str, str] = {**{k: v for k, v in dotenv.items() if v}, **os.environ}
    else:
        env = environ
    found: set[str] = {env[name] for name in (*SECRET_VARIABLES, *SECRET_VALUES)
                       if env.get(name)}
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
