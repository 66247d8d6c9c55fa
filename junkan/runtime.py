"""One `Runtime` per run or command: the settings, the engine, the run clock and the sender's headers.

A command builds it once when it starts and passes it down; a Prefect task, which receives only JSON-able
parameters (`as_of`, `dry_run`), obtains the Runtime of its run through `runtime()` instead of rebuilding
settings and an engine. Library functions take what they need from it as arguments and never reach for
ambient state.

Settings are read once per process for a given configuration (the JUNKAN_* environment and the config
file's path, size and modification time): tasks of one run, and runs served by one process, share one
Settings object and one engine (`make_engine` keeps one pool per URL). Changing the environment or the
file gives fresh settings on the next call, so a test or an operator never sees stale values.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from junkan.clock import RunClock
from junkan.config import ENV_PREFIX, Settings, config_file, get_settings
from junkan.db import make_engine
from junkan.mail.sender_identity import SenderHeaders


@dataclass(frozen=True)
class Runtime:
    """What every step of one run shares."""

    settings: Settings
    engine: Engine
    clock: RunClock
    sender: SenderHeaders

    def at(self, as_of: date | None, *, allow_future: bool = False) -> Runtime:
        """The same run choosing the work of another day (checked like a run's own as_of)."""
        return Runtime(self.settings, self.engine, clock_for(self.settings, as_of, allow_future=allow_future),
                       self.sender)


_ConfigKey = tuple[tuple[tuple[str, str], ...], str | None, int, int]
_settings_cache: dict[_ConfigKey, Settings] = {}
_lock = threading.Lock()


def _config_key() -> _ConfigKey:
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)))
    path = config_file()
    if path is None:
        return env, None, 0, 0
    stat = path.stat()
    return env, str(path.resolve()), stat.st_mtime_ns, stat.st_size


def settings() -> Settings:
    """The settings of this process's configuration, read and checked once (ConfigError when bad)."""
    key = _config_key()
    with _lock:
        cached = _settings_cache.get(key)
        if cached is None:
            cached = _settings_cache[key] = get_settings()
        return cached


# The real clock of this process: the wall clock, except inside `simulated_time` (the demo replays
# past days as if it were the opening of each day's sending window).
_real_clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


@contextmanager
def simulated_time(start: datetime) -> Iterator[None]:
    """Let the real clock of every run in this process start at `start` and advance with real time.

    Only the demo uses it: its two past days are run as if it were each day's window opening, so the
    mails carry the times they would have had.
    """
    global _real_clock
    if start.tzinfo is None:
        raise ValueError("simulated_time needs a timezone-aware start")
    began = time.monotonic()
    saved = _real_clock
    _real_clock = lambda: start.astimezone(UTC) + timedelta(seconds=time.monotonic() - began)  # noqa: E731
    try:
        yield
    finally:
        _real_clock = saved


def real_clock() -> Callable[[], datetime]:
    """The process's real clock as a callable (what a Runtime built now will read)."""
    return _real_clock


def clock_for(settings: Settings, as_of: date | None, *, allow_future: bool = False) -> RunClock:
    """The run clock for `as_of` in the business time zone; DateRefused for a far or future day."""
    return RunClock.start(settings.business.timezone, as_of, window_end=settings.notice.window_end,
                          real=_real_clock, allow_future=allow_future)


def runtime(as_of: date | None = None, *, allow_future: bool = False) -> Runtime:
    """The Runtime of a run or command choosing the work of `as_of` (None: today)."""
    current = settings()
    return Runtime(current, make_engine(current.database_url),
                   clock_for(current, as_of, allow_future=allow_future), SenderHeaders.from_settings(current))
