/* smartasync-await.c: values that may be ready now or pending
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * smartasync_is_pending:
 * @value: a value
 *
 * Tells a pending handle from a ready value: the GLib counterpart of
 * checking for an awaitable in the Python SmartAsync.
 *
 * A *smart value* is a #GValue that either holds a ready value, or holds a
 * #GTask whose result is the value. The task may still be pending (as
 * returned by [method@Smartasync.Operation.call] in an async context, with no
 * callback), and its result may itself be a #GTask (returned with
 * g_task_return_value()), and so on.
 * [func@Smartasync.await_async] and [func@Smartasync.await_sync] resolve
 * every level; [func@Smartasync.continuation] applies a function to the
 * resolved value.
 *
 * Resolving a task reads its result, which GTask hands out once: await tasks
 * whose callback (if any) does not read their result itself. A pending task
 * is not kept alive by the await: if it is finalized without completing,
 * the await fails with %SMARTASYNC_ERROR_FAILED instead of waiting forever.
 *
 * Returns: %TRUE if @value holds a #GTask that has not completed yet
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-await.h"
#include "smartasync-context-private.h"
#include "smartasync-error.h"
#include "smartasync-operation-private.h"
#include "smartasync-wait-private.h"

gboolean
smartasync_is_pending (const GValue *value)
{
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);

  return G_VALUE_HOLDS (value, G_TYPE_TASK) &&
         g_value_get_object (value) != NULL &&
         !g_task_get_completed (g_value_get_object (value));
}

/* Replaces @value by the result of the completed task it holds, as long as
 * it holds one. Returns %FALSE with @error set if a level failed. */
static gboolean
resolve_ready_levels (GValue  *value,
                      GError **error)
{
  while (G_VALUE_HOLDS (value, G_TYPE_TASK) && g_value_get_object (value) != NULL &&
         g_task_get_completed (g_value_get_object (value)))
    {
      g_autoptr(GTask) task = g_value_dup_object (value);

      g_value_unset (value);
      if (!_smartasync_task_propagate_value (task, value, error))
        return FALSE;
    }

  return TRUE;
}

/* Await */

typedef struct
{
  GTask        *task;         /* the await task, owned */
  GTask        *watched;      /* the pending level; weak: its owner completes it */
  gulong        notify_id;
  gulong        cancel_id;
  gint          finished;     /* atomic: the await task returns once */
} Await;

static void await_resolve (Await *await, GValue *value);

static void
await_return_error (Await  *await,
                    GError *error)
{
  if (g_atomic_int_compare_and_exchange (&await->finished, FALSE, TRUE))
    g_task_return_error (await->task, error);
  else
    g_error_free (error);
}

static void
await_free (Await *await)
{
  GCancellable *cancellable = g_task_get_cancellable (await->task);

  if (await->cancel_id != 0)
    g_cancellable_disconnect (cancellable, await->cancel_id);
  g_object_unref (await->task);
  g_free (await);
}

static void
watched_finalized (gpointer  data,
                   GObject  *where_the_task_was)
{
  Await *await = data;

  await_return_error (await, g_error_new_literal (SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
                                                  "A pending task was finalized without completing"));
  await_free (await);
}

static void
watched_completed (GTask      *watched,
                   GParamSpec *pspec,
                   Await      *await)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_signal_handler_disconnect (watched, await->notify_id);
  g_object_weak_unref (G_OBJECT (watched), watched_finalized, await);
  await->watched = NULL;

  g_value_init (&value, G_TYPE_TASK);
  g_value_set_object (&value, watched);
  await_resolve (await, &value);
}

/* Returns at once; the watch ends when the watched task completes or dies. */
static void
await_cancelled (GCancellable *cancellable,
                 Await        *await)
{
  if (g_atomic_int_compare_and_exchange (&await->finished, FALSE, TRUE))
    g_task_return_error_if_cancelled (await->task);
}

typedef struct
{
  Await *await;
  GTask *pending;
} Watch;

/* Runs on the thread that completes @pending: checking and connecting there
 * cannot race with its completion. */
static gboolean
watch_on_task_context (gpointer data)
{
  Watch *watch = data;
  Await *await = watch->await;
  GTask *pending = watch->pending;

  if (g_task_get_completed (pending))
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_TASK);
      g_value_set_object (&value, pending);
      await_resolve (await, &value);
      return G_SOURCE_REMOVE;
    }

  await->watched = pending;
  g_object_weak_ref (G_OBJECT (pending), watched_finalized, await);
  await->notify_id = g_signal_connect (pending, "notify::completed",
                                       G_CALLBACK (watched_completed), await);
  return G_SOURCE_REMOVE;
}

static void
watch_free (gpointer data)
{
  Watch *watch = data;

  g_object_unref (watch->pending);
  g_free (watch);
}

static void
await_watch (Await *await,
             GTask *pending)
{
  Watch *watch = g_new (Watch, 1);

  watch->await = await;
  watch->pending = g_object_ref (pending);
  g_main_context_invoke_full (g_task_get_context (pending), G_PRIORITY_DEFAULT,
                              watch_on_task_context, watch, watch_free);
}

static void
await_resolve (Await  *await,
               GValue *value)
{
  GError *error = NULL;

  if (!resolve_ready_levels (value, &error))
    await_return_error (await, error);
  else if (smartasync_is_pending (value))
    {
      await_watch (await, g_value_get_object (value));
      return;
    }
  else if (g_atomic_int_compare_and_exchange (&await->finished, FALSE, TRUE))
    g_task_return_value (await->task, value);

  await_free (await);
}

