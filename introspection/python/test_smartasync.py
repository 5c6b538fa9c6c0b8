# SPDX-License-Identifier: LGPL-2.1-or-later
"""Smartasync from Python (PyGObject), against the uninstalled build."""

import asyncio
import threading
import unittest

import gi

gi.require_version("Smartasync", "1.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib, GObject, Smartasync  # noqa: E402


# Hang guards only: generous, never a synchronisation.
GUARD_S = 60


def glib_run(start):
    """Runs start(loop) from an idle of a running GLib loop on this thread;
    returns when start's code quits the loop. Fails (instead of hanging) if
    nothing does within GUARD_S."""
    loop = GLib.MainLoop()
    timed_out = []
    GLib.idle_add(lambda: start(loop) and False)
    guard = GLib.timeout_add_seconds(GUARD_S, lambda: (timed_out.append(1), loop.quit()) and False)
    loop.run()
    if timed_out:
        raise AssertionError("the GLib loop timed out")
    GLib.source_remove(guard)


run_in_loop = glib_run


def run_pendings(calls):
    """Runs calls() from a running GLib loop; it returns the Pendings it
    made, returned here once all of them completed."""
    pendings = []

    def start(loop):
        pendings.extend(calls())
        left = [len(pendings)]

        def done(pending):
            left[0] -= 1
            if left[0] == 0:
                loop.quit()

        for pending in pendings:
            pending.add_done_callback(done)

    glib_run(start)
    return pendings


def upper_async(task, source, args, cancellable, *unused):
    """An async implementation in Python: completes on the next iteration of
    the thread-default context."""
    text = args.get_string()

    def complete():
        task.return_value(GObject.Value(str, text.upper()))
        return GLib.SOURCE_REMOVE

    idle = GLib.idle_source_new()
    idle.set_callback(lambda *a: complete())
    idle.attach(GLib.MainContext.get_thread_default())


def fail_blocking(task, source, args, cancellable, *unused):
    task.return_error(GLib.Error("nope", "test-python-error", 42))


class Detection(unittest.TestCase):
    def test_before_and_inside_loop(self):
        self.assertFalse(Smartasync.in_async_context())
        seen = []
        run_in_loop(lambda loop: (seen.append(Smartasync.in_async_context()), loop.quit()))
        self.assertEqual(seen, [True])

    def test_mode_override(self):
        with Smartasync.mode(Smartasync.Mode.ASYNC):
            self.assertTrue(Smartasync.in_async_context())
        self.assertEqual(Smartasync.get_mode(), Smartasync.Mode.AUTO)


class SyncGio(unittest.TestCase):
    def setUp(self):
        self.file = Gio.File.new_for_path(GLib.build_filenamev([GLib.get_tmp_dir(), "smartasync-py-test"]))
        self.file.replace_contents(b"from python", None, False, Gio.FileCreateFlags.NONE, None)

    def tearDown(self):
        self.file.delete(None)

    def test_waiter(self):
        waiter = Smartasync.Waiter.new()
        self.file.load_contents_async(None, waiter.complete)
        ok, contents, _etag = self.file.load_contents_finish(waiter.wait(None))
        self.assertTrue(ok)
        self.assertEqual(contents, b"from python")

    def test_sync_sugar(self):
        ok, contents, _etag = Smartasync.sync(self.file, "load_contents", None)
        self.assertEqual(contents, b"from python")

    def test_subprocess_communicate(self):
        proc = Gio.Subprocess.new(["echo", "hello"], Gio.SubprocessFlags.STDOUT_PIPE)
        ok, stdout, _stderr = Smartasync.sync(proc, "communicate_utf8", None, None)
        self.assertTrue(ok)
        self.assertEqual(stdout, "hello\n")

    def test_sync_wait_is_named(self):
        """Smartasync.sync() names its wait after the method: the debug line
        (and a stall or refusal message) says what is waited for."""
        import os
        import subprocess
        import sys
        code = ("import gi; gi.require_version('Smartasync', '1.0');"
                "from gi.repository import Gio, Smartasync;"
                "Smartasync.sync(Gio.File.new_for_path(%r), 'load_contents', None)" % self.file.get_path())
        env = dict(os.environ, G_MESSAGES_DEBUG="Smartasync")
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=GUARD_S, check=True)
        logged = run.stdout + run.stderr  # GLib prints debug messages on stdout
        self.assertRegex(logged, r"Smartasync-DEBUG.*File\.load_contents_async: ")
        self.assertNotIn("operation:", logged)

    def test_not_found_error(self):
        missing = Gio.File.new_for_path("/nonexistent/smartasync")
        with self.assertRaises(GLib.Error) as caught:
            Smartasync.sync(missing, "load_contents", None)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))


