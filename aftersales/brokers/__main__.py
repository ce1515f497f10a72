"""``python -m aftersales.brokers fetch`` caches the Kafka jars (for Makefiles and CI);
``python -m aftersales.brokers run kafka|tansu [--port P] [--data-dir D]`` runs a broker on
127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path

from aftersales.brokers import KAFKA_VERSION, fetch_kafka_jars, start_broker


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m aftersales.brokers")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help=f"cache the Apache Kafka {KAFKA_VERSION} jars with Maven")
    run = commands.add_parser("run", help="run a local broker on 127.0.0.1 until interrupted")
    run.add_argument("kind", choices=["kafka", "tansu"])
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    if args.command == "fetch":
        print(fetch_kafka_jars())
        return 0
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix=f"aftersales-{args.kind}-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with start_broker(args.kind, data_dir, args.port) as broker:
        print(f"{broker.kind} broker pid={broker.pid} on {broker.bootstrap_servers}", flush=True)
        try:
            while broker.is_running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
