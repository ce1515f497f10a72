"""The service API's settings: the OIDC JWKS URL is https, or plain http to this machine only,
judged on the parsed URL (a look-alike prefix such as http://127.0.0.1.evil.example is another
host), and never holds a user name or password."""

from __future__ import annotations

import pytest

from aftersales.settings import ConfigError
from server.settings import ApiSettings

OIDC = {"AFTERSALES_OIDC_ISSUER": "https://idp.example", "AFTERSALES_OIDC_AUDIENCE": "aftersales"}


def settings(url: str) -> ApiSettings:
    return ApiSettings.from_env({**OIDC, "AFTERSALES_OIDC_JWKS_URL": url})


@pytest.mark.parametrize("url", [
    "https://idp.example/jwks", "HTTPS://idp.example:8443/.well-known/jwks.json",
    "http://127.0.0.1:8080/jwks", "http://127.0.0.2/jwks", "http://[::1]:9000/jwks",
    "http://localhost/jwks", "http://LOCALHOST:8080/jwks",
])
def test_https_or_plain_http_to_this_machine_is_taken(url: str) -> None:
    assert settings(url).oidc_jwks_url == url


@pytest.mark.parametrize(("url", "words"), [
    ("http://127.0.0.1.evil.example/jwks", "http only to a loopback address or localhost"),
    ("http://localhost.evil.example/jwks", "http only to a loopback address or localhost"),
    ("http://localhost@evil.example/jwks", "must not hold a user name or password"),
    ("http://127.0.0.1:80@evil.example/jwks", "must not hold a user name or password"),
    ("https://user:secret@idp.example/jwks", "must not hold a user name or password"),
    ("http://idp.example/jwks", "must be https://"),
    ("http://10.0.0.1/jwks", "must be https://"),
    ("ftp://127.0.0.1/jwks", "must be https://"),
    ("https:///jwks", "names no host"),
    ("http://127.0.0.1:99999/jwks", "is not a URL"),
])
def test_a_jwks_url_that_would_fetch_keys_from_elsewhere_is_refused(url: str, words: str
                                                                     ) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(url)
    assert "AFTERSALES_OIDC_JWKS_URL" in str(refused.value) and words in str(refused.value)
    assert "secret" not in str(refused.value) and "evil" not in str(refused.value)