class DispatchPaths(unittest.TestCase):
    def test_sync_context(self):
        upper = Smartasync.Operation.new_async("upper", upper_async)
        ok, value = upper.call_sync(None, GLib.Variant("s", "abc"), None)
        self.assertEqual(value, "ABC")

        ran_on = []

        def blocking(task, source, args, cancellable, *unused):
            ran_on.append(threading.get_ident())
            task.return_value(GObject.Value(int, args.get_int32() * 2))

        double = Smartasync.Operation.new_blocking("double", blocking)
        self.assertEqual(double.call_sync(None, GLib.Variant("i", 21), None)[1], 42)
        self.assertEqual(ran_on, [threading.get_ident()])

    def test_async_context(self):
        upper = Smartasync.Operation.new_async("upper", upper_async)
        results = []

        def start(loop):
            upper.call_async(None, GLib.Variant("s", "later"), None,
                             lambda op, res, *u: (results.append(upper.call_finish(res)[1]), loop.quit()))
            results.append("returned first")

        run_in_loop(start)
        self.assertEqual(results, ["returned first", "LATER"])

    def test_offload_keeps_loop_dispatching(self):
        worker = []
        ticks = []
        gate = threading.Event()

        def slow(task, source, args, cancellable, *unused):
            # Completes only once the loop has ticked three times: had the
            # call blocked the loop, the gate would never open.
            worker.append(threading.get_ident())
            task.return_value(GObject.Value(bool, gate.wait(GUARD_S)))

        def tick():
            ticks.append(1)
            if len(ticks) == 3:
                gate.set()
            return len(ticks) < 3

        op = Smartasync.Operation.new_blocking("slow", slow)
        result = []

        def start(loop):
            GLib.timeout_add(1, tick)
            task = op.call(None, None, None, lambda o, res, *u: (result.append(op.call_finish(res)[1]), loop.quit()))
            self.assertFalse(task.get_completed())

        glib_run(start)
        self.assertEqual(result, [True])
        self.assertNotEqual(worker, [threading.get_ident()])

    def test_default_executor(self):
        executor = Smartasync.Executor.new(1)
        worker = []

        def blocking(task, source, args, cancellable, *unused):
            worker.append(threading.current_thread().name)
            task.return_value(GObject.Value(int, 7))

        op = Smartasync.Operation.new_blocking("seven", blocking)
        result = []
        Smartasync.set_default_executor(executor)
        try:
            self.assertEqual(Smartasync.dup_default_executor(), executor)
            run_in_loop(lambda loop: op.call_async(
                None, None, None,
                lambda o, res, *u: (result.append(op.call_finish(res)[1]), loop.quit())))
        finally:
            Smartasync.set_default_executor(None)
        self.assertIsNone(Smartasync.dup_default_executor())
        self.assertEqual(result, [7])
        self.assertEqual(len(worker), 1)
        self.assertNotEqual(worker[0], threading.current_thread().name)

    def test_errors_and_cancellation(self):
        failing = Smartasync.Operation.new_blocking("fail", fail_blocking)
        with self.assertRaises(GLib.Error) as caught:
            failing.call_sync(None, None, None)
        self.assertEqual(caught.exception.domain, "test-python-error")
        self.assertEqual(caught.exception.code, 42)
        self.assertEqual(caught.exception.message, "nope")

        cancellable = Gio.Cancellable()
        cancellable.cancel()
        upper = Smartasync.Operation.new_async("upper", upper_async)
        with self.assertRaises(GLib.Error) as caught:
            upper.call_sync(None, GLib.Variant("s", "x"), cancellable)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))


