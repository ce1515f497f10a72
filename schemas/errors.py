"""Why input was refused, in words: one clause per problem, naming the field."""

from __future__ import annotations

from pydantic import ValidationError


class InputRefused(ValueError):
    """Input the validation boundary refuses. ``kind`` names the rule for machines (dead-letter
    headers, metrics): oversized, not_json, too_deep, duplicate_key, out_of_range, invalid,
    wrong_topic; the message says what is wrong for people."""

    def __init__(
        self, kind: str, message: str, fields: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.fields = fields  # (field path, what is wrong) for each bad field, when known


WHOLE = "(document)"  # where a problem of the whole document is said to be
NAME_LIMIT = 40  # characters of a name the caller chose (a field, a parameter) said back


def short_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A name the caller sent (an unknown field or parameter), as a problem may say it back:
    cut to ``limit`` characters (a 4,000-character key is not repeated whole) with control
    characters escaped."""
    cut = name[:limit]
    text = cut if cut.isprintable() else repr(cut)[1:-1]
    return text + ("…" if len(name) > limit else "")


def validation_fields(error: ValidationError) -> tuple[tuple[str, str], ...]:
    """Each problem as (field path, what is wrong): ``("lines.0.quantity", "Input should be
    > 0")``; a missing or unknown type names its field (``command``, ``event_type``), a
    problem of the whole document ``(document)``; the message never repeats the value sent, and
    a name the caller chose (an unknown field) is cut short."""
    found = []
    for problem in error.errors(include_url=False, include_input=False):
        loc = list(problem["loc"])
        if loc and isinstance(loc[0], str) and loc[0][:1].isupper():
            loc = loc[1:]  # the union's tag (the command or event type) is not a field
        where = ".".join(short_name(p) if isinstance(p, str) else str(p) for p in loc) or WHOLE
        message = problem["msg"].removeprefix("Value error, ")
        kind, context = problem["type"], problem.get("ctx") or {}
        if kind in ("union_tag_not_found", "union_tag_invalid") and where == WHOLE:
            where = str(context.get("discriminator", "")).strip("'") or WHOLE
            message = "Field required" if kind == "union_tag_not_found" else (
                f"unknown {where}: expected one of {context.get('expected_tags', '')}")
        elif kind == "model_attributes_type" and where == WHOLE:
            message = "must be a JSON object"
        found.append((where, message))
    return tuple(found)


def describe_validation(error: ValidationError) -> str:
    """One clause per problem, naming the field: `lines.0.quantity: Input should be > 0`."""
    return "; ".join(f"{where}: {message}" for where, message in validation_fields(error))
