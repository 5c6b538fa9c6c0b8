/* test-faults.c: operations that fail, are cancelled, misbehave or outlive their caller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Fault injection. One configurable implementation (a Behaviour: how and
 * when it completes, whether it fails, cancels itself, returns twice or
 * never) is driven through every entry point of the library (the "paths"
 * below), and each case checks the outcome documented in
 * doc/guarantees.md: the caller's callback runs exactly once, on the right
 * thread and context, with the right value or error; nothing crashes, hangs
 * or leaks (run it with `meson test --setup valgrind`).
 *
 * Some outcomes are documented limitations, not promises (a call whose
 * caller's thread exits before it completes is never answered): those tests
 * check that the limitation is exactly what the documentation says, then
 * rescue what is left by hand so that the run stays valgrind-clean.
 *
 * Cases that hung or failed when written run in a subprocess with a timeout
 * (the "isolated" cases at the end): one of them failing fails its own test
 * case only. */

#include "test-util.h"

#define FAULT_ERROR (g_quark_from_static_string ("fault-error"))
#define FAULT_CODE 42

/* Hang guards. Nothing in this file waits for time to pass: every wait is
 * for an event (a count, a flag, a parked task, an open gate), and gives up
 * only after this long, saying which wait hung. The limits catch hangs, not
 * slowness: valgrind, ASan and a loaded 2-core machine stay far below. */
#define WAIT_TIMEOUT_MS 120000

/* Isolated cases that hang are killed after this long. */
#define SUBPROCESS_TIMEOUT (180 * G_USEC_PER_SEC)

/* Fails the test with what it was waiting for, once @deadline passed. */
static void
hang_guard (gint64      deadline,
            const char *what)
{
  if (g_get_monotonic_time () >= deadline)
    g_error ("%s: hang guard: still waiting for %s after %d s",
             g_test_get_path (), what, WAIT_TIMEOUT_MS / 1000);
}

static gint64
hang_guard_deadline (void)
{
  return g_get_monotonic_time () + (gint64) WAIT_TIMEOUT_MS * 1000;
}

/* The behaviour of the implementation */

typedef enum
{
  DONE_NOW,      /* completes inside the implementation */
  DONE_IDLE,     /* from an idle on the thread-default context */
  DONE_THREAD,   /* from another thread, after delay_ms or once the gate opens */
  DONE_MANUAL,   /* parks the task; the test completes it */
  DONE_DROP,     /* drops the task without completing it, ever */
} Done;

typedef struct
{
  Done          done;
  gboolean      fail;          /* FAULT_ERROR instead of the value */
  gboolean      cancel_self;   /* cancels the task's cancellable, then completes */
  gboolean      twice;         /* returns twice */
  gboolean      not_complete;  /* returns without completing (blocking kind) */
  guint         delay_ms;
  gboolean      gated;         /* DONE_THREAD waits for the gate, not delay_ms */

  GMutex        mutex;
  gboolean      gate_open;     /* under mutex */
  GCond         cond;
  gint          runs;          /* under mutex */
  gint          finished;      /* under mutex: implementation calls that returned */
  gint          completions;   /* under mutex: complete() calls that returned */
  GThread      *ran_on;
  GMainContext *ran_with;      /* thread-default context when it ran; not a reference */
  GTask        *parked;        /* DONE_MANUAL */
} Behaviour;

static Behaviour *
behaviour_new (Done done)
{
  Behaviour *b = g_new0 (Behaviour, 1);

  b->done = done;
  b->delay_ms = 20;
  g_mutex_init (&b->mutex);
  g_cond_init (&b->cond);
  return b;
}

static void
behaviour_free (gpointer data)
{
  Behaviour *b = data;

  g_assert_null (b->parked);
  g_mutex_clear (&b->mutex);
  g_cond_clear (&b->cond);
  g_free (b);
}

static void
return_result (GTask    *task,
               gboolean  fail)
{
  if (fail)
    g_task_return_new_error (task, FAULT_ERROR, FAULT_CODE, "failed on purpose");
  else
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_set_static_string (&value, "ok");
      g_task_return_value (task, &value);
    }
}

static void
complete (Behaviour *b,
          GTask     *task)
{
  if (b->cancel_self)
    g_cancellable_cancel (g_task_get_cancellable (task));

  return_result (task, b->fail);
  if (b->twice)
    return_result (task, FALSE);

  g_mutex_lock (&b->mutex);
  b->completions++;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->mutex);
}

/* Waits on @b's condition (its mutex held) until woken, or fails once
 * @deadline passed. */
static void
behaviour_wait (Behaviour  *b,
                gint64      deadline,
                const char *what)
{
  if (!g_cond_wait_until (&b->cond, &b->mutex, deadline))
    hang_guard (deadline, what);
}

static void
wait_completions (Behaviour *b,
                  gint       n)
{
  gint64 deadline = hang_guard_deadline ();

  g_mutex_lock (&b->mutex);
  while (b->completions < n)
    behaviour_wait (b, deadline, "the implementation's completions");
  g_mutex_unlock (&b->mutex);
}

/* A gated implementation holds on until the test opens its gate: "it is
 * still running" is then a fact the test made, not a guess about how long
 * a sleep lasts on a loaded machine. */
static void
behaviour_pass_gate (Behaviour *b)
{
  gint64 deadline = hang_guard_deadline ();

  g_mutex_lock (&b->mutex);
  while (!b->gate_open)
    behaviour_wait (b, deadline, "the test to open the implementation's gate");
  g_mutex_unlock (&b->mutex);
}

static void
behaviour_open_gate (Behaviour *b)
{
  g_mutex_lock (&b->mutex);
  b->gate_open = TRUE;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->mutex);
}

static void
behaviour_delay (Behaviour *b)
{
  if (b->gated)
    behaviour_pass_gate (b);
  else
    g_usleep (b->delay_ms * 1000);
}

static gboolean
complete_from_idle (gpointer data)
{
  GTask *task = data;

  complete (g_task_get_task_data (task), task);
  return G_SOURCE_REMOVE;
}

static gpointer
complete_from_thread (gpointer data)
{
  GTask *task = data;
  Behaviour *b = g_task_get_task_data (task);

  behaviour_delay (b);
  complete (b, task);
  g_object_unref (task);
  return NULL;
}

static void
record_run (Behaviour *b)
{
  g_mutex_lock (&b->mutex);
  b->runs++;
  b->ran_on = g_thread_self ();
  b->ran_with = g_main_context_get_thread_default ();
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->mutex);
}

static void
record_finished (Behaviour *b)
{
  g_mutex_lock (&b->mutex);
  b->finished++;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->mutex);
}

static void
fault_async_impl (GTask        *task,
                  gpointer      source_object,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  Behaviour *b = user_data;
  GSource *idle;

  record_run (b);
  g_task_set_task_data (task, b, NULL);

  switch (b->done)
    {
    case DONE_NOW:
      complete (b, task);
      break;
    case DONE_IDLE:
      idle = g_idle_source_new ();
      g_source_set_callback (idle, complete_from_idle, g_object_ref (task), g_object_unref);
      g_source_attach (idle, g_main_context_get_thread_default ());
      g_source_unref (idle);
      break;
    case DONE_THREAD:
      g_thread_unref (g_thread_new ("complete", complete_from_thread, g_object_ref (task)));
      break;
    case DONE_MANUAL:
      g_mutex_lock (&b->mutex);
      g_assert_null (b->parked);
      b->parked = g_object_ref (task);
      g_mutex_unlock (&b->mutex);
      break;
    case DONE_DROP:
      break;
    default:
      g_assert_not_reached ();
    }

  record_finished (b);
}

static void
fault_blocking_impl (GTask        *task,
                     gpointer      source_object,
                     GVariant     *args,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  Behaviour *b = user_data;

  record_run (b);
  g_assert_false (smartasync_in_async_context ());
  if (b->done == DONE_THREAD && (b->gated || b->delay_ms > 0))
    behaviour_delay (b);
  if (!b->not_complete)
    complete (b, task);
  record_finished (b);
}

/* Parked tasks */

static GTask *
wait_parked (Behaviour *b)
{
  gint64 deadline = hang_guard_deadline ();
  GTask *task;

  g_mutex_lock (&b->mutex);
  while (b->parked == NULL)
    behaviour_wait (b, deadline, "the implementation to park its task");
  task = g_steal_pointer (&b->parked);
  g_mutex_unlock (&b->mutex);

  return task;
}

static void
wait_finished (Behaviour *b,
               gint       n)
{
  gint64 deadline = hang_guard_deadline ();

  g_mutex_lock (&b->mutex);
  while (b->finished < n)
    behaviour_wait (b, deadline, "the implementation to return");
  g_mutex_unlock (&b->mutex);
}

/* Waits until the implementation was called @n times. */
static void
wait_runs (Behaviour *b,
           gint       n)
{
  gint64 deadline = hang_guard_deadline ();

  g_mutex_lock (&b->mutex);
  while (b->runs < n)
    behaviour_wait (b, deadline, "the implementation to be called");
  g_mutex_unlock (&b->mutex);
}

static gint
behaviour_runs (Behaviour *b)
{
  gint runs;

  g_mutex_lock (&b->mutex);
  runs = b->runs;
  g_mutex_unlock (&b->mutex);
  return runs;
}

static SmartasyncOperation *
fault_op_new (SmartasyncKind  kind,
              Behaviour      *b)
{
  if (kind == SMARTASYNC_KIND_ASYNC)
    return smartasync_operation_new_async ("fault", fault_async_impl, b, behaviour_free);
  return smartasync_operation_new_blocking ("fault", fault_blocking_impl, b, behaviour_free);
}

/* Drops the test's reference and waits until every task of the operation is
 * gone (offloaded work may still be finishing on a worker). The default and
 * private contexts are iterated meanwhile, so that nothing the test left
 * there keeps the operation alive. */
static void
weak_notify_flag (gpointer  data,
                  GObject  *where_the_object_was)
{
  g_atomic_int_set ((gint *) data, TRUE);
}

static void
release_object (gpointer    object,
                const char *what)
{
  gint64 deadline = hang_guard_deadline ();
  gint gone = FALSE;

  /* A weak reference with an atomic flag: the last reference may be dropped
   * on a worker (g_object_add_weak_pointer() would write the pointer there
   * without synchronization). */
  g_object_weak_ref (G_OBJECT (object), weak_notify_flag, &gone);
  g_object_unref (object);
  while (!g_atomic_int_get (&gone))
    {
      hang_guard (deadline, what);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      while (g_main_context_iteration (smartasync_get_private_context (), FALSE))
        ;
      g_usleep (1000);
    }
}

