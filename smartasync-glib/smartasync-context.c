/* smartasync-context.c: per-thread context detection, mode override and private context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * smartasync_in_async_context:
 *
 * Tells whether the calling code runs in an *async context*: code that a
 * running main loop of this thread dispatched, where blocking would freeze the
 * loop and results must come back through callbacks.
 *
 * ## The rule
 *
 * Unless a mode was pushed with [func@Smartasync.push_mode], the answer is
 * %TRUE exactly when a #GSource is being dispatched on this thread
 * (g_main_current_source()) and that source belongs to the thread-default
 * main context (g_main_context_get_thread_default(), or the global default
 * context when none is pushed). This is the test #GTask itself uses to decide
 * whether it may complete on the spot, so the bridge and GIO agree on every
 * case:
 *
 * - `main()` before any loop runs, a worker thread of g_task_run_in_thread(), a
 *   thread that pushed its own context but is not iterating it yet: nothing is
 *   dispatching, so **sync**.
 * - An idle, timeout, I/O watch or #GTask callback dispatched by
 *   g_main_loop_run() (on the default context, or on a thread's own pushed
 *   context): **async**.
 * - Code dispatched by the bridge's own private-context wait, including an
 *   asynchronous implementation called synchronously: the private context is
 *   the thread-default one, so **async**. A nested smart call gets a pending
 *   #GTask that completes on that private context, instead of starting a
 *   second blocking wait. A blocking implementation called synchronously
 *   runs directly in its caller's sync context.
 * - Code dispatched by the global default context while another context is
 *   pushed as thread-default and nobody iterates it: **sync**. A #GTask created
 *   there would bind to the idle pushed context and never complete, so
 *   returning one would be a trap.
 * - #GApplication's `startup`, `activate`, `open` and `command-line` handlers
 *   run from g_application_run() before its loop dispatches any source:
 *   **sync**. Smart calls made there block until done (on the private
 *   context, which works because the application's loop is not needed);
 *   push %SMARTASYNC_MODE_ASYNC there to get pending tasks that complete once
 *   the application's loop runs.
 *
 * Neither g_main_context_is_owner() (pushing a context acquires it) nor
 * g_main_depth() (it counts dispatches of *any* context) can tell these cases
 * apart, which is why the rule looks at the source being dispatched.
 *
 * The check reads thread-local state only: it is exact, needs no cache and
 * costs a few tens of nanoseconds.
 *
 * Returns: %TRUE in an async context
 *
 * Since: 0.1
 */

#include "config.h"

#include <string.h>

#include "smartasync-context-private.h"
#include "smartasync-debug-private.h"

struct _SmartasyncThreadState
{
  GMainContext      *private_context;  /* created on demand, or adopted */
  GSource           *starter;          /* dispatches starts, on private_context */
  SmartasyncOrphans *orphans;          /* of private_context, when the library made it */
  SmartasyncStart   *starts;           /* posted, not yet run; innermost first */
  guint              wait_depth;       /* waits running on this thread */
  guint              scope_depth;      /* wait_depth of the innermost scope, 0 if none */
  gpointer           spare;            /* a wait record kept for the next wait */
  gint               tracked_pending;  /* atomic: library tasks pending on private_context */
  GArray            *modes;            /* SmartasyncMode stack, NULL when empty */
};

static void smartasync_thread_state_free (gpointer data);

static GPrivate thread_state_key = G_PRIVATE_INIT (smartasync_thread_state_free);

/* A wait abandoned on cancellation still owes its private context a
 * completion, which may arrive long after the wait returned, and after its
 * thread exited. Each private context the library made counts such
 * completions, so that a context dropped while some are owed is handed to a
 * janitor thread that dispatches them as they arrive: otherwise the late
 * completion would be queued where nobody iterates, and its task, its wait
 * and the context would leak. */
struct _SmartasyncOrphans
{
  gatomicrefcount  ref_count;
  gint             owed;       /* atomic */
  GMainContext    *context;
};

static SmartasyncOrphans *
orphans_new (GMainContext *context)
{
  SmartasyncOrphans *orphans = g_new0 (SmartasyncOrphans, 1);

  g_atomic_ref_count_init (&orphans->ref_count);
  orphans->context = g_main_context_ref (context);
  return orphans;
}

static void
orphans_unref (SmartasyncOrphans *orphans)
{
  if (!g_atomic_ref_count_dec (&orphans->ref_count))
    return;

  g_main_context_unref (orphans->context);
  g_free (orphans);
}