class Sugar(unittest.TestCase):
    def test_decorator_both_contexts(self):
        calls = []

        @Smartasync.smartasync
        def add(a, b=1):
            calls.append(threading.get_ident())
            return {"sum": a + b}

        self.assertEqual(add(2, b=3), {"sum": 5})
        got = []

        def start(loop):
            pending = add(40, b=2)
            got.append(pending.done())
            pending.add_done_callback(lambda p: (got.append(p.result()), loop.quit()))

        run_in_loop(start)
        self.assertEqual(got, [False, {"sum": 42}])
        self.assertNotEqual(calls[1], threading.get_ident())

    def test_decorator_exceptions(self):
        @Smartasync.smartasync
        def boom():
            raise KeyError("missing")

        with self.assertRaises(KeyError):
            boom()


class Lock(unittest.TestCase):
    def test_many_callers_one_execution(self):
        executions = []

        def answer(task, source, args, cancellable, *unused):
            executions.append(args.get_string())
            GLib.timeout_add(20, lambda: task.return_value(GObject.Value(str, "answer:" + args.get_string())) or False)

        op = Smartasync.Operation.new_async("answer", answer)
        lock = Smartasync.Lock.new()
        answers = []

        def start(loop):
            def done(source, res, *u):
                answers.append(lock.run_finish(res)[1])
                if len(answers) == 60:
                    loop.quit()

            for _ in range(50):
                lock.run_async("a", op, None, GLib.Variant("s", "a"), None, done)
            for _ in range(10):
                lock.run_async("b", op, None, GLib.Variant("s", "b"), None, done)

        run_in_loop(start)
        self.assertEqual(sorted(executions), ["a", "b"])
        self.assertEqual(answers.count("answer:a"), 50)
        self.assertEqual(answers.count("answer:b"), 10)
        self.assertEqual(lock.get_executions(), 2)

    def test_reset(self):
        op = Smartasync.Operation.new_async("never", lambda *a: None)
        lock = Smartasync.Lock.new()
        errors = []

        def start(loop):
            for _ in range(3):
                lock.run_async("k", op, None, None, None, lambda s, r, *u: self._record(lock, r, errors, loop))
            lock.reset()

        run_in_loop(start)
        self.assertEqual(len(errors), 3)

    def test_declared_result_types(self):
        # Issue 14, defect 5: an implementation that returns with
        # return_int() or return_boolean() declares its result type, and
        # every GValue path, the lock's included, gives its value.
        def plus_one(task, source, args, cancellable, *unused):
            task.return_int(args.get_int32() + 1)

        op = Smartasync.Operation.new_blocking("plus-one", plus_one)
        op.props.result_type = GObject.TYPE_INT
        self.assertEqual(op.get_result_type(), GObject.TYPE_INT)
        self.assertEqual(op.call_sync(None, GLib.Variant("i", 41), None)[1], 42)
        lock = Smartasync.Lock.new()
        self.assertEqual(lock.run_sync("k", op, None, GLib.Variant("i", 6), None)[1], 7)

        yes = Smartasync.Operation.new_async("yes", lambda task, *unused: task.return_boolean(True))
        yes.set_result_type(GObject.TYPE_BOOLEAN)
        answers = []

        def start(loop):
            def done(source, res, *unused):
                answers.append(lock.run_finish(res)[1])
                if len(answers) == 3:
                    loop.quit()

            for _ in range(3):
                lock.run_async("b", yes, None, None, None, done)

        run_in_loop(start)
        self.assertEqual(answers, [True, True, True])
        self.assertEqual(lock.get_executions(), 2)

    def _record(self, lock, res, errors, loop):
        try:
            lock.run_finish(res)
        except GLib.Error as error:
            errors.append(error.code)
        if len(errors) == 3:
            loop.quit()


class AwaitAndBatch(unittest.TestCase):
    def test_continuation_ready(self):
        value = GObject.Value(str, "Alice")
        ok, result = Smartasync.continuation(value, lambda v, *u: (True, GObject.Value(int, len(v))))
        self.assertTrue(ok)
        self.assertEqual(result, 5)

    def test_await_pending_smart_call(self):
        upper = Smartasync.Operation.new_async("upper", upper_async)
        resolved = []

        def start(loop):
            task = upper.call(None, GLib.Variant("s", "deep"), None, None)
            value = GObject.Value(Gio.Task, task)
            self.assertTrue(Smartasync.is_pending(value))
            Smartasync.await_async(value, None, lambda s, r, *u: (resolved.append(Smartasync.await_finish(r)[1]), loop.quit()))

        run_in_loop(start)
        self.assertEqual(resolved, ["DEEP"])

    def test_batch(self):
        upper = Smartasync.Operation.new_async("upper", upper_async)
        batch = Smartasync.Batch.new()
        words = [f"w{i}" for i in range(100)]
        for word in words:
            batch.add(upper, None, GLib.Variant("s", word))
        self.assertTrue(batch.wait(None))
        results = [upper.call_finish(batch.get_result(i))[1] for i in range(len(words))]
        batch.close()
        self.assertEqual(results, [w.upper() for w in words])


