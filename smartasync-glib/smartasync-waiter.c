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
 * Each thread has one private context ([func@Smartasync.get_thread_context]),
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
#include "smartasync-waiter-private.h"

struct _SmartasyncWaiter
{
  GObject                parent_instance;

  SmartasyncThreadState *state;       /* of the creating thread */
  GMainContext          *context;     /* pushed private context, NULL if refused */
  GAsyncResult          *result;
  const char            *name;        /* not owned: read only during the wait */
  guint                  tracked_at_start;
  const char            *outer_waiting_for;
  gint                   completed;   /* atomic */
  guint                  waited : 1;
  guint                  watching_task : 1;
};

G_DEFINE_FINAL_TYPE (SmartasyncWaiter, smartasync_waiter, G_TYPE_OBJECT)

static void
smartasync_waiter_finalize (GObject *object)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  if (self->context != NULL && !self->waited)
    g_critical ("SmartasyncWaiter %p freed without smartasync_waiter_wait(): "
                "the private context stays pushed on its thread", self);

  g_clear_object (&self->result);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (smartasync_waiter_parent_class)->finalize (object);
}

static void
smartasync_waiter_class_init (SmartasyncWaiterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = smartasync_waiter_finalize;
}

static void
smartasync_waiter_init (SmartasyncWaiter *self)
{
}

/*< private >
 * _smartasync_waiter_new_named:
 * @name: (nullable): what is being waited for, for error messages; it must
 *   stay valid until the wait returns
 *
 * Like smartasync_waiter_new(), but names the operation. When a wait would
 * block a running loop, nothing is pushed: the operation then binds to the
 * caller's context, so its completion cannot linger in the private one.
 */
SmartasyncWaiter *
_smartasync_waiter_new_named (const char *name)
{
  SmartasyncThreadState *state = _smartasync_thread_state ();
  SmartasyncWaiter *self = g_object_new (SMARTASYNC_TYPE_WAITER, NULL);

  self->state = state;
  self->name = name;

  if (!_smartasync_sync_wait_would_block (state))
    {
      self->context = g_main_context_ref (_smartasync_thread_state_get_context (state));
      g_main_context_push_thread_default (self->context);
      state->wait_depth++;
      self->tracked_at_start = state->tracked_pending;
    }

  /* The pending completion owns a reference: a wait abandoned on
   * cancellation may return long before the operation calls back. */
  return g_object_ref (self);
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
  return _smartasync_waiter_new_named (NULL);
}

static void
release_if_never_completed (gpointer  data,
                            GObject  *where_the_task_was)
{
  SmartasyncWaiter *self = data;

  /* The task died without calling back: nothing will drop the reference
   * its pending completion owned. */
  g_object_unref (self);
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
  g_return_if_fail (G_IS_ASYNC_RESULT (result));
  g_return_if_fail (self->result == NULL);

  self->result = g_object_ref (result);
  g_atomic_int_set (&self->completed, TRUE);

  if (self->watching_task)
    g_object_weak_unref (G_OBJECT (result), release_if_never_completed, self);

  /* An operation may complete from another thread; the waiting thread
   * sleeps in poll() and must be woken. On the owner thread, the iteration
   * that dispatched us returns by itself. */
  if (self->context != NULL && !g_main_context_is_owner (self->context))
    g_main_context_wakeup (self->context);

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

static void
wake_context (GCancellable *cancellable,
              GMainContext *context)
{
  g_main_context_wakeup (context);
}

static void
iterate_until_complete (SmartasyncWaiter *self,
                        GCancellable     *cancellable)
{
  gulong handler = 0;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_context),
                                     self->context, NULL);

  while (!g_atomic_int_get (&self->completed) &&
         !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (self->context, TRUE);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
}

/* Pending library tasks that code dispatched during this wait started on the
 * private context finish here, so they never fire in a later, unrelated wait. */
static void
drain_tracked_tasks (SmartasyncWaiter *self)
{
  while (self->state->tracked_pending > self->tracked_at_start)
    g_main_context_iteration (self->context, TRUE);
}

