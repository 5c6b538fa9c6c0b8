# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pythonic sugar for Smartasync, installed as a PyGObject override.

``from gi.repository import Smartasync`` then gives, besides the C API, the
names of the Python SmartAsync:

- ``@Smartasync.smartasync`` on a plain function or an ``async def``: one
  function for every caller. The caller decides what a call gives:

  ========================================  ==============================  ==============================
  caller                                    ``async def``                   plain ``def``
  ========================================  ==============================  ==============================
  no loop on the thread (a script, worker)  runs to completion on the       called directly, value returned
                                            thread's private context, its
                                            value returned
  code a running GLib loop dispatched       a :class:`Pending` at once; the a :class:`Pending` at once; the
                                            coroutine is stepped by that    function runs on a worker
                                            loop
  a coroutine run by Smartasync             a :class:`Pending` to await     a :class:`Pending` to await
  a running asyncio loop                    the coroutine, to await         an asyncio future; the function
                                                                            runs on a worker
  ========================================  ==============================  ==============================

- ``Smartasync.gio(obj, "load_contents", *args)``: any GIO ``_async`` /
  ``_finish`` pair, awaitable (the value at once in a sync context, where it
  is ``Smartasync.sync``).
- ``Smartasync.smartawait``, ``Smartasync.smartcontinuation``,
  ``lock.run_once(fn, *args)`` / ``@Smartasync.singleflight``,
  ``Smartasync.set_sync()`` / ``Smartasync.set_async()``: the seed's helpers.

