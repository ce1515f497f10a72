"""Kafka plumbing and the translation of wire messages into application calls."""