/*< private >
 * _smartasync_thread_state_add_orphan:
 *
 * Records that a wait gave up on a completion its private context still
 * owes. Returns: (transfer full): what to settle once it arrived, or once
 * its task is gone, with _smartasync_orphans_settle()
 */
SmartasyncOrphans *
_smartasync_thread_state_add_orphan (SmartasyncThreadState *state)
{
  SmartasyncOrphans *orphans = state->orphans;

  if (orphans == NULL)
    return NULL;

  g_atomic_int_inc (&orphans->owed);
  g_atomic_ref_count_inc (&orphans->ref_count);
  return orphans;
}

void
_smartasync_orphans_settle (SmartasyncOrphans *orphans)
{
  if (g_atomic_int_dec_and_test (&orphans->owed))
    g_main_context_wakeup (orphans->context);
  orphans_unref (orphans);
}

static gpointer
janitor_main (gpointer data)
{
  SmartasyncOrphans *orphans = data;

  g_main_context_push_thread_default (orphans->context);
  while (g_atomic_int_get (&orphans->owed) > 0)
    g_main_context_iteration (orphans->context, TRUE);
  g_main_context_pop_thread_default (orphans->context);
  orphans_unref (orphans);
  return NULL;
}

/* Takes the private context off the thread. Completions still owed to it
 * (waits abandoned on cancellation) go to a janitor thread that dispatches
 * them as they arrive: otherwise a late completion would be queued where
 * nobody iterates, and its task, its wait and the context would leak. */
static GMainContext *
detach_private_context (SmartasyncThreadState *state)
{
  GMainContext *context = g_steal_pointer (&state->private_context);
  SmartasyncOrphans *orphans = g_steal_pointer (&state->orphans);

  if (context == NULL)
    return NULL;

  g_source_destroy (state->starter);
  g_clear_pointer (&state->starter, g_source_unref);

  if (orphans != NULL && g_atomic_int_get (&orphans->owed) > 0)
    {
      /* Thread names longer than 15 bytes are not applied on Linux. */
      g_autoptr(GThread) janitor = g_thread_try_new ("smartasync-jani", janitor_main,
                                                     orphans, NULL);

      if (janitor == NULL)
        orphans_unref (orphans);
    }
  else if (orphans != NULL)
    orphans_unref (orphans);

  return context;
}

/* A private context dropped at thread exit or reset: what is ready on it
 * (the late completion of a wait abandoned on cancellation, which would
 * otherwise keep the context, its task and its waiter alive in a reference
 * cycle) is dispatched first. */
static void
drop_private_context (SmartasyncThreadState *state)
{
  GMainContext *context = state->private_context;

  if (context == NULL)
    return;

  for (guint i = 0; i < 64 && g_main_context_iteration (context, FALSE); i++)
    ;

  g_main_context_unref (detach_private_context (state));
}

/*< private >
 * _smartasync_thread_state_retire_context:
 * @context: the private context a wait left sources on
 *
 * Retires the thread's private context, without dispatching anything more
 * on it: the next wait gets a fresh one. An adopted context is its owner's
 * and stays.
 *
 * Returns: whether it was retired
 */
gboolean
_smartasync_thread_state_retire_context (SmartasyncThreadState *state,
                                         GMainContext          *context)
{
  if (context != state->private_context || state->orphans == NULL)
    return FALSE;

  g_main_context_unref (detach_private_context (state));
  return TRUE;
}

/*< private >
 * _smartasync_thread_state_release_owed:
 *
 * For a worker thread between two pieces of work: completions its private
 * context still owes to waits abandoned on cancellation (a lock run every
 * caller left, a nested call cancelled) would wait there for the worker's
 * next wait, which may never come, keeping their tasks and results alive.
 * What is ready is dispatched now, and the context goes to a janitor if
 * completions are still owed; the next wait gets a fresh context.
 */
void
_smartasync_thread_state_release_owed (void)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);

  if (state != NULL && state->wait_depth == 0 && state->orphans != NULL &&
      g_atomic_int_get (&state->orphans->owed) > 0)
    drop_private_context (state);
}

static void
smartasync_thread_state_free (gpointer data)
{
  SmartasyncThreadState *state = data;

  /* A thread may exit from inside a call (g_thread_exit()). */
  _smartasync_forget_dead_stack_frames ();
  drop_private_context (state);
  g_clear_pointer (&state->modes, g_array_unref);
  g_free (state->spare);
  g_free (state);
}

/*< private >
 * _smartasync_thread_state:
 *
 * Returns: (transfer none): the calling thread's state, created on first use
 *   and freed when the thread exits.
 */
