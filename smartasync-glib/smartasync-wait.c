/* smartasync-wait.c: the synchronous wait behind every blocking entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-debug-private.h"
#include "smartasync-error.h"
#include "smartasync-wait-private.h"

/* A plain reference-counted record rather than a GObject: every synchronous
 * call makes one, and a GObject costs about a quarter of a call. The public
 * SmartasyncWaiter wraps one for callers and bindings. */

/* A wait with no progress says so after this long, unless the wait sets
 * its own delay. SMARTASYNC_STALL_REPORT_MS overrides it, for tests. */
static guint
default_stall_report_ms (void)
{
  static gsize ms;

  if (g_once_init_enter (&ms))
    {
      const char *env = g_getenv ("SMARTASYNC_STALL_REPORT_MS");
      gint64 value = env ? g_ascii_strtoll (env, NULL, 10) : 0;

      g_once_init_leave (&ms, value > 0 && value < G_MAXINT ? (gsize) value : 5000);
    }

  return (guint) ms;
}

static void
wait_free (SmartasyncWait *self)
{
  _smartasync_thread_state_put_spare (self->state, self);
}

static const char *
wait_name (SmartasyncWait *self)
{
  return self->name ? self->name : "operation";
}

/* With the two references that _smartasync_wait_new() describes. */
static SmartasyncWait *
wait_alloc (SmartasyncThreadState *state)
{
  SmartasyncWait *self = _smartasync_thread_state_take_spare (state, sizeof (SmartasyncWait));

  /* Not shared yet: no atomic operation needed (two of them would cost a
   * twentieth of a call). */
  self->ref_count = 2;
  self->state = state;
  return self;
}

/* Pushes the private context of the wait's thread, unless the wait is
 * scoped: it finds that context pushed already, and leaves it pushed. */
static void
wait_push (SmartasyncWait *self)
{
  self->context = _smartasync_thread_state_enter_wait (self->state, &self->tracked_at_start);
  if (self->scoped)
    return;

  if (self->flags & SMARTASYNC_WAIT_PASS_THROUGH)
    self->below = g_main_context_get_thread_default ();
  g_main_context_push_thread_default (self->context);
}

/* A wait made in a scope finds the private context pushed, unless something
 * else was pushed since (then it pushes its own). That holds for a wait made
 * from code that the scope's own wait dispatches too: what it leaves is the
 * scope's either way. Such a wait is never refused: the context that could
 * be dispatching is the private one. */
static gboolean
is_scoped (SmartasyncWait *self)
{
  GMainContext *scope_context = _smartasync_thread_state_get_scope_context (self->state);

  return G_UNLIKELY (scope_context != NULL) &&
         g_main_context_get_thread_default () == scope_context;
}

/*< private >
 * _smartasync_wait_init:
 * @self: a zeroed wait, embedded in another structure (SmartasyncWaiter),
 *   whose owner manages its lifetime and ends it with _smartasync_wait_clear()
 * @name: (nullable): what is being waited for, for messages; it must stay
 *   valid until the wait returns
 * @flags: how to wait
 * @error: return location for %SMARTASYNC_ERROR_WOULD_BLOCK
 *
 * Pushes the calling thread's private context, so that the operation started
 * next binds to it. When the wait would block a running loop of this thread
 * (and @flags do not opt into that), nothing is pushed and nothing must be
 * started: the wait is refused.
 *
 * Returns: %TRUE if the wait may go on, %FALSE if it was refused
 */
gboolean
_smartasync_wait_init (SmartasyncWait       *self,
                       const char           *name,
                       SmartasyncWaitFlags   flags,
                       GError              **error)
{
  if (self->state == NULL)
    self->state = _smartasync_thread_state ();
  self->name = name;
  self->flags = flags;
  self->stall_report_ms = default_stall_report_ms ();
  self->scoped = is_scoped (self);

  if (!self->scoped && !(flags & SMARTASYNC_WAIT_BLOCK_RUNNING_LOOP) &&
      _smartasync_sync_wait_would_block (self->state))
    {
      SMARTASYNC_DEBUG (name, "refused", "sync wait refused: a running loop of this thread "
                        "is dispatching");
      return _smartasync_set_would_block_error (name, error);
    }

  SMARTASYNC_DEBUG (name, flags & SMARTASYNC_WAIT_PASS_THROUGH ? "direct" : "wait",
                    flags & SMARTASYNC_WAIT_PASS_THROUGH
                    ? "sync context, blocking implementation: direct call"
                    : "sync context, async implementation: waiting on the private context");
  wait_push (self);
  return TRUE;
}

