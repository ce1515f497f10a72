"""Kafka plumbing: inbound consumers, the relay, projection runners, dead letters."""