/**
 * smartasync_await_async:
 * @value: a smart value: ready, or a #GTask, possibly pending, possibly
 *   resolving to another #GTask
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called on the caller's
 *   thread-default main context with the fully resolved value
 * @user_data: data for @callback
 *
 * Resolves every level of @value: the GLib counterpart of the Python
 * `smartawait`. A ready value is passed through; a task is followed until
 * its result is no longer a task. The first error met is reported.
 * Cancelling @cancellable completes the call at once with
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.1
 */
void
smartasync_await_async (const GValue        *value,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_auto(GValue) copy = G_VALUE_INIT;
  Await *await;

  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  await = g_new0 (Await, 1);
  await->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (await->task, smartasync_await_async);
  if (cancellable != NULL)
    await->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (await_cancelled), await, NULL);

  g_value_init (&copy, G_VALUE_TYPE (value));
  g_value_copy (value, &copy);
  await_resolve (await, &copy);
}

/**
 * smartasync_await_finish:
 * @result: the #GAsyncResult given to the callback
 * @value: (out caller-allocates) (optional): the resolved value
 * @error: return location for an error
 *
 * Finishes [func@Smartasync.await_async].
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_await_finish (GAsyncResult  *result,
                         GValue        *value,
                         GError       **error)
{
  g_auto(GValue) dropped = G_VALUE_INIT;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  _smartasync_value_prepare_out (value);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == smartasync_await_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _smartasync_task_propagate_value (G_TASK (result), value ? value : &dropped, error);
}

/**
 * smartasync_await_sync:
 * @value: a smart value
 * @cancellable: (nullable): a #GCancellable that abandons the wait
 * @resolved: (out caller-allocates) (optional): the resolved value
 * @error: return location for an error
 *
 * Resolves every level of @value, waiting on the calling thread's private
 * context when a level is pending. A pending task completes on the context
 * it was created on: that context must be iterated by some thread (or be
 * this thread's private one), or the wait lasts until @cancellable is
 * cancelled. Refused with %SMARTASYNC_ERROR_WOULD_BLOCK from code a running
 * loop of this thread dispatches.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_await_sync (const GValue  *value,
                       GCancellable  *cancellable,
                       GValue        *resolved,
                       GError       **error)
{
  g_autoptr(SmartasyncWait) waiter = NULL;

  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  _smartasync_value_prepare_out (resolved);
  g_return_val_if_fail (resolved == NULL || !G_IS_VALUE (resolved), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  waiter = _smartasync_wait_new ("smartasync_await_sync", SMARTASYNC_WAIT_DEFAULT, error);
  if (waiter == NULL)
    return _smartasync_value_clear_out (resolved);

  smartasync_await_async (value, cancellable, _smartasync_wait_callback, waiter);
  if (!_smartasync_wait_run (waiter, cancellable, error))
    return _smartasync_value_clear_out (resolved);

  return smartasync_await_finish (_smartasync_wait_get_result (waiter), resolved, error);
}

/* Continuations */

typedef struct
{
  SmartasyncContinuationFunc  func;
  gpointer                    user_data;
  GDestroyNotify              destroy;
  GTask                      *task;
} Continuation;

static void
continuation_free (Continuation *continuation)
{
  if (continuation->destroy != NULL)
    continuation->destroy (continuation->user_data);
  g_clear_object (&continuation->task);
  g_free (continuation);
}

static void
continuation_resolved (GObject      *source_object,
                       GAsyncResult *result,
                       gpointer      data)
{
  Continuation *continuation = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) mapped = G_VALUE_INIT;
  GError *error = NULL;

  if (smartasync_await_finish (result, &value, &error) &&
      continuation->func (&value, &mapped, continuation->user_data, &error))
    g_task_return_value (continuation->task, &mapped);
  else
    g_task_return_error (continuation->task, error);

  continuation_free (continuation);
}

/**
 * smartasync_continuation:
 * @value: a smart value
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function to apply to the resolved value
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once @func has run
 * @result: (out caller-allocates): the result, ready or pending
 * @error: return location for an error
 *
 * Applies @func to @value once it is resolved: the GLib counterpart of the
 * Python `smartcontinuation`. Nested values are resolved fully before @func
 * sees them.
 *
 * If every level of @value is ready, @func runs now and @result receives its
 * result. Otherwise @result receives a pending #GTask that completes, on the
 * caller's thread-default main context, with @func's result (or the first
 * error); resolve it with [func@Smartasync.await_async] or
 * [func@Smartasync.await_sync]. Either way @result is a smart value.
 *
 * Returns: %FALSE with @error set if a ready level failed or @func failed
 *   now; %TRUE otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_continuation (const GValue                *value,
                         SmartasyncContinuationFunc   func,
                         gpointer                     user_data,
                         GDestroyNotify               destroy,
                         GValue                      *result,
                         GError                     **error)
{
  g_auto(GValue) current = G_VALUE_INIT;
  Continuation *continuation;
  gboolean ok;

  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (result != NULL && !G_IS_VALUE (result), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_value_init (&current, G_VALUE_TYPE (value));
  g_value_copy (value, &current);

  if (!smartasync_is_pending (&current))
    {
      ok = resolve_ready_levels (&current, error) &&
           (smartasync_is_pending (&current) || func (&current, result, user_data, error));
      if (!ok || !smartasync_is_pending (&current))
        {
          if (destroy != NULL)
            destroy (user_data);
          return ok;
        }
    }

  continuation = g_new0 (Continuation, 1);
  continuation->func = func;
  continuation->user_data = user_data;
  continuation->destroy = destroy;
  continuation->task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (continuation->task, smartasync_continuation);

  g_value_init (result, G_TYPE_TASK);
  g_value_set_object (result, continuation->task);
  smartasync_await_async (&current, NULL, continuation_resolved, continuation);
  return TRUE;
}