PyGObject 3.42 has no asyncio integration, so GLib work requested from an
asyncio coroutine (``Smartasync.gio()``, an offloaded plain function) runs on
one GLib thread of the override's own, whose loop blocks in poll() until
there is work; each result comes back to the asyncio loop with
``call_soon_threadsafe()``. Nothing polls, and the asyncio loop never waits
on GLib. With PyGObject >= 3.50's ``gi.events`` event loop, asyncio itself
runs on the GLib main loop: its coroutines are then dispatched by that loop,
and every call takes the GLib path above with no helper thread.
"""

import contextlib
import functools
import inspect
import itertools
import sys
import threading
import types

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Smartasync = get_introspection_module("Smartasync")

__all__ = [
    "smartasync", "sync", "gio", "mode", "set_sync", "set_async", "Pending",
    "smartawait", "smartcontinuation", "singleflight", "Lock",
]

_ERROR_DOMAIN = GLib.quark_to_string(Smartasync.error_quark())
_IO_ERROR_DOMAIN = "g-io-error-quark"
_IO_ERROR_CANCELLED = 19
_PYTHON_EXCEPTION = "smartasync-python-exception-quark"


def _error(code, message):
    return GLib.Error(message, _ERROR_DOMAIN, int(code))


# Who is calling. The order matters: a coroutine this module steps, then code
# a GLib loop dispatches (which, with PyGObject >= 3.50's gi.events, is also
# where asyncio runs), then a plain asyncio loop, then nobody.
_SYNC, _GLIB, _ASYNCIO = range(3)


class _State(threading.local):
    runner = None  # the _Runner stepping a coroutine on this thread


_state = _State()


def _running_asyncio_loop(modules=sys.modules):
    # A running asyncio loop implies asyncio was imported: no import here.
    asyncio = modules.get("asyncio")
    return asyncio._get_running_loop() if asyncio is not None else None


def _caller(in_async_context=Smartasync.in_async_context, state=_state):
    if state.runner is not None or in_async_context():
        return _GLIB
    if _running_asyncio_loop() is None or Smartasync.get_mode() == Smartasync.Mode.SYNC:
        return _SYNC
    return _ASYNCIO


def _describe(func):
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


class Pending:
    """The pending result of a call made from code a GLib loop dispatched, or
    from a coroutine Smartasync runs. Awaitable there and from asyncio; its
    callbacks run on the main context that was thread-default when the call
    was made."""

    _wait_lock = threading.Lock()

    def __init__(self, what="call"):
        self._what = what
        self._done = False
        self._value = None
        self._exception = None
        self._callbacks = []
        self._event = None
        self._context = GLib.MainContext.get_thread_default() or GLib.MainContext.default()
        runner = _state.runner
        if runner is not None:
            runner._adopt(self)

    def __repr__(self):
        return f"<Smartasync.Pending {self._what} {'done' if self._done else 'pending'}>"

    def done(self):
        return self._done

    def result(self):
        """The value, or raises the call's exception (``GLib.Error`` with
        ``SMARTASYNC_ERROR_NOT_COMPLETED`` while it is still pending)."""
        if not self._done:
            raise _error(Smartasync.Error.NOT_COMPLETED,
                         f"{self._what} has not completed yet: await it, or use "
                         "add_done_callback()")
        if self._exception is not None:
            raise self._exception
        return self._value

    def exception(self):
        return self._exception if self._done else None

    def add_done_callback(self, callback):
        """Calls ``callback(pending)`` once the call completes, on the
        caller's main context (at once if it already has)."""
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def __await__(self):
        if not self._done:
            if _state.runner is not None:
                yield self  # the runner resumes us once done
            else:
                loop = _running_asyncio_loop()
                if loop is None:
                    raise RuntimeError(
                        f"await on the Pending of {self._what} outside a coroutine run by "
                        "Smartasync or asyncio: decorate the coroutine function with "
                        "@Smartasync.smartasync, or use add_done_callback()")
                future = loop.create_future()
                self.add_done_callback(lambda pending: _settle_threadsafe(loop, future, pending))
                yield from future.__await__()
        return self.result()

    def wait(self, cancellable=None):
        """Blocks until the call completes and returns its value (or raises).

        It works when another thread runs the main context that completes the
        call; otherwise nothing would ever complete it, and it raises
        ``GLib.Error`` (``SMARTASYNC_ERROR_WOULD_BLOCK``) at once, saying why."""
        if self._done:
            return self.result()
        if _state.runner is not None or Smartasync.in_async_context():
            raise _error(Smartasync.Error.WOULD_BLOCK,
                         f"Pending.wait() for {self._what} refused: this thread's main loop is "
                         "dispatching and would be blocked, and it is what completes the call. "
                         "Use 'await' in a coroutine, or add_done_callback()")
        if self._context.acquire():
            # Nobody else iterates it, and Smartasync never iterates a
            # context it did not create: waiting would hang. (A completion
            # runs in a dispatch of the context, so one that happened before
            # the loop let go of it is seen now.)
            self._context.release()
            if self._done:
                return self.result()
            which = ("the global default main context"
                     if self._context == GLib.MainContext.default() else
                     "the main context that was thread-default at the call")
            raise _error(Smartasync.Error.WOULD_BLOCK,
                         f"Pending.wait() for {self._what} would hang: its result is delivered "
                         f"on {which}, which no running loop iterates. Run a GLib.MainLoop and "
                         "use add_done_callback(), or make the call outside "
                         "Smartasync.set_async() (Smartasync.Mode.ASYNC) to get the value directly")
        return self._wait_for_other_thread(cancellable)

    def _wait_for_other_thread(self, cancellable):
        with Pending._wait_lock:
            if not self._done:
                self._event = threading.Event()
        if self._event is not None:
            handler = cancellable.connect(lambda *a: self._event.set()) if cancellable else 0
            try:
                self._event.wait()
            finally:
                if handler:
                    cancellable.disconnect(handler)
            if not self._done:
                raise GLib.Error("Operation was cancelled", _IO_ERROR_DOMAIN, _IO_ERROR_CANCELLED)
        return self.result()

    def _complete(self, value=None, exception=None):
        if self._done:
            return
        self._value, self._exception, self._done = value, exception, True
        with Pending._wait_lock:
            event = self._event
        if event is not None:
            event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


def _settle(future, value, exception):
    if future.cancelled():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(value)


def _settle_threadsafe(loop, future, pending):
    try:
        loop.call_soon_threadsafe(_settle, future, pending._value, pending._exception)
    except RuntimeError:
        pass  # the asyncio loop was closed: nobody is left to answer


