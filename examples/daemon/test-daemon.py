#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-daemon.py SCENARIO --daemon PATH [--valgrind PATH --suppressions FILE ...]
#
# Integration tests of smartasync-daemon, the way a client meets it: each run
# starts a private message bus (GTestDBus, so no session bus is needed),
# starts the daemon on it, talks to it over D-Bus with GDBus (PyGObject),
# stops it with SIGTERM, and checks that it exits with status 0 and logged no
# warning. Prints TAP. Measured figures are printed as TAP comments.
#
# Scenarios (one test each, so that they run in parallel):
#   methods         every method's reply, introspection, the counters
#   errors          wrong argument types and bad values give proper D-Bus errors
#   coalescing      200 concurrent identical Reports run once
#   responsiveness  Ping latency while Slow and Hash calls run
#   disconnect      clients killed mid-call: their calls are cancelled
#   shutdown        SIGTERM and SIGINT with calls in flight, a second instance, --replace
#   valgrind        a short scenario with the daemon under memcheck
# "client" is internal: a separate process that calls the daemon and is
# killed mid-call by the disconnect scenarios.
#
# No check depends on how fast the machine is: the scenarios that need work
# to be still running start the daemon with --hold, which keeps every Slow
# call and Report computation going until the test sends SIGUSR1, and they
# wait for the daemon's counters (GetCounters) to show what they expect
# before they go on. Times are printed as figures, never asserted; the only
# deadlines are generous hang guards, which say what they were waiting for.

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback


def skip_all(reason):
    """A missing tool skips the test, as GNOME suites do: TAP's plan with
    SKIP and exit status 77, with the reason in both."""
    print("1..0 # SKIP %s" % reason, flush=True)
    print("test-daemon.py: skipped: %s" % reason, file=sys.stderr, flush=True)
    sys.exit(77)


try:
    import gi
    gi.require_version("GLib", "2.0")
    gi.require_version("Gio", "2.0")
    from gi.repository import GLib, Gio
except (ImportError, ValueError) as e:
    skip_all("PyGObject (python3-gi) is missing: %s" % e)

BUS_NAME = "org.example.Smartasync1"
OBJECT_PATH = "/org/example/Smartasync1"
INTERFACE = "org.example.Smartasync1"
SERVICE_ERROR = INTERFACE + ".Error."
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

ARGS = None
TIMEOUT_SCALE = 1          # larger under valgrind
HANG_GUARD_S = 120         # a wait this long is a hang, not a slow machine
PROCESSES = []             # killed at the end, whatever happened


class HangGuard(Exception):
    """A wait ran into its hang guard; the message says what it waited for."""

    def __init__(self, what, last=None):
        text = "hang guard: still waiting for %s after %d s" % (what, HANG_GUARD_S * TIMEOUT_SCALE)
        if last is not None:
            text += " (last seen: %s)" % (last,)
        super().__init__(text)


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, condition, what, detail=None):
        self.count += 1
        print("%s %d - %s" % ("ok" if condition else "not ok", self.count, what), flush=True)
        if not condition:
            self.failed += 1
            if detail is not None:
                self.diag(detail)
        return condition

    def skip(self, what, reason):
        self.count += 1
        print("ok %d - %s # SKIP %s" % (self.count, what, reason), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def finish(self):
        print("1..%d" % self.count, flush=True)
        return 1 if self.failed else 0


# D-Bus helpers

def variant(signature, *values):
    return GLib.Variant(signature, values)


def connect(address):
    return Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
        Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)


def call(conn, method, args=None, timeout_s=HANG_GUARD_S):
    reply = conn.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, method, args, None,
                           Gio.DBusCallFlags.NONE, int(timeout_s * 1000 * TIMEOUT_SCALE), None)
    return unpack(reply)


def unpack(reply):
    # ay unpacks to a list of ints: take the bytes as they are.
    if reply.get_type_string() == "(ay)":
        return (reply.get_child_value(0).get_data_as_bytes().get_data(),)
    return reply.unpack()


def shown(method, args):
    text = method + (args.print_(False) if args is not None else "()")
    return text if len(text) <= 70 else text[:67] + "..."


def error_name(error):
    return Gio.DBusError.get_remote_error(error) or error.message


def call_error(conn, method, args=None):
    """The D-Bus error name a call fails with, or None if it succeeds."""
    try:
        call(conn, method, args)
    except GLib.Error as e:
        return error_name(e)
    return None