class TempFile:
    def __init__(self, contents=b"from a coroutine"):
        self.path = GLib.build_filenamev([GLib.get_tmp_dir(), f"smartasync-py-{id(self)}"])
        with open(self.path, "wb") as f:
            f.write(contents)
        self.file = Gio.File.new_for_path(self.path)

    def close(self):
        self.file.delete(None)


class CoroutineSync(unittest.TestCase):
    """@smartasync on an async def, called with no loop on the thread."""

    def setUp(self):
        self.tmp = TempFile()

    def tearDown(self):
        self.tmp.close()
        Smartasync.reset()

    def test_value_and_exception(self):
        @Smartasync.smartasync
        async def double(x):
            return 2 * x

        @Smartasync.smartasync
        async def boom():
            raise KeyError("from the coroutine")

        self.assertEqual(double(21), 42)
        with self.assertRaises(KeyError):
            boom()

    def test_awaits_gio_and_other_smart_functions(self):
        seen = {}

        @Smartasync.smartasync
        def blocking_upper(data):
            seen["blocking thread"] = threading.get_ident()
            return data.upper()

        @Smartasync.smartasync
        async def inner(data):
            seen["inner in async context"] = Smartasync.in_async_context()
            return data + b"!"

        @Smartasync.smartasync
        async def load(file):
            ok, contents, _etag = await Smartasync.gio(file, "load_contents", None)
            return await inner(await blocking_upper(contents))

        self.assertEqual(load(self.tmp.file), b"FROM A COROUTINE!")
        self.assertTrue(seen["inner in async context"])
        self.assertNotEqual(seen["blocking thread"], threading.get_ident())
        # The wait left nothing behind on the private context.
        self.assertFalse(Smartasync.get_private_context().pending())

    def test_methods(self):
        class Reader:
            def __init__(self, file):
                self.file = file

            @Smartasync.smartasync
            async def read(self, suffix):
                ok, contents, _etag = await Smartasync.gio(self.file, "load_contents", None)
                return contents + suffix

        self.assertEqual(Reader(self.tmp.file).read(b"."), b"from a coroutine.")

    def test_gio_errors_keep_domain_and_code(self):
        @Smartasync.smartasync
        async def load(path):
            return await Smartasync.gio(Gio.File.new_for_path(path), "load_contents", None)

        with self.assertRaises(GLib.Error) as caught:
            load("/nonexistent/smartasync")
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))

    def test_asyncio_primitive_on_glib_names_the_function(self):
        @Smartasync.smartasync
        async def naps():
            await asyncio.sleep(1)

        with self.assertRaises(RuntimeError) as caught:
            naps()
        self.assertIn("naps()", str(caught.exception))
        self.assertIn("Smartasync.gio", str(caught.exception))


class CoroutineCancel(unittest.TestCase):
    def tearDown(self):
        Smartasync.reset()

    def test_cancelled_sync_call_closes_the_coroutine(self):
        started = threading.Event()
        gate = threading.Event()
        closed = []

        @Smartasync.smartasync
        def blocked():
            started.set()
            return gate.wait(GUARD_S)

        @Smartasync.smartasync
        async def outer():
            try:
                return await blocked()
            finally:
                closed.append(True)

        cancellable = Gio.Cancellable()
        canceller = threading.Thread(target=lambda: started.wait(GUARD_S) and cancellable.cancel())
        canceller.start()
        with self.assertRaises(GLib.Error) as caught:
            outer(cancellable=cancellable)
        canceller.join()
        gate.set()
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(closed, [True])


