#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python program that doc/bindings.md quotes: the PyGObject override
# (the Smartasync.smartasync decorator, Smartasync.sync, Smartasync.mode),
# an operation written in Python, and how it all relates to asyncio. Run
# against the build tree (GI_TYPELIB_PATH, LD_LIBRARY_PATH and PYTHONPATH
# as in introspection/meson.build); exits non-zero if anything differs from
# the guide.

import asyncio
import hashlib
import os
import sys
import tempfile
import threading

import gi

gi.require_version("Smartasync", "1.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib, GObject, Smartasync  # noqa: E402

checks = []


def check(what, ok):
    print(f"{'ok' if ok else 'FAILED'}: {what}")
    checks.append(ok)


# One Python function for every caller.
@Smartasync.smartasync
def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


fd, path = tempfile.mkstemp(prefix="smartasync-bindings-")
os.write(fd, b"one implementation, every caller\n")
os.close(fd)
expected = hashlib.sha256(b"one implementation, every caller\n").hexdigest()

# No GLib main loop runs on this thread: the call returns the value.
value = digest(path)
check("sync context: digest() returns the value", value == expected)

# From code a running GLib loop dispatched, the same call returns a Pending
# at once; the function runs on a worker thread, and the callback on the loop.
loop = GLib.MainLoop()
results = []


def on_digest(pending):
    results.append((pending.result(), threading.current_thread() is threading.main_thread()))
    loop.quit()


def on_idle():
    pending = digest(path)
    results.append(pending.done())
    pending.add_done_callback(on_digest)
    return GLib.SOURCE_REMOVE


GLib.idle_add(on_idle)
loop.run()
check("async context: digest() returns a pending result, completed on the loop",
      results == [False, (expected, True)])

# Any GIO _async/_finish pair, synchronously: what _finish returns.
file = Gio.File.new_for_path(path)
ok, contents, etag = Smartasync.sync(file, "load_contents", None)
check("Smartasync.sync(file, 'load_contents', None)", ok and contents.startswith(b"one"))

# Forcing a mode for a block, here to test the async path without a loop.
with Smartasync.mode(Smartasync.Mode.ASYNC):
    pending = digest(path)
check("with Smartasync.mode(Smartasync.Mode.ASYNC): a Pending", not isinstance(pending, str))
context = GLib.MainContext.default()
while not pending.done():
    context.iteration(True)
check("  ... completed by iterating the default context", pending.result() == expected)


# An operation written in Python, called like one written in C. Results go
# through g_task_return_value().
def shout(task, source, args, cancellable, *user_data):
    task.return_value(GObject.Value(str, args.get_string().upper()))


shout_op = Smartasync.Operation.new_blocking("shout", shout)
ok, value = shout_op.call_sync(None, GLib.Variant("s", "hello"), None)
check("Operation.call_sync() from Python", ok and value == "HELLO")


# asyncio is not a GLib main loop: inside a coroutine, Smartasync sees a
# sync context, so a smart call would block the event loop. Hand it to a
# thread instead; a worker thread is a sync context and gets the value.
async def main():
    in_async = Smartasync.in_async_context()
    value = await asyncio.to_thread(digest, path)
    return in_async, value


in_async, value = asyncio.run(main())
check("asyncio: in_async_context() is False in a coroutine", in_async is False)
check("asyncio: await asyncio.to_thread(digest, path)", value == expected)

os.unlink(path)
sys.exit(0 if all(checks) else 1)
