# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-call cost of Smartasync from Python, against Python's own baselines
measured in the same run: asyncio.run() of a trivial coroutine, and
run_until_complete() on one reused event loop.

    bench_smartasync.py [--quick]
"""

import asyncio
import statistics
import sys
import time

import gi

gi.require_version("Smartasync", "1.0")
from gi.repository import GLib, GObject, Smartasync  # noqa: E402

QUICK = "--quick" in sys.argv
N = 200 if QUICK else 5000
ROUNDS = 3 if QUICK else 7


def per_call_ns(func):
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(N):
            func()
        samples.append((time.perf_counter_ns() - start) / N)
    return statistics.median(samples)


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

    loop = asyncio.new_event_loop()
    rows = [
        ("asyncio.run(trivial coroutine)", lambda: asyncio.run(trivial())),
        ("loop.run_until_complete, reused loop", lambda: loop.run_until_complete(trivial())),
        ("Operation.call_sync, Python async impl", lambda: op.call_sync(None, None, None)),
        ("Operation.call_sync, Python blocking impl", lambda: blocking.call_sync(None, None, None)),
        ("Operation.call (smart), sync context", lambda: op.call(None, None, None, None)),
        ("@Smartasync.smartasync function, sync context", decorated),
        ("plain Python call", lambda: 1),
    ]
    results = [(name, per_call_ns(func)) for name, func in rows]
    loop.close()

    base_run = results[0][1]
    base_reused = results[1][1]
    print(f"Python {sys.version.split()[0]}, PyGObject {gi.__version__}, GLib "
          f"{GLib.MAJOR_VERSION}.{GLib.MINOR_VERSION}.{GLib.MICRO_VERSION}; "
          f"median of {ROUNDS} rounds of {N} calls")
    print(f"{'path':48} | {'µs/call':>8} | {'vs asyncio.run':>14} | {'vs reused loop':>14}")
    print("-" * 94)
    for name, ns in results:
        print(f"{name:48} | {ns / 1000:8.2f} | {ns / base_run:13.2f}x | {ns / base_reused:13.2f}x")
    Smartasync.reset()


if __name__ == "__main__":
    main()
