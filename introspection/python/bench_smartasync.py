# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-call cost of Smartasync from Python, against Python's own baselines
measured in the same run: asyncio.run() of a trivial coroutine,
run_until_complete() on one reused event loop, and the seed's @smartasync
decorator (SeedSmartasync below: a minimal re-implementation written from
the seed documents, asyncio-based, with its per-thread reused event loop).
The last lines print the decorator's sync-call cost as a ratio of the
seed's, for async def (the seed's headline use) and plain def.

    bench_smartasync.py [--quick]
"""

import asyncio
import functools
import statistics
import threading
import sys
import time

import gi

gi.require_version("Smartasync", "1.0")
from gi.repository import GLib, GObject, Smartasync  # noqa: E402

QUICK = "--quick" in sys.argv
N = 200 if QUICK else 5000
ROUNDS = 3 if QUICK else 7


def per_call_ns(rows):
    """Median ns per call of each row; the rounds are interleaved across
    rows, so that a slow spell of the machine hits a row and its baselines
    alike."""
    samples = {name: [] for name, _ in rows}
    for _ in range(ROUNDS):
        for name, func in rows:
            start = time.perf_counter_ns()
            for _ in range(N):
                func()
            samples[name].append((time.perf_counter_ns() - start) / N)
    return [(name, statistics.median(samples[name])) for name, _ in rows]


class SeedSmartasync:
    """The seed's decorator as its documents describe it: detection with
    asyncio.get_running_loop(); in a sync context an async def runs with
    run_until_complete() on the thread's own event loop, created on first
    use and reused (the per-thread loop pool), and a plain def is called
    directly; in an async context the coroutine is returned, and a plain
    def goes to asyncio.to_thread()."""

    _loops = threading.local()

    @classmethod
    def thread_loop(cls):
        loop = getattr(cls._loops, "loop", None)
        if loop is None:
            loop = cls._loops.loop = asyncio.new_event_loop()
        return loop

    @classmethod
    def reset(cls):
        loop = getattr(cls._loops, "loop", None)
        if loop is not None:
            loop.close()
            cls._loops.loop = None

    def __new__(cls, method):
        is_async = asyncio.iscoroutinefunction(method)

        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                in_async = True
            except RuntimeError:
                in_async = False
            if in_async:
                if is_async:
                    return method(*args, **kwargs)
                return asyncio.to_thread(method, *args, **kwargs)
            if is_async:
                return cls.thread_loop().run_until_complete(method(*args, **kwargs))
            return method(*args, **kwargs)

        return wrapper


def immediate(task, source, args, cancellable, *unused):
    task.return_value(GObject.Value(int, 1))


async def trivial():
    return 1


def main():
    op = Smartasync.Operation.new_async("immediate", immediate)
    blocking = Smartasync.Operation.new_blocking("immediate-blocking", immediate)

    @Smartasync.smartasync
    def decorated():
        return 1

    @Smartasync.smartasync
    async def decorated_async():
        return 1

    @SeedSmartasync
    def seed_plain():
        return 1

    @SeedSmartasync
    async def seed_async():
        return 1

    loop = asyncio.new_event_loop()
    rows = [
        ("asyncio.run(trivial coroutine)", lambda: asyncio.run(trivial())),
        ("loop.run_until_complete, reused loop", lambda: loop.run_until_complete(trivial())),
        ("Operation.call_sync, Python async impl", lambda: op.call_sync(None, None, None)),
        ("Operation.call_sync, Python blocking impl", lambda: blocking.call_sync(None, None, None)),
        ("Operation.call (smart), sync context", lambda: op.call(None, None, None, None)),
        ("@Smartasync.smartasync function, sync context", decorated),
        ("@Smartasync.smartasync async def, sync context", decorated_async),
        ("seed @smartasync def, sync context", seed_plain),
        ("seed @smartasync async def, sync context", seed_async),
        ("plain Python call", lambda: 1),
    ]
    results = per_call_ns(rows)
    loop.close()

    base_run = results[0][1]
    base_reused = results[1][1]
    print(f"Python {sys.version.split()[0]}, PyGObject {gi.__version__}, GLib "
          f"{GLib.MAJOR_VERSION}.{GLib.MINOR_VERSION}.{GLib.MICRO_VERSION}; "
          f"median of {ROUNDS} interleaved rounds of {N} calls")
    print(f"{'path':48} | {'µs/call':>8} | {'vs asyncio.run':>14} | {'vs reused loop':>14}")
    print("-" * 94)
    for name, ns in results:
        print(f"{name:48} | {ns / 1000:8.2f} | {ns / base_run:13.2f}x | {ns / base_reused:13.2f}x")
    by_name = dict(results)
    print()
    for ours, seed in (("@Smartasync.smartasync async def, sync context",
                        "seed @smartasync async def, sync context"),
                       ("@Smartasync.smartasync function, sync context",
                        "seed @smartasync async def, sync context"),
                       ("@Smartasync.smartasync function, sync context",
                        "seed @smartasync def, sync context")):
        print(f"ratio {ours} / {seed}: {by_name[ours] / by_name[seed]:.2f}")
    SeedSmartasync.reset()
    Smartasync.reset()


if __name__ == "__main__":
    main()