static void
release_op (SmartasyncOperation *op)
{
  release_object (op, "the operation to be freed");
}

/* Contexts */

typedef struct
{
  gint *counter;
  gint  target;
} CountTarget;

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates @context until *counter reaches @target; FALSE on timeout. */
static gboolean
iterate_until_count (GMainContext *context,
                     gint         *counter,
                     gint          target,
                     guint         timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GSource *ticker = g_timeout_source_new (5);
  gboolean reached;

  g_source_set_callback (ticker, wake_up, NULL, NULL);
  g_source_attach (ticker, context);
  while (g_atomic_int_get (counter) < target && g_get_monotonic_time () < deadline)
    g_main_context_iteration (context, TRUE);
  reached = g_atomic_int_get (counter) >= target;
  g_source_destroy (ticker);
  g_source_unref (ticker);

  return reached;
}

/* Lets stray dispatches happen, so that a second callback would show. */
static void
settle (GMainContext *context)
{
  gint never = 0;

  iterate_until_count (context, &never, 1, 30);
  while (g_main_context_iteration (context, FALSE))
    ;
}

typedef struct
{
  GSourceFunc func;
  gpointer    data;
  gboolean    ran;
} Dispatched;

static gboolean
dispatched_idle (gpointer data)
{
  Dispatched *d = data;

  g_assert_true (smartasync_in_async_context ());
  d->func (d->data);
  d->ran = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs @func from a dispatch of @context (the thread-default one): an
 * async context. */
static void
run_dispatched (GMainContext *context,
                GSourceFunc   func,
                gpointer      data)
{
  Dispatched d = { func, data, FALSE };
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, dispatched_idle, &d, NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  while (!d.ran)
    g_main_context_iteration (context, TRUE);
}

/* What a caller received */

typedef struct
{
  gint          calls;       /* atomic */
  GThread      *thread;
  GMainContext *context;
  gboolean      ok;
  char         *value;
  GError       *error;
} Outcome;

static void
outcome_clear (Outcome *out)
{
  g_free (out->value);
  g_clear_error (&out->error);
  *out = (Outcome) { 0 };
}

static void
outcome_set (Outcome      *out,
             gboolean      ok,
             const GValue *value,
             GError       *error)
{
  out->thread = g_thread_self ();
  out->context = g_main_context_get_thread_default ();
  out->ok = ok;
  g_clear_pointer (&out->value, g_free);
  g_clear_error (&out->error);
  if (ok)
    out->value = g_value_dup_string (value);
  else
    out->error = error;
  g_atomic_int_inc (&out->calls);
}

static void
outcome_callback (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      data)
{
  Outcome *out = data;
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;
  gboolean ok;

  if (SMARTASYNC_IS_LOCK (source_object))
    ok = smartasync_lock_run_finish (SMARTASYNC_LOCK (source_object), result, &value, &error);
  else if (SMARTASYNC_IS_OPERATION (source_object))
    ok = smartasync_operation_call_finish (SMARTASYNC_OPERATION (source_object), result,
                                           &value, &error);
  else
    ok = smartasync_await_finish (result, &value, &error);

  /* A second call would be a bug: make it visible in the count first. */
  outcome_set (out, ok, &value, error);
}

static void
assert_value (Outcome *out)
{
  g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 1);
  g_assert_no_error (out->error);
  g_assert_true (out->ok);
  g_assert_cmpstr (out->value, ==, "ok");
}

static void
assert_error (Outcome *out,
              GQuark   domain,
              gint     code)
{
  g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 1);
  g_assert_false (out->ok);
  g_assert_error (out->error, domain, code);
  if (domain == FAULT_ERROR)
    g_assert_cmpstr (out->error->message, ==, "failed on purpose");
}

/* The entry points */

typedef enum
{
  PATH_SYNC,          /* call_sync() */
  PATH_SMART_SYNC,    /* call() from a sync context */
  PATH_ASYNC,         /* call_async() with a loop's context pushed */
  PATH_SMART_ASYNC,   /* call() from a dispatch of that loop */
  PATH_AWAIT,         /* call() without callback, then await_async() */
  PATH_BATCH,         /* a SmartasyncBatch of one call */
  PATH_LOCK_SYNC,     /* lock_run_sync(): the run goes to a worker */
  PATH_LOCK_ASYNC,    /* lock_run_async() from a dispatch of the loop */
  N_PATHS
} Path;

static const char * const path_names[N_PATHS] = {
  "sync", "smart-sync", "async", "smart-async", "await", "batch", "lock-sync", "lock-async"
};

typedef struct
{
  Path                 path;
  SmartasyncOperation *op;
  SmartasyncLock      *lock;
  GCancellable        *cancellable;
  Outcome             *out;
} PathCall;

static gboolean
start_smart_async (gpointer data)
{
  PathCall *call = data;
  g_autoptr(GTask) task = smartasync_operation_call (call->op, NULL, NULL, call->cancellable,
                                                     outcome_callback, call->out);

  /* Pending, and never called back from inside the call. */
  g_assert_false (g_task_get_completed (task));
  g_assert_cmpint (g_atomic_int_get (&call->out->calls), ==, 0);
  return G_SOURCE_REMOVE;
}

static gboolean
start_await (gpointer data)
{
  PathCall *call = data;
  g_autoptr(GTask) task = smartasync_operation_call (call->op, NULL, NULL, call->cancellable,
                                                     NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_TASK);
  g_value_set_object (&value, task);
  smartasync_await_async (&value, call->cancellable, outcome_callback, call->out);
  g_assert_cmpint (g_atomic_int_get (&call->out->calls), ==, 0);
  return G_SOURCE_REMOVE;
}

static gboolean
start_lock_async (gpointer data)
{
  PathCall *call = data;

  smartasync_lock_run_async (call->lock, "key", call->op, NULL, NULL, call->cancellable,
                             outcome_callback, call->out);
  g_assert_cmpint (g_atomic_int_get (&call->out->calls), ==, 0);
  return G_SOURCE_REMOVE;
}

static void
run_sync_path (PathCall *call)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;
  gboolean ok;

  if (call->path == PATH_SYNC)
    ok = smartasync_operation_call_sync (call->op, NULL, NULL, call->cancellable, &value, &error);
  else
    ok = smartasync_lock_run_sync (call->lock, "key", call->op, NULL, NULL, call->cancellable,
                                   &value, &error);
  outcome_set (call->out, ok, &value, error);
}

static void
run_batch_path (PathCall *call)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) wait_error = NULL;
  GError *error = NULL;
  gboolean ok;

  /* The batch's calls share its cancellable: a cancellable cancelled
   * before the call becomes a batch cancelled before the call. */
  if (g_cancellable_is_cancelled (call->cancellable))
    smartasync_batch_cancel (batch);
  g_assert_cmpuint (smartasync_batch_add (batch, call->op, NULL, NULL), ==, 0);
  ok = smartasync_batch_wait (batch, g_cancellable_is_cancelled (call->cancellable)
                                     ? NULL : call->cancellable, &wait_error);
  g_assert_true (ok == (wait_error == NULL));
  g_assert_nonnull (smartasync_batch_get_result (batch, 0));
  ok = smartasync_operation_call_finish (call->op, smartasync_batch_get_result (batch, 0),
                                         &value, &error);
  smartasync_batch_close (batch);
  outcome_set (call->out, ok, &value, error);
}

/* Makes the call through @path, on this thread, and returns once the caller
 * has received its result (or after WAIT_TIMEOUT_MS). The callback's thread
 * and context are in @out. */
static void
run_path (Path                 path,
          SmartasyncOperation *op,
          GCancellable        *cancellable,
          Outcome             *out)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  PathCall call = { path, op, lock, cancellable, out };
  GMainContext *loop_context;
  GMainContext *before = g_main_context_get_thread_default ();
  g_autoptr(GTask) task = NULL;

  switch (path)
    {
    case PATH_SYNC:
    case PATH_LOCK_SYNC:
      run_sync_path (&call);
      break;
    case PATH_BATCH:
      run_batch_path (&call);
      break;
    case PATH_SMART_SYNC:
      task = smartasync_operation_call (op, NULL, NULL, cancellable, outcome_callback, out);
      g_assert_true (g_task_get_completed (task));
      g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 1);
      break;
    case PATH_ASYNC:
    case PATH_SMART_ASYNC:
    case PATH_AWAIT:
    case PATH_LOCK_ASYNC:
      loop_context = g_main_context_new ();
      g_main_context_push_thread_default (loop_context);
      if (path == PATH_ASYNC)
        {
          smartasync_operation_call_async (op, NULL, NULL, cancellable, outcome_callback, out);
          g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 0);
        }
      else
        run_dispatched (loop_context,
                        path == PATH_SMART_ASYNC ? start_smart_async
                        : path == PATH_AWAIT ? start_await : start_lock_async,
                        &call);
      g_assert_true (iterate_until_count (loop_context, &out->calls, 1, WAIT_TIMEOUT_MS));
      g_assert_true (out->thread == g_thread_self ());
      g_assert_true (out->context == loop_context);
      settle (loop_context);
      g_main_context_pop_thread_default (loop_context);
      g_main_context_unref (loop_context);
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_true (out->thread == g_thread_self ());
  if (path != PATH_ASYNC && path != PATH_SMART_ASYNC && path != PATH_AWAIT &&
      path != PATH_LOCK_ASYNC)
    g_assert_true (out->context == before);
  g_assert_true (g_main_context_get_thread_default () == before);
  g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 1);
}

/* Where the implementation must have run for @path. */
static void
assert_ran_where_expected (Path            path,
                           SmartasyncKind  kind,
                           Behaviour      *b,
                           GThread        *caller)
{
  gboolean on_caller = kind == SMARTASYNC_KIND_ASYNC
                       ? path != PATH_LOCK_SYNC
                       : path == PATH_SYNC || path == PATH_SMART_SYNC;

  g_assert_cmpint (behaviour_runs (b), ==, 1);
  g_assert_cmpint (b->ran_on == caller, ==, on_caller);
  if (kind == SMARTASYNC_KIND_ASYNC && on_caller)
    {
      /* On the private context for sync waits, on the loop's otherwise. */
      gboolean on_private = path == PATH_SYNC || path == PATH_SMART_SYNC || path == PATH_BATCH;

      g_assert_nonnull (b->ran_with);
      g_assert_cmpint (b->ran_with == smartasync_get_private_context (), ==, on_private);
    }
}

typedef struct
{
  SmartasyncKind kind;
  Done           done;
} Variant;