def call_async(conn, method, args, results, key, timeout_s=HANG_GUARD_S):
    """Starts a call; results[key] becomes ("ok", reply) or ("error", name)."""
    def done(source, result, _data):
        try:
            results[key] = ("ok", unpack(source.call_finish(result)))
        except GLib.Error as e:
            results[key] = ("error", error_name(e))

    conn.call(BUS_NAME, OBJECT_PATH, INTERFACE, method, args, None, Gio.DBusCallFlags.NONE,
              int(timeout_s * 1000 * TIMEOUT_SCALE), None, done, None)


def dispatch_pending():
    """Runs the GDBus callbacks that are ready, without waiting."""
    context = GLib.MainContext.default()
    while context.iteration(False):
        pass


def spin_until(condition, what):
    """Dispatches this process's GDBus callbacks until condition() holds."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + HANG_GUARD_S * TIMEOUT_SCALE
    while not condition():
        if time.monotonic() > deadline:
            raise HangGuard(what)
        if not context.iteration(False):
            time.sleep(0.002)
    return True


def counters(conn):
    return call(conn, "GetCounters")[0]


def counters_until(conn, condition, what):
    """Polls GetCounters until condition(counters) holds; returns them."""
    deadline = time.monotonic() + HANG_GUARD_S * TIMEOUT_SCALE
    while True:
        current = counters(conn)
        if condition(current):
            return current
        if time.monotonic() > deadline:
            raise HangGuard(what, current)
        time.sleep(0.01)


def call_held(daemon, conn, method, args):
    """Calls a daemon started with --hold: releases the call's work once it
    has started, and returns the reply."""
    results = {}
    before = counters(conn)
    call_async(conn, method, args, results, "reply")
    counters_until(conn, lambda c: delta(c, before, "executions") == 1,
                   "%s to start" % shown(method, args))
    daemon.release()
    spin_until(lambda: "reply" in results, "the reply of %s" % shown(method, args))
    if results["reply"][0] != "ok":
        raise AssertionError("%s failed: %s" % (shown(method, args), results["reply"][1]))
    return results["reply"][1]


def delta(after, before, key):
    return after[key] - before[key]


def ms(seconds):
    return seconds * 1000.0


def has_owner(conn):
    reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "NameHasOwner", variant("(s)", BUS_NAME), None,
                           Gio.DBusCallFlags.NONE, 5000, None)
    return reply.unpack()[0]


# The private bus and the daemon

class Bus:
    def __init__(self):
        self.test_dbus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
        self.test_dbus.up()
        self.address = self.test_dbus.get_bus_address()

    def connect(self):
        return connect(self.address)

    def down(self):
        self.test_dbus.down()


class Daemon:
    """smartasync-daemon on the private bus; its output goes to a log file."""

    def __init__(self, bus, tmpdir, args=(), use_address=True, wrapper=(), env=None):
        self.log_path = tempfile.mkstemp(prefix="daemon-", suffix=".log", dir=tmpdir)[1]
        argv = list(wrapper) + [ARGS.daemon]
        if use_address:
            argv += ["--address", bus.address]
        argv += list(args)
        full_env = dict(os.environ)
        # GTestDBus exports the private bus's address in the C environment,
        # which Python's os.environ does not see: pass it on, so that the
        # daemon can never reach a real session bus.
        full_env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        # A critical is a bug: abort, so that the exit status shows it.
        full_env["G_DEBUG"] = "gc-friendly,fatal-criticals"
        full_env.update(env or {})
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env)
        PROCESSES.append(self.proc)

    def wait_ready(self, conn):
        deadline = time.monotonic() + HANG_GUARD_S * TIMEOUT_SCALE
        while not has_owner(conn):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def release(self):
        """Lets the work held by --hold end."""
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self, sig=signal.SIGTERM):
        """Sends sig; returns (exit status or None, seconds until exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit()

    def wait_exit(self):
        """The exit status, or None if the hang guard ran out (the daemon is
        killed then); and the seconds it took."""
        start = time.monotonic()
        try:
            status = self.proc.wait(HANG_GUARD_S * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            status = None
        return status, time.monotonic() - start

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def check_stop(self, t, what="SIGTERM", sig=signal.SIGTERM):
        status, elapsed = self.stop(sig)
        t.ok(status == 0, "%s: the daemon exits with status 0 (in %.0f ms)" % (what, ms(elapsed)),
             "exit status %r; log:\n%s" % (status, self.log()))
        self.check_log(t, "the daemon logged no warning")

    def check_log(self, t, what):
        """The daemon's output (stdout and stderr) holds no GLib warning or
        critical (GLib-GIO-WARNING, Smartasync-daemon-CRITICAL, ...)."""
        log = self.log()
        t.ok("WARNING" not in log and "CRITICAL" not in log, what, log)


def spawn_client(address, method, signature, value, count=1):
    """A separate client process that makes `count` calls and waits forever."""
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "client",
                             "--address", address, method, signature, value, str(count)])
    PROCESSES.append(proc)
    return proc