SmartasyncThreadState *
_smartasync_thread_state (void)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);

  if (G_UNLIKELY (state == NULL))
    {
      state = g_new0 (SmartasyncThreadState, 1);
      g_private_set (&thread_state_key, state);
    }

  return state;
}

/* Whether @state is the calling thread's, without creating one for a thread
 * that has none. */
gboolean
_smartasync_thread_state_is_current (SmartasyncThreadState *state)
{
  return g_private_get (&thread_state_key) == state;
}

/* Every iteration of a context polls its file descriptors, even with a zero
 * timeout when a source is already ready. When the only descriptor is the
 * context's own wake-up fd, a zero-timeout poll can only report a wake-up,
 * which a later blocking poll reports just as well: skipping the syscall
 * there saves about half the cost of a wait. Any other descriptor (a source
 * waiting on a socket, a pipe...) is always polled. */
static gint
private_context_poll (GPollFD *fds,
                      guint    nfds,
                      gint     timeout)
{
  if (timeout == 0 && nfds == 1)
    {
      fds[0].revents = 0;
      return 0;
    }

  return g_poll (fds, nfds, timeout);
}

/* The starter runs the implementation of an operation called synchronously
 * from a dispatch of the private context instead of inline. A task that the
 * implementation completes at once then calls back on the spot (GTask
 * completes immediately when it returns from a later dispatch of its own
 * context) rather than through an idle source of its own, which saves a
 * quarter of a call. It is a source of its own, ready exactly when a start
 * was posted: setting a ready time would write to the context's wake-up fd on
 * every call. Only the thread owning the state posts starts and iterates its
 * private context. */
typedef struct
{
  GSource                source;
  SmartasyncThreadState *state;
} Starter;

static gboolean
starter_prepare (GSource *source,
                 gint    *timeout)
{
  *timeout = -1;
  return ((Starter *) source)->state->starts != NULL;
}

static gboolean
starter_check (GSource *source)
{
  return ((Starter *) source)->state->starts != NULL;
}

static gboolean
starter_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  SmartasyncThreadState *state = ((Starter *) source)->state;
  SmartasyncStart *start;

  while ((start = state->starts) != NULL)
    {
      state->starts = start->next;
      start->next = NULL;
      start->pending = FALSE;
      start->run (start);
    }

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs starter_funcs = {
  .prepare = starter_prepare,
  .check = starter_check,
  .dispatch = starter_dispatch,
};

static void
attach_starter (SmartasyncThreadState *state)
{
  state->starter = g_source_new (&starter_funcs, sizeof (Starter));
  ((Starter *) state->starter)->state = state;
  g_source_set_static_name (state->starter, "[smartasync] starter");
  /* Ahead of anything else ready, and again from a wait nested in a start. */
  g_source_set_priority (state->starter, G_PRIORITY_HIGH);
  g_source_set_can_recurse (state->starter, TRUE);
  g_source_attach (state->starter, state->private_context);
}

/*< private >
 * _smartasync_thread_state_post_start:
 *
 * Queues @start for the next iteration of the calling thread's private
 * context, which runs it ahead of anything else ready. The caller iterates
 * that context until @start ran (its `pending` flag is cleared first).
 */
void
_smartasync_thread_state_post_start (SmartasyncThreadState *state,
                                     SmartasyncStart       *start)
{
  _smartasync_thread_state_get_context (state);
  start->pending = TRUE;
  start->next = state->starts;
  state->starts = start;
}

GMainContext *
_smartasync_thread_state_get_context (SmartasyncThreadState *state)
{
  if (G_UNLIKELY (state->private_context == NULL))
    {
      state->private_context = g_main_context_new ();
      g_main_context_set_poll_func (state->private_context, private_context_poll);
      state->orphans = orphans_new (state->private_context);
      attach_starter (state);
      SMARTASYNC_DEBUG (NULL, "context", "created private context %p",
                        state->private_context);
    }

  return state->private_context;
}

/*< private >
 * _smartasync_thread_state_enter_wait:
 * @tracked: (out): the library tasks pending now (see
 *   _smartasync_thread_state_get_tracked())
 *
 * Counts a wait starting on the thread.
 *
 * Returns: (transfer none): the private context it waits on
 */
GMainContext *
_smartasync_thread_state_enter_wait (SmartasyncThreadState *state,
                                     gint                  *tracked)
{
  *tracked = g_atomic_int_get (&state->tracked_pending);
  state->wait_depth++;
  return _smartasync_thread_state_get_context (state);
}