class _Runner:
    """Steps one coroutine on a GLib main context: the Python counterpart of
    an event loop running a task. Each step runs with ``_state.runner`` set,
    so smart calls made there return something to await; the coroutine is
    resumed from the callbacks of what it awaits, on its own context. It
    finishes only when every Pending it started has completed, so nothing it
    left behind runs in a later, unrelated wait."""

    __slots__ = ("coro", "what", "context", "on_done", "children", "outcome", "finished",
                 "closed")

    def __init__(self, coro, what, context=None):
        self.coro = coro
        self.what = what
        self.context = context
        self.on_done = None
        self.children = 0
        self.outcome = None
        self.finished = False  # the coroutine returned or raised
        self.closed = False

    def _adopt(self, pending):
        self.children += 1
        pending.add_done_callback(self._child_done)

    def _child_done(self, _pending):
        self.children -= 1
        if self.finished and self.children == 0:
            self._deliver()

    def schedule(self, value=None, exception=None):
        """Steps the coroutine from a source of its context."""
        source = GLib.idle_source_new()
        source.set_priority(GLib.PRIORITY_DEFAULT)
        source.set_callback(lambda *unused: self.step(value, exception) and False)
        source.attach(self.context)

    def step(self, value=None, exception=None):
        if self.closed:
            return False
        outer = _state.runner
        _state.runner = self
        try:
            while True:
                try:
                    if exception is not None:
                        awaited = self.coro.throw(exception)
                    else:
                        awaited = self.coro.send(value)
                except StopIteration as stop:
                    self._finish(stop.value, None)
                    return False
                except BaseException as raised:  # delivered to the caller
                    self._finish(None, _hint(raised, self.what))
                    return False
                value = exception = None
                if isinstance(awaited, Pending):
                    if awaited._done:
                        value, exception = awaited._value, awaited._exception
                        continue
                    awaited.add_done_callback(self._resume_pending)
                elif awaited is None:
                    self.schedule()  # a bare yield (asyncio.sleep(0)): let the loop run
                elif hasattr(awaited, "add_done_callback") and hasattr(awaited, "get_loop"):
                    awaited.add_done_callback(self._resume_future)  # asyncio on GLib (gi.events)
                else:
                    exception = TypeError(
                        f"{self.what} awaited {awaited!r}, which Smartasync cannot wait for: "
                        "await Smartasync functions, Pending objects and Smartasync.gio(...)")
                    continue
                return False
        finally:
            _state.runner = outer

    def _resume_pending(self, pending):
        if pending._context == self.context:
            self.step(pending._value, pending._exception)
        else:  # completed on another context, maybe another thread: step on ours
            self._step_on_context(pending._value, pending._exception)

    def _resume_future(self, future):
        # An asyncio future completes on its own loop's thread: step on ours.
        self._step_on_context()

    def _step_on_context(self, value=None, exception=None):
        self.context.invoke_full(GLib.PRIORITY_DEFAULT,
                                 lambda *unused: self.step(value, exception) and False)

    def _finish(self, value, exception):
        self.finished = True
        self.outcome = (value, exception)
        if self.children == 0:
            self._deliver()

    def _deliver(self):
        if self.on_done is not None and not self.closed:
            on_done, self.on_done = self.on_done, None
            on_done(*self.outcome)

    def close(self):
        """Abandons the coroutine (its finally blocks run) after a cancelled
        wait, so that none of it runs later."""
        self.closed = True
        if not self.finished:
            self.coro.close()


def _hint(exception, what):
    """asyncio's primitives fail with a bare "no running event loop" when a
    coroutine runs on GLib: say what to do instead."""
    if isinstance(exception, RuntimeError) and "no running event loop" in str(exception):
        hinted = RuntimeError(
            f"{what} awaited an asyncio primitive, but it runs on GLib here (no asyncio loop "
            "runs on this thread): await Smartasync functions, Pending objects and "
            "Smartasync.gio(...) in it, or call it from asyncio code")
        hinted.__cause__ = exception
        return hinted
    return exception


