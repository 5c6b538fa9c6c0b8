#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python program that doc/bindings.md quotes: the PyGObject override
# (the Smartasync.smartasync decorator on async def and def, Pending,
# Smartasync.gio and Smartasync.sync, run_once and singleflight, smartawait
# and smartcontinuation, the scoped modes), an operation written in Python,
# and asyncio. Run against the build tree (GI_TYPELIB_PATH, LD_LIBRARY_PATH
# and PYTHONPATH as in introspection/meson.build); exits non-zero if anything
# differs from the guide.

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


fd, path = tempfile.mkstemp(prefix="smartasync-bindings-")
os.write(fd, b"one implementation, every caller\n")
os.close(fd)
expected = hashlib.sha256(b"one implementation, every caller\n").hexdigest()


# One coroutine for every caller: GIO I/O awaited, blocking work awaited.
@Smartasync.smartasync
async def load_digest(path):
    file = Gio.File.new_for_path(path)
    ok, contents, etag = await Smartasync.gio(file, "load_contents", None)
    return await digest_bytes(contents)


# A plain function: called directly with no loop, on a worker otherwise.
@Smartasync.smartasync
def digest_bytes(data):
    return hashlib.sha256(data).hexdigest()


# No loop runs on this thread: the call returns the value.
value = load_digest(path)
check("no loop: load_digest() returns the value", value == expected)

# From code a running GLib loop dispatched, the same call returns a Pending
# at once; the coroutine is stepped by that loop, and the callback runs there.
loop = GLib.MainLoop()
results = []


def on_digest(pending):
    results.append((pending.result(), threading.current_thread() is threading.main_thread()))
    loop.quit()


def on_idle():
    pending = load_digest(path)
    results.append(pending.done())
    pending.add_done_callback(on_digest)
    return GLib.SOURCE_REMOVE


GLib.idle_add(on_idle)
loop.run()
check("GLib loop: load_digest() returns a Pending, completed on the loop",
      results == [False, (expected, True)])


# Inside asyncio, await it: the asyncio loop keeps running meanwhile.
async def main():
    return await load_digest(path), await digest_bytes(b"")


in_asyncio = asyncio.run(main())
check("asyncio: await load_digest(path), await digest_bytes(b'')",
      in_asyncio == (expected, hashlib.sha256(b"").hexdigest()))

# Any GIO _async/_finish pair, synchronously: what _finish returns.
file = Gio.File.new_for_path(path)
ok, contents, etag = Smartasync.sync(file, "load_contents", None)
check("Smartasync.sync(file, 'load_contents', None)", ok and contents.startswith(b"one"))

# Smartasync.set_async() forces the GLib path: here, with no loop running,
# nothing would ever complete the Pending, and wait() says so at once.
with Smartasync.set_async():
    pending = digest_bytes(b"forced")
refused = False
try:
    pending.wait()
except GLib.Error as error:
    refused = error.matches(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK)
check("set_async(): Pending.wait() refused at once (WOULD_BLOCK)", refused)


# Singleflight: concurrent callers of one run share its result.
asked = threading.Event()


@Smartasync.singleflight
def fetch_config(name):
    asked.wait()  # here: until every caller has asked
    return {"name": name, "loaded by": threading.current_thread().name}


lock = Smartasync.Lock.new()
answer = lock.run_once(digest_bytes, b"once", key="digest")
check("lock.run_once(fn, *args, key=...) with no loop: the value",
      answer == hashlib.sha256(b"once").hexdigest())


async def three_callers():
    calls = [fetch_config("ui") for _ in range(3)]
    asked.set()
    return await asyncio.gather(*calls)


configs = asyncio.run(three_callers())
check("@Smartasync.singleflight: three concurrent callers, one run",
      configs[0] is configs[1] is configs[2] and fetch_config.lock.get_executions() == 1)


# smartawait resolves nested awaitables; smartcontinuation applies a
# function now to a ready value, or later to an awaitable one.
async def nested():
    return load_digest(path)


@Smartasync.smartasync
async def resolve():
    return await Smartasync.smartawait(nested())


short = Smartasync.smartcontinuation({"name": "Alice"}, lambda d: d["name"])
check("smartawait(nested awaitables)", resolve() == expected)
check("smartcontinuation(ready value, fn)", short == "Alice")


# An operation written in Python, called like one written in C. Results go
# through g_task_return_value().
def shout(task, source, args, cancellable, *user_data):
    task.return_value(GObject.Value(str, args.get_string().upper()))


shout_op = Smartasync.Operation.new_blocking("shout", shout)
ok, value = shout_op.call_sync(None, GLib.Variant("s", "hello"), None)
check("Operation.call_sync() from Python", ok and value == "HELLO")

# An implementation that returns with return_int() declares its result type,
# so that every caller, a lock's included, gets the value.
count_op = Smartasync.Operation.new_blocking("count", lambda task, *unused: task.return_int(7))
count_op.props.result_type = GObject.TYPE_INT
ok, value = count_op.call_sync(None, None, None)  # value == 7
check("declared result type from Python", ok and value == 7)
check("declared result type through a lock",
      Smartasync.Lock.new().run_sync("k", count_op, None, None, None) == (True, 7))

os.unlink(path)
Smartasync.reset()
sys.exit(0 if all(checks) else 1)
