/* smartasync-wait.c: the synchronous wait behind every blocking entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-error.h"
#include "smartasync-wait-private.h"

/* A plain reference-counted record rather than a GObject: every synchronous
 * call makes one, and a GObject costs about a quarter of a call. The public
 * SmartasyncWaiter wraps one for callers and bindings. */

/* With the two references that _smartasync_wait_new() describes. */
static SmartasyncWait *
wait_alloc (void)
{
  SmartasyncWait *self = g_new0 (SmartasyncWait, 1);

  g_atomic_ref_count_init (&self->ref_count);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/* Pushes the private context of the wait's thread. */
static void
wait_push (SmartasyncWait *self)
{
  self->context = g_main_context_ref (_smartasync_thread_state_get_context (self->state));
  g_main_context_push_thread_default (self->context);
  self->state->wait_depth++;
  self->tracked_at_start = g_atomic_int_get (&self->state->tracked_pending);
}

/*< private >
 * _smartasync_wait_new:
 * @name: (nullable): what is being waited for, for messages; it must stay
 *   valid until the wait returns
 *
 * Pushes the calling thread's private context, so that the operation started
 * next binds to it. When a wait would block a running loop, nothing is
 * pushed: the operation then binds to the caller's context, so its
 * completion cannot linger in the private one, and the wait fails.
 *
 * Returns: (transfer full): a wait holding two references: the caller's, and
 *   the pending completion's, which _smartasync_wait_callback() drops (a wait
 *   abandoned on cancellation may return long before the operation calls
 *   back)
 */
SmartasyncWait *
_smartasync_wait_new (const char *name)
{
  SmartasyncWait *self = wait_alloc ();

  _smartasync_wait_init (self, name);
  return self;
}

/*< private >
 * _smartasync_wait_new_or_refuse:
 * @name: as for _smartasync_wait_new()
 * @error: return location for %SMARTASYNC_ERROR_WOULD_BLOCK
 *
 * Like _smartasync_wait_new(), for callers that start nothing when the wait
 * would block a running loop.
 *
 * Returns: (transfer full) (nullable): a wait with its private context
 *   pushed, or %NULL with @error set
 */
SmartasyncWait *
_smartasync_wait_new_or_refuse (const char  *name,
                                GError     **error)
{
  SmartasyncThreadState *state = _smartasync_thread_state ();
  SmartasyncWait *self;

  if (_smartasync_sync_wait_would_block (state))
    {
      _smartasync_set_would_block_error (name, error);
      return NULL;
    }

  self = wait_alloc ();
  self->state = state;
  self->name = name;
  wait_push (self);
  return self;
}

/*< private >
 * _smartasync_wait_init:
 *
 * Starts a wait embedded in another structure (SmartasyncWaiter), whose
 * owner manages its lifetime and ends it with _smartasync_wait_clear().
 */
void
_smartasync_wait_init (SmartasyncWait *self,
                       const char     *name)
{
  SmartasyncThreadState *state = _smartasync_thread_state ();

  self->state = state;
  self->name = name;
  if (!_smartasync_sync_wait_would_block (state))
    wait_push (self);
}

/* Marks the completion the wait gave up on as arrived, or as never coming. */
#define ORPHAN_SETTLED ((gpointer) &orphan_settled)
static const char orphan_settled;

static void
settle_orphan (SmartasyncWait *self)
{
  SmartasyncOrphans *orphans = g_atomic_pointer_exchange (&self->orphans, ORPHAN_SETTLED);

  if (orphans != NULL && orphans != ORPHAN_SETTLED)
    _smartasync_orphans_settle (orphans);
}

/* The caller stops waiting, but the completion may still come, even after
 * this thread exited: the private context must then still be dispatched. */
static void
give_up (SmartasyncWait *self)
{
  SmartasyncOrphans *orphans = _smartasync_thread_state_add_orphan (self->state);

  if (orphans == NULL)
    return;

  if (!g_atomic_pointer_compare_and_exchange (&self->orphans, NULL, orphans))
    _smartasync_orphans_settle (orphans);   /* it came meanwhile */
  else if (g_atomic_int_get (&self->completed))
    settle_orphan (self);                   /* it came, and did not see us */
}

static void
release_if_never_completed (gpointer  data,
                            GObject  *where_the_task_was)
{
  SmartasyncWait *self = data;

  /* The task died without calling back: the wait can stop, and nothing
   * else will drop the reference its pending completion owned. */
  g_atomic_int_set (&self->dropped, TRUE);
  if (self->context != NULL)
    g_main_context_wakeup (self->context);
  settle_orphan (self);
  _smartasync_wait_unref (self);
}

void
_smartasync_wait_clear (SmartasyncWait *self)
{
  g_clear_object (&self->task);
  g_clear_object (&self->result);
  g_clear_pointer (&self->context, g_main_context_unref);
}

void
_smartasync_wait_unref (SmartasyncWait *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  _smartasync_wait_clear (self);
  g_free (self);
}

/*< private >
 * _smartasync_wait_complete:
 *
 * Hands the operation's result to the wait. Returns %FALSE (with a critical)
 * if it already had one.
 */
gboolean
_smartasync_wait_complete (SmartasyncWait *self,
                           GAsyncResult   *result)
{
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);
  g_return_val_if_fail (self->result == NULL, FALSE);

  self->result = g_object_ref (result);
  /* Set before looking for a give-up, which sets its mark before looking at
   * this: one of the two sees the other. */
  g_atomic_int_set (&self->completed, TRUE);
  if (g_atomic_pointer_get (&self->orphans) != NULL)
    settle_orphan (self);

  if (self->watching_task)
    g_object_weak_unref (G_OBJECT (result), release_if_never_completed, self);

  /* An operation may complete from another thread; the waiting thread
   * sleeps in poll() and must be woken. On the owner thread, the iteration
   * that dispatched us returns by itself. */
  if (self->context != NULL && !_smartasync_thread_state_is_current (self->state))
    g_main_context_wakeup (self->context);

  return TRUE;
}