class _Calls:
    """Python arguments and results travel by key: the C core only sees an
    integer in a GVariant, so any Python object can pass through."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next = itertools.count(1)
        self._calls = {}

    def put(self, item):
        with self._lock:
            key = next(self._next)
            self._calls[key] = item
        return GLib.Variant("t", key)

    def take(self, variant):
        with self._lock:
            return self._calls.pop(variant.get_uint64())

    def discard(self, variant):
        """Forgets an item the C core never handed to an implementation (a
        refused or cancelled call)."""
        with self._lock:
            self._calls.pop(variant.get_uint64(), None)


_calls = _Calls()
_exceptions = _Calls()


def _return_outcome(task, value, exception):
    if exception is None:
        task.return_value(GObject.Value(GObject.TYPE_PYOBJECT, value))
    elif isinstance(exception, GLib.Error):
        task.return_error(exception)
    else:  # re-raised in the caller as the same object
        key = _exceptions.put(exception).get_uint64()
        task.return_error(GLib.Error(f"{key}:{type(exception).__name__}: {exception}",
                                     _PYTHON_EXCEPTION, 0))


def _return_call(task, func, args, kwargs):
    try:
        value = func(*args, **kwargs)
    except BaseException as exception:  # noqa: B902 - re-raised in the caller
        _return_outcome(task, None, exception)
    else:
        _return_outcome(task, value, None)


def _reraise(error):
    if error.domain == _PYTHON_EXCEPTION:
        key = int(error.message.split(":", 1)[0])
        raise _exceptions.take(GLib.Variant("t", key)) from None
    raise error


def _outcome_of(finish):
    """(value, exception) of a finish call that returns (ok, value)."""
    try:
        return finish()[1], None
    except GLib.Error as error:
        try:
            _reraise(error)
        except BaseException as exception:  # noqa: B902
            return None, exception


class _Bridge:
    """The GLib thread that serves asyncio code when asyncio does not run on
    a GLib loop (PyGObject < 3.50, or a non-GLib event loop): GLib work is
    started there, from a source of its own context, and completed there;
    results go back to the asyncio loop with call_soon_threadsafe(). The
    thread sleeps in poll() while nothing is in flight."""

    _instance = None
    _lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        self.context = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.context, False)
        self.thread = threading.Thread(target=self._run, name="smartasync-asyncio-bridge",
                                       daemon=True)
        self.thread.start()

    def _run(self):
        self.context.push_thread_default()
        self.loop.run()
        self.context.pop_thread_default()

    def submit(self, start):
        """Returns an asyncio future for start(complete), run on the GLib
        thread; start calls complete(value, exception) once, there."""
        loop = _running_asyncio_loop()
        future = loop.create_future()

        def complete(value, exception):
            try:
                loop.call_soon_threadsafe(_settle, future, value, exception)
            except RuntimeError:
                pass  # the asyncio loop was closed

        def run(*unused):
            try:
                start(complete)
            except BaseException as exception:  # noqa: B902 - the caller's to see
                complete(None, exception)
            return GLib.SOURCE_REMOVE

        # Started in the order asked, and before any completion posted
        # later (completions have the default priority; an idle's is lower).
        source = GLib.idle_source_new()
        source.set_priority(GLib.PRIORITY_DEFAULT)
        source.set_callback(run)
        source.attach(self.context)
        return future

    @classmethod
    def shutdown(cls):
        with cls._lock:
            bridge, cls._instance = cls._instance, None
        if bridge is not None:
            bridge.loop.quit()
            bridge.thread.join()


def _pending_from(start, what):
    """A Pending completed by start(complete) on the caller's context."""
    pending = Pending(what)
    start(lambda value, exception: pending._complete(value, exception))
    return pending


class _SmartFunction:
    """What @smartasync makes of a function (see the module's table)."""

    def __init__(self, func, name=None, executor=None):
        functools.update_wrapper(self, func)
        self._func = func
        self._what = f"{name or _describe(func)}()"
        self._coroutine = inspect.iscoroutinefunction(func)
        op_name = name or _describe(func)
        if self._coroutine:
            self.operation = Smartasync.Operation.new_async(op_name, self._run_coroutine)
        else:
            self.operation = Smartasync.Operation.new_blocking(op_name, self._run_blocking)
        if executor is not None:
            self.operation.set_executor(executor)

    def __repr__(self):
        return f"<Smartasync.smartasync {self._what}>"

    # The implementations the C core calls.
    def _run_blocking(self, task, source, args, cancellable, *unused):
        func_args, func_kwargs = _calls.take(args)
        _return_call(task, self._func, func_args, func_kwargs)

    def _run_coroutine(self, task, source, args, cancellable, *unused):
        item = _calls.take(args)
        if isinstance(item, _Runner):
            # A sync call whose coroutine awaited in its first step: what it
            # awaits resumes it, on this (the private) context.
            runner = item
        else:
            func_args, func_kwargs = item
            runner = _Runner(self._func(*func_args, **func_kwargs), self._what)
        runner.context = task.get_context()
        runner.on_done = lambda value, exception: _return_outcome(task, value, exception)
        if item is not runner:
            runner.schedule()  # like asyncio's tasks: the first step in a later iteration
        elif runner.finished and runner.children == 0:
            runner._deliver()

    def __call__(self, *args, **kwargs):
        cancellable = callback = None
        if kwargs:
            cancellable = kwargs.pop("cancellable", None)
            callback = kwargs.pop("callback", None)
        caller = _caller()
        if caller == _SYNC:
            if not self._coroutine:
                return self._func(*args, **kwargs)
            return self._run_sync(self._func(*args, **kwargs), cancellable)
        if caller == _ASYNCIO:
            if self._coroutine:
                return self._func(*args, **kwargs)
            return _Bridge.get().submit(lambda complete: self._start(args, kwargs, cancellable,
                                                                     complete))
        pending = _pending_from(lambda complete: self._start(args, kwargs, cancellable, complete),
                                self._what)
        if callback is not None:
            pending.add_done_callback(callback)
        return pending

    def _start(self, args, kwargs, cancellable, complete):
        """Starts the call on the thread-default context; complete(value,
        exception) is called there once."""
        operation = self.operation
        key = _calls.put((args, kwargs))

        def finished(source, result, *unused):
            _calls.discard(key)
            complete(*_outcome_of(lambda: operation.call_finish(result)))

        operation.call_async(None, key, cancellable, finished)

    def _run_sync(self, coro, cancellable):
        """A coroutine called with no loop: its first step runs here, with
        the private context pushed so that what it starts binds there; if it
        awaits, the rest runs in the library's wait on that context."""
        runner = _Runner(coro, self._what, Smartasync.get_private_context())
        runner.context.push_thread_default()
        try:
            runner.step()
        finally:
            runner.context.pop_thread_default()
        if runner.finished and runner.children == 0:
            value, exception = runner.outcome
            if exception is not None:
                raise exception
            return value
        key = _calls.put(runner)
        try:
            return self.operation.call_sync(None, key, cancellable)[1]
        except GLib.Error as error:
            _calls.discard(key)
            runner.close()
            _reraise(error)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return types.MethodType(self, instance)


