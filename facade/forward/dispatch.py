"""Several transactions in flight, none of them overtaking one it must follow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from facade.forward.bundles import Keys


class Dispatcher:
    """Runs submitted work with at most ``limit`` in flight.

    Work is admitted in submission order: ``submit`` returns once the work has started, and it
    starts only when nothing in flight conflicts with its keys (``Keys.conflicts``). So a
    transaction waits for every earlier one that writes what it writes or reads, and the
    forwarder's order (the queue's order) holds for every record, its versions and its links.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._running: dict[asyncio.Task[None], Keys] = {}
        self._changed = asyncio.Condition()

    def _admissible(self, keys: Keys) -> bool:
        return len(self._running) < self.limit and not any(
            keys.conflicts(other) for other in self._running.values()
        )

    async def submit(self, keys: Keys, work: Callable[[], Awaitable[None]]) -> None:
        """Start ``work`` as soon as it may run (waits for capacity and for conflicting work)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._admissible(keys))
            task = asyncio.create_task(self._run(work))
            self._running[task] = keys

    async def _run(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        finally:
            async with self._changed:
                current = asyncio.current_task()
                if current is not None:
                    self._running.pop(current, None)
                self._changed.notify_all()

    @property
    def in_flight(self) -> int:
        """Work started and not finished."""
        return len(self._running)

    async def join(self) -> None:
        """Wait for everything submitted (errors of the work propagate)."""
        while self._running:
            await asyncio.gather(*list(self._running))
