"""Pydantic models of every message that crosses a process boundary (SPEC §4)."""