/* Sources that code dispatched during this wait attached to the private
 * context and that are ready now belong to this wait, so they are
 * dispatched here and not in a later, unrelated one. The bound keeps a source
 * that never stops being ready (a caller's bug) from hanging the wait. */
#define MAX_LEFTOVER_DISPATCHES 64

static void
dispatch_ready_leftovers (SmartasyncWaiter *self)
{
  for (guint i = 0; i < MAX_LEFTOVER_DISPATCHES; i++)
    if (!g_main_context_iteration (self->context, FALSE))
      return;

  g_warning ("A source attached to the private context during the wait for “%s” "
             "is still ready after %d dispatches; leaving it for later",
             self->name ? self->name : "operation", MAX_LEFTOVER_DISPATCHES);
}

static void
pop_context (SmartasyncWaiter *self)
{
  g_main_context_pop_thread_default (self->context);
  self->state->wait_depth--;
}

gboolean
_smartasync_set_would_block_error (const char  *name,
                                   GError     **error)
{
  g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK,
               "Synchronous wait for “%s” refused: this thread's main loop is "
               "dispatching and would be blocked. Use the asynchronous call "
               "(with a callback) here, or push SMARTASYNC_MODE_SYNC if the "
               "operation does not need this loop",
               name ? name : "operation");
  return FALSE;
}

/*< private >
 * _smartasync_waiter_iterate:
 * @self: a waiter
 * @cancellable: (nullable): abandons the wait
 * @error: return location for the wait's own error
 *
 * Iterates the private context until the operation completed or @cancellable
 * was cancelled, then pops it. When @blocking_done is set, only what is ready
 * now is dispatched: a blocking implementation must have completed already.
 *
 * Returns: %TRUE if the operation completed
 */
gboolean
_smartasync_waiter_iterate (SmartasyncWaiter  *self,
                            GCancellable      *cancellable,
                            gboolean           blocking_done,
                            GError           **error)
{
  g_return_val_if_fail (!self->waited, FALSE);
  self->waited = TRUE;

  if (self->context == NULL)
    return _smartasync_set_would_block_error (self->name, error);

  self->outer_waiting_for = self->state->waiting_for;
  self->state->waiting_for = self->name ? self->name : "operation";
  self->state->stall_reported = FALSE;

  if (blocking_done)
    {
      while (!g_atomic_int_get (&self->completed) &&
             g_main_context_iteration (self->context, FALSE))
        ;
    }
  else
    iterate_until_complete (self, cancellable);

  drain_tracked_tasks (self);
  dispatch_ready_leftovers (self);
  pop_context (self);
  self->state->waiting_for = self->outer_waiting_for;

  if (g_atomic_int_get (&self->completed))
    return TRUE;

  if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED,
                 "Blocking implementation of “%s” returned without completing its GTask",
                 self->name ? self->name : "operation");
  return FALSE;
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
  g_return_val_if_fail (!self->waited, NULL);
  g_return_val_if_fail (self->state == _smartasync_thread_state (), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_smartasync_waiter_iterate (self, cancellable, FALSE, error))
    return NULL;

  return g_object_ref (self->result);
}

/*< private >
 * _smartasync_waiter_watch_task:
 * @self: a waiter whose wait failed
 * @task: the task that was to complete it
 *
 * Lets an abandoned waiter go when @task is finalized without calling back
 * (an implementation that dropped its task), instead of leaking it. If the
 * task does complete later, its callback releases the waiter as usual and
 * removes the watch. Both happen on the waiting thread, which dispatches
 * the task's callback.
 */
void
_smartasync_waiter_watch_task (SmartasyncWaiter *self,
                               GTask            *task)
{
  if (!g_atomic_int_get (&self->completed))
    {
      self->watching_task = TRUE;
      g_object_weak_ref (G_OBJECT (task), release_if_never_completed, self);
    }
}

/*< private >
 * _smartasync_waiter_get_result:
 *
 * Returns: (transfer none) (nullable): the result received so far
 */
GAsyncResult *
_smartasync_waiter_get_result (SmartasyncWaiter *self)
{
  return self->result;
}
