"""Fetch the Apache Kafka broker's jars from Maven Central into a local cache, once.

The class path is described by `kafka_pom.xml` beside this module. Maven copies every runtime
jar into ``$AFTERSALES_BROKER_CACHE/kafka-<version>/lib`` (default cache:
``~/.cache/aftersales``); a marker file written after a complete copy makes later calls free.
Concurrent callers are serialised with a file lock, and the copy goes to a temporary folder
that is renamed into place, so nobody ever sees half a class path.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Keep in step with `kafka.version` in kafka_pom.xml.
KAFKA_VERSION = "4.1.1"
POM_PATH = Path(__file__).with_name("kafka_pom.xml")
CACHE_ENV = "AFTERSALES_BROKER_CACHE"
_MARKER = ".fetched"
_FETCH_TIMEOUT_S = 900


class KafkaFetchError(RuntimeError):
    """Maven could not provide the broker's jars."""


def cache_root() -> Path:
    """The broker cache folder: $AFTERSALES_BROKER_CACHE or ~/.cache/aftersales."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "aftersales"


def kafka_home() -> Path:
    """The folder that holds this Kafka version's `lib/` (it may not exist yet)."""
    return cache_root() / f"kafka-{KAFKA_VERSION}"


def _pom_digest() -> str:
    return hashlib.sha256(POM_PATH.read_bytes()).hexdigest()


def jars_present(home: Path | None = None) -> bool:
    """True when a complete copy made from the current pom is in the cache."""
    home = home or kafka_home()
    marker = home / _MARKER
    try:
        return marker.read_text().strip() == _pom_digest() and any((home / "lib").glob("*.jar"))
    except OSError:
        return False


def fetch_kafka_jars(mvn: str | None = None) -> Path:
    """Make sure the broker's jars are cached and return the `lib` folder that holds them.

    Runs ``mvn -q -B -f kafka_pom.xml dependency:copy-dependencies -DincludeScope=runtime
    -DoutputDirectory=<tmp>`` the first time; later calls only check the marker file.
    """
    home = kafka_home()
    if jars_present(home):
        return home / "lib"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_present(home):  # another process finished while we waited
            return home / "lib"
        _copy_dependencies(home, mvn or shutil.which("mvn"))
    return home / "lib"


def _copy_dependencies(home: Path, mvn: str | None) -> None:
    if mvn is None:
        raise KafkaFetchError(
            "Maven (mvn) is not on PATH; install it (apt-get install maven) to fetch "
            f"Apache Kafka {KAFKA_VERSION}, or use the tansu broker"
        )
    staging = home / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn, "-q", "-B", "-f", str(POM_PATH), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    log.info("fetching Apache Kafka %s jars into %s with Maven", KAFKA_VERSION, home / "lib")
    started = time.monotonic()
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=_FETCH_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise KafkaFetchError(f"{' '.join(cmd)} timed out after {_FETCH_TIMEOUT_S} s") from exc
    if done.returncode != 0 or not any(staging.glob("*.jar")):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise KafkaFetchError(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{tail}")
    shutil.rmtree(home / "lib", ignore_errors=True)
    staging.rename(home / "lib")
    (home / _MARKER).write_text(_pom_digest() + "\n")
    log.info(
        "fetched %d jars for Apache Kafka %s in %.1f s",
        len(list((home / "lib").glob("*.jar"))),
        KAFKA_VERSION,
        time.monotonic() - started,
    )