def smartasync(func=None, *, name=None, executor=None):
    """Makes ``func`` (a plain function or an ``async def``) callable from
    anywhere; see the module's table. Usable as ``@smartasync``, on methods,
    or as ``@smartasync(name=..., executor=Smartasync.Executor.new(4))``.
    Every call also takes ``cancellable=`` and (where it returns a Pending)
    ``callback=``."""

    def wrap(function):
        if not callable(function):
            raise TypeError(f"@Smartasync.smartasync needs a function, not {function!r}")
        return _SmartFunction(function, name, executor)

    return wrap(func) if func is not None else wrap


def _refuse_sync(what, fix):
    raise _error(Smartasync.Error.WOULD_BLOCK,
                 f"{what} refused: this thread's main loop is dispatching and would be "
                 f"blocked. {fix}")


def sync(obj, name, *args, cancellable=None):
    """Calls ``obj.<name>_async(*args, callback)`` synchronously on this
    thread's private context, and returns what ``obj.<name>_finish``
    returns::

        ok, contents, etag = Smartasync.sync(file, "load_contents", None)

    From code a running loop dispatches, it is refused before anything
    starts (use ``await Smartasync.gio(...)`` there)."""
    start = getattr(obj, name + "_async")
    finish = getattr(obj, name + "_finish")
    if Smartasync.in_async_context():
        _refuse_sync(f"Smartasync.sync({type(obj).__name__}, {name!r})",
                     f"Use 'await Smartasync.gio(obj, {name!r}, ...)' in a coroutine, or "
                     f"obj.{name}_async() with a callback; or wrap the call in "
                     "'with Smartasync.set_sync():' if the operation does not need this loop.")
    waiter = Smartasync.Waiter.new_full(f"{type(obj).__name__}.{name}_async",
                                        Smartasync.WaiterFlags.NONE)
    start(*args, waiter.complete)
    return finish(waiter.wait(cancellable))


def _start_gio(start, finish, args, complete):
    def finished(source, result, *unused):
        try:
            value = finish(result)
        except BaseException as exception:  # noqa: B902 - the awaiting caller's
            complete(None, exception)
        else:
            complete(value, None)

    start(*args, finished)


def gio(obj, name, *args):
    """Any GIO ``_async``/``_finish`` pair as one awaitable call: what
    ``obj.<name>_finish`` returns::

        ok, contents, etag = await Smartasync.gio(file, "load_contents", None)

    In a coroutine run by Smartasync or from code a GLib loop dispatched it
    returns a :class:`Pending`; in asyncio an asyncio future; with no loop
    (where nothing can await) it is :func:`sync` and returns the value."""
    start = getattr(obj, name + "_async")
    finish = getattr(obj, name + "_finish")
    what = f"{type(obj).__name__}.{name}_async()"
    caller = _caller()
    if caller == _SYNC:
        return sync(obj, name, *args)
    if caller == _ASYNCIO:
        return _Bridge.get().submit(lambda complete: _start_gio(start, finish, args, complete))
    return _pending_from(lambda complete: _start_gio(start, finish, args, complete), what)