static const Variant variants[] = {
  { SMARTASYNC_KIND_ASYNC, DONE_NOW },
  { SMARTASYNC_KIND_ASYNC, DONE_IDLE },
  { SMARTASYNC_KIND_ASYNC, DONE_THREAD },
  { SMARTASYNC_KIND_BLOCKING, DONE_NOW },
};

static const char * const done_names[] = { "now", "idle", "thread", "manual", "drop" };

/* Failing at start (inside the implementation) and later (from an idle or
 * another thread): every path reports the implementation's own GError,
 * exactly once, to the caller's thread and context. */
static void
test_fail (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (Path p = 0; p < N_PATHS; p++)
      {
        Behaviour *b = behaviour_new (variants[v].done);
        SmartasyncOperation *op = fault_op_new (variants[v].kind, b);
        Outcome out = { 0 };

        g_test_message ("%s %s implementation failing %s",
                        path_names[p], variants[v].kind == SMARTASYNC_KIND_ASYNC ? "async" : "blocking",
                        variants[v].done == DONE_NOW ? "at start" : done_names[variants[v].done]);
        b->fail = TRUE;
        run_path (p, op, NULL, &out);
        assert_error (&out, FAULT_ERROR, FAULT_CODE);
        assert_ran_where_expected (p, variants[v].kind, b, g_thread_self ());
        outcome_clear (&out);
        release_op (op);
      }
}

/* The same paths succeed, as a baseline for the fault cases. */
static void
test_succeed (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (Path p = 0; p < N_PATHS; p++)
      {
        Behaviour *b = behaviour_new (variants[v].done);
        SmartasyncOperation *op = fault_op_new (variants[v].kind, b);
        Outcome out = { 0 };

        g_test_message ("%s %s implementation completing %s", path_names[p],
                        variants[v].kind == SMARTASYNC_KIND_ASYNC ? "async" : "blocking",
                        done_names[variants[v].done]);
        run_path (p, op, NULL, &out);
        assert_value (&out);
        assert_ran_where_expected (p, variants[v].kind, b, g_thread_self ());
        outcome_clear (&out);
        release_op (op);
      }
}

/* An offload that cannot start fails at start too: a blocking
 * implementation that is not thread-safe, called from a running loop. */
static void
test_fail_offload_refused (void)
{
  Behaviour *b = behaviour_new (DONE_NOW);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  Outcome out = { 0 };

  g_object_set (op, "thread-safe", FALSE, NULL);
  run_path (PATH_SMART_ASYNC, op, NULL, &out);
  assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED);
  g_assert_cmpint (behaviour_runs (b), ==, 0);
  outcome_clear (&out);

  /* From a sync context it runs directly. */
  run_path (PATH_SMART_SYNC, op, NULL, &out);
  assert_value (&out);
  outcome_clear (&out);
  release_op (op);
}

/* Cancellation at every stage */

/* Cancelled before the call: G_IO_ERROR_CANCELLED on every path, and the
 * implementation never runs. */
static void
test_cancel_before (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (Path p = 0; p < N_PATHS; p++)
      {
        Behaviour *b = behaviour_new (variants[v].done);
        SmartasyncOperation *op = fault_op_new (variants[v].kind, b);
        g_autoptr(GCancellable) cancellable = g_cancellable_new ();
        Outcome out = { 0 };

        g_cancellable_cancel (cancellable);
        run_path (p, op, cancellable, &out);
        assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_assert_cmpint (behaviour_runs (b), ==, 0);
        outcome_clear (&out);
        release_op (op);
      }
}

/* Cancelled by the implementation while it runs, which then completes with
 * a value anyway: the caller gets G_IO_ERROR_CANCELLED (GTask's rule), once. */
static void
test_cancel_during (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (Path p = 0; p < N_PATHS; p++)
      {
        Behaviour *b = behaviour_new (variants[v].done);
        SmartasyncOperation *op = fault_op_new (variants[v].kind, b);
        g_autoptr(GCancellable) cancellable = g_cancellable_new ();
        Outcome out = { 0 };

        b->cancel_self = TRUE;
        run_path (p, op, cancellable, &out);
        assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_assert_cmpint (behaviour_runs (b), ==, 1);
        outcome_clear (&out);
        if (p == PATH_LOCK_SYNC && variants[v].done != DONE_NOW)
          {
            /* The run's wait on its worker may have been abandoned before
             * the completion arrived: it then waits on that worker's
             * private context (isolated/lock-worker-abandoned-wait). */
            g_object_unref (op);
          }
        else
          release_op (op);
      }
}

/* Cancelled while pending, from the caller's thread, by an implementation
 * that ignores cancellation and completes later with a value: the caller
 * gets G_IO_ERROR_CANCELLED once, the late completion is dropped. */
static void
test_cancel_pending (void)
{
  for (Path p = PATH_ASYNC; p < N_PATHS; p++)
    {
      Behaviour *b;
      SmartasyncOperation *op;
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
      PathCall call;
      Outcome out = { 0 };
      GMainContext *loop_context;
      GTask *parked;

      if (p == PATH_BATCH || p == PATH_LOCK_SYNC)
        continue;   /* sync waits: see test_cancel_sync_wait */

      b = behaviour_new (DONE_MANUAL);
      op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
      call = (PathCall) { p, op, lock, cancellable, &out };
      loop_context = g_main_context_new ();
      g_main_context_push_thread_default (loop_context);

      if (p == PATH_ASYNC)
        smartasync_operation_call_async (op, NULL, NULL, cancellable, outcome_callback, &out);
      else
        run_dispatched (loop_context,
                        p == PATH_SMART_ASYNC ? start_smart_async
                        : p == PATH_AWAIT ? start_await : start_lock_async,
                        &call);
      parked = wait_parked (b);
      g_cancellable_cancel (cancellable);

      /* The await and the lock answer at once; a plain call needs its
       * implementation to complete (GIO's rule: async implementations honour
       * cancellation themselves). */
      if (p == PATH_AWAIT || p == PATH_LOCK_ASYNC)
        {
          g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
          assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        }
      return_result (parked, FALSE);
      g_object_unref (parked);
      g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
      settle (loop_context);
      assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_true (out.context == loop_context);

      g_main_context_pop_thread_default (loop_context);
      g_main_context_unref (loop_context);
      outcome_clear (&out);
      release_op (op);
    }
}

/* Cancels from another thread once the call is under way: once the
 * implementation was called (@b), or once somebody joined a run of @lock.
 * A cancel after a fixed delay would, on a slow machine, come before the
 * call started and test a refused call instead. */
typedef struct
{
  GCancellable   *cancellable;
  Behaviour      *b;
  SmartasyncLock *lock;
} DelayedCancel;

static gpointer
cancel_later (gpointer data)
{
  DelayedCancel *dc = data;

  if (dc->b != NULL)
    wait_runs (dc->b, 1);
  if (dc->lock != NULL)
    {
      gint64 deadline = hang_guard_deadline ();

      while (smartasync_lock_get_joins (dc->lock) == 0)
        {
          hang_guard (deadline, "a caller to join the run");
          g_usleep (1000);
        }
      g_object_unref (dc->lock);
    }
  g_cancellable_cancel (dc->cancellable);
  g_object_unref (dc->cancellable);
  g_free (dc);
  return NULL;
}

static GThread *
cancel_when_run (GCancellable *cancellable,
                 Behaviour    *b)
{
  DelayedCancel *dc = g_new0 (DelayedCancel, 1);

  dc->cancellable = g_object_ref (cancellable);
  dc->b = b;
  return g_thread_new ("canceller", cancel_later, dc);
}

static GThread *
cancel_when_joined (GCancellable   *cancellable,
                    SmartasyncLock *lock)
{
  DelayedCancel *dc = g_new0 (DelayedCancel, 1);

  dc->cancellable = g_object_ref (cancellable);
  dc->lock = g_object_ref (lock);
  return g_thread_new ("canceller", cancel_later, dc);
}

/* A sync wait cancelled from another thread while an implementation that
 * ignores cancellation is pending returns G_IO_ERROR_CANCELLED at once; the
 * late completion is dispatched by the next wait (or the context's drop),
 * never reported to anybody, and nothing leaks. */
static void
test_cancel_sync_wait (void)
{
  Path paths[] = { PATH_SYNC, PATH_SMART_SYNC, PATH_LOCK_SYNC };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Behaviour *b = behaviour_new (DONE_MANUAL);
      SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      GThread *canceller = cancel_when_run (cancellable, b);
      Outcome out = { 0 };
      GTask *parked;

      /* Answered while the implementation still holds its task: the wait
       * did not wait for it. */
      run_path (paths[i], op, cancellable, &out);
      assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_thread_join (canceller);

      /* The late completion, then an unrelated wait on the same context. */
      parked = wait_parked (b);
      return_result (parked, FALSE);
      g_object_unref (parked);
      {
        Behaviour *b2 = behaviour_new (DONE_IDLE);
        SmartasyncOperation *op2 = fault_op_new (SMARTASYNC_KIND_ASYNC, b2);
        Outcome out2 = { 0 };

        run_path (PATH_SYNC, op2, NULL, &out2);
        assert_value (&out2);
        outcome_clear (&out2);
        release_op (op2);
      }
      g_assert_cmpint (g_atomic_int_get (&out.calls), ==, 1);
      outcome_clear (&out);
      if (paths[i] == PATH_LOCK_SYNC)
        {
          /* The run's own wait, on a worker of GLib's pool, was abandoned
           * too (every caller left): the late completion waits on that
           * worker's private context for its next wait or its exit, and
           * holds the operation until then (doc/guarantees.md). */
          g_object_unref (op);
        }
      else
        release_op (op);
      smartasync_reset ();
    }
}

/* Cancelled after completion, from the callback itself: nothing happens,
 * no second callback. */
static void
cancel_in_callback (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      data)
{
  Outcome *out = data;

  outcome_callback (source_object, result, data);
  g_cancellable_cancel (g_object_get_data (G_OBJECT (source_object), "cancellable"));
  g_assert_cmpint (g_atomic_int_get (&out->calls), ==, 1);
}

static void
test_cancel_after (void)
{
  Behaviour *b = behaviour_new (DONE_IDLE);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *loop_context = g_main_context_new ();
  Outcome out = { 0 };

  g_object_set_data (G_OBJECT (op), "cancellable", cancellable);
  g_main_context_push_thread_default (loop_context);
  smartasync_operation_call_async (op, NULL, NULL, cancellable, cancel_in_callback, &out);
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_value (&out);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&out);
  release_op (op);
}