class CoroutineGLib(unittest.TestCase):
    """@smartasync on an async def, called from code a GLib loop dispatched."""

    def tearDown(self):
        Smartasync.reset()

    def test_pending_at_once_steps_dispatched_by_the_loop(self):
        gate = threading.Event()
        ticks = []
        events = []

        @Smartasync.smartasync
        def blocked_until_the_loop_ticks():
            # Returns only once the loop has ticked: had the coroutine
            # blocked the loop, the gate would never open.
            return gate.wait(GUARD_S)

        @Smartasync.smartasync
        async def work():
            events.append(("step", threading.get_ident(), Smartasync.in_async_context()))
            opened = await blocked_until_the_loop_ticks()
            events.append(("resumed", threading.get_ident()))
            return opened

        def tick():
            ticks.append(1)
            if len(ticks) == 3:
                gate.set()
            return len(ticks) < 3

        def start(loop):
            pending = work()
            events.append(("returned", pending.done()))
            GLib.timeout_add(1, tick)
            pending.add_done_callback(lambda p: (events.append(("done", p.result())), loop.quit()))

        glib_run(start)
        me = threading.get_ident()
        self.assertEqual(events, [("returned", False), ("step", me, True), ("resumed", me),
                                  ("done", True)])

    def test_pending_awaited_by_another_smart_coroutine(self):
        @Smartasync.smartasync
        async def inner(x):
            return x + 1

        @Smartasync.smartasync
        async def outer(x):
            pending = inner(x)
            self.assertIsInstance(pending, Smartasync.Pending)
            return await pending * 10

        self.assertEqual(run_pendings(lambda: [outer(1)])[0].result(), 20)

    def test_exception_through_the_pending(self):
        @Smartasync.smartasync
        async def boom():
            raise ValueError("stepped by the loop")

        self.assertIsInstance(run_pendings(lambda: [boom()])[0].exception(), ValueError)


def gated_call_on_a_loop_thread():
    """Starts a smart call from a GLib loop on a new thread; it completes once
    the returned event is set. Returns (thread, its Pending, the event): the
    thread ends when the call completed."""
    made = threading.Event()
    release = threading.Event()
    holder = []

    @Smartasync.smartasync
    def gated():
        return release.wait(GUARD_S)

    def glib_thread():
        context = GLib.MainContext.new()
        context.push_thread_default()
        loop = GLib.MainLoop.new(context, False)

        def start(*unused):
            holder.append(gated())
            holder[0].add_done_callback(lambda p: loop.quit())
            made.set()
            return False

        source = GLib.idle_source_new()
        source.set_callback(start)
        source.attach(context)
        loop.run()
        context.pop_thread_default()

    thread = threading.Thread(target=glib_thread)
    thread.start()
    if not made.wait(GUARD_S):
        raise AssertionError("the loop thread did not start the call")
    return thread, holder[0], release


class CoroutineAwaitsAnotherThread(unittest.TestCase):
    def test_resumed_on_its_own_thread(self):
        """A Pending completed by a loop on another thread resumes the
        coroutine that awaits it on the coroutine's own thread."""
        thread, pending, release = gated_call_on_a_loop_thread()

        @Smartasync.smartasync
        async def awaits_it():
            release.set()
            value = await pending
            return value, threading.get_ident()

        value, resumed_on = awaits_it()
        thread.join()
        self.assertTrue(value)
        self.assertEqual(resumed_on, threading.get_ident())


