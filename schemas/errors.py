"""Validation errors in words: one clause per problem, naming the field."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation(error: ValidationError) -> str:
    """One clause per problem, naming the field: `lines.0.quantity: Input should be > 0`."""
    parts = []
    for problem in error.errors(include_url=False):
        loc = list(problem["loc"])
        if loc and isinstance(loc[0], str) and loc[0][:1].isupper():
            loc = loc[1:]  # the union's tag (the command or event type) is not a field
        where = ".".join(str(p) for p in loc) or "(message)"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)