/*< private >
 * _smartasync_wait_new:
 * @name: as for _smartasync_wait_init()
 * @flags: as for _smartasync_wait_init()
 * @error: as for _smartasync_wait_init()
 *
 * A wait of its own, as _smartasync_wait_init() describes: a refused one
 * is not made at all, so that its caller starts nothing.
 *
 * Returns: (transfer full) (nullable): a wait holding two references: the
 *   caller's, and the pending completion's, which _smartasync_wait_callback()
 *   drops (a wait abandoned on cancellation may return long before the
 *   operation calls back); %NULL with @error set when refused
 */
SmartasyncWait *
_smartasync_wait_new (const char           *name,
                      SmartasyncWaitFlags   flags,
                      GError              **error)
{
  SmartasyncWait *self = wait_alloc (_smartasync_thread_state ());

  if (!_smartasync_wait_init (self, name, flags, error))
    {
      wait_free (self);
      return NULL;
    }

  return self;
}

/*< private >
 * _smartasync_wait_set_stall_report:
 * @timeout_ms: how long a wait may go without completing before it says so
 *   in a debug message; 0 never
 */
void
_smartasync_wait_set_stall_report (SmartasyncWait *self,
                                   guint           timeout_ms)
{
  self->stall_report_ms = timeout_ms;
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
 * this thread exited: the private context must then still be dispatched.
 * Once: a wait gives up before it ends, and again if it did not complete. */
static void
give_up (SmartasyncWait *self)
{
  SmartasyncOrphans *orphans;

  if (g_atomic_pointer_get (&self->orphans) != NULL)
    return;

  orphans = _smartasync_thread_state_add_orphan (self->state);
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
  if (g_atomic_int_get (&self->context_held))
    g_main_context_wakeup (self->context);
  settle_orphan (self);
  _smartasync_wait_unref (self);
}

void
_smartasync_wait_clear (SmartasyncWait *self)
{
  g_clear_object (&self->task);
  g_clear_object (&self->result);
  if (self->context_held)
    g_main_context_unref (self->context);
  self->context = NULL;
}

/* A wait that completes during its first iteration, on its own thread (most
 * do), needs no reference to its context: nobody else touches it. One that
 * blocks, or watches its task, may be woken from another thread, at any
 * time: from then on it holds one, and says so to the threads that wake it. */
static void
hold_context (SmartasyncWait *self)
{
  if (self->context_held)
    return;

  g_main_context_ref (self->context);
  g_atomic_int_set (&self->context_held, TRUE);
}

void
_smartasync_wait_unref (SmartasyncWait *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  _smartasync_wait_clear (self);
  wait_free (self);
}

/*< private >
 * _smartasync_wait_complete:
 *
 * Hands the operation's result to the wait. Returns %FALSE (with a critical)
 * if it already had one.
 */
static gboolean
complete (SmartasyncWait *self,
          GAsyncResult   *result)
{
  g_return_val_if_fail (self->result == NULL, FALSE);

  /* The task the wait holds is the result: its reference changes hands. */
  if (self->task != NULL && result == (GAsyncResult *) self->task && !self->start.pending)
    self->result = (GAsyncResult *) g_steal_pointer (&self->task);
  else
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
  if (g_atomic_int_get (&self->context_held) &&
      !_smartasync_thread_state_is_current (self->state))
    g_main_context_wakeup (self->context);

  return TRUE;
}

gboolean
_smartasync_wait_complete (SmartasyncWait *self,
                           GAsyncResult   *result)
{
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  return complete (self, result);
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
  if (complete (wait, result))
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
      hold_context (self);
      self->watching_task = TRUE;
      g_object_weak_ref (G_OBJECT (task), release_if_never_completed, self);
    }
}