/*< private >
 * _smartasync_thread_state_take_spare:
 *
 * Every synchronous call makes a wait record, and most free it on their
 * own thread: each thread keeps the last one freed there (plain memory of
 * @size bytes, zeroed here) for its next wait, which saves an allocation
 * and a free per call.
 *
 * Returns: (transfer full): a zeroed block of @size bytes
 */
gpointer
_smartasync_thread_state_take_spare (SmartasyncThreadState *state,
                                     gsize                  size)
{
  gpointer spare = g_steal_pointer (&state->spare);

  if (spare == NULL)
    return g_malloc0 (size);

  memset (spare, 0, size);
  return spare;
}

/*< private >
 * _smartasync_thread_state_put_spare:
 *
 * Keeps @block (from _smartasync_thread_state_take_spare()) for the next
 * wait of the calling thread, or frees it. Any thread may call it.
 */
void
_smartasync_thread_state_put_spare (SmartasyncThreadState *state,
                                    gpointer               block)
{
  if (g_private_get (&thread_state_key) == state && state->spare == NULL)
    state->spare = block;
  else
    g_free (block);
}

/*< private >
 * _smartasync_thread_state_get_scope_context:
 *
 * Returns: (transfer none) (nullable): the private context, when a wait
 *   starting now would start directly inside a scope
 */
GMainContext *
_smartasync_thread_state_get_scope_context (SmartasyncThreadState *state)
{
  if (state->wait_depth == 0 || state->wait_depth != state->scope_depth)
    return NULL;

  return state->private_context;
}

/*< private >
 * _smartasync_thread_state_open_scope:
 *
 * Makes the innermost wait running on the thread a scope: the waits that
 * start directly inside it find the private context pushed already.
 *
 * Returns: the scope it was in, for _smartasync_thread_state_close_scope()
 */
guint
_smartasync_thread_state_open_scope (SmartasyncThreadState *state)
{
  guint outer = state->scope_depth;

  state->scope_depth = state->wait_depth;
  return outer;
}

void
_smartasync_thread_state_close_scope (SmartasyncThreadState *state,
                                      guint                  outer)
{
  state->scope_depth = outer;
}

void
_smartasync_thread_state_leave_wait (SmartasyncThreadState *state)
{
  g_return_if_fail (state->wait_depth > 0);

  state->wait_depth--;
}

guint
_smartasync_thread_state_get_wait_depth (SmartasyncThreadState *state)
{
  return state->wait_depth;
}

/* Library tasks pending on the private context, which the waits that
 * started them drain. Untracked from any thread. */
gint
_smartasync_thread_state_get_tracked (SmartasyncThreadState *state)
{
  return g_atomic_int_get (&state->tracked_pending);
}

void
_smartasync_thread_state_track (SmartasyncThreadState *state)
{
  g_atomic_int_inc (&state->tracked_pending);
}

void
_smartasync_thread_state_untrack (SmartasyncThreadState *state)
{
  g_atomic_int_add (&state->tracked_pending, -1);
}

gboolean
_smartasync_context_is_private (GMainContext *context)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);

  return state != NULL && context != NULL && context == state->private_context;
}

static SmartasyncMode
current_mode (SmartasyncThreadState *state)
{
  if (state == NULL || state->modes == NULL || state->modes->len == 0)
    return SMARTASYNC_MODE_AUTO;

  return g_array_index (state->modes, SmartasyncMode, state->modes->len - 1);
}

/* The thread-default context, if it is the one dispatching right now. */
static GMainContext *
dispatching_thread_default (void)
{
  GSource *source = g_main_current_source ();
  GMainContext *thread_default;

  if (source == NULL)
    return NULL;

  thread_default = g_main_context_get_thread_default ();
  if (thread_default == NULL)
    thread_default = g_main_context_default ();

  return g_source_get_context (source) == thread_default ? thread_default : NULL;
}

gboolean
smartasync_in_async_context (void)
{
  SmartasyncMode mode = current_mode (g_private_get (&thread_state_key));

  if (mode != SMARTASYNC_MODE_AUTO)
    return mode == SMARTASYNC_MODE_ASYNC;

  return dispatching_thread_default () != NULL;
}

/*< private >
 * _smartasync_sync_wait_would_block:
 *
 * A synchronous wait is refused when a main loop of this thread that the
 * library does not own is dispatching: blocking would freeze it, and any
 * operation that needs it would deadlock, which cannot be detected without
 * iterating a context we did not create. Waits nested in the library's own
 * private-context wait are fine: they iterate that same context.
 */