@contextlib.contextmanager
def mode(value):
    """``with Smartasync.mode(Smartasync.Mode.SYNC): ...``"""
    Smartasync.push_mode(value)
    try:
        yield
    finally:
        Smartasync.pop_mode()


def set_sync():
    """``with Smartasync.set_sync():`` every call in the block takes the sync
    path (returns the value, blocking), even from a running loop or from
    asyncio: for code that knows its operations do not need that loop."""
    return mode(Smartasync.Mode.SYNC)


def set_async():
    """``with Smartasync.set_async():`` every call in the block takes the
    GLib async path (returns a Pending); something must run the thread's
    main context for it to complete."""
    return mode(Smartasync.Mode.ASYNC)


# The seed's helpers.

async def smartawait(value):
    """Resolves a value that may be awaitable, possibly nested (a coroutine
    returning a Pending...): ``value = await Smartasync.smartawait(x)``."""
    while inspect.isawaitable(value):
        value = await value
    return value


def smartcontinuation(value, on_resolved, *args, **kwargs):
    """``on_resolved(value, *args, **kwargs)`` now if ``value`` is ready;
    if it is awaitable, a coroutine that awaits it and then applies
    ``on_resolved``."""
    if inspect.isawaitable(value):
        async def chain():
            return on_resolved(await smartawait(value), *args, **kwargs)

        return chain()
    return on_resolved(value, *args, **kwargs)


def _unwrap(outcome):
    value, exception = outcome
    if exception is not None:
        raise exception
    return value


class Lock(Smartasync.Lock):
    """:class:`Smartasync.Lock` with the seed's ``run_once``."""

    def run_once(self, func, *args, key=None, cancellable=None, **kwargs):
        """Runs ``func(*args, **kwargs)`` (a plain function or an
        ``async def``), or joins the run of the same ``key`` already in
        flight: one execution, every caller gets its result or exception.
        Returns what a smart function returns from this caller (the value
        with no loop, else something to await)."""
        what = f"{_describe(func)}()"
        operation = _once_operation(func, args, kwargs, what)
        caller = _caller()
        if caller == _SYNC:
            try:
                return _unwrap(self.run_sync(key, operation, None, None, cancellable)[1])
            except GLib.Error as error:
                _reraise(error)

        def start(complete):
            def finished(source, result, *unused):
                value, exception = _outcome_of(lambda: self.run_finish(result))
                if exception is None:
                    value, exception = value
                complete(value, exception)

            self.run_async(key, operation, None, None, cancellable, finished)

        if caller == _ASYNCIO:
            return _Bridge.get().submit(start)
        return _pending_from(start, what)


Lock = override(Lock)


def _once_operation(func, args, kwargs, what):
    """An operation running func once; its outcome travels as a value, so
    that every caller that joined the run can re-raise the exception."""

    def as_value(value, exception):
        return GObject.Value(GObject.TYPE_PYOBJECT, (value, exception))

    if inspect.iscoroutinefunction(func):
        def start(task, *unused):
            runner = _Runner(func(*args, **kwargs), what, task.get_context())
            runner.on_done = lambda value, exception: task.return_value(as_value(value, exception))
            runner.schedule()

        return Smartasync.Operation.new_async(what, start)

    def run(task, *unused):
        try:
            value = func(*args, **kwargs)
        except BaseException as exception:  # noqa: B902 - every caller's
            task.return_value(as_value(None, exception))
        else:
            task.return_value(as_value(value, None))

    return Smartasync.Operation.new_blocking(what, run)


def singleflight(func=None, *, key=None):
    """``@Smartasync.singleflight``: concurrent calls of the function with
    the same arguments share one execution (the seed's ``SmartLock.run_once``
    as a decorator). ``key=`` maps the call's arguments to the flight's key
    (a string); by default the arguments' ``repr()``."""

    def wrap(function):
        lock = Lock.new()
        key_of = key or (lambda *args, **kwargs: repr((args, sorted(kwargs.items()))))

        @functools.wraps(function)
        def call(*args, **kwargs):
            return lock.run_once(function, *args, key=key_of(*args, **kwargs), **kwargs)

        call.lock = lock
        return call

    return wrap(func) if func is not None else wrap