/* A wait whose operation needs a context nobody iterates (the global default
 * one, through g_idle_add () or g_timeout_add (), say) can never complete,
 * and that cannot be told apart from a slow one (a password prompt, a slow
 * network): a wait that is still blocked after its delay says so once, at
 * debug level, naming the operation. */
static gboolean
report_stall (gpointer data)
{
  SmartasyncWait *self = data;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    "SMARTASYNC_OPERATION", wait_name (self),
                    "SMARTASYNC_PATH", "stall",
                    "MESSAGE",
                    "Synchronous wait for “%s” has made no progress for %u ms. If the "
                    "operation needs a main context that nothing iterates (g_idle_add(), "
                    "g_timeout_add() and GTK use the global default one), it can never "
                    "complete: attach its sources to g_main_context_get_thread_default(), "
                    "call it asynchronously from a running loop, or cancel the wait",
                    wait_name (self), self->stall_report_ms);
  return G_SOURCE_REMOVE;
}

/* Only a wait that is about to block pays for the timer. */
static void
arm_stall_report (SmartasyncWait *self)
{
  if (self->stall_report_ms == 0 || self->stall_timer != NULL)
    return;

  self->stall_timer = g_timeout_source_new (self->stall_report_ms);
  g_source_set_static_name (self->stall_timer, "[smartasync] stall report");
  g_source_set_callback (self->stall_timer, report_stall, self, NULL);
  g_source_attach (self->stall_timer, self->context);
}

static void
disarm_stall_report (SmartasyncWait *self)
{
  if (self->stall_timer == NULL)
    return;

  g_source_destroy (self->stall_timer);
  g_clear_pointer (&self->stall_timer, g_source_unref);
}

/* Most waits have no cancellable: no call for them. */
static inline gboolean
is_cancelled (GCancellable *cancellable)
{
  return cancellable != NULL && g_cancellable_is_cancelled (cancellable);
}

static gboolean
own_completion_done (SmartasyncWait *self)
{
  return g_atomic_int_get (&self->completed) || g_atomic_int_get (&self->dropped);
}

static gboolean
is_done (SmartasyncWait         *self,
         SmartasyncWaitDoneFunc  done,
         gpointer                data)
{
  return done != NULL ? done (data) : own_completion_done (self);
}

/* One non-blocking iteration of the private context, which the wait owns
 * (pushing it acquired it): the steps of g_main_context_iteration() without
 * acquiring and releasing the context, and without a poll() when nothing
 * but the context's own wake-up descriptor could be polled (a later
 * blocking poll reports a wake-up just as well). Most waits complete here. */
#define DISPATCH_FDS 8

static gboolean
dispatch_ready (GMainContext *context)
{
  GPollFD fds[DISPATCH_FDS];
  gint priority;
  gint timeout;
  gint n_fds;

  g_main_context_prepare (context, &priority);
  n_fds = g_main_context_query (context, priority, &timeout, fds, DISPATCH_FDS);
  if (G_UNLIKELY (n_fds > DISPATCH_FDS))
    {
      /* Prepared but not dispatched: the next iteration starts over. */
      return g_main_context_iteration (context, FALSE);
    }

  if (n_fds > 1)
    g_poll (fds, n_fds, 0);
  else if (n_fds == 1)
    fds[0].revents = 0;

  if (!g_main_context_check (context, priority, fds, n_fds))
    return FALSE;

  g_main_context_dispatch (context);
  return TRUE;
}

/* The one loop that iterates a private context: until a posted start has
 * run, and until @done (the wait's own completion when %NULL) or
 * @cancellable. The first iteration does not block, so that a task handed
 * to the wait is watched before the wait sleeps. */