gboolean
_smartasync_sync_wait_would_block (SmartasyncThreadState *state)
{
  GMainContext *dispatching;

  if (current_mode (state) == SMARTASYNC_MODE_SYNC)
    return FALSE;

  dispatching = dispatching_thread_default ();

  return dispatching != NULL && dispatching != state->private_context;
}

/**
 * smartasync_push_mode:
 * @mode: the mode to force on this thread
 *
 * Overrides context detection on the calling thread until the matching
 * [func@Smartasync.pop_mode]. Modes nest; %SMARTASYNC_MODE_AUTO pushed on
 * top of another mode restores detection for the inner scope. The override
 * is per thread: worker threads, including those that run offloaded blocking
 * work, never inherit it.
 *
 * Since: 0.1
 */
void
smartasync_push_mode (SmartasyncMode mode)
{
  SmartasyncThreadState *state;

  g_return_if_fail (mode == SMARTASYNC_MODE_AUTO ||
                    mode == SMARTASYNC_MODE_SYNC ||
                    mode == SMARTASYNC_MODE_ASYNC);

  state = _smartasync_thread_state ();
  if (state->modes == NULL)
    state->modes = g_array_new (FALSE, FALSE, sizeof (SmartasyncMode));
  g_array_append_val (state->modes, mode);
}

/**
 * smartasync_pop_mode:
 *
 * Removes the mode pushed last by [func@Smartasync.push_mode] on this thread.
 * Popping with no mode pushed is a programmer error.
 *
 * Since: 0.1
 */
void
smartasync_pop_mode (void)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);

  g_return_if_fail (state != NULL && state->modes != NULL && state->modes->len > 0);

  g_array_set_size (state->modes, state->modes->len - 1);
}

/**
 * smartasync_get_mode:
 *
 * Gets the mode pushed last on the calling thread with
 * [func@Smartasync.push_mode].
 *
 * Returns: the mode in force on this thread, %SMARTASYNC_MODE_AUTO when none
 *   was pushed
 *
 * Since: 0.1
 */
SmartasyncMode
smartasync_get_mode (void)
{
  return current_mode (g_private_get (&thread_state_key));
}

/**
 * smartasync_clear_modes:
 *
 * Drops every mode pushed on this thread, restoring automatic detection.
 *
 * Since: 0.1
 */
void
smartasync_clear_modes (void)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);

  if (state != NULL && state->modes != NULL)
    g_array_set_size (state->modes, 0);
}

/**
 * smartasync_get_private_context:
 *
 * Gets the calling thread's private main context: the context that
 * synchronous waits push as thread-default and iterate. It is created on first
 * use, reused by every later wait on this thread and freed when the thread
 * exits (or by [func@Smartasync.reset]).
 *
 * Returns: (transfer none): the thread's private context
 *
 * Since: 0.1
 */
GMainContext *
smartasync_get_private_context (void)
{
  return _smartasync_thread_state_get_context (_smartasync_thread_state ());
}

/**
 * smartasync_set_private_context:
 * @context: (nullable): a context to adopt, or %NULL to drop the current one
 *
 * Makes @context the calling thread's private context, for callers that
 * already own a context per worker thread and want the bridge to use it. The
 * bridge then iterates @context during synchronous waits, so nothing else may
 * iterate it at the same time. %NULL drops the current private context; the
 * next wait creates a fresh one.
 *
 * Must not be called while a wait is running on this thread.
 *
 * Since: 0.1
 */
void
smartasync_set_private_context (GMainContext *context)
{
  SmartasyncThreadState *state = _smartasync_thread_state ();

  g_return_if_fail (state->wait_depth == 0);

  if (context != NULL)
    g_main_context_ref (context);
  drop_private_context (state);
  state->private_context = context;
  if (context != NULL)
    attach_starter (state);
}

/*< private >
 * _smartasync_thread_state_reset:
 *
 * Drops the modes pushed on the calling thread and its private context.
 *
 * Returns: %FALSE (with a critical) while a wait runs on this thread
 */
gboolean
_smartasync_thread_state_reset (void)
{
  SmartasyncThreadState *state = g_private_get (&thread_state_key);
  guint wait_depth = state != NULL ? state->wait_depth : 0;

  g_return_val_if_fail (wait_depth == 0, FALSE);

  if (state != NULL)
    {
      smartasync_clear_modes ();
      drop_private_context (state);
    }
  return TRUE;
}
