# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pythonic sugar for Smartasync, installed as a PyGObject override.

``from gi.repository import Smartasync`` then gives, besides the C API:

- ``@Smartasync.smartasync``: one function, callable from anywhere. Called with
  no running GLib main loop on this thread it returns the value; called from
  code a running loop dispatched it offloads the function to a worker thread
  and returns a :class:`Pending` at once, completed on the caller's context.
- ``Smartasync.sync(obj, "load_contents", *args)``: calls any GIO ``_async``
  method synchronously and returns what its ``_finish`` returns.
- ``Smartasync.mode(Smartasync.Mode.SYNC)``: a context manager around
  ``push_mode``/``pop_mode``.

PyGObject 3.42 has no asyncio integration: a :class:`Pending` is completed
by the GLib main loop, not by an asyncio event loop. Use ``add_done_callback``
(or pass ``callback=``), or ``Smartasync.await_sync``-style waiting with
``pending.wait()`` from a thread with no running loop.
"""

import contextlib
import itertools
import threading

from gi.repository import GLib, GObject

from ..module import get_introspection_module

Smartasync = get_introspection_module("Smartasync")

__all__ = ["smartasync", "sync", "mode", "Pending"]


class Pending:
    """The pending result of a call made from a running loop."""

    def __init__(self):
        self._done = False
        self._value = None
        self._exception = None
        self._callbacks = []

    def done(self):
        return self._done

    def result(self):
        if not self._done:
            raise GLib.Error("the call has not completed yet")
        if self._exception is not None:
            raise self._exception
        return self._value

    def add_done_callback(self, callback):
        """Calls ``callback(pending)`` once the call completes, on the
        caller's main context (at once if it already has)."""
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def wait(self, cancellable=None):
        """Iterates this thread's private context until the call completes.
        Only for calls whose completion is dispatched there."""
        context = Smartasync.get_private_context()
        while not self._done:
            if cancellable is not None and cancellable.is_cancelled():
                raise GLib.Error("Operation was cancelled", "g-io-error-quark", 19)
            context.iteration(True)
        return self.result()

    def _complete(self, value=None, exception=None):
        self._value, self._exception, self._done = value, exception, True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


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


_calls = _Calls()
_exceptions = _Calls()
_PYTHON_EXCEPTION = "smartasync-python-exception-quark"


def _return_call(task, func, args, kwargs):
    try:
        value = func(*args, **kwargs)
    except GLib.Error as error:
        task.return_error(error)
    except BaseException as exception:  # re-raised in the caller
        key = _exceptions.put(exception).get_uint64()
        task.return_error(GLib.Error(str(key), _PYTHON_EXCEPTION, 0))
    else:
        task.return_value(GObject.Value(GObject.TYPE_PYOBJECT, value))


def _reraise(error):
    if error.domain == _PYTHON_EXCEPTION:
        raise _exceptions.take(GLib.Variant("t", int(error.message))) from None
    raise error


class _SmartFunction:
    def __init__(self, func, name=None):
        self.__wrapped__ = func
        self.__name__ = getattr(func, "__name__", "function")
        self.__doc__ = getattr(func, "__doc__", None)
        self.operation = Smartasync.Operation.new_blocking(name or self.__name__, self._implementation)

    def _implementation(self, task, source, args, cancellable, *unused):
        func_args, func_kwargs = _calls.take(args)
        _return_call(task, self.__wrapped__, func_args, func_kwargs)

    def __call__(self, *args, cancellable=None, callback=None, **kwargs):
        variant = _calls.put((args, kwargs))
        if not Smartasync.in_async_context():
            try:
                return self.operation.call_sync(None, variant, cancellable)[1]
            except GLib.Error as error:
                _reraise(error)

        pending = Pending()
        if callback is not None:
            pending.add_done_callback(callback)

        def finished(operation, result, *unused):
            try:
                pending._complete(value=operation.call_finish(result)[1])
            except GLib.Error as error:
                try:
                    _reraise(error)
                except BaseException as exception:
                    pending._complete(exception=exception)

        self.operation.call_async(None, variant, cancellable, lambda s, r, *u: finished(self.operation, r))
        return pending

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return lambda *args, **kwargs: self(instance, *args, **kwargs)


def smartasync(func=None, *, name=None, executor=None):
    """Makes ``func`` callable from anywhere: it returns the value when no
    GLib main loop is running on the calling thread, and a :class:`Pending`
    (the function offloaded to a worker thread) when called from code a
    running loop dispatched. Usable as ``@smartasync`` or
    ``@smartasync(name=..., executor=Smartasync.Executor.new(4))``."""

    def wrap(function):
        smart = _SmartFunction(function, name)
        if executor is not None:
            smart.operation.set_executor(executor)
        return smart

    return wrap(func) if func is not None else wrap


def sync(obj, name, *args, cancellable=None):
    """Calls ``obj.<name>_async(*args, callback)`` synchronously on this
    thread's private context, and returns what ``obj.<name>_finish``
    returns::

        ok, contents, etag = Smartasync.sync(file, "load_contents", None)
    """
    start = getattr(obj, name + "_async")
    finish = getattr(obj, name + "_finish")
    waiter = Smartasync.Waiter.new()
    start(*args, waiter.complete)
    return finish(waiter.wait(cancellable))


@contextlib.contextmanager
def mode(value):
    """``with Smartasync.mode(Smartasync.Mode.SYNC): ...``"""
    Smartasync.push_mode(value)
    try:
        yield
    finally:
        Smartasync.pop_mode()
