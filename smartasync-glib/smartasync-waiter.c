/* smartasync-waiter.c: wait synchronously for any GIO asynchronous operation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncWaiter:
 *
 * Calls any existing GIO `_async`/`_finish` pair synchronously, from any
 * thread, following GLib's own recipe (as in `gio/gsubprocess.c`):
 *
 * 1. [ctor@Smartasync.Waiter.new] pushes the calling thread's private main
 *    context as thread-default, so the operation started next binds to it;
 * 2. the caller starts the operation with [func@Smartasync.Waiter.callback]
 *    (C) or [method@Smartasync.Waiter.complete] (bindings) as its callback;
 * 3. [method@Smartasync.Waiter.wait] iterates the private context until the
 *    callback has run, pops the context and returns the #GAsyncResult for the
 *    operation's `_finish` function.
 *
 * |[<!-- language="C" -->
 * g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
 * g_autoptr(GAsyncResult) res = NULL;
 *
 * g_file_load_contents_async (file, NULL, smartasync_waiter_callback, waiter);
 * res = smartasync_waiter_wait (waiter, NULL, &error);
 * if (res != NULL)
 *   g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);
 * ]|
 *
 * The [func@Smartasync.WAIT] macro does the same in one expression.
 *
 * ## The private context
 *
 * Each thread has one private context ([func@Smartasync.get_private_context]),
 * created on first use and reused by every later wait, so a wait costs no
 * context creation. The library never iterates any other context.
 *
 * ## Nesting and leftovers
 *
 * Code dispatched during a wait may wait again: the nested wait iterates the
 * same private context, so completions of the outer operation that arrive
 * meanwhile are dispatched to their own callback and picked up by the outer
 * wait once the inner one returns. Smart calls made from code dispatched
 * during a wait return pending tasks bound to the private context; a wait
 * does not return before those it started have completed, so their callbacks
 * never fire inside a later, unrelated wait.
 *
 * ## Cancellation
 *
 * Cancelling the wait's #GCancellable makes the wait return
 * %G_IO_ERROR_CANCELLED at once, even if the operation ignores cancellation
 * (unless the operation's own completion was already dispatched: then the
 * wait returns that result, and an operation that shares the cancellable
 * reports the cancellation from its `_finish` function).
 * The operation keeps its reference to the waiter, so its late completion is
 * received and dropped safely.
 *
 * ## Waiting from a running loop
 *
 * A wait requested from code that a running main loop of this thread is
 * dispatching (a GTK signal handler, a D-Bus method handler) is refused with
 * %SMARTASYNC_ERROR_WOULD_BLOCK, as `asyncio.run()` is inside a running
 * event loop: blocking would freeze the loop, and an operation that needs
 * that loop would never complete. The operation then runs on the caller's
 * context and its result is dropped. Use the asynchronous call there, or push
 * %SMARTASYNC_MODE_SYNC to assert that the operation does not need the loop.
 *
 * ## Threads
 *
 * A waiter belongs to the thread that created it: it must be waited on, once,
 * by that thread. Its callback may run on any thread.
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-error.h"
#include "smartasync-wait-private.h"
#include "smartasync-waiter.h"

struct _SmartasyncWaiter
{
  GObject         parent_instance;

  SmartasyncWait  wait;     /* embedded: the waiter's own references manage it */
};

G_DEFINE_FINAL_TYPE (SmartasyncWaiter, smartasync_waiter, G_TYPE_OBJECT)

static void
smartasync_waiter_finalize (GObject *object)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  if (self->wait.context != NULL && !self->wait.waited)
    g_critical ("SmartasyncWaiter %p freed without smartasync_waiter_wait(): "
                "the private context stays pushed on its thread", self);

  _smartasync_wait_clear (&self->wait);

  G_OBJECT_CLASS (smartasync_waiter_parent_class)->finalize (object);
}

/* Pushing the context is construction, so that a waiter built with
 * g_object_new() (as bindings do) works too. The pending completion owns a
 * reference to the waiter: the callback gets the waiter itself as user
 * data, and completing it drops that reference. */
static void
smartasync_waiter_constructed (GObject *object)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  G_OBJECT_CLASS (smartasync_waiter_parent_class)->constructed (object);

  _smartasync_wait_init (&self->wait, NULL);
  g_object_ref (self);
}

static void
smartasync_waiter_class_init (SmartasyncWaiterClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = smartasync_waiter_constructed;
  G_OBJECT_CLASS (klass)->finalize = smartasync_waiter_finalize;
}

static void
smartasync_waiter_init (SmartasyncWaiter *self)
{
}

/**
 * smartasync_waiter_new:
 *
 * Creates a waiter and pushes the calling thread's private context as
 * thread-default, so that the asynchronous operation started next binds to
 * it. Start exactly one operation with the waiter as its callback, then call
 * [method@Smartasync.Waiter.wait] on the same thread.
 *
 * Returns: (transfer full): a new waiter
 *
 * Since: 0.1
 */
SmartasyncWaiter *
smartasync_waiter_new (void)
{
  return g_object_new (SMARTASYNC_TYPE_WAITER, NULL);
}

/**
 * smartasync_waiter_complete:
 * @self: a waiter
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 *
 * Hands the operation's result to the waiter. Bindings pass this method
 * (bound to the waiter) as the operation's #GAsyncReadyCallback. Call it once.
 *
 * Since: 0.1
 */
void
smartasync_waiter_complete (SmartasyncWaiter *self,
                            GObject          *source_object,
                            GAsyncResult     *result)
{
  g_return_if_fail (SMARTASYNC_IS_WAITER (self));

  if (!_smartasync_wait_complete (&self->wait, result))
    return;

  g_object_unref (self);
}

/**
 * smartasync_waiter_callback: (skip)
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 * @waiter: (type SmartasyncWaiter): the waiter
 *
 * A #GAsyncReadyCallback for C callers: pass it with the waiter as user data
 * to any `_async` function.
 *
 * Since: 0.1
 */
void
smartasync_waiter_callback (GObject      *source_object,
                            GAsyncResult *result,
                            gpointer      waiter)
{
  smartasync_waiter_complete (waiter, source_object, result);
}

/**
 * smartasync_waiter_wait:
 * @self: a waiter
 * @cancellable: (nullable): a #GCancellable that abandons the wait
 * @error: return location for an error of the wait itself
 *
 * Iterates the calling thread's private context until the operation started
 * with this waiter has called back, then pops the context. Errors of the
 * operation are not reported here: pass the result to its `_finish`
 * function. Call it once, on the thread that created the waiter.
 *
 * Returns: (transfer full): the operation's result, or %NULL with @error set
 *   to %G_IO_ERROR_CANCELLED or %SMARTASYNC_ERROR_WOULD_BLOCK
 *
 * Since: 0.1
 */
GAsyncResult *
smartasync_waiter_wait (SmartasyncWaiter  *self,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_return_val_if_fail (SMARTASYNC_IS_WAITER (self), NULL);
  g_return_val_if_fail (!self->wait.waited, NULL);
  g_return_val_if_fail (self->wait.state == _smartasync_thread_state (), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_smartasync_wait_iterate (&self->wait, cancellable, FALSE, error))
    return NULL;

  return g_object_ref (self->wait.result);
}
