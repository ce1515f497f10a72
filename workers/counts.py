"""What the workers count for the operator (`aftersales run --metrics-port`,
aftersales/observability.py): the outcome of each command they ran and how many commands
each store commit carried. Plain counters, read at each scrape; one thread writes them."""

from __future__ import annotations

from dataclasses import dataclass, field

#: upper bounds of the commit batch size histogram (commands per store commit)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass
class WorkCounts:
    commands: dict[tuple[str, str], int] = field(default_factory=dict)  # (command, outcome)
    batches: dict[int, int] = field(default_factory=dict)  # commands per commit -> commits

    def command(self, name: str, outcome: str) -> None:
        key = (name, outcome)
        self.commands[key] = self.commands.get(key, 0) + 1

    def batch(self, size: int) -> None:
        """One store commit (one transaction) that carried ``size`` commands."""
        if size > 0:
            self.batches[size] = self.batches.get(size, 0) + 1

    def add(self, other: WorkCounts) -> None:
        for key, count in other.commands.items():
            self.commands[key] = self.commands.get(key, 0) + count
        for size, commits in other.batches.items():
            self.batches[size] = self.batches.get(size, 0) + commits

    def histogram(self) -> tuple[list[tuple[str, float]], float]:
        """(cumulative bucket counts as Prometheus writes them, "1.0" to "+Inf"; the sum)."""
        buckets = [(f"{bound:.1f}", float(sum(n for size, n in self.batches.items()
                                          if size <= bound))) for bound in BATCH_BUCKETS]
        buckets.append(("+Inf", float(sum(self.batches.values()))))
        return buckets, float(sum(size * n for size, n in self.batches.items()))