class Asyncio(unittest.TestCase):
    """Inside asyncio.run(): awaitables, and the asyncio loop never blocked."""

    def tearDown(self):
        Smartasync.reset()

    def test_blocking_function_goes_to_a_worker(self):
        gate = threading.Event()

        @Smartasync.smartasync
        def wait_for_asyncio():
            # Opened by an asyncio task: only if asyncio keeps running.
            return gate.wait(GUARD_S), threading.get_ident()

        async def main():
            call = wait_for_asyncio()
            self.assertTrue(asyncio.isfuture(call))
            asyncio.get_running_loop().call_soon(gate.set)
            return await call

        opened, worker = asyncio.run(main())
        self.assertTrue(opened)
        self.assertNotEqual(worker, threading.get_ident())

    def test_coroutine_and_gio(self):
        tmp = TempFile(b"asyncio")
        self.addCleanup(tmp.close)

        @Smartasync.smartasync
        async def load(file):
            ok, contents, _etag = await Smartasync.gio(file, "load_contents", None)
            return contents

        async def main():
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            ticking = asyncio.ensure_future(ticker())
            contents = await load(tmp.file)
            ticking.cancel()
            return contents, ticks

        contents, ticks = asyncio.run(main())
        self.assertEqual(contents, b"asyncio")
        self.assertGreater(ticks, 0)  # the loop ran while GLib did the I/O

    def test_errors_through_the_future(self):
        @Smartasync.smartasync
        def boom():
            raise KeyError("worker")

        async def main():
            with self.assertRaises(KeyError):
                await boom()
            with self.assertRaises(GLib.Error) as caught:
                await Smartasync.gio(Gio.File.new_for_path("/nonexistent/x"), "load_contents", None)
            return caught.exception

        error = asyncio.run(main())
        self.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))

    def test_pending_from_a_glib_thread_awaited_in_asyncio(self):
        made = threading.Event()
        holder = []

        @Smartasync.smartasync
        async def answer():
            return 42

        def glib_thread():
            context = GLib.MainContext.new()
            context.push_thread_default()
            loop = GLib.MainLoop.new(context, False)

            def start():
                holder.append(answer())
                made.set()
                holder[0].add_done_callback(lambda p: loop.quit())
                return False

            source = GLib.idle_source_new()
            source.set_callback(lambda *a: start())
            source.attach(context)
            loop.run()
            context.pop_thread_default()

        thread = threading.Thread(target=glib_thread)
        thread.start()
        self.assertTrue(made.wait(GUARD_S))

        async def main():
            return await holder[0]

        self.assertEqual(asyncio.run(main()), 42)
        thread.join()


class PendingWait(unittest.TestCase):
    def tearDown(self):
        Smartasync.reset()

    def test_wait_after_set_async_fails_at_once(self):
        @Smartasync.smartasync
        def add(a, b):
            return a + b

        with Smartasync.mode(Smartasync.Mode.ASYNC):
            pending = add(1, 2)
        with self.assertRaises(GLib.Error) as caught:
            pending.wait()
        self.assertTrue(caught.exception.matches(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK))
        self.assertIn("add()", caught.exception.message)
        # The call is not lost: a loop completes it.
        self.assertEqual(run_pendings(lambda: [pending])[0].result(), 3)

    def test_wait_from_the_dispatching_loop_refused(self):
        @Smartasync.smartasync
        async def later():
            return 1

        errors = []

        def start(loop):
            pending = later()
            try:
                pending.wait()
            except GLib.Error as error:
                errors.append(error)
            pending.add_done_callback(lambda p: loop.quit())

        glib_run(start)
        self.assertTrue(errors[0].matches(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK))

    def test_wait_for_a_loop_on_another_thread(self):
        thread, pending, release = gated_call_on_a_loop_thread()
        release.set()
        self.assertTrue(pending.wait())
        thread.join()


class RefusedSyncStartsNothing(unittest.TestCase):
    def test_sync_from_a_dispatch(self):
        class Fake:
            started = 0

            def thing_async(self, callback):
                Fake.started += 1

            def thing_finish(self, result):
                return result

        errors = []

        def start(loop):
            try:
                Smartasync.sync(Fake(), "thing")
            except GLib.Error as error:
                errors.append(error)
            loop.quit()

        glib_run(start)
        self.assertEqual(Fake.started, 0)
        self.assertTrue(errors[0].matches(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK))
        self.assertIn("Smartasync.gio", errors[0].message)


