"""The commands duty's state: the model, loaded once in a worker thread on first use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from server.commands.model import CommandModel, load_model
from server.commands.plan import plan
from server.commands.runtime import apply_plan, tell

if TYPE_CHECKING:
    from server.effects import Ask
    from server.hub import Hub

log = logging.getLogger("plaza.commands")


class CommandService:
    def __init__(self, loader: Callable[[], CommandModel] = load_model) -> None:
        self._loader = loader
        self._model: CommandModel | None = None
        self._loading: asyncio.Task[CommandModel] | None = None
        self.waiting: list[Ask] = []  # asked before the model was ready
        self.failed: str | None = None
        self.answered = 0  # metrics: requests answered or acted on

    def model(self) -> CommandModel | None:
        """The model, or None while it loads (~10 s the first time, MiniLM from the wheel) in a
        worker thread; a duty step never waits for it, so the duty never looks stuck."""
        if self._model is None and self.failed is None:
            if self._loading is None:
                self._loading = asyncio.get_running_loop().create_task(asyncio.to_thread(self._loader))
            elif self._loading.done():
                try:
                    self._model = self._loading.result()
                except Exception as e:
                    self.failed = str(e) or type(e).__name__
                    log.error("natural-language commands unavailable: %s", self.failed)
        return self._model

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            with contextlib.suppress(BaseException):
                await self._loading

    async def step(
        self,
        hub: Hub,
        asks: list[Ask],
        now_ms: Callable[[], int],
        follows: Callable[[str], set[str]] | None = None,
    ) -> None:
        self.waiting.extend(asks)
        if not self.waiting:
            return
        model = self.model()
        if model is None and self.failed is None:
            return  # still loading: they wait
        todo, self.waiting = self.waiting, []
        for ask in todo:
            if model is None:
                tell(
                    hub, ask.sid, "Sorry, I can't understand requests on this server right now.", {"error": self.failed}
                )
                continue
            try:
                await self.handle(hub, model, ask, now_ms, follows)
            except Exception:
                log.exception("command %r failed", ask.text[:80])

    async def handle(
        self,
        hub: Hub,
        model: CommandModel,
        ask: Ask,
        now_ms: Callable[[], int],
        follows: Callable[[str], set[str]] | None = None,
    ) -> None:
        parse = await asyncio.to_thread(model.parse, ask.text, ask.context)
        ctx = ask.context
        if parse.intent == "find_friends" and follows is not None:
            followed = await asyncio.to_thread(follows, ask.user)
            ctx = replace(ctx, friends_online=friends_online(hub, followed))
        pl = plan(parse, ctx)
        mgr = hub.npcs.get(ask.instance)
        if pl.kind == "guide" and pl.place is not None and mgr is not None:
            await asyncio.to_thread(mgr.prepare, pl.place.position)  # distance fields off the loop
        apply_plan(hub, ask.sid, ask.instance, pl, now_ms())
        self.answered += 1


def friends_online(hub: Hub, followed: set[str]) -> tuple[tuple[str, str], ...]:
    """(name, world name) of the followed people who are in a world now."""
    out: list[tuple[str, str]] = []
    for s in hub.sessions.values():
        if s.instance is not None and s.user_id in followed:
            out.append((s.name, s.instance.spec.name))
    return tuple(sorted(out))
