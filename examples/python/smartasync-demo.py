#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One `async def` and one plain function, each called from a script with no
loop, from a running GLib main loop and from asyncio.

Run from the build tree with `meson devenv -C build` (or with GI_TYPELIB_PATH,
LD_LIBRARY_PATH and PYTHONPATH set as the test suite does); the argument is
the size of the checksummed data in MB."""

import asyncio
import hashlib
import sys
import threading

import gi

gi.require_version("Smartasync", "1.0")
from gi.repository import Gio, GLib, Smartasync  # noqa: E402


@Smartasync.smartasync
def checksum(size_mb):
    """Blocking work: runs directly without a loop, on a worker otherwise."""
    data = b"smartasync" * (size_mb * 100_000)
    return hashlib.sha256(data).hexdigest(), threading.current_thread().name


@Smartasync.smartasync
async def system_and_checksum(size_mb):
    """Async work: a GIO subprocess awaited, then the blocking checksum."""
    proc = Gio.Subprocess.new(["uname", "-s"], Gio.SubprocessFlags.STDOUT_PIPE)
    ok, out, _err = await Smartasync.gio(proc, "communicate_utf8", None, None)
    digest, thread = await checksum(size_mb)
    return out.strip(), digest, thread


def from_a_glib_loop(size):
    """The same calls from code a running loop dispatched: Pendings at once;
    the loop keeps ticking while the checksum runs on a worker."""
    loop = GLib.MainLoop()
    ticks = []
    results = []

    def start():
        pending = system_and_checksum(size)
        print(f"GLib loop: system_and_checksum({size}) returned {type(pending).__name__}, "
              f"done={pending.done()}")
        GLib.timeout_add(5, lambda: ticks.append(1) or not pending.done())
        pending.add_done_callback(lambda p: (results.append(p.result()), loop.quit()))
        return GLib.SOURCE_REMOVE

    GLib.idle_add(start)
    loop.run()
    print(f"GLib loop: {results[0][0]!r}, checksum on {results[0][2]}; "
          f"the loop ticked {len(ticks)} times meanwhile")
    return results[0]


async def from_asyncio(size):
    """The same calls awaited in asyncio: the asyncio loop keeps running."""
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.ensure_future(ticker())
    result = await system_and_checksum(size)
    ticking.cancel()
    print(f"asyncio: {result[0]!r}, checksum on {result[2]}; asyncio ticked {ticks} times meanwhile")
    return result


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20

    # 1. No loop: the values, at once; the coroutine ran on this thread's
    #    private context, the checksum on a worker (it was awaited).
    system, digest, thread = system_and_checksum(size)
    print(f"no loop: system_and_checksum({size}) -> {system!r}, {digest[:16]}... on {thread}")
    direct, direct_thread = checksum(size)
    print(f"no loop: checksum({size}) -> {direct[:16]}... on {direct_thread}")

    in_loop = from_a_glib_loop(size)
    in_asyncio = asyncio.run(from_asyncio(size))

    main_thread = threading.main_thread().name
    ok = (direct == digest == in_loop[1] == in_asyncio[1]
          and direct_thread == main_thread
          and main_thread not in (in_loop[2], in_asyncio[2]))
    if not ok:
        print("unexpected result", file=sys.stderr)
    Smartasync.reset()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
