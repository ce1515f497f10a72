"""Help texts written when help is shown, for parameters whose help names what exists (the
read models' tables, the projections): naming them takes the modules that define them, which
`aftersales --help` and every other command need not load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from typer.core import TyperCommand


class LazyHelpCommand(TyperCommand):
    """A command whose parameters named in ``helps`` get their help from it when shown."""

    helps: ClassVar[dict[str, Callable[[], str]]] = {}

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.params:
            write = self.helps.get(param.name or "")
            if write is not None:
                param.help = write()  # type: ignore[attr-defined]
        super().format_help(ctx, formatter)


def lazy_help(**helps: Callable[[], str]) -> type[TyperCommand]:
    """The command class (``app.command(cls=…)``) writing these parameters' help when shown."""
    return type("LazyHelpCommand", (LazyHelpCommand,), {"helps": helps})