def kill_client(proc):
    proc.kill()
    proc.wait()


def write_file(tmpdir, name, data):
    path = os.path.join(tmpdir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def latency_figures(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return "n=%d, median %.2f ms, p95 %.2f ms, max %.2f ms" % (
        len(samples), statistics.median(samples), p95, samples[-1])


def timed_ping(conn):
    start = time.monotonic()
    reply = call(conn, "Ping")
    return ms(time.monotonic() - start), reply


# Scenarios

def scenario_methods(t, bus, tmpdir):
    # Without --address: the daemon takes the session bus from the
    # environment, which GTestDBus points at the private bus.
    daemon = Daemon(bus, tmpdir, use_address=False)
    conn = bus.connect()
    if not t.ok(daemon.wait_ready(conn), "the daemon owns %s on the session bus" % BUS_NAME,
                daemon.log()):
        return

    t.ok(call(conn, "Ping") == ("pong",), "Ping answers \"pong\"")

    data = os.urandom(300 * 1024) + b"\0binary\0tail"
    path = write_file(tmpdir, "data.bin", data)
    t.ok(call(conn, "Hash", variant("(s)", path)) == (hashlib.sha256(data).hexdigest(),),
         "Hash returns the file's SHA-256")
    empty = write_file(tmpdir, "empty", b"")
    t.ok(call(conn, "Hash", variant("(s)", empty)) == (EMPTY_SHA256,),
         "Hash of an empty file")

    start = time.monotonic()
    elapsed = call(conn, "Slow", variant("(u)", 120))[0]
    took = ms(time.monotonic() - start)
    t.ok(elapsed >= 120 and took >= 120,
         "Slow(120) works for at least 120 ms and says so (%u ms reported, %.0f ms seen)" % (
             elapsed, took))

    t.ok(call(conn, "ReadFile", variant("(s)", path)) == (data,),
         "ReadFile returns the file's bytes, NULs included")
    t.ok(call(conn, "ReadFile", variant("(s)", empty)) == (b"",), "ReadFile of an empty file")

    report = call(conn, "Report", variant("(s)", "daily"))[0]
    t.ok("“daily”" in report and "#1" in report, "Report answers: %s" % report)

    xml = conn.call_sync(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Introspectable",
                         "Introspect", None, None, Gio.DBusCallFlags.NONE, 5000, None).unpack()[0]
    node = Gio.DBusNodeInfo.new_for_xml(xml)
    iface = node.lookup_interface(INTERFACE)
    names = sorted(m.name for m in iface.methods) if iface else []
    t.ok(names == ["GetCounters", "Hash", "Ping", "ReadFile", "Report", "Slow"],
         "the object introspects with the six methods", names)

    c = counters(conn)
    t.diag("counters: %s" % c)
    t.ok(c["executions"] == 6 and c["offloads"] == 3,
         "6 executions, the 3 blocking ones (Hash, Hash, Slow) offloaded", c)
    t.ok(c["errors"] == 0 and c["cancellations"] == 0 and c["coalesced"] == 0,
         "no error, cancellation or coalescing", c)
    t.ok(c["pending"] == 0 and c["callers"] == 0, "no call pending, no caller tracked", c)
    daemon.check_stop(t)


def scenario_errors(t, bus, tmpdir):
    daemon = Daemon(bus, tmpdir)
    conn = bus.connect()
    if not t.ok(daemon.wait_ready(conn), "the daemon is up", daemon.log()):
        return
    before = counters(conn)

    # GDBus checks the types against the introspection data: the daemon's
    # handler never sees these calls.
    wrong_types = [
        ("Hash", variant("(u)", 5)),
        ("Hash", None),
        ("Slow", variant("(s)", "100")),
        ("Slow", variant("(i)", -5)),
        ("Report", variant("(ss)", "a", "b")),
        ("ReadFile", variant("(ay)", b"/etc/hostname")),
        ("Ping", variant("(s)", "x")),
        ("GetCounters", variant("(u)", 1)),
    ]
    for method, args in wrong_types:
        name = call_error(conn, method, args)
        t.ok(name == INVALID_ARGS,
             "%s: wrong argument type gives InvalidArgs" % shown(method, args), name)
    name = call_error(conn, "Frobnicate")
    t.ok(name == UNKNOWN_METHOD, "an unknown method gives UnknownMethod", name)

    big = os.path.join(tmpdir, "big")
    with open(big, "wb") as f:
        f.truncate(9 * 1024 * 1024)       # sparse: costs no disk
    unreadable = write_file(tmpdir, "unreadable", b"secret")
    os.chmod(unreadable, 0)
    bad_values = [
        ("Hash", variant("(s)", "relative/path"), INVALID_ARGS),
        ("Hash", variant("(s)", ""), INVALID_ARGS),
        ("Hash", variant("(s)", os.path.join(tmpdir, "missing")), SERVICE_ERROR + "NotFound"),
        ("Hash", variant("(s)", tmpdir), SERVICE_ERROR + "NotRegularFile"),
        ("Hash", variant("(s)", "/dev/zero"), SERVICE_ERROR + "NotRegularFile"),
        ("ReadFile", variant("(s)", "etc/hostname"), INVALID_ARGS),
        ("ReadFile", variant("(s)", os.path.join(tmpdir, "missing")), SERVICE_ERROR + "NotFound"),
        ("ReadFile", variant("(s)", tmpdir), SERVICE_ERROR + "NotRegularFile"),
        ("ReadFile", variant("(s)", big), SERVICE_ERROR + "TooLarge"),
        ("Slow", variant("(u)", 10001), INVALID_ARGS),
        ("Slow", variant("(u)", 2 ** 32 - 1), INVALID_ARGS),
        ("Report", variant("(s)", ""), INVALID_ARGS),
        ("Report", variant("(s)", "k" * 256), INVALID_ARGS),
    ]
    for method, args, expected in bad_values:
        name = call_error(conn, method, args)
        t.ok(name == expected, "%s gives %s" % (shown(method, args), expected), name)

    n_bad = len(bad_values)
    if os.geteuid() != 0:
        for method in ("Hash", "ReadFile"):
            name = call_error(conn, method, variant("(s)", unreadable))
            t.ok(name == SERVICE_ERROR + "PermissionDenied",
                 "%s of an unreadable file gives PermissionDenied" % method, name)
            n_bad += 1
    else:
        t.skip("PermissionDenied for an unreadable file", "root reads every file")

    t.ok(call(conn, "Ping") == ("pong",), "the daemon still answers")
    after = counters(conn)
    t.ok(delta(after, before, "errors") == n_bad,
         "the errors counter counts the %d bad values" % n_bad, (before, after))
    # The handler saw the bad values, Ping and the first GetCounters: not
    # the calls GDBus rejected.
    t.ok(delta(after, before, "calls") == n_bad + 2,
         "the calls with wrong types never reached the handler", (before, after))
    t.ok(after["pending"] == 0 and after["callers"] == 0, "nothing left pending", after)
    daemon.check_stop(t)


def coalesce(t, daemon, conns, keys, per_key, label):
    """Sends per_key concurrent Reports for each key, spread over conns, to a
    daemon started with --hold; once the counters show every request in the
    handler and each key's run started, none of them answered yet, releases
    the runs. Returns the answers, and the executions and joins counted while
    the runs were held."""
    results = {}
    total = per_key * len(keys)
    before = counters(conns[0])
    start = time.monotonic()
    for i in range(total):
        call_async(conns[i % len(conns)], "Report", variant("(s)", keys[i % len(keys)]),
                   results, i)
    held = counters_until(conns[0],
                          lambda c: c["pending"] == total and
                          delta(c, before, "executions") >= len(keys),
                          "%s: the %d Reports pending, each key's run started" % (label, total))
    arrived = ms(time.monotonic() - start)
    t.ok(not results, "%s: no reply before the runs are released" % label, results)
    daemon.release()
    spin_until(lambda: len(results) == total, "%s: the %d replies" % (label, total))
    answers = [r[1][0] for r in results.values() if r[0] == "ok"]
    t.ok(len(answers) == total, "%s: %d requests, %d correct replies" % (label, total, len(answers)),
         [r for r in results.values() if r[0] != "ok"][:5])
    t.diag("%s: %d requests in the handler %.0f ms after the first was sent, all answered %.0f ms"
           " after" % (label, total, arrived, ms(time.monotonic() - start)))
    return answers, delta(held, before, "executions"), delta(held, before, "coalesced")


def scenario_coalescing(t, bus, tmpdir):
    # Held runs: however slowly the requests arrive, they all find the run
    # going.
    daemon = Daemon(bus, tmpdir, ["--hold"])
    conns = [bus.connect() for _ in range(4)]
    if not t.ok(daemon.wait_ready(conns[0]), "the daemon is up", daemon.log()):
        return

    answers, executions, coalesced = coalesce(t, daemon, conns, ["weekly"], 200, "round 1")
    t.ok(len(set(answers)) == 1 and "“weekly”" in answers[0],
         "all 200 replies are the same report: %s" % (answers[0] if answers else None),
         set(answers))
    t.ok(executions == 1, "exactly one execution for 200 identical requests", executions)
    t.ok(coalesced == 199, "199 requests coalesced into it", coalesced)
    t.diag("200 concurrent Report(\"weekly\"): %d execution(s), %d coalesced" % (executions, coalesced))

    # The lock is not a cache: once the report is done, the next requests
    # start a new computation.
    again, executions, _ = coalesce(t, daemon, conns, ["weekly"], 50, "round 2")
    t.ok(executions == 1 and len(set(again)) == 1 and again[0] != answers[0],
         "a later round computes afresh, once: %s" % (again[0] if again else None), executions)

    # Different keys are different flights, computed side by side.
    both, executions, coalesced = coalesce(t, daemon, conns, ["daily", "monthly"], 50, "two keys")
    t.ok(executions == 2 and coalesced == 98 and len(set(both)) == 2,
         "two keys: two executions, 98 coalesced", (executions, coalesced, set(both)))

    c = counters(conns[0])
    t.ok(c["pending"] == 0 and c["callers"] == 0 and c["errors"] == 0,
         "nothing left pending, no error", c)
    daemon.check_stop(t)


def scenario_responsiveness(t, bus, tmpdir):
    # --hold: Slow keeps its worker until the test releases it, so the
    # Pings below are answered while it is known to be running. A loop
    # blocked by the blocking work would answer none of them (the hang
    # guard would say so). Latencies are figures, not checks.
    daemon = Daemon(bus, tmpdir, ["--hold"])
    load = bus.connect()
    pinger = bus.connect()
    if not t.ok(daemon.wait_ready(pinger), "the daemon is up", daemon.log()):
        return

    data = os.urandom(16 * 1024 * 1024)
    path = write_file(tmpdir, "big.bin", data)
    expected = hashlib.sha256(data).hexdigest()
    del data

    idle = [timed_ping(pinger)[0] for _ in range(30)]

    n_hashes = 8
    results = {}
    call_async(load, "Slow", variant("(u)", 100), results, "slow")
    for i in range(n_hashes):
        call_async(load, "Hash", variant("(s)", path), results, "hash%d" % i)

    # Ping until the Hash calls are answered (figures only: on a loaded
    # machine the hashes may be done before the first Ping).
    while_hashing = []
    while not all("hash%d" % i in results for i in range(n_hashes)):
        while_hashing.append(timed_ping(pinger)[0])
        dispatch_pending()
        if len(while_hashing) > 100000:
            raise HangGuard("the %d Hash replies" % n_hashes)
    t.ok(all(results.get("hash%d" % i) == ("ok", (expected,)) for i in range(n_hashes)),
         "the %d Hash calls answer the right SHA-256" % n_hashes, results)

    # Slow has started (it was queued first) and is held.
    c = counters_until(pinger, lambda c: c["executions"] == n_hashes + 1,
                       "Slow to start on a worker")
    n_pings = 20
    while_slow, replies = [], []
    for _ in range(n_pings):
        latency, reply = timed_ping(pinger)
        while_slow.append(latency)
        replies.append(reply)
    during = counters(pinger)
    dispatch_pending()
    t.ok("slow" not in results and during["pending"] == 1,
         "Slow is still running (not answered, pending) after the Pings", (results, during))
    t.ok(all(r == ("pong",) for r in replies),
         "%d Pings answered while Slow held a worker" % n_pings, replies)

    daemon.release()
    spin_until(lambda: "slow" in results, "Slow's reply after the release")
    slow = results.get("slow")
    t.ok(slow[0] == "ok" and slow[1][0] >= 100, "Slow(100) answers once released", slow)

    t.diag("idle Ping latency: %s" % latency_figures(idle))
    if while_hashing:
        t.diag("Ping latency while Slow and %d Hash(16 MiB) run: %s" % (
            n_hashes, latency_figures(while_hashing)))
    t.diag("Ping latency while Slow runs: %s" % latency_figures(while_slow))

    c = counters(pinger)
    t.ok(c["offloads"] == n_hashes + 1 and c["executions"] == n_hashes + 1,
         "the %d blocking calls ran off the main thread" % (n_hashes + 1), c)
    t.ok(c["pending"] == 0 and c["callers"] == 0, "nothing left pending", c)
    daemon.check_stop(t)


def scenario_disconnect(t, bus, tmpdir):
    # --hold: Slow calls and Reports end only when released, so a kill
    # always finds them running, however slowly a client starts.
    daemon = Daemon(bus, tmpdir, ["--hold"])
    conn = bus.connect()
    if not t.ok(daemon.wait_ready(conn), "the daemon is up", daemon.log()):
        return

    # A client with three Slow calls pending is killed.
    client = spawn_client(bus.address, "Slow", "u", "100", 3)
    c = counters_until(conn, lambda c: c["pending"] == 3, "the client's 3 Slow calls")
    t.ok(c["pending"] == 3 and c["callers"] == 1, "a client has 3 Slow calls pending", c)
    killed_at = time.monotonic()
    kill_client(client)
    c = counters_until(conn, lambda c: c["cancellations"] == 3,
                       "the killed client's 3 calls to be cancelled")
    cancel_ms = ms(time.monotonic() - killed_at)
    t.ok(c["cancellations"] == 3, "killing it cancels its 3 calls", c)
    t.diag("killed client: its 3 calls cancelled %.0f ms after the kill" % cancel_ms)
    t.ok(c["pending"] == 0 and c["callers"] == 0 and c["errors"] == 0,
         "nothing is left of the client", c)

    # A Report shared with a client that is killed goes on for the others.
    # The client starts the run; this connection joins it.
    before = counters(conn)
    results = {}
    client = spawn_client(bus.address, "Report", "s", "shared")
    counters_until(conn, lambda c: c["pending"] == 1, "the client's Report")
    call_async(conn, "Report", variant("(s)", "shared"), results, "mine")
    c = counters_until(conn, lambda c: c["pending"] == 2, "a second caller of the Report")
    t.ok(delta(c, before, "coalesced") == 1, "a caller joins a running Report", c)
    kill_client(client)
    c = counters_until(conn, lambda c: delta(c, before, "cancellations") == 1,
                       "the killed client's Report to be cancelled")
    dispatch_pending()
    t.ok(delta(c, before, "cancellations") == 1 and c["pending"] == 1 and "mine" not in results,
         "killing it cancels its call only", (c, results))
    daemon.release()
    spin_until(lambda: "mine" in results, "the other caller's Report")
    t.ok(results.get("mine", ("", ("",)))[0] == "ok" and "“shared”" in results["mine"][1][0],
         "the other caller still gets the report", results)

    # A Report whose only caller is killed is cancelled; the next request
    # starts afresh.
    client = spawn_client(bus.address, "Report", "s", "lonely")
    counters_until(conn, lambda c: c["pending"] == 1, "the client's lonely Report")
    kill_client(client)
    counters_until(conn, lambda c: delta(c, before, "cancellations") == 2,
                   "the lonely Report to be cancelled")
    report = call_held(daemon, conn, "Report", variant("(s)", "lonely"))[0]
    after = counters(conn)
    t.ok("“lonely”" in report and delta(after, before, "executions") == 3,
         "after its only caller left, a Report runs afresh: %s" % report, after)

    # A killed client mid-Hash of a large file.
    data = os.urandom(4 * 1024 * 1024)
    path = write_file(tmpdir, "hash.bin", data)
    with open(path, "ab") as f:
        for _ in range(8):
            f.write(data)                 # 36 MiB
    before = counters(conn)
    client = spawn_client(bus.address, "Hash", "s", path, 2)
    counters_until(conn, lambda c: delta(c, before, "executions") == 2,
                   "the client's 2 Hash calls to start")
    kill_client(client)
    c = counters_until(conn, lambda c: c["pending"] == 0, "the Hash calls to end")
    t.ok(c["pending"] == 0 and c["callers"] == 0 and c["errors"] == 0,
         "a client killed mid-Hash leaves nothing behind (%d cancelled, %d done first)" % (
             delta(c, before, "cancellations"), 2 - delta(c, before, "cancellations")), c)

    t.ok(call(conn, "Ping") == ("pong",) and
         call_held(daemon, conn, "Slow", variant("(u)", 10))[0] >= 10,
         "the daemon keeps working")
    daemon.check_stop(t)


def scenario_shutdown(t, bus, tmpdir):
    conn = bus.connect()

    daemon = Daemon(bus, tmpdir)
    if t.ok(daemon.wait_ready(conn), "the daemon is up", daemon.log()):
        daemon.check_stop(t, "SIGTERM when idle")

    # SIGTERM with calls in flight: they are answered with Error.Cancelled.
    # --hold: they would never end by themselves, so exiting proves that the
    # daemon cancelled them instead of waiting for them.
    daemon = Daemon(bus, tmpdir, ["--hold"])
    if t.ok(daemon.wait_ready(conn), "the daemon is up again", daemon.log()):
        client = bus.connect()
        results = {}
        call_async(client, "Slow", variant("(u)", 100), results, "slow")
        call_async(client, "Report", variant("(s)", "k"), results, "report")
        counters_until(conn, lambda c: c["pending"] == 2 and c["executions"] == 2,
                       "Slow and Report to start")
        status, elapsed = daemon.stop()
        t.ok(status == 0,
             "SIGTERM with held Slow and Report in flight: exit 0 (in %.0f ms)" % ms(elapsed),
             (status, daemon.log()))
        spin_until(lambda: len(results) == 2, "the replies of the calls in flight")
        cancelled = ("error", SERVICE_ERROR + "Cancelled")
        t.ok(results.get("slow") == cancelled and results.get("report") == cancelled,
             "the calls in flight get Error.Cancelled", results)
        t.ok(not has_owner(conn), "the name is released")

    daemon = Daemon(bus, tmpdir)
    if t.ok(daemon.wait_ready(conn), "the daemon is up once more", daemon.log()):
        daemon.check_stop(t, "SIGINT", signal.SIGINT)

    # One instance per bus; --replace takes over.
    first = Daemon(bus, tmpdir)
    if t.ok(first.wait_ready(conn), "a first instance is up", first.log()):
        second = Daemon(bus, tmpdir)
        status, _ = second.wait_exit()
        t.ok(status == 1 and "owned by another process" in second.log(),
             "a second instance exits with status 1", (status, second.log()))
        second.check_log(t, "the refused second instance logged no warning")
        third = Daemon(bus, tmpdir, ["--replace"])
        status, _ = first.wait_exit()
        t.ok(status == 0, "--replace: the first instance exits with status 0", (status, first.log()))
        first.check_log(t, "--replace: the replaced instance logged no warning")
        t.ok(third.wait_ready(conn) and call(conn, "Ping") == ("pong",),
             "--replace: the new instance answers", third.log())
        third.check_stop(t)


def scenario_valgrind(t, bus, tmpdir):
    global TIMEOUT_SCALE
    if not ARGS.valgrind:
        t.skip("the daemon under valgrind", "valgrind not found")
        return
    TIMEOUT_SCALE = 2
    valgrind_log = os.path.join(tmpdir, "valgrind.log")
    wrapper = [ARGS.valgrind, "--tool=memcheck", "--leak-check=full",
               "--errors-for-leak-kinds=definite", "--error-exitcode=1",
               "--num-callers=30", "--log-file=" + valgrind_log]
    wrapper += ["--suppressions=" + s for s in ARGS.suppressions]
    daemon = Daemon(bus, tmpdir, ["--hold"], wrapper=wrapper,
                    env={"G_SLICE": "always-malloc"})
    conn = bus.connect()
    if not t.ok(daemon.wait_ready(conn), "the daemon is up under valgrind", daemon.log()):
        daemon.stop(signal.SIGKILL)
        return

    data = os.urandom(200 * 1024)
    path = write_file(tmpdir, "data.bin", data)
    t.ok(call(conn, "Ping") == ("pong",), "Ping")
    t.ok(call(conn, "Hash", variant("(s)", path)) == (hashlib.sha256(data).hexdigest(),), "Hash")
    t.ok(call_held(daemon, conn, "Slow", variant("(u)", 100))[0] >= 100, "Slow(100)")
    t.ok(call(conn, "ReadFile", variant("(s)", path)) == (data,), "ReadFile")
    t.ok(call_error(conn, "Hash", variant("(s)", "relative")) == INVALID_ARGS, "a bad value")
    t.ok(call_error(conn, "Hash", variant("(u)", 1)) == INVALID_ARGS, "a wrong type")
    t.ok(call_error(conn, "ReadFile", variant("(s)", path + ".missing")) ==
         SERVICE_ERROR + "NotFound", "a missing file")

    conns = [bus.connect() for _ in range(2)]
    answers, executions, coalesced = coalesce(t, daemon, conns, ["weekly"], 20, "Report x 20")
    t.ok(executions == 1 and coalesced == 19, "one execution for 20 Reports",
         (executions, coalesced))

    client = spawn_client(bus.address, "Slow", "u", "100", 2)
    counters_until(conn, lambda c: c["pending"] == 2, "the client's 2 Slow calls")
    kill_client(client)
    c = counters_until(conn, lambda c: c["cancellations"] == 2,
                       "the killed client's calls to be cancelled")
    t.ok(c["cancellations"] == 2 and c["pending"] == 0, "a killed client's calls are cancelled", c)

    # Stopped with work in flight: the shutdown path runs too.
    results = {}
    call_async(conn, "Slow", variant("(u)", 100), results, "slow")
    call_async(conn, "Report", variant("(s)", "late"), results, "report")
    counters_until(conn, lambda c: c["pending"] == 2, "Slow and Report in flight")
    status, elapsed = daemon.stop()
    with open(valgrind_log, errors="replace") as f:
        report = f.read()
    summary = [line.split("== ", 1)[-1] for line in report.splitlines()
               if any(k in line for k in ("ERROR SUMMARY", "definitely lost", "indirectly lost",
                                          "possibly lost", "still reachable", "All heap blocks"))]
    t.diag("valgrind: " + "; ".join(summary))
    t.ok(status == 0, "SIGTERM under valgrind: exit status 0 in %.0f ms" % ms(elapsed),
         "status %r\n%s\n%s" % (status, daemon.log(), report[-6000:]))
    t.ok("ERROR SUMMARY: 0 errors" in report, "valgrind reports no error", report[-6000:])
    spin_until(lambda: len(results) == 2, "the replies of the calls in flight")
    t.ok(all(r == ("error", SERVICE_ERROR + "Cancelled") for r in results.values()),
         "the calls in flight got Error.Cancelled", results)


SCENARIOS = {
    "methods": scenario_methods,
    "errors": scenario_errors,
    "coalescing": scenario_coalescing,
    "responsiveness": scenario_responsiveness,
    "disconnect": scenario_disconnect,
    "shutdown": scenario_shutdown,
    "valgrind": scenario_valgrind,
}


def run_client(args):
    """Makes `count` calls and waits to be killed."""
    conn = connect(args.address)
    value = int(args.value) if args.signature == "u" else args.value
    for _ in range(args.count):
        conn.call(BUS_NAME, OBJECT_PATH, INTERFACE, args.method,
                  GLib.Variant("(%s)" % args.signature, (value,)), None,
                  Gio.DBusCallFlags.NONE, -1, None, None, None)
    GLib.MainLoop().run()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS) + ["client"])
    parser.add_argument("--daemon")
    parser.add_argument("--valgrind")
    parser.add_argument("--suppressions", action="append", default=[])
    parser.add_argument("--address")
    parser.add_argument("method", nargs="?")
    parser.add_argument("signature", nargs="?")
    parser.add_argument("value", nargs="?")
    parser.add_argument("count", nargs="?", type=int, default=1)
    ARGS = parser.parse_intermixed_args()

    if ARGS.scenario == "client":
        run_client(ARGS)
        return 0

    # GTestDBus aborts the process when it cannot start a bus.
    if shutil.which("dbus-daemon") is None:
        skip_all("dbus-daemon not found (Debian package: dbus): the private bus needs it")

    t = Tap()
    bus = Bus()
    try:
        with tempfile.TemporaryDirectory(prefix="smartasync-daemon-test-") as tmpdir:
            SCENARIOS[ARGS.scenario](t, bus, tmpdir)
    except HangGuard as e:
        t.ok(False, str(e), traceback.format_exc())
    except Exception:
        t.ok(False, "the scenario ran to the end", traceback.format_exc())
    finally:
        for proc in PROCESSES:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        bus.down()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
