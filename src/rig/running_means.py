"""Metrics averaged over everything recorded since they were last taken for a log row."""

from __future__ import annotations


class RunningMeans:
    """A sum and a count per metric; :meth:`take` returns the means and starts afresh.

    Values may be tensors: they are summed where they live and read once, in :meth:`take`.
    """

    def __init__(self) -> None:
        self._sums: dict[str, tuple] = {}

    def add(self, key: str, value) -> None:
        total, count = self._sums.get(key, (0.0, 0))
        self._sums[key] = (total + value, count + 1)

    def take(self) -> dict[str, float]:
        """The mean of each metric since the last call."""
        means = {key: float(total) / count for key, (total, count) in self._sums.items()}
        self._sums = {}
        return means

    def state_dict(self) -> dict[str, tuple[float, int]]:
        """The sums and counts not yet taken, as plain numbers (for checkpoints)."""
        return {key: (float(total), int(count)) for key, (total, count) in self._sums.items()}

    def load_state_dict(self, state: dict) -> None:
        self._sums = {key: (float(total), int(count)) for key, (total, count) in state.items()}
