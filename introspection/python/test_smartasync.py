# SPDX-License-Identifier: LGPL-2.1-or-later
"""Smartasync from Python (PyGObject), against the uninstalled build."""

import threading
import time
import unittest

import gi

gi.require_version("Smartasync", "1.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib, GObject, Smartasync  # noqa: E402


def run_in_loop(func, timeout_s=10):
    """Runs func() from an idle of a running loop; returns when quit() is
    called on the loop passed to it, or fails after timeout_s."""
    loop = GLib.MainLoop()
    GLib.idle_add(lambda: func(loop) and False)
    GLib.timeout_add_seconds(timeout_s, lambda: (loop.quit(), pytest_fail()))
    loop.run()


def pytest_fail():
    raise AssertionError("loop timed out")


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

        def slow(task, source, args, cancellable, *unused):
            worker.append(threading.get_ident())
            time.sleep(0.3)  # releases the GIL: the loop keeps running
            task.return_value(GObject.Value(str, "slow done"))

        op = Smartasync.Operation.new_blocking("slow", slow)
        result = []

        def start(loop):
            GLib.timeout_add(10, lambda: ticks.append(1) or True)
            task = op.call(None, None, None, lambda o, res, *u: (result.append(op.call_finish(res)[1]), loop.quit()))
            self.assertFalse(task.get_completed())

        run_in_loop(start)
        self.assertEqual(result, ["slow done"])
        self.assertNotEqual(worker, [threading.get_ident()])
        print(f"# loop ticks (10 ms timer) during a 300 ms offloaded Python call: {len(ticks)}")
        self.assertGreater(len(ticks), 10)

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


if __name__ == "__main__":
    unittest.main(verbosity=2)