static void
iterate_until (SmartasyncWait         *self,
               GCancellable           *cancellable,
               SmartasyncWaitDoneFunc  done,
               gpointer                data)
{
  gulong handler = 0;

  if (!self->start.pending && is_done (self, done, data))
    return;

  dispatch_ready (self->context);
  release_task (self);
  if (!self->start.pending &&
      (is_done (self, done, data) || is_cancelled (cancellable)))
    return;

  /* Cancelling from another thread must wake the blocked iteration. */
  hold_context (self);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_context),
                                     self->context, NULL);
  arm_stall_report (self);

  while (self->start.pending ||
         (!is_done (self, done, data) && !is_cancelled (cancellable)))
    {
      g_main_context_iteration (self->context, TRUE);
      release_task (self);
    }

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
}

static gboolean
tracked_tasks_done (gpointer data)
{
  SmartasyncWait *self = data;

  return _smartasync_thread_state_get_tracked (self->state) <= self->tracked_at_start;
}

/* Sources that code dispatched during this wait attached to the private
 * context and that are ready now belong to this wait, so they are
 * dispatched here and not in a later, unrelated one. The bound keeps a source
 * that never stops being ready (a caller's bug) from hanging the wait. */
#define MAX_LEFTOVER_DISPATCHES 64

/* What a wait left on the private context. Preparing the sources tells,
 * without the rest of an iteration (a third of its cost, and a fifth of a
 * call): a source ready by itself (an idle, an expired timeout, a
 * completion) says so there, and one that will be ready later gives a
 * timeout. Only file descriptors other than the context's wake-up one need
 * a poll to tell whether they are ready; then iterate. The clean case,
 * nothing left, costs this and nothing else. */
typedef enum
{
  LEFT_NOTHING,
  LEFT_WAITING,      /* sources that are not ready yet */
  LEFT_MAYBE_READY,
} Leftovers;

static Leftovers
look_for_leftovers (GMainContext *context)
{
  GPollFD fds[2];
  gint priority;
  gint timeout;

  if (g_main_context_prepare (context, &priority))
    return LEFT_MAYBE_READY;

  if (g_main_context_query (context, priority, &timeout, fds, G_N_ELEMENTS (fds)) > 1)
    return LEFT_MAYBE_READY;

  return timeout >= 0 ? LEFT_WAITING : LEFT_NOTHING;
}

/* Dispatches what the wait left ready; tells whether sources stay. */
static gboolean
dispatch_ready_leftovers (SmartasyncWait *self)
{
  Leftovers left = look_for_leftovers (self->context);

  if (left != LEFT_MAYBE_READY)
    return left == LEFT_WAITING;

  for (guint i = 0; i < MAX_LEFTOVER_DISPATCHES; i++)
    if (!g_main_context_iteration (self->context, FALSE))
      return look_for_leftovers (self->context) != LEFT_NOTHING;

  g_warning ("A source attached to the private context during the wait for “%s” "
             "is still ready after %d dispatches; leaving it for later",
             wait_name (self), MAX_LEFTOVER_DISPATCHES);
  return TRUE;
}

/* Sources a wait left that are not ready yet (a timeout an implementation
 * never removed, a watch on a descriptor) would fire inside a later,
 * unrelated wait: the outermost wait of the thread retires the context
 * instead, as code that made a context per call dropped it, and the
 * thread gets a fresh one. Waits nested in another leave it to that one. */
static void
retire_if_left (SmartasyncWait *self)
{
  if (_smartasync_thread_state_get_wait_depth (self->state) > 0)
    return;

  if (_smartasync_thread_state_retire_context (self->state, self->context))
    SMARTASYNC_DEBUG (self->name, "retired",
                      "left sources on the private context %p: retired it, "
                      "the thread gets a fresh one", self->context);
  else
    SMARTASYNC_DEBUG (self->name, "leftover",
                      "left sources on the adopted private context %p", self->context);
}

/* An implementation that pushed a thread-default context and did not pop it
 * leaves it above @expected, where every later operation of this thread
 * would bind to it. Pop what it left, and say who did it. An implementation
 * that popped more than it pushed cannot be told apart from that: the bound
 * keeps such a bug from emptying the caller's stack. */
#define MAX_STRAY_POPS 8