/*< private >
 * _smartasync_wait_callback:
 *
 * A #GAsyncReadyCallback taking the wait as user data: completes it and
 * drops the pending completion's reference.
 */
void
_smartasync_wait_callback (GObject      *source_object,
                           GAsyncResult *result,
                           gpointer      wait)
{
  if (_smartasync_wait_complete (wait, result))
    _smartasync_wait_unref (wait);
}

static void
wake_context (GCancellable *cancellable,
              GMainContext *context)
{
  g_main_context_wakeup (context);
}

/* Most operations complete on the first iteration, without ever needing the
 * watch: a weak reference costs a tenth of a call, so it is only set up
 * when the wait is about to block, or returns with the task uncompleted. */
static void
release_task (SmartasyncWait *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->start.pending)
    return;

  task = g_steal_pointer (&self->task);
  if (task != NULL && !g_atomic_int_get (&self->completed))
    {
      self->watching_task = TRUE;
      g_object_weak_ref (G_OBJECT (task), release_if_never_completed, self);
    }
}

static void
iterate_until_complete (SmartasyncWait *self,
                        GCancellable   *cancellable)
{
  if (!g_atomic_int_get (&self->completed))
    g_main_context_iteration (self->context, FALSE);
  release_task (self);

  while (self->start.pending ||
         (!g_atomic_int_get (&self->completed) &&
          !g_atomic_int_get (&self->dropped) &&
          !g_cancellable_is_cancelled (cancellable)))
    {
      g_main_context_iteration (self->context, TRUE);
      release_task (self);
    }
}

/* Pending library tasks that code dispatched during this wait started on the
 * private context finish here, so they never fire in a later, unrelated wait. */