class SeedNames(unittest.TestCase):
    def tearDown(self):
        Smartasync.reset()

    def test_run_once_sync_context(self):
        lock = Smartasync.Lock.new()
        self.assertEqual(lock.run_once(lambda a, b: a * b, 6, 7), 42)

        async def coro(x):
            return x + 1

        self.assertEqual(lock.run_once(coro, 1, key="k"), 2)
        with self.assertRaises(ZeroDivisionError):
            lock.run_once(lambda: 1 / 0)

    def test_run_once_coalesces_per_key(self):
        lock = Smartasync.Lock.new()
        runs = []
        gate = threading.Event()

        def load(name):
            runs.append(name)
            gate.wait(GUARD_S)
            return name.upper()

        def calls():
            made = [lock.run_once(load, key, key=key) for key in ["a"] * 5 + ["b"] * 2]
            gate.set()
            return made

        answers = [pending.result() for pending in run_pendings(calls)]
        self.assertEqual(sorted(runs), ["a", "b"])
        self.assertEqual(sorted(answers), ["A"] * 5 + ["B"] * 2)
        self.assertEqual(lock.get_executions(), 2)

    def test_run_once_shares_the_exception(self):
        lock = Smartasync.Lock.new()

        async def failing():
            raise LookupError("once")

        got = [p.exception() for p in run_pendings(lambda: [lock.run_once(failing) for _ in range(3)])]
        self.assertEqual(len(got), 3)
        self.assertTrue(all(isinstance(e, LookupError) for e in got))
        self.assertEqual(lock.get_executions(), 1)

    def test_singleflight_decorator_in_asyncio(self):
        runs = []
        gate = threading.Event()

        @Smartasync.singleflight
        def fetch(key):
            runs.append(key)
            gate.wait(GUARD_S)
            return f"value of {key}"

        async def main():
            calls = [fetch("x") for _ in range(4)] + [fetch("y")]
            asyncio.get_running_loop().call_soon(gate.set)
            return await asyncio.gather(*calls)

        self.assertEqual(asyncio.run(main()), ["value of x"] * 4 + ["value of y"])
        self.assertEqual(sorted(runs), ["x", "y"])
        self.assertEqual(fetch("z"), "value of z")  # sync context: the value

    def test_smartawait_and_smartcontinuation(self):
        async def nested():
            async def inner():
                return "deep"
            return inner()

        @Smartasync.smartasync
        async def resolve():
            return await Smartasync.smartawait(nested())

        self.assertEqual(resolve(), "deep")
        self.assertEqual(Smartasync.smartcontinuation({"name": "Alice"}, lambda d: d["name"]), "Alice")

        @Smartasync.smartasync
        async def continued():
            return await Smartasync.smartcontinuation(nested(), str.upper)

        self.assertEqual(continued(), "DEEP")

        async def in_asyncio():
            return await Smartasync.smartcontinuation(nested(), len)

        self.assertEqual(asyncio.run(in_asyncio()), 4)

    def test_scoped_modes(self):
        @Smartasync.smartasync
        def where():
            return threading.get_ident()

        with Smartasync.set_async():
            self.assertTrue(Smartasync.in_async_context())
            self.assertIsInstance(where(), Smartasync.Pending)
        self.assertEqual(Smartasync.get_mode(), Smartasync.Mode.AUTO)

        async def main():
            with Smartasync.set_sync():
                return where()

        self.assertEqual(asyncio.run(main()), threading.get_ident())
        got = []

        def start(loop):
            with Smartasync.set_sync():
                got.append(where())
            loop.quit()

        glib_run(start)
        self.assertEqual(got, [threading.get_ident()])


class GObjectConstruction(unittest.TestCase):
    """Built the GObject way (g_object_new()), as PyGObject allows: never a
    crash, a clear error where a constructor argument is missing."""

    def test_operation_without_implementation(self):
        op = Smartasync.Operation(name="built")
        self.assertEqual(op.get_name(), "built")
        with self.assertRaises(GLib.Error) as caught:
            op.call_sync(None, None, None)
        self.assertIn("new_async", caught.exception.message)
        errors = []

        def start(loop):
            def done(source, result, *unused):
                try:
                    op.call_finish(result)
                except GLib.Error as error:
                    errors.append(error)
                loop.quit()

            op.call_async(None, None, None, done)

        glib_run(start)
        self.assertIn("new_async", errors[0].message)

    def test_batch_waiter_lock_executor(self):
        upper = Smartasync.Operation.new_async("upper", upper_async)
        batch = Smartasync.Batch()
        batch.add(upper, None, GLib.Variant("s", "gobject"))
        self.assertTrue(batch.wait(None))
        self.assertEqual(upper.call_finish(batch.get_result(0))[1], "GOBJECT")
        batch.close()

        tmp = TempFile(b"waiter")
        self.addCleanup(tmp.close)
        waiter = Smartasync.Waiter()
        tmp.file.load_contents_async(None, waiter.complete)
        self.assertEqual(tmp.file.load_contents_finish(waiter.wait(None))[1], b"waiter")

        self.assertEqual(Smartasync.Lock().run_once(lambda: "once"), "once")
        self.assertGreater(Smartasync.Executor().get_max_threads(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
