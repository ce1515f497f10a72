"""Settings: one prefix, a .env file, secrets that never show, Kafka security complete or
refused with the variable named."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.secrets import configured_secrets, scrub
from aftersales.settings import ConfigError, Settings

SECRET = "Zq9-sasl-S3cret"


def test_a_dotenv_file_is_read_and_the_environment_wins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9093\n"
        "AFTERSALES_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\n"
        "AFTERSALES_KAFKA_SASL_MECHANISM=SCRAM-SHA-512\n"
        "AFTERSALES_KAFKA_SASL_USERNAME=engine\n"
        f"AFTERSALES_KAFKA_SASL_PASSWORD={SECRET}\n"
        "AFTERSALES_DLQ_TOPIC=from-dotenv\n")
    monkeypatch.setenv("AFTERSALES_DLQ_TOPIC", "from-environment")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = Settings.from_env()
    assert settings.dlq_topic == "from-environment"
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    connection = settings.kafka()
    assert connection.servers == "127.0.0.1:9093"
    assert connection.security == {"security_protocol": "SASL_PLAINTEXT",
                                   "sasl_mechanism": "SCRAM-SHA-512",
                                   "sasl_plain_username": "engine",
                                   "sasl_plain_password": SECRET}
    assert SECRET not in repr(connection)
    assert SECRET in configured_secrets()  # logs and errors scrub it
    assert scrub(f"auth failed for {SECRET}") == "auth failed for ***"


@pytest.mark.parametrize("servers", ["127.0.0.1:9092", "PLAINTEXT://127.0.0.1:9092,b-2:9093",
                                     "[::1]:9092", "broker-1.example.internal:19092"])
def test_bootstrap_addresses_of_every_usual_shape_are_taken(servers: str) -> None:
    assert Settings.from_env({"AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": servers}).kafka().servers \
        == servers


def test_the_usual_kafka_variable_is_read_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFTERSALES_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1234")
    assert Settings.from_env().kafka().servers == "127.0.0.1:1234"


@pytest.mark.parametrize(("env", "named"), [
    ({"AFTERSALES_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "AFTERSALES_KAFKA_SASL_MECHANISM"),
    ({"AFTERSALES_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "AFTERSALES_KAFKA_SASL_MECHANISM":
      "PLAIN", "AFTERSALES_KAFKA_SASL_USERNAME": "u"}, "AFTERSALES_KAFKA_SASL_PASSWORD"),
    ({"AFTERSALES_KAFKA_SASL_MECHANISM": "PLAIN"}, "AFTERSALES_KAFKA_SECURITY_PROTOCOL"),
    ({"AFTERSALES_KAFKA_SECURITY_PROTOCOL": "TLS"}, "AFTERSALES_KAFKA_SECURITY_PROTOCOL"),
    ({"AFTERSALES_KAFKA_SASL_MECHANISM": "GSSAPI"}, "AFTERSALES_KAFKA_SASL_MECHANISM"),
    ({"AFTERSALES_KAFKA_SSL_CAFILE": f"/nonexistent/{SECRET}.pem"},
     "AFTERSALES_KAFKA_SSL_CAFILE"),
    ({"AFTERSALES_KAFKA_LINGER_MS": "soon"}, "AFTERSALES_KAFKA_LINGER_MS"),
    ({"AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": f"SASL_SSL://user:{SECRET}@127.0.0.1:9093"},
     "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS"),
    ({"AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:9092/{SECRET}"},
     "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS"),
    ({"AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": f"{SECRET}"}, "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS"),
])
def test_incomplete_or_wrong_kafka_security_is_refused_naming_the_variable(
        env: dict[str, str], named: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"AFTERSALES_KAFKA_SASL_PASSWORD": "", **env})
    assert named in str(caught.value) and SECRET not in str(caught.value)


def test_tls_settings_reach_the_clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("PEM")
    settings = Settings.from_env({
        "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9094",
        "AFTERSALES_KAFKA_SECURITY_PROTOCOL": "SSL",
        "AFTERSALES_KAFKA_SSL_CAFILE": str(tmp_path / "ca.pem"),
        "AFTERSALES_KAFKA_SSL_CERTFILE": str(tmp_path / "client.pem"),
        "AFTERSALES_KAFKA_SSL_KEYFILE": str(tmp_path / "client.key"),
        "AFTERSALES_KAFKA_SSL_PASSWORD": SECRET,
    })
    assert settings.kafka().security == {
        "security_protocol": "SSL", "ssl_check_hostname": True,
        "ssl_cafile": str(tmp_path / "ca.pem"), "ssl_certfile": str(tmp_path / "client.pem"),
        "ssl_keyfile": str(tmp_path / "client.key"), "ssl_password": SECRET}
