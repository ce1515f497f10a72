"""Benchmarks of SPEC §6, each with its baseline measured in the same run: ``python -m bench``.

Modules: ``commands``, ``inbound``, ``relay``, ``replay`` (one benchmark each), ``report``
(timing helpers, the table, bench/results/latest.json), ``context`` (sizes, scratch folder,
broker), ``workload`` and ``messages`` (the realistic data they share), ``kafka_util``."""