/* Offloaded blocking work cancelled while it runs on GLib's pool: the
 * caller is answered at once with G_IO_ERROR_CANCELLED; the worker finishes
 * in the background and its result is dropped. */
static void
test_cancel_offloaded_running (void)
{
  Behaviour *b = behaviour_new (DONE_THREAD);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GMainContext *loop_context = g_main_context_new ();
  Outcome out = { 0 };

  b->gated = TRUE;
  g_main_context_push_thread_default (loop_context);
  smartasync_operation_call_async (op, NULL, NULL, cancellable, outcome_callback, &out);
  wait_runs (b, 1);
  g_cancellable_cancel (cancellable);
  /* Answered while the work is held at its gate. */
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (b->completions, ==, 0);

  behaviour_open_gate (b);
  wait_finished (b, 1);
  settle (loop_context);
  g_assert_cmpint (g_atomic_int_get (&out.calls), ==, 1);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&out);
  release_op (op);
}

/* Work queued on a busy executor and cancelled before it starts never runs;
 * work cancelled while it runs on an executor is answered when it returns
 * (an executor has no return-on-cancel). */
static void
test_cancel_executor (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  Behaviour *busy_b = behaviour_new (DONE_THREAD);
  Behaviour *queued_b = behaviour_new (DONE_NOW);
  SmartasyncOperation *busy = fault_op_new (SMARTASYNC_KIND_BLOCKING, busy_b);
  SmartasyncOperation *queued = fault_op_new (SMARTASYNC_KIND_BLOCKING, queued_b);
  g_autoptr(GCancellable) busy_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) queued_cancellable = g_cancellable_new ();
  GMainContext *loop_context = g_main_context_new ();
  Outcome busy_out = { 0 };
  Outcome queued_out = { 0 };

  busy_b->gated = TRUE;
  smartasync_operation_set_executor (busy, executor);
  smartasync_operation_set_executor (queued, executor);
  g_main_context_push_thread_default (loop_context);

  /* The only worker is held at the busy call's gate until both calls are
   * cancelled. */
  smartasync_operation_call_async (busy, NULL, NULL, busy_cancellable, outcome_callback, &busy_out);
  wait_runs (busy_b, 1);
  smartasync_operation_call_async (queued, NULL, NULL, queued_cancellable, outcome_callback,
                                   &queued_out);
  g_cancellable_cancel (queued_cancellable);
  g_cancellable_cancel (busy_cancellable);
  behaviour_open_gate (busy_b);

  g_assert_true (iterate_until_count (loop_context, &busy_out.calls, 1, WAIT_TIMEOUT_MS));
  g_assert_true (iterate_until_count (loop_context, &queued_out.calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_error (&busy_out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_error (&queued_out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (behaviour_runs (busy_b), ==, 1);
  g_assert_cmpint (behaviour_runs (queued_b), ==, 0);

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&busy_out);
  outcome_clear (&queued_out);
  release_op (busy);
  release_op (queued);
}

/* Dropping the last reference to an executor with queued work: the work
 * still runs and is answered; the executor is freed afterwards. */
static void
test_executor_dropped_with_queued_work (void)
{
  SmartasyncExecutor *executor = smartasync_executor_new (1);
  Behaviour *b = behaviour_new (DONE_THREAD);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  GMainContext *loop_context = g_main_context_new ();
  Outcome outs[3] = { { 0 } };
  gpointer weak = executor;

  b->delay_ms = 10;
  smartasync_operation_set_executor (op, executor);
  g_object_add_weak_pointer (G_OBJECT (executor), &weak);
  g_object_unref (executor);
  g_main_context_push_thread_default (loop_context);
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    smartasync_operation_call_async (op, NULL, NULL, NULL, outcome_callback, &outs[i]);
  /* The operation holds the executor: drop it now, with work queued. */
  smartasync_operation_set_executor (op, NULL);
  g_assert_null (weak);

  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    {
      g_assert_true (iterate_until_count (loop_context, &outs[i].calls, 1, WAIT_TIMEOUT_MS));
      assert_value (&outs[i]);
      outcome_clear (&outs[i]);
    }
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  release_op (op);
}

/* Batch: closing with calls pending cancels them and waits; a cancelled
 * batch wait reports G_IO_ERROR_CANCELLED while each call keeps its own
 * outcome. */
static void
test_batch_faults (void)
{
  Behaviour *ok_b = behaviour_new (DONE_IDLE);
  Behaviour *fail_b = behaviour_new (DONE_THREAD);
  Behaviour *slow_b = behaviour_new (DONE_THREAD);
  SmartasyncOperation *ok_op = fault_op_new (SMARTASYNC_KIND_ASYNC, ok_b);
  SmartasyncOperation *fail_op = fault_op_new (SMARTASYNC_KIND_BLOCKING, fail_b);
  SmartasyncOperation *slow_op = fault_op_new (SMARTASYNC_KIND_BLOCKING, slow_b);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(SmartasyncBatch) closed = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  GThread *canceller;

  fail_b->fail = TRUE;
  fail_b->delay_ms = 0;
  slow_b->gated = TRUE;   /* runs until the end of the test */

  g_assert_cmpuint (smartasync_batch_add (batch, ok_op, NULL, NULL), ==, 0);
  g_assert_cmpuint (smartasync_batch_add (batch, fail_op, NULL, NULL), ==, 1);
  g_assert_true (smartasync_batch_wait (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (smartasync_operation_call_finish (ok_op, smartasync_batch_get_result (batch, 0),
                                                   &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, "ok");
  g_value_unset (&value);
  g_assert_false (smartasync_operation_call_finish (fail_op, smartasync_batch_get_result (batch, 1),
                                                    &value, &error));
  g_assert_error (error, FAULT_ERROR, FAULT_CODE);
  g_clear_error (&error);
  g_value_unset (&value);   /* a failed finish leaves a NULL pointer there */

  /* Cancelled while the slow call runs. */
  g_assert_cmpuint (smartasync_batch_add (batch, slow_op, NULL, NULL), ==, 2);
  canceller = cancel_when_run (cancellable, slow_b);
  g_assert_false (smartasync_batch_wait (batch, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_thread_join (canceller);
  g_assert_false (smartasync_operation_call_finish (slow_op, smartasync_batch_get_result (batch, 2),
                                                    &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_value_unset (&value);
  smartasync_batch_close (batch);

  /* Closed with a call pending: cancelled and waited for. */
  closed = smartasync_batch_new ();
  smartasync_batch_add (closed, slow_op, NULL, NULL);
  smartasync_batch_close (closed);
  g_assert_nonnull (smartasync_batch_get_result (closed, 0));
  g_assert_false (smartasync_operation_call_finish (slow_op, smartasync_batch_get_result (closed, 0),
                                                    &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (g_main_context_get_thread_default ());

  /* The second slow call runs only if a worker took it before the cancel. */
  behaviour_open_gate (slow_b);
  wait_finished (slow_b, behaviour_runs (slow_b));
  /* The results hold the tasks, which hold the operations. */
  g_clear_object (&batch);
  g_clear_object (&closed);
  release_op (ok_op);
  release_op (fail_op);
  release_op (slow_op);
}

/* Misbehaving implementations */

/* Returning twice: GIO's critical for the second return; the caller gets
 * the first result, once. */
static void
test_return_twice (void)
{
  Path paths[] = { PATH_SYNC, PATH_ASYNC, PATH_SMART_ASYNC, PATH_LOCK_ASYNC };

  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        Behaviour *b = behaviour_new (variants[v].done);
        SmartasyncOperation *op = fault_op_new (variants[v].kind, b);
        Outcome out = { 0 };

        b->twice = TRUE;
        b->fail = TRUE;
        g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*ever_returned*");
        run_path (paths[i], op, NULL, &out);
        /* The second return may come from another thread, after the
         * callback. */
        wait_completions (b, 1);
        g_test_assert_expected_messages ();
        assert_error (&out, FAULT_ERROR, FAULT_CODE);
        outcome_clear (&out);
        release_op (op);
      }
}

/* Never returning: an implementation that drops its task ends a sync wait
 * at once with SMARTASYNC_ERROR_NOT_COMPLETED; one that keeps it needs the
 * cancellable, which gets the caller out at once, and the abandoned waiter
 * is released when the task goes. */
static void
test_never_return_sync (void)
{
  Done dones[] = { DONE_MANUAL, DONE_DROP };
  Path paths[] = { PATH_SYNC, PATH_SMART_SYNC, PATH_LOCK_SYNC };

  for (guint d = 0; d < G_N_ELEMENTS (dones); d++)
    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        Behaviour *b = behaviour_new (dones[d]);
        SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
        g_autoptr(GCancellable) cancellable = g_cancellable_new ();
        GThread *canceller = cancel_when_run (cancellable, b);
        Outcome out = { 0 };

        run_path (paths[i], op, cancellable, &out);
        /* A dropped task ends the wait (unless the cancel came first); a
         * kept one needs the cancel. */
        if (dones[d] == DONE_DROP && out.error != NULL &&
            g_error_matches (out.error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED))
          assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
        else
          assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        g_thread_join (canceller);
        wait_finished (b, 1);
        if (dones[d] == DONE_MANUAL)
          {
            GTask *parked = wait_parked (b);

            /* Released without ever returning. */
            g_object_unref (parked);
          }
        outcome_clear (&out);
        release_op (op);
        smartasync_reset ();
      }
}

/* Never returning, asynchronous callers: a plain pending call cannot be
 * abandoned (GTask's contract: the implementation must complete it), but
 * await_async() with a cancellable, and a lock's per-caller cancellation,
 * get the caller out at once. When the task is finally dropped, the await
 * is released. */
static void
test_never_return_async (void)
{
  Path paths[] = { PATH_AWAIT, PATH_LOCK_ASYNC };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Behaviour *b = behaviour_new (DONE_MANUAL);
      SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
      GMainContext *loop_context = g_main_context_new ();
      PathCall call = { paths[i], op, lock, cancellable, NULL };
      Outcome out = { 0 };
      GTask *parked;

      call.out = &out;
      g_main_context_push_thread_default (loop_context);
      run_dispatched (loop_context, paths[i] == PATH_AWAIT ? start_await : start_lock_async, &call);
      parked = wait_parked (b);
      g_cancellable_cancel (cancellable);
      g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
      assert_error (&out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      if (paths[i] == PATH_LOCK_ASYNC)
        g_assert_false (smartasync_lock_is_running (lock, "key"));

      /* A lock run has to be completed (see the isolated case for one that
       * is not); an awaited task may be dropped. */
      if (paths[i] == PATH_LOCK_ASYNC)
        return_result (parked, FALSE);
      g_object_unref (parked);
      settle (loop_context);
      g_assert_cmpint (g_atomic_int_get (&out.calls), ==, 1);

      g_main_context_pop_thread_default (loop_context);
      g_main_context_unref (loop_context);
      outcome_clear (&out);
      release_op (op);
    }
}

/* An await of a task that is dropped without completing fails with
 * SMARTASYNC_ERROR_FAILED instead of waiting forever. */
static void
test_await_dropped_task (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  GMainContext *loop_context = g_main_context_new ();
  PathCall call = { PATH_AWAIT, op, NULL, NULL, NULL };
  Outcome out = { 0 };

  call.out = &out;
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_await, &call);
  g_object_unref (wait_parked (b));
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&out);
  release_op (op);
}

/* A blocking implementation that returns without completing its task:
 * SMARTASYNC_ERROR_NOT_COMPLETED on every path, the offloaded one included
 * (GLib's pool used to complete such a task itself, with GIO's critical,
 * and the finish function reported SMARTASYNC_ERROR_FAILED). */
static void
test_not_completed (void)
{
  Path paths[] = { PATH_SYNC, PATH_SMART_SYNC, PATH_ASYNC };
  Behaviour *b;
  SmartasyncOperation *op;
  Outcome out = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      b = behaviour_new (DONE_NOW);
      op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
      b->not_complete = TRUE;
      run_path (paths[i], op, NULL, &out);
      assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
      outcome_clear (&out);
      release_op (op);
    }
}

/* An implementation that returns a pointer where a GValue is expected
 * (through a lock, or the GValue finish function): GIO's critical, and a
 * SMARTASYNC_ERROR_FAILED for every caller instead of a crash. */
static void
pointer_impl (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  g_task_return_pointer (task, g_strdup ("a pointer"), g_free);
}

static void
test_wrong_result_type (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("pointer", pointer_impl, NULL, NULL);
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*result_destroy*");
  g_assert_false (smartasync_operation_call_sync (op, NULL, NULL, NULL, &value, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_clear_error (&error);
  /* A failed call leaves a NULL pointer in the out value (for bindings). */
  if (G_IS_VALUE (&value))
    g_value_unset (&value);

  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*result_destroy*");
  g_assert_false (smartasync_lock_run_sync (lock, NULL, op, NULL, NULL, NULL, &value, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_assert_false (smartasync_lock_is_running (lock, NULL));
}

/* Threads that exit, and resets */

static void
destroy_notify_flag (gpointer data)
{
  g_atomic_int_set ((gint *) data, TRUE);
}

typedef struct
{
  SmartasyncOperation *op;
  Outcome             *out;
  GCancellable        *cancellable;
  gboolean             complete_before_exit;
  Behaviour           *b;
} ThreadJob;

/* A thread with its own loop starts an async call, then stops iterating and
 * exits before the call completes. */
static gpointer
async_caller_then_exit (gpointer data)
{
  ThreadJob *job = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  smartasync_operation_call_async (job->op, NULL, NULL, NULL, outcome_callback, job->out);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* An operation that completes after its caller's thread has exited: its
 * callback is queued on that thread's context, which nothing iterates any
 * more, so it never runs and the task, the callback's data and the context
 * stay alive (GLib's rule for any GTask; the library cannot run the callback
 * elsewhere). Whoever iterates that context later gets the callback. */
static void
test_complete_after_caller_exited (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  Outcome out = { 0 };
  ThreadJob job = { op, &out, NULL, FALSE, b };
  GMainContext *orphan;
  gint task_gone = FALSE;
  GThread *caller;
  GTask *parked;

  caller = g_thread_new ("caller", async_caller_then_exit, &job);
  g_thread_join (caller);
  parked = wait_parked (b);
  orphan = g_main_context_ref (g_task_get_context (parked));
  g_object_weak_ref (G_OBJECT (parked), weak_notify_flag, &task_gone);

  return_result (parked, FALSE);
  g_object_unref (parked);
  g_usleep (20 * 1000);
  g_assert_cmpint (g_atomic_int_get (&out.calls), ==, 0);
  g_assert_false (g_atomic_int_get (&task_gone));

  /* Rescue: iterate the orphaned context here. */
  g_assert_true (iterate_until_count (orphan, &out.calls, 1, WAIT_TIMEOUT_MS));
  assert_value (&out);
  g_assert_true (out.thread == g_thread_self ());
  g_assert_true (g_atomic_int_get (&task_gone));
  g_main_context_unref (orphan);
  outcome_clear (&out);
  release_op (op);
}

/* A thread without a loop whose sync wait is abandoned on cancellation and
 * which then exits. */
static gpointer
abandoned_wait_then_exit (gpointer data)
{
  ThreadJob *job = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_operation_call_sync (job->op, NULL, NULL, job->cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  if (job->complete_before_exit)
    {
      GTask *parked = wait_parked (job->b);

      /* Ready on the private context when the thread exits. */
      return_result (parked, FALSE);
      g_object_unref (parked);
    }
  return NULL;
}

/* The completion of an abandoned wait that arrives before the thread exits
 * is dispatched when the thread's private context is dropped: no leak. */
static void
test_thread_exit_ready_completion (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ThreadJob job = { op, NULL, cancellable, TRUE, b };
  GThread *canceller = cancel_when_run (cancellable, b);

  g_thread_join (g_thread_new ("waiter", abandoned_wait_then_exit, &job));
  g_thread_join (canceller);
  release_op (op);
}

/* Waits until @flag is set, or WAIT_TIMEOUT_MS passed. */
static gboolean
wait_for_flag (gint *flag)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_MS * 1000;

  while (!g_atomic_int_get (flag) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return g_atomic_int_get (flag);
}

/* How many threads of this process have a name starting with @prefix. */
static guint
count_threads_named (const char *prefix)
{
  g_autoptr(GPtrArray) tids = test_list_threads_named (prefix);

  return tids->len;
}

/* Waits until @n threads named @prefix run (a thread names itself once
 * started, and keeps its name until it exited), or WAIT_TIMEOUT_MS passed. */
static gboolean
wait_threads_named (const char *prefix,
                    guint       n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_MS * 1000;

  while (count_threads_named (prefix) != n && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return count_threads_named (prefix) == n;
}

/* Whether every thread named @prefix is one of @before. */
static gboolean
only_threads_of (const char *prefix,
                 GPtrArray  *before)
{
  g_autoptr(GPtrArray) now = test_list_threads_named (prefix);

  for (guint i = 0; i < now->len; i++)
    if (!g_ptr_array_find_with_equal_func (before, g_ptr_array_index (now, i), g_str_equal, NULL))
      return FALSE;
  return TRUE;
}

/* Waits until the threads named @prefix started since @before was listed
 * have exited. Threads are told apart by id, not counted: a worker of an
 * earlier case's executor may still be exiting when a case lists them
 * (test_executor_dropped_with_queued_work's worker takes its stop token
 * after it answered its last call), so a count taken then may never be seen
 * again. */
static void
wait_new_threads_gone (const char *prefix,
                       GPtrArray  *before)
{
  gint64 deadline = hang_guard_deadline ();

  while (!only_threads_of (prefix, before))
    {
      hang_guard (deadline, "the workers of a dropped executor to exit");
      g_usleep (1000);
    }
}

static gboolean
wait_janitors (guint n)
{
  return wait_threads_named ("smartasync-jani", n);
}

/* Hand-offs between the loops that push work and the executor's workers,
 * spinning or asleep, with every thread count: no work is left in the queue
 * while a worker sleeps (a chain of one call at a time would then hang), and
 * the workers exit once the executor is dropped, spinner included. */
#define HANDOFF_PRODUCERS 3

typedef struct
{
  SmartasyncExecutor *executor;
  guint               calls;
  gint                answered;
  gboolean            all_answered;
} Handoff;

static void
handoff_thread_func (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  g_task_return_int (task, 7);
}

static void
handoff_answered (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      data)
{
  Handoff *handoff = data;

  g_assert_cmpint (g_task_propagate_int (G_TASK (result), NULL), ==, 7);
  handoff->answered++;
}

/* Bursts of 1 to 3 calls, each burst answered before the next one. */
static gpointer
handoff_producer (gpointer data)
{
  Handoff *handoff = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  handoff->all_answered = TRUE;
  for (guint i = 0; i < handoff->calls && handoff->all_answered; i++)
    {
      guint burst = 1 + i % 3;

      for (guint k = 0; k < burst; k++)
        {
          g_autoptr(GTask) task = g_task_new (NULL, NULL, handoff_answered, handoff);

          smartasync_executor_run_in_thread (handoff->executor, task, handoff_thread_func);
        }
      handoff->all_answered = iterate_until_count (context, &handoff->answered,
                                                   handoff->answered + (gint) burst,
                                                   WAIT_TIMEOUT_MS);
    }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
run_handoffs (SmartasyncExecutor *executor,
              guint               n_producers,
              guint               calls)
{
  Handoff handoffs[HANDOFF_PRODUCERS];
  GThread *threads[HANDOFF_PRODUCERS];

  for (guint i = 0; i < n_producers; i++)
    {
      handoffs[i] = (Handoff) { executor, calls, 0, FALSE };
      threads[i] = g_thread_new ("handoff", handoff_producer, &handoffs[i]);
    }
  for (guint i = 0; i < n_producers; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (handoffs[i].all_answered);
    }
}

static void
test_executor_handoffs (void)
{
  static const guint spins[] = { 0, 50, 1000 };
  guint calls = g_getenv ("SMARTASYNC_TEST_QUICK") ? 100 : 2000;
  for (guint max_threads = 1; max_threads <= 3; max_threads++)
    for (guint s = 0; s < G_N_ELEMENTS (spins); s++)
      {
        g_autoptr(GPtrArray) workers_before = test_list_threads_named ("smartasync-work");
        SmartasyncExecutor *executor = g_object_new (SMARTASYNC_TYPE_EXECUTOR,
                                                     "max-threads", max_threads,
                                                     "spin-us", spins[s], NULL);

        g_test_message ("max-threads %u, spin-us %u", max_threads, spins[s]);
        run_handoffs (executor, 1, calls);
        run_handoffs (executor, HANDOFF_PRODUCERS, calls);
        g_assert_cmpuint (count_threads_named ("smartasync-work"), <=,
                          workers_before->len + max_threads);
        g_object_unref (executor);
        wait_new_threads_gone ("smartasync-work", workers_before);
      }
}

/* The completion of an abandoned wait that arrives after its thread exited
 * (or after smartasync_reset() dropped the context) is queued on a context
 * that its thread will not iterate again: a janitor thread dispatches it,
 * and the task, the waiter and the context are freed. */
static void
check_late_completion_dispatched (Behaviour *b)
{
  GTask *parked = wait_parked (b);
  gint task_gone = FALSE;

  g_object_weak_ref (G_OBJECT (parked), weak_notify_flag, &task_gone);
  g_assert_true (wait_janitors (1));
  return_result (parked, FALSE);
  g_object_unref (parked);
  g_assert_true (wait_for_flag (&task_gone));
  g_assert_true (wait_janitors (0));
}

static void
test_thread_exit_late_completion (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  ThreadJob job = { op, NULL, cancellable, FALSE, b };
  GThread *canceller = cancel_when_run (cancellable, b);

  g_thread_join (g_thread_new ("waiter", abandoned_wait_then_exit, &job));
  g_thread_join (canceller);
  check_late_completion_dispatched (b);
  release_op (op);
}

static void
test_reset_late_completion (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GThread *canceller = cancel_when_run (cancellable, b);
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_operation_call_sync (op, NULL, NULL, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);
  smartasync_reset ();
  check_late_completion_dispatched (b);
  release_op (op);
}

/* smartasync_reset() with a completion ready on the private context
 * dispatches it: no leak. */
static void
test_reset_ready_completion (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GThread *canceller = cancel_when_run (cancellable, b);
  g_autoptr(GError) error = NULL;
  gint task_gone = FALSE;
  GTask *parked;

  g_assert_false (smartasync_operation_call_sync (op, NULL, NULL, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);
  parked = wait_parked (b);
  g_object_weak_ref (G_OBJECT (parked), weak_notify_flag, &task_gone);
  return_result (parked, FALSE);
  g_object_unref (parked);
  g_assert_false (g_atomic_int_get (&task_gone));
  smartasync_reset ();
  g_assert_true (g_atomic_int_get (&task_gone));
  release_op (op);
}

/* smartasync_reset() forgets the default executor; work queued on it still
 * completes. */
static void
test_reset_default_executor (void)
{
  SmartasyncExecutor *executor = smartasync_executor_new (1);
  Behaviour *b = behaviour_new (DONE_THREAD);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  GMainContext *loop_context = g_main_context_new ();
  Outcome out = { 0 };
  gpointer weak = executor;

  b->delay_ms = 30;
  smartasync_set_default_executor (executor);
  g_object_add_weak_pointer (G_OBJECT (executor), &weak);
  g_object_unref (executor);
  g_main_context_push_thread_default (loop_context);
  smartasync_operation_call_async (op, NULL, NULL, NULL, outcome_callback, &out);
  smartasync_reset ();
  g_assert_null (weak);
  g_assert_null (smartasync_dup_default_executor ());
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  assert_value (&out);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&out);
  release_op (op);
}

/* A thread that exits while holding a private context with a source still
 * attached (not ready): the context is freed at exit and the source with
 * it. */
static gpointer
leave_source_then_exit (gpointer data)
{
  GSource *timeout = g_timeout_source_new_seconds (3600);

  g_source_set_callback (timeout, wake_up, data, destroy_notify_flag);
  g_source_attach (timeout, smartasync_get_private_context ());
  g_source_unref (timeout);
  return NULL;
}

/* A thread that adopted a context: the library drops its reference at exit;
 * the owner's reference keeps it alive. */
static gpointer
adopt_then_exit (gpointer data)
{
  GMainContext *context = data;
  Behaviour *b = behaviour_new (DONE_IDLE);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GError) error = NULL;

  smartasync_set_private_context (context);
  g_assert_true (smartasync_operation_call_sync (op, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (b->ran_with == context);
  release_op (op);
  return NULL;
}

static void
test_thread_exit_holding_context (void)
{
  gint destroyed = FALSE;
  GMainContext *adopted = g_main_context_new ();
  GSource *marker = g_timeout_source_new_seconds (3600);

  g_thread_join (g_thread_new ("leaves-a-source", leave_source_then_exit, &destroyed));
  g_assert_true (g_atomic_int_get (&destroyed));

  destroyed = FALSE;
  g_source_set_callback (marker, wake_up, &destroyed, destroy_notify_flag);
  g_source_attach (marker, adopted);
  g_source_unref (marker);
  g_thread_join (g_thread_new ("adopts", adopt_then_exit, adopted));
  g_assert_false (g_atomic_int_get (&destroyed));
  g_main_context_unref (adopted);
  g_assert_true (g_atomic_int_get (&destroyed));
}

/* SmartasyncLock */

typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  GCancellable        *cancellables[3];
  Outcome              outs[3];
  guint                n;
} Callers;

static gboolean
start_callers (gpointer data)
{
  Callers *callers = data;

  for (guint i = 0; i < callers->n; i++)
    smartasync_lock_run_async (callers->lock, "key", callers->op, NULL, NULL,
                               callers->cancellables[i], outcome_callback, &callers->outs[i]);
  return G_SOURCE_REMOVE;
}

static void
callers_init (Callers  *callers,
              Behaviour *b,
              guint      n)
{
  *callers = (Callers) { 0 };
  callers->lock = smartasync_lock_new ();
  callers->op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  callers->n = n;
  for (guint i = 0; i < n; i++)
    callers->cancellables[i] = g_cancellable_new ();
}

static void
callers_clear (Callers *callers)
{
  for (guint i = 0; i < callers->n; i++)
    {
      g_clear_object (&callers->cancellables[i]);
      outcome_clear (&callers->outs[i]);
    }
  g_clear_object (&callers->lock);
  release_op (callers->op);
}

/* Three async callers share one run; the leader (first caller) leaves, the
 * others still get the result; only one execution. */
static void
test_lock_leader_cancelled (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;
  GTask *parked;

  callers_init (&callers, b, 3);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  parked = wait_parked (b);
  g_cancellable_cancel (callers.cancellables[0]);
  g_assert_true (iterate_until_count (loop_context, &callers.outs[0].calls, 1, WAIT_TIMEOUT_MS));
  assert_error (&callers.outs[0], G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (smartasync_lock_is_running (callers.lock, "key"));
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (parked)));

  return_result (parked, FALSE);
  g_object_unref (parked);
  g_assert_true (iterate_until_count (loop_context, &callers.outs[2].calls, 1, WAIT_TIMEOUT_MS));
  g_assert_true (iterate_until_count (loop_context, &callers.outs[1].calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_error (&callers.outs[0], G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_value (&callers.outs[1]);
  assert_value (&callers.outs[2]);
  g_assert_cmpuint (smartasync_lock_get_executions (callers.lock), ==, 1);
  g_assert_cmpuint (smartasync_lock_get_joins (callers.lock), ==, 2);
  g_assert_false (smartasync_lock_is_running (callers.lock, "key"));

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  callers_clear (&callers);
}

/* The run fails: every caller gets its own copy of the error. */
static void
test_lock_leader_fails (void)
{
  Behaviour *b = behaviour_new (DONE_THREAD);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;

  b->fail = TRUE;
  callers_init (&callers, b, 3);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  for (guint i = 0; i < callers.n; i++)
    g_assert_true (iterate_until_count (loop_context, &callers.outs[i].calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  for (guint i = 0; i < callers.n; i++)
    assert_error (&callers.outs[i], FAULT_ERROR, FAULT_CODE);
  /* Copies, not one shared error. */
  g_assert_true (callers.outs[0].error != callers.outs[1].error);
  g_assert_cmpuint (smartasync_lock_get_executions (callers.lock), ==, 1);

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  callers_clear (&callers);
}

/* Every caller leaves: each gets G_IO_ERROR_CANCELLED at once, the run is
 * cancelled, the key is idle again and a new caller starts a new run; the
 * old run's late completion reaches nobody. */
static void
test_lock_all_leave (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;
  Outcome late = { 0 };
  GTask *parked, *second;

  callers_init (&callers, b, 3);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  parked = wait_parked (b);
  for (guint i = 0; i < callers.n; i++)
    g_cancellable_cancel (callers.cancellables[i]);
  for (guint i = 0; i < callers.n; i++)
    {
      g_assert_true (iterate_until_count (loop_context, &callers.outs[i].calls, 1, WAIT_TIMEOUT_MS));
      assert_error (&callers.outs[i], G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (parked)));
  g_assert_false (smartasync_lock_is_running (callers.lock, "key"));

  /* A new caller: a new run, not the cancelled one. */
  smartasync_lock_run_async (callers.lock, "key", callers.op, NULL, NULL, NULL,
                             outcome_callback, &late);
  second = wait_parked (b);
  g_assert_true (second != parked);
  g_assert_cmpuint (smartasync_lock_get_executions (callers.lock), ==, 2);

  /* The old run completes late: nobody hears of it. */
  return_result (parked, FALSE);
  g_object_unref (parked);
  settle (loop_context);
  g_assert_cmpint (g_atomic_int_get (&late.calls), ==, 0);
  g_assert_true (smartasync_lock_is_running (callers.lock, "key"));

  return_result (second, FALSE);
  g_object_unref (second);
  g_assert_true (iterate_until_count (loop_context, &late.calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_value (&late);
  for (guint i = 0; i < callers.n; i++)
    g_assert_cmpint (g_atomic_int_get (&callers.outs[i].calls), ==, 1);

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&late);
  callers_clear (&callers);
}

/* Reset while callers wait, then dropping the lock: the caller that joined
 * gets G_IO_ERROR_CANCELLED at once; the caller that started the run keeps
 * it (issue 14: as in the Python original) and gets its result when it
 * finishes, which releases the lock. */
static void
test_lock_reset_and_drop (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;
  GTask *parked;
  gpointer weak;

  callers_init (&callers, b, 2);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  parked = wait_parked (b);
  smartasync_lock_reset (callers.lock);
  smartasync_lock_reset (callers.lock);
  g_assert_true (iterate_until_count (loop_context, &callers.outs[1].calls, 1, WAIT_TIMEOUT_MS));
  assert_error (&callers.outs[1], G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_atomic_int_get (&callers.outs[0].calls), ==, 0);
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (parked)));

  /* Dropped while its run is still pending: the run keeps it alive. */
  weak = callers.lock;
  g_object_add_weak_pointer (G_OBJECT (callers.lock), &weak);
  g_clear_object (&callers.lock);
  g_assert_nonnull (weak);
  return_result (parked, FALSE);
  g_object_unref (parked);
  g_assert_true (iterate_until_count (loop_context, &callers.outs[0].calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  g_assert_null (weak);
  assert_value (&callers.outs[0]);
  for (guint i = 0; i < callers.n; i++)
    g_assert_cmpint (g_atomic_int_get (&callers.outs[i].calls), ==, 1);

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  callers_clear (&callers);
}

typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  GCancellable        *cancellable;
  Outcome             *out;
} SyncCaller;

static gpointer
lock_sync_caller (gpointer data)
{
  SyncCaller *caller = data;
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;
  gboolean ok;

  ok = smartasync_lock_run_sync (caller->lock, "key", caller->op, NULL, NULL,
                                 caller->cancellable, &value, &error);
  outcome_set (caller->out, ok, &value, error);
  return NULL;
}

/* A run started from a loop whose context then stops being iterated cannot
 * complete (documented: that context must keep running); a joiner on
 * another thread gets out with its cancellable. */
static void
test_lock_leader_context_stalls (void)
{
  Behaviour *b = behaviour_new (DONE_THREAD);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;
  g_autoptr(GCancellable) joiner_cancellable = g_cancellable_new ();
  Outcome joiner_out = { 0 };
  SyncCaller joiner;
  GThread *joiner_thread, *canceller;

  callers_init (&callers, b, 1);
  joiner = (SyncCaller) { callers.lock, callers.op, joiner_cancellable, &joiner_out };
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  /* The leader's context is not iterated from here on. */
  joiner_thread = g_thread_new ("joiner", lock_sync_caller, &joiner);
  canceller = cancel_when_joined (joiner_cancellable, callers.lock);
  g_thread_join (joiner_thread);
  g_thread_join (canceller);
  assert_error (&joiner_out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_atomic_int_get (&callers.outs[0].calls), ==, 0);

  /* Iterating the leader's context again completes the run for the leader. */
  g_assert_true (iterate_until_count (loop_context, &callers.outs[0].calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_value (&callers.outs[0]);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&joiner_out);
  callers_clear (&callers);
}

/* A callback that calls the lock again (the waiter list is detached before
 * callers are answered). */
static void
rejoin_callback (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      data)
{
  Callers *callers = data;

  outcome_callback (source_object, result, &callers->outs[0]);
  if (g_atomic_int_get (&callers->outs[0].calls) == 1)
    smartasync_lock_run_async (callers->lock, "key", callers->op, NULL, NULL, NULL,
                               outcome_callback, &callers->outs[1]);
}

static gboolean
start_rejoining_caller (gpointer data)
{
  Callers *callers = data;

  smartasync_lock_run_async (callers->lock, "key", callers->op, NULL, NULL, NULL,
                             rejoin_callback, callers);
  return G_SOURCE_REMOVE;
}

static void
test_lock_reentrant_callback (void)
{
  Behaviour *b = behaviour_new (DONE_IDLE);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;

  callers_init (&callers, b, 2);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_rejoining_caller, &callers);
  g_assert_true (iterate_until_count (loop_context, &callers.outs[1].calls, 1, WAIT_TIMEOUT_MS));
  settle (loop_context);
  assert_value (&callers.outs[0]);
  assert_value (&callers.outs[1]);
  g_assert_cmpuint (smartasync_lock_get_executions (callers.lock), ==, 2);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  callers_clear (&callers);
}

/* Isolated cases, each in a subprocess with a timeout: they hung, crashed,
 * leaked or failed when they were written, and stay as regression tests
 * (doc/guarantees.md, "Known gaps", lists any that still fail). */

/* A lock run whose implementation drops its task without completing it:
 * callers get out with their cancellables, and once they have, the flight
 * and the lock must be freed and the key usable again. */
static void
isolated_lock_dropped_run (void)
{
  Behaviour *b = behaviour_new (DONE_DROP);
  GMainContext *loop_context = g_main_context_new ();
  Callers callers;
  gpointer weak;

  callers_init (&callers, b, 2);
  g_main_context_push_thread_default (loop_context);
  run_dispatched (loop_context, start_callers, &callers);
  wait_finished (b, 1);
  for (guint i = 0; i < callers.n; i++)
    g_cancellable_cancel (callers.cancellables[i]);
  for (guint i = 0; i < callers.n; i++)
    {
      g_assert_true (iterate_until_count (loop_context, &callers.outs[i].calls, 1, WAIT_TIMEOUT_MS));
      assert_error (&callers.outs[i], G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  settle (loop_context);
  g_assert_false (smartasync_lock_is_running (callers.lock, "key"));

  weak = callers.lock;
  g_object_add_weak_pointer (G_OBJECT (callers.lock), &weak);
  g_clear_object (&callers.lock);
  g_assert_null (weak);   /* the dropped run must not keep the lock alive */

  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  callers_clear (&callers);
}

/* A batch whose call never completes: cancelling the batch's wait must get
 * the caller out; once the implementation drops its task, the call is
 * answered with an error and its slot lets the batch go. */
static void
isolated_batch_never_returns (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  GThread *canceller = cancel_when_run (cancellable, b);

  smartasync_batch_add (batch, op, NULL, NULL);
  g_assert_false (smartasync_batch_wait (batch, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);
  g_object_unref (wait_parked (b));
  smartasync_batch_close (batch);
  g_assert_true (g_task_had_error (G_TASK (smartasync_batch_get_result (batch, 0))));
  g_assert_false (smartasync_operation_call_finish (op, smartasync_batch_get_result (batch, 0),
                                                    NULL, &error2));
  g_assert_error (error2, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  g_clear_object (&batch);   /* its result holds the operation */
  release_op (op);
}

/* A call started from inside a sync wait (nested, on the private context)
 * whose implementation drops its task: the outer wait does not wait for it
 * (it can never complete) and returns its own result. */
static void
nested_caller_impl (GTask        *task,
                    gpointer      source_object,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  SmartasyncOperation *inner = user_data;

  smartasync_operation_call_async (inner, NULL, NULL, NULL, NULL, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
isolated_nested_call_never_returns (void)
{
  Behaviour *b = behaviour_new (DONE_DROP);
  SmartasyncOperation *inner = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(SmartasyncOperation) outer =
    smartasync_operation_new_async ("outer", nested_caller_impl, inner, NULL);
  g_autoptr(GError) error = NULL;

  /* No cancellable: a wait that waited for the inner call would hang, and
   * the subprocess's timeout reports it. */
  g_assert_true (smartasync_operation_call_sync_boolean (outer, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  release_op (inner);
}

/* The same nested call without a callback, whose task is dropped later on
 * another thread while the outer wait drains it, asleep in poll(): the
 * thread that drops it must wake the wait. Stall reports, which would wake
 * it every few seconds anyway, are pushed out of the subprocess's reach. */
static gpointer
drop_parked_task (gpointer data)
{
  Behaviour *b = data;
  GTask *task = wait_parked (b);

  g_usleep (20 * 1000);   /* the wait is asleep by now */
  g_object_unref (task);  /* the last reference: dropped here, not completed */
  return NULL;
}

static void
isolated_nested_call_dropped_on_thread (void)
{
  Behaviour *b;
  SmartasyncOperation *inner;
  g_autoptr(SmartasyncOperation) outer = NULL;
  g_autoptr(GError) error = NULL;
  GThread *dropper;

  g_setenv ("SMARTASYNC_STALL_REPORT_MS", "600000", TRUE);
  b = behaviour_new (DONE_MANUAL);
  inner = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  outer = smartasync_operation_new_async ("outer", nested_caller_impl, inner, NULL);
  dropper = g_thread_new ("dropper", drop_parked_task, b);

  g_assert_true (smartasync_operation_call_sync_boolean (outer, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_thread_join (dropper);
  release_op (inner);
}

/* A blocking implementation that does not complete its task, offloaded to
 * a SmartasyncExecutor: the caller must be answered once (as on GLib's pool
 * and on the direct paths), not never. */
static void
isolated_executor_not_completed (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  Behaviour *b = behaviour_new (DONE_NOW);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  GMainContext *loop_context = g_main_context_new ();
  Outcome out = { 0 };
  GTask *held;

  b->not_complete = TRUE;
  smartasync_operation_set_executor (op, executor);
  g_main_context_push_thread_default (loop_context);
  smartasync_operation_call_async (op, NULL, NULL, NULL, outcome_callback, &out);
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  g_assert_true (strstr (out.error->message, "fault") != NULL);
  iterate_until_count (loop_context, &out.calls, 2, 100);
  g_assert_cmpint (out.calls, ==, 1);
  outcome_clear (&out);

  /* A caller that holds the task (the smart call returns it) is answered
   * once it lets the task go: until then the implementation could still
   * complete it. */
  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  held = smartasync_operation_call (op, NULL, NULL, NULL, outcome_callback, &out);
  smartasync_pop_mode ();
  g_assert_false (iterate_until_count (loop_context, &out.calls, 1, 100));
  g_object_unref (held);
  g_assert_true (iterate_until_count (loop_context, &out.calls, 1, WAIT_TIMEOUT_MS));
  assert_error (&out, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  g_main_context_pop_thread_default (loop_context);
  g_main_context_unref (loop_context);
  outcome_clear (&out);
  release_op (op);
}

/* A run started by lock_run_sync() goes to a worker; once the caller has
 * its result and the worker is done, nothing of the run may stay behind on
 * the caller's private context, where it would keep the lock and the
 * operation alive until the thread's next wait and then fire inside that
 * unrelated wait. */
static void
isolated_lock_sync_leftover (void)
{
  Behaviour *b = behaviour_new (DONE_NOW);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  SmartasyncLock *lock = smartasync_lock_new ();
  guint leftovers = 0;

  /* The worker's task may return before the caller's wait ends, or after:
   * repeat, so that the second case shows. */
  for (gint i = 1; i <= 100; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (smartasync_lock_run_sync (lock, "key", op, NULL, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      wait_finished (b, i);
      g_usleep (2 * 1000);   /* the worker's task has returned by now */
      if (g_main_context_pending (smartasync_get_private_context ()))
        leftovers++;
      while (g_main_context_iteration (smartasync_get_private_context (), FALSE))
        ;
    }
  g_test_message ("runs that left a source on the caller's private context: %u/100", leftovers);
  g_assert_cmpuint (leftovers, ==, 0);

  release_object (lock, "the lock to be freed");
  release_op (op);
}

/* The thread that started a run (from a sync context: the run goes to a
 * worker, "so that it does not depend on a waiting thread that may leave")
 * leaves and exits; another thread that joined still gets the result, and
 * once the run is over the lock and the operation are freed. */
static void
isolated_lock_leader_thread_exits (void)
{
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncLock *lock = smartasync_lock_new ();
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(GCancellable) leader_cancellable = g_cancellable_new ();
  Outcome leader_out = { 0 }, joiner_out = { 0 };
  SyncCaller leader = { lock, op, leader_cancellable, &leader_out };
  SyncCaller joiner = { lock, op, NULL, &joiner_out };
  GThread *leader_thread, *joiner_thread;
  GTask *parked;

  leader_thread = g_thread_new ("leader", lock_sync_caller, &leader);
  parked = wait_parked (b);
  joiner_thread = g_thread_new ("joiner", lock_sync_caller, &joiner);
  {
    gint64 deadline = hang_guard_deadline ();

    while (smartasync_lock_get_joins (lock) == 0)
      {
        hang_guard (deadline, "the joiner to join the run");
        g_usleep (1000);
      }
  }

  g_cancellable_cancel (leader_cancellable);
  g_thread_join (leader_thread);
  assert_error (&leader_out, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (leader_out.thread != g_thread_self ());

  return_result (parked, FALSE);
  g_object_unref (parked);
  g_thread_join (joiner_thread);
  assert_value (&joiner_out);
  g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 1);
  /* The run ran on a worker, not on either caller's thread. */
  g_assert_true (b->ran_on != leader_out.thread && b->ran_on != joiner_out.thread);

  outcome_clear (&leader_out);
  outcome_clear (&joiner_out);

  /* The worker lets go of the run when its task returns, which may be
   * after the callers were answered. */
  wait_finished (b, 1);
  release_object (lock, "the lock to be freed");
  release_op (op);
}

/* Callers with a cancellable (never cancelled) join a run that completes on
 * another thread: if the run answers a caller between its joining and the
 * connection of its cancellable, that connection (which holds the caller,
 * which holds the cancellable) must not be left behind. Every cancellable
 * must be freed, and the lock after the last run. */
static gint connect_race_alive;

static void
connect_race_gone (gpointer  data,
                   GObject  *where_the_object_was)
{
  g_atomic_int_add (&connect_race_alive, -1);
}

static gpointer
connect_race_caller (gpointer data)
{
  SmartasyncOperation *op = data;
  SmartasyncLock *lock = g_object_get_data (G_OBJECT (op), "lock");

  for (guint i = 0; i < 4000; i++)
    {
      GCancellable *cancellable = g_cancellable_new ();

      g_atomic_int_inc (&connect_race_alive);
      g_object_weak_ref (G_OBJECT (cancellable), connect_race_gone, NULL);
      g_assert_true (smartasync_lock_run_sync (lock, "key", op, NULL, NULL, cancellable, NULL, NULL));
      g_object_unref (cancellable);
    }
  /* Let the last run's worker task come back before the context goes (see
   * isolated/lock-sync-leftover). */
  g_usleep (20 * 1000);
  while (g_main_context_iteration (smartasync_get_private_context (), FALSE))
    ;
  return NULL;
}

static void
isolated_lock_cancellable_connect_race (void)
{
  Behaviour *b = behaviour_new (DONE_NOW);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_BLOCKING, b);
  SmartasyncLock *lock = smartasync_lock_new ();
  GThread *threads[4];
  gint64 deadline;

  b->delay_ms = 0;
  g_object_set_data (G_OBJECT (op), "lock", lock);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("caller", connect_race_caller, op);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  /* The last runs' workers may still be letting go (a caller's thread may
   * exit before its run's worker task returned; a janitor dispatches it). */
  g_test_message ("cancellables still alive: %d of %u", g_atomic_int_get (&connect_race_alive),
                  (guint) G_N_ELEMENTS (threads) * 4000);
  deadline = hang_guard_deadline ();
  while (g_atomic_int_get (&connect_race_alive) > 0)
    {
      hang_guard (deadline, "every cancellable to be freed");
      g_usleep (1000);
    }
  release_object (lock, "the lock to be freed");
  release_op (op);
}

/* A run started from a sync context is a synchronous call on a worker,
 * which abandons its wait when every caller has left (the run's cancellable
 * is cancelled). If the implementation completes after the worker thread
 * has exited (here: its executor is dropped; GLib's pool retires idle
 * threads too), the completion goes to the dropped private context of a
 * thread the user never controlled: a janitor thread must dispatch it, so
 * that the run's task is freed once it completes. The fuzzer found the leak
 * this used to be through GLib's pool (LeakSanitizer). */
static gpointer
leave_lock_run (gpointer data)
{
  SmartasyncOperation *op = data;
  SmartasyncLock *lock = g_object_get_data (G_OBJECT (op), "lock");
  GCancellable *cancellable = g_object_get_data (G_OBJECT (op), "cancellable");
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_lock_run_sync (lock, "key", op, NULL, NULL, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  return NULL;
}

static void
isolated_lock_worker_abandoned_wait (void)
{
  SmartasyncExecutor *executor = smartasync_executor_new (1);
  Behaviour *b = behaviour_new (DONE_MANUAL);
  SmartasyncOperation *op = fault_op_new (SMARTASYNC_KIND_ASYNC, b);
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gpointer weak_executor = executor;
  gint task_gone = FALSE;
  g_autoptr(GPtrArray) workers_before = test_list_threads_named ("smartasync-work");
  GThread *caller;
  GTask *parked;

  smartasync_operation_set_executor (op, executor);
  g_object_add_weak_pointer (G_OBJECT (executor), &weak_executor);
  g_object_unref (executor);
  g_object_set_data (G_OBJECT (op), "lock", lock);
  g_object_set_data (G_OBJECT (op), "cancellable", cancellable);

  caller = g_thread_new ("caller", leave_lock_run, op);
  parked = wait_parked (b);
  g_assert_true (b->ran_on != caller);
  g_cancellable_cancel (cancellable);
  g_thread_join (caller);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (parked)));

  /* The worker thread goes away with its executor. */
  smartasync_operation_set_executor (op, NULL);
  g_assert_null (weak_executor);
  wait_new_threads_gone ("smartasync-work", workers_before);

  g_object_weak_ref (G_OBJECT (parked), weak_notify_flag, &task_gone);
  return_result (parked, FALSE);
  g_object_unref (parked);
  g_assert_true (wait_for_flag (&task_gone));
  g_assert_true (wait_janitors (0));
  release_op (op);
}

typedef struct
{
  const char *name;
  GTestFunc   func;
} IsolatedCase;

static const IsolatedCase isolated_cases[] = {
  { "lock-dropped-run", isolated_lock_dropped_run },
  { "lock-sync-leftover", isolated_lock_sync_leftover },
  { "lock-leader-thread-exits", isolated_lock_leader_thread_exits },
  { "lock-cancellable-connect-race", isolated_lock_cancellable_connect_race },
  { "nested-call-never-returns", isolated_nested_call_never_returns },
  { "nested-call-dropped-on-thread", isolated_nested_call_dropped_on_thread },
  { "executor-not-completed", isolated_executor_not_completed },
  { "batch-never-returns", isolated_batch_never_returns },
  { "lock-worker-abandoned-wait", isolated_lock_worker_abandoned_wait },
};

static void
run_isolated_case (gconstpointer data)
{
  const IsolatedCase *c = data;

  if (g_test_subprocess ())
    {
      c->func ();
      return;
    }

  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed ())
    {
      g_test_message ("%s: the subprocess %s", c->name,
                      g_test_trap_reached_timeout () ? "hung (killed after the timeout)"
                                                     : "failed or crashed");
      g_test_fail ();
    }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/faults/succeed", test_succeed);
  g_test_add_func ("/smartasync/faults/fail", test_fail);
  g_test_add_func ("/smartasync/faults/fail/offload-refused", test_fail_offload_refused);
  g_test_add_func ("/smartasync/faults/cancel/before", test_cancel_before);
  g_test_add_func ("/smartasync/faults/cancel/during", test_cancel_during);
  g_test_add_func ("/smartasync/faults/cancel/pending", test_cancel_pending);
  g_test_add_func ("/smartasync/faults/cancel/sync-wait", test_cancel_sync_wait);
  g_test_add_func ("/smartasync/faults/cancel/after", test_cancel_after);
  g_test_add_func ("/smartasync/faults/cancel/offloaded-running", test_cancel_offloaded_running);
  g_test_add_func ("/smartasync/faults/cancel/executor", test_cancel_executor);
  g_test_add_func ("/smartasync/faults/executor/dropped-with-queued-work",
                   test_executor_dropped_with_queued_work);
  g_test_add_func ("/smartasync/faults/executor/handoffs", test_executor_handoffs);
  g_test_add_func ("/smartasync/faults/batch", test_batch_faults);
  g_test_add_func ("/smartasync/faults/misbehave/return-twice", test_return_twice);
  g_test_add_func ("/smartasync/faults/misbehave/never-return-sync", test_never_return_sync);
  g_test_add_func ("/smartasync/faults/misbehave/never-return-async", test_never_return_async);
  g_test_add_func ("/smartasync/faults/misbehave/await-dropped-task", test_await_dropped_task);
  g_test_add_func ("/smartasync/faults/misbehave/not-completed", test_not_completed);
  g_test_add_func ("/smartasync/faults/misbehave/wrong-result-type", test_wrong_result_type);
  g_test_add_func ("/smartasync/faults/thread-exit/complete-after-caller-exited",
                   test_complete_after_caller_exited);
  g_test_add_func ("/smartasync/faults/thread-exit/ready-completion", test_thread_exit_ready_completion);
  g_test_add_func ("/smartasync/faults/thread-exit/late-completion", test_thread_exit_late_completion);
  g_test_add_func ("/smartasync/faults/thread-exit/holding-context", test_thread_exit_holding_context);
  g_test_add_func ("/smartasync/faults/reset/late-completion", test_reset_late_completion);
  g_test_add_func ("/smartasync/faults/reset/ready-completion", test_reset_ready_completion);
  g_test_add_func ("/smartasync/faults/reset/default-executor", test_reset_default_executor);
  g_test_add_func ("/smartasync/faults/lock/leader-cancelled", test_lock_leader_cancelled);
  g_test_add_func ("/smartasync/faults/lock/leader-fails", test_lock_leader_fails);
  g_test_add_func ("/smartasync/faults/lock/all-leave", test_lock_all_leave);
  g_test_add_func ("/smartasync/faults/lock/reset-and-drop", test_lock_reset_and_drop);
  g_test_add_func ("/smartasync/faults/lock/leader-context-stalls", test_lock_leader_context_stalls);
  g_test_add_func ("/smartasync/faults/lock/reentrant-callback", test_lock_reentrant_callback);
  for (guint i = 0; i < G_N_ELEMENTS (isolated_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smartasync/faults/isolated/%s",
                                               isolated_cases[i].name);

      g_test_add_data_func (path, &isolated_cases[i], run_isolated_case);
    }

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