static void
drain_tracked_tasks (SmartasyncWait *self,
                     GCancellable   *cancellable)
{
  /* The wait's cancellable gets the caller out of these too: a nested call
   * that never completes must not hold the outer wait forever. */
  while (g_atomic_int_get (&self->state->tracked_pending) > self->tracked_at_start &&
         !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (self->context, TRUE);
}

/* Sources that code dispatched during this wait attached to the private
 * context and that are ready now belong to this wait, so they are
 * dispatched here and not in a later, unrelated one. The bound keeps a source
 * that never stops being ready (a caller's bug) from hanging the wait. */
#define MAX_LEFTOVER_DISPATCHES 64

/* Whether an iteration could dispatch something now. Preparing the sources
 * tells, without the rest of an iteration (a third of its cost, and a
 * fifth of a call): a source ready by itself (an idle, an expired timeout, a
 * completion) says so there. Only file descriptors other than the
 * context's wake-up one need a poll to tell; then iterate. */
static gboolean
may_have_ready_sources (GMainContext *context)
{
  GPollFD fds[2];
  gint priority;
  gint timeout;

  if (g_main_context_prepare (context, &priority))
    return TRUE;

  return g_main_context_query (context, priority, &timeout, fds, G_N_ELEMENTS (fds)) > 1;
}

static void
dispatch_ready_leftovers (SmartasyncWait *self)
{
  if (!may_have_ready_sources (self->context))
    return;

  for (guint i = 0; i < MAX_LEFTOVER_DISPATCHES; i++)
    if (!g_main_context_iteration (self->context, FALSE))
      return;

  g_warning ("A source attached to the private context during the wait for “%s” "
             "is still ready after %d dispatches; leaving it for later",
             self->name ? self->name : "operation", MAX_LEFTOVER_DISPATCHES);
}

static void
pop_context (SmartasyncWait *self)
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
 * _smartasync_dropped_task_error:
 * @name: (nullable): the operation's name
 *
 * Returns: (transfer full): the %SMARTASYNC_ERROR_NOT_COMPLETED a caller gets
 *   when the implementation dropped its task without completing it
 */
GError *
_smartasync_dropped_task_error (const char *name)
{
  return g_error_new (SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED,
                      "The implementation of “%s” dropped its GTask without completing it",
                      name ? name : "operation");
}

/*< private >
 * _smartasync_wait_iterate:
 * @self: a wait
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
_smartasync_wait_iterate (SmartasyncWait    *self,
                          GCancellable      *cancellable,
                          gboolean           blocking_done,
                          GError           **error)
{
  gulong handler = 0;

  g_return_val_if_fail (!self->waited, FALSE);
  self->waited = TRUE;

  if (self->context == NULL)
    return _smartasync_set_would_block_error (self->name, error);

  self->outer_waiting_for = self->state->waiting_for;
  self->state->waiting_for = self->name ? self->name : "operation";
  self->state->stall_reported = FALSE;

  /* Cancelling from another thread must wake the blocked iteration. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_context),
                                     self->context, NULL);

  if (blocking_done)
    {
      while (!g_atomic_int_get (&self->completed) &&
             g_main_context_iteration (self->context, FALSE))
        ;
    }
  else
    iterate_until_complete (self, cancellable);

  release_task (self);
  drain_tracked_tasks (self, cancellable);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  dispatch_ready_leftovers (self);
  pop_context (self);
  self->state->waiting_for = self->outer_waiting_for;

  if (g_atomic_int_get (&self->completed))
    return TRUE;

  give_up (self);
  if (g_atomic_int_get (&self->dropped))
    g_propagate_error (error, _smartasync_dropped_task_error (self->name));
  else if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED,
                 "Blocking implementation of “%s” returned without completing its GTask",
                 self->name ? self->name : "operation");
  return FALSE;
}

/*< private >
 * _smartasync_wait_hold_task:
 * @self: a wait
 * @task: (transfer full): the task that is to complete it
 *
 * Hands the wait the caller's reference to @task. If the wait has to block,
 * it trades that reference for a watch that does not keep @task alive: an
 * implementation that drops its task without completing it then ends the
 * wait with %SMARTASYNC_ERROR_NOT_COMPLETED instead of hanging it, and the
 * reference owned by the pending completion is released. Call it on the
 * waiting thread before the wait.
 */
void
_smartasync_wait_hold_task (SmartasyncWait *self,
                            GTask          *task)
{
  g_return_if_fail (self->task == NULL);

  self->task = task;
}

static void
run_start (SmartasyncStart *start)
{
  SmartasyncWait *self = G_STRUCT_MEMBER_P (start, -G_STRUCT_OFFSET (SmartasyncWait, start));

  self->start_func (self->task, self->start_data);
}

/*< private >
 * _smartasync_wait_start:
 * @self: a wait
 * @task: (transfer full): the task that is to complete it
 * @func: starts the operation of @task
 * @data: for @func; it must stay valid until the wait returns
 *
 * Like _smartasync_wait_hold_task(), and has the wait call @func from a
 * dispatch of the private context, ahead of anything else: an operation
 * started there that completes its task at once calls back on the spot,
 * without an idle source. The wait does not return before @func ran.
 */
void
_smartasync_wait_start (SmartasyncWait          *self,
                        GTask                   *task,
                        SmartasyncWaitStartFunc  func,
                        gpointer                 data)
{
  g_return_if_fail (self->context != NULL);

  _smartasync_wait_hold_task (self, task);
  self->start_func = func;
  self->start_data = data;
  self->start.run = run_start;
  _smartasync_thread_state_post_start (self->state, &self->start);
}

/*< private >
 * _smartasync_wait_steal_result:
 *
 * Returns: (transfer full) (nullable): the result received, which the wait
 *   no longer holds
 */
GAsyncResult *
_smartasync_wait_steal_result (SmartasyncWait *self)
{
  return g_steal_pointer (&self->result);
}

/*< private >
 * _smartasync_wait_get_result:
 *
 * Returns: (transfer none) (nullable): the result received so far
 */
GAsyncResult *
_smartasync_wait_get_result (SmartasyncWait *self)
{
  return self->result;
}