static gboolean
restore_thread_default (SmartasyncWait *self,
                        GMainContext   *expected)
{
  GMainContext *top = g_main_context_get_thread_default ();
  guint popped = 0;

  if (G_LIKELY (top == expected))
    return TRUE;

  while (top != expected && top != NULL && popped < MAX_STRAY_POPS)
    {
      g_main_context_pop_thread_default (top);
      popped++;
      top = g_main_context_get_thread_default ();
    }

  g_critical ("The implementation of “%s” pushed %u thread-default main context%s "
              "without popping %s; %s", wait_name (self), popped,
              popped == 1 ? "" : "s", popped == 1 ? "it" : "them",
              top == expected ? "popped" : "the thread-default context stays wrong");
  return top == expected;
}

static void
pop_context (SmartasyncWait *self)
{
  if (self->is_scope)
    _smartasync_thread_state_close_scope (self->state, self->outer_scope);
  if (restore_thread_default (self, self->context) && !self->scoped)
    g_main_context_pop_thread_default (self->context);
  _smartasync_thread_state_leave_wait (self->state);
}

/*< private >
 * _smartasync_wait_open_scope:
 * @self: a wait that was not refused, ended with _smartasync_wait_end()
 *
 * Makes the wait a scope (SmartasyncBatch): synchronous waits made directly
 * inside it, until it ends, find the private context pushed and leave it
 * pushed, and leave what they did not dispatch to the scope, which
 * dispatches it or retires the context when it ends.
 */
void
_smartasync_wait_open_scope (SmartasyncWait *self)
{
  g_return_if_fail (self->context != NULL && !self->is_scope);

  self->is_scope = TRUE;
  self->outer_scope = _smartasync_thread_state_open_scope (self->state);
}

/*< private >
 * _smartasync_wait_run_until:
 * @self: a wait that was not refused
 * @cancellable: (nullable): stops the wait
 * @done: tells whether what the wait waits for has arrived
 * @data: for @done
 *
 * Iterates the private context until @done returns %TRUE or @cancellable is
 * cancelled, leaving it pushed: for waits that wait several times before
 * they end (SmartasyncBatch).
 */
void
_smartasync_wait_run_until (SmartasyncWait         *self,
                            GCancellable           *cancellable,
                            SmartasyncWaitDoneFunc  done,
                            gpointer                data)
{
  g_return_if_fail (self->context != NULL && !self->ended);
  g_return_if_fail (done != NULL);

  iterate_until (self, cancellable, done, data);
  disarm_stall_report (self);
}

/*< private >
 * _smartasync_wait_end:
 * @self: a wait that was not refused
 * @cancellable: (nullable): stops waiting for tracked tasks
 *
 * Ends a wait: waits for the library tasks that code dispatched during the
 * wait started on the private context (they never fire in a later,
 * unrelated wait), dispatches what the wait left ready, and pops the
 * private context.
 */
void
_smartasync_wait_end (SmartasyncWait *self,
                      GCancellable   *cancellable)
{
  gboolean left;

  g_return_if_fail (self->context != NULL && !self->ended);

  self->ended = TRUE;
  release_task (self);
  /* The wait's cancellable gets the caller out of these too: a nested call
   * that never completes must not hold the outer wait forever. */
  if (!tracked_tasks_done (self))
    iterate_until (self, cancellable, tracked_tasks_done, self);
  disarm_stall_report (self);
  left = !self->scoped && dispatch_ready_leftovers (self);
  pop_context (self);
  if (G_UNLIKELY (left))
    retire_if_left (self);
}

gboolean
_smartasync_set_would_block_error (const char  *name,
                                   GError     **error)
{
  g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK,
               "Synchronous wait for “%s” refused: this thread's main loop is "
               "dispatching and would be blocked. Use the asynchronous call "
               "(with a callback) here, push SMARTASYNC_MODE_SYNC if the "
               "operation does not need this loop, or opt into blocking it "
               "for this wait (SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP)",
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

static gboolean
outcome (SmartasyncWait  *self,
         GCancellable    *cancellable,
         GError         **error)
{
  if (g_atomic_int_get (&self->completed))
    return TRUE;

  give_up (self);
  if (g_atomic_int_get (&self->dropped))
    g_propagate_error (error, _smartasync_dropped_task_error (self->name));
  else if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED,
                 "Blocking implementation of “%s” returned without completing its GTask",
                 wait_name (self));
  return FALSE;
}

