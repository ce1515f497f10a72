"""Personal data: one marked value type, so it can be found, encrypted and erased.

Names, addresses, phone numbers, e-mail, free text a customer wrote, messages and notes to them,
and evidence links travel inside events only as PersonalData. Ids, topics and log lines never
hold them; ``repr`` hides the value so it does not leak into logs or tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass

ERASED = "[erased]"


@dataclass(frozen=True, slots=True)
class PersonalData:
    """A piece of personal data that belongs to one (opaque) customer id."""

    subject: str
    value: str

    def __repr__(self) -> str:
        return f"PersonalData(subject={self.subject!r}, value=<{len(self.value)} chars>)"

    def __str__(self) -> str:
        return "<personal data>"

    @property
    def erased(self) -> bool:
        return self.value == ERASED


def prose(subject: str, text: str | None) -> PersonalData | str | None:
    """Prose for or from the customer on their case (a resolution's detail, a proposal's note
    to them), whoever typed it: their personal data, as it may name or describe them. Empty
    text stays as it is."""
    return PersonalData(subject, text) if text else text


def text_of(value: PersonalData | str | None) -> str:
    """The words of a value that is personal data now but was a plain str in events stored
    before (``[erased]`` once its key was destroyed); empty for None."""
    if isinstance(value, PersonalData):
        return value.value
    return "" if value is None else value
