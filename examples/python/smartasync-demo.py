#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One Python function, called from a script with no loop and from a running
GLib main loop; and an async-only GIO call made synchronously.

Run from the build tree with `meson devenv -C build` (or with GI_TYPELIB_PATH,
LD_LIBRARY_PATH and PYTHONPATH set as the test suite does)."""

import hashlib
import sys
import threading
import time

import gi

gi.require_version("Smartasync", "1.0")
from gi.repository import Gio, GLib, Smartasync  # noqa: E402


@Smartasync.smartasync
def checksum(size_mb):
    """Blocking work: runs directly without a loop, on a worker inside one."""
    data = b"smartasync" * (size_mb * 100_000)
    return hashlib.sha256(data).hexdigest(), threading.current_thread().name


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20

    # 1. No loop: a GIO async-only call, synchronously, in one line.
    proc = Gio.Subprocess.new(["uname", "-s"], Gio.SubprocessFlags.STDOUT_PIPE)
    ok, out, _err = Smartasync.sync(proc, "communicate_utf8", None, None)
    print(f"sync context: uname -s -> {out.strip()!r}")

    digest, thread = checksum(size)
    print(f"sync context: checksum({size}) = {digest[:16]}... on {thread}")

    # 2. In a running loop: the same function returns a Pending at once, runs on
    #    a worker, and the loop keeps ticking.
    loop = GLib.MainLoop()
    ticks = []
    results = []

    def start():
        pending = checksum(size)
        print(f"async context: checksum({size}) returned {type(pending).__name__}, done={pending.done()}")
        GLib.timeout_add(5, lambda: ticks.append(1) or not pending.done())
        pending.add_done_callback(lambda p: (results.append(p.result()), loop.quit()))
        return False

    started = time.monotonic()
    GLib.idle_add(start)
    loop.run()
    digest2, thread2 = results[0]
    print(f"async context: done in {1000 * (time.monotonic() - started):.0f} ms on {thread2}; "
          f"the loop ticked {len(ticks)} times meanwhile")
    if digest2 != digest or thread2 == threading.main_thread().name:
        print("unexpected result", file=sys.stderr)
        return 1
    Smartasync.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
