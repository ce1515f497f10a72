"""Create topics idempotently, on any Kafka-protocol broker."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from consumers import kafka_clients
from consumers.kafka_clients import Connection

log = logging.getLogger(__name__)


def ensure_topics(
    bootstrap_servers: Connection,
    topics: Mapping[str, int],
    replication_factor: int = -1,
    timeout_s: float = 30.0,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Create each topic in `topics` ({name: partitions}) that does not exist yet, with its
    topic configs from `configs` ({name: {key: value}}).

    Existing topics are left as they are (TopicAlreadyExists is not an error); any other
    broker error is raised. `replication_factor=-1` takes the broker's default. Waits until
    every topic has a leader for each partition and returns the names that were created.
    """
    if not topics:
        return []
    admin = kafka_clients.admin(bootstrap_servers, request_timeout_ms=int(timeout_s * 1000),
                                client_id="aftersales-ensure-topics")
    try:
        spec = {
            name: {"num_partitions": partitions, "replication_factor": replication_factor,
                   **({"configs": dict(configs[name])} if configs and name in configs else {})}
            for name, partitions in topics.items()
        }
        response = admin.create_topics(spec, raise_errors=False)
        created: list[str] = []
        for result in response["topics"]:
            error = for_code(result["error_code"])
            if result["error_code"] == 0:
                created.append(result["name"])
            elif error is not TopicAlreadyExistsError:
                raise error(f"creating topic {result['name']!r}: {result.get('error_message')}")
        admin.wait_for_topics(list(topics), timeout_ms=int(timeout_s * 1000))
    finally:
        admin.close()
    if created:
        log.info("created topics %s on %s", ", ".join(created), bootstrap_servers)
    return created


def topic_config(bootstrap_servers: Connection, topic: str, key: str, timeout_s: float = 10.0
                 ) -> str | None:
    """A topic's effective config value (its own or the broker's default), or None when the
    broker does not say (not every Kafka-protocol broker answers DescribeConfigs)."""
    try:
        admin = kafka_clients.admin(bootstrap_servers,
                                    request_timeout_ms=int(timeout_s * 1000),
                                    client_id="aftersales-describe-topic")
    except KafkaError:
        return None
    try:
        found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                       configs=[key])],
                                       config_filter="all")
        entry = found.get("topic", {}).get(topic, {}).get(key)
        value = entry.get("value") if isinstance(entry, dict) else entry
        return None if value is None else str(value)
    except (KafkaError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.info("the broker did not describe %s's %s: %s", topic, key, error)
        return None
    finally:
        admin.close()