/* A blocking implementation called from a sync context is sync code: it
 * runs where its caller is, with the caller's thread-default context, as
 * the Python original passes it straight through. Only its task was
 * created with the private context pushed, so that the task's completion
 * (an idle, since nothing is dispatching) is queued there and dispatched
 * here, instead of lingering on the caller's context. */
static gboolean
pass_through (SmartasyncWait  *self,
              GCancellable    *cancellable,
              GError         **error)
{
  if (!self->scoped)
    g_main_context_pop_thread_default (self->context);
  self->start_func (self->task, self->start_data);
  restore_thread_default (self, self->scoped ? self->context : self->below);

  while (!g_atomic_int_get (&self->completed) &&
         g_main_context_iteration (self->context, FALSE))
    ;
  self->ended = TRUE;
  release_task (self);
  _smartasync_thread_state_leave_wait (self->state);

  return outcome (self, cancellable, error);
}

/*< private >
 * _smartasync_wait_run:
 * @self: a wait that was not refused
 * @cancellable: (nullable): abandons the wait
 * @error: return location for the wait's own error
 *
 * Iterates the private context until the operation completed or @cancellable
 * was cancelled, then ends the wait (see _smartasync_wait_end()). A wait made
 * with %SMARTASYNC_WAIT_PASS_THROUGH runs its start function directly
 * instead, which must complete its task before it returns.
 *
 * Returns: %TRUE if the operation completed
 */
gboolean
_smartasync_wait_run (SmartasyncWait  *self,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_return_val_if_fail (self->context != NULL, FALSE);
  g_return_val_if_fail (!self->waited, FALSE);
  self->waited = TRUE;

  if (self->flags & SMARTASYNC_WAIT_PASS_THROUGH)
    return pass_through (self, cancellable, error);

  iterate_until (self, cancellable, NULL, NULL);
  /* Before the wait ends: ending it may retire the private context, whose
   * janitor must know that this completion is still owed to it (it may
   * arrive while the wait ends, and be left there). */
  if (!own_completion_done (self))
    give_up (self);
  _smartasync_wait_end (self, cancellable);

  return outcome (self, cancellable, error);
}

static void
run_start (SmartasyncStart *start)
{
  SmartasyncWait *self = G_STRUCT_MEMBER_P (start, -G_STRUCT_OFFSET (SmartasyncWait, start));

  self->start_func (self->task, self->start_data);
}

/*< private >
 * _smartasync_wait_start:
 * @self: a wait that was not refused
 * @task: (transfer full): the task that is to complete it
 * @func: starts the operation of @task
 * @data: for @func; it must stay valid until the wait returns
 *
 * Hands the wait the caller's reference to @task, and has the wait call
 * @func from a dispatch of the private context, ahead of anything else: an
 * operation started there that completes its task at once calls back on the
 * spot, without an idle source. A wait made with
 * %SMARTASYNC_WAIT_PASS_THROUGH calls it directly instead.
 *
 * If the wait has to block, it trades its reference to @task for a watch
 * that does not keep @task alive: an implementation that drops its task
 * without completing it then ends the wait with
 * %SMARTASYNC_ERROR_NOT_COMPLETED instead of hanging it, and the reference
 * owned by the pending completion is released.
 */
void
_smartasync_wait_start (SmartasyncWait          *self,
                        GTask                   *task,
                        SmartasyncWaitStartFunc  func,
                        gpointer                 data)
{
  g_return_if_fail (self->context != NULL);
  g_return_if_fail (self->task == NULL);

  self->task = task;
  self->start_func = func;
  self->start_data = data;
  if (self->flags & SMARTASYNC_WAIT_PASS_THROUGH)
    return;

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
