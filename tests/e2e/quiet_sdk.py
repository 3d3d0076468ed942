"""Assert that the langsmith SDK logged no warning and raised no warning.

A warning from the SDK means the server did something it does not expect (an
old version in /info, a missing route, a field it could not read). The legacy
v1 methods announce their own deprecation whatever the server does; callers
that use them may allow that one category and nothing else.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from langsmith._internal._beta_decorator import LangSmithDeprecationWarning


@contextmanager
def no_sdk_warnings(
    caplog: pytest.LogCaptureFixture, *, allow_deprecations: bool = False
) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="langsmith")
    # Garbage left by earlier tests (an event loop's transports) is finalised
    # now, not inside the window, where its ResourceWarning would be blamed on
    # the SDK.
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    logged = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith("langsmith") and r.levelno >= logging.WARNING
    ]
    raised = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not (
            allow_deprecations and issubclass(w.category, LangSmithDeprecationWarning)
        )
    ]
    assert not logged, logged
    assert not raised, raised


def run_async[T](client: Any, scenario: Callable[[], Awaitable[T]]) -> T:
    """Run the v2 calls of ``scenario`` in one event loop, then close their client.

    ``Client.runs`` / ``traces`` / ``sessions`` are async resources of one
    httpx client per ``Client``; closing it in its own loop keeps a later
    test's loop from finalising it (which warns).
    """

    async def main() -> T:
        try:
            return await scenario()
        finally:
            await client._get_langsmith_api().close()
            client._langsmith_api = None

    return asyncio.run(main())
