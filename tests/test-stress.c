/* test-stress.c: many threads, every dispatch path, no lost or misrouted completion
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Half the worker threads run their own GMainContext and GMainLoop and make
 * their calls from idles that loop dispatches (async context); the other half
 * run no loop at all (sync context). Each call picks, at random, an
 * implementation, a way to complete it, an outcome and an entry point (each
 * thread's sequence of choices is reproducible with --seed; the interleaving
 * is not), and carries its own (thread, index) in its arguments. Results and errors are derived from those, so a result delivered
 * to the wrong call, a lost completion or a duplicated one is detected, and
 * every callback checks the thread and thread-default context it runs on.
 *
 * Lock calls (SmartasyncLock, shared by all threads, on a few keys) make
 * threads join each other's runs: a caller gets the result of whichever call
 * started the run it joined, which must be a call for the same key.
 *
 * Meanwhile the main thread keeps using its own private context, with
 * sentinel sources that count every iteration by another thread.
 *
 * /smartasync/stress/memory runs a warm-up round, then a big one, and checks
 * that every task and operation was freed and that the resident set size came
 * back to its level after the warm-up. SMARTASYNC_STRESS_THREADS and
 * SMARTASYNC_STRESS_CALLS (calls per thread) size the rounds;
 * tests/reliability/meson.build runs it with 16 threads x 100 000 calls.
 * SMARTASYNC_TEST_QUICK (valgrind) caps them at 4 x 500. */

#include "test-util.h"

#include <stdio.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define STRESS_ERROR (g_quark_from_static_string ("stress-error"))

/* Calls a loop thread keeps in flight, and calls issued per idle dispatch:
 * enough to overlap every path without flooding the worker pools. */
#define MAX_IN_FLIGHT 32
#define CALLS_PER_DISPATCH 8

/* Without progress for this long, the run is declared hung. */
#define STALL_TIMEOUT (120 * G_TIME_SPAN_SECOND)

typedef enum
{
  IMPL_ASYNC,          /* async implementation */
  IMPL_BLOCKING,       /* blocking, offloaded with g_task_run_in_thread() */
  IMPL_EXECUTOR,       /* blocking, offloaded to a SmartasyncExecutor */
  N_IMPLS
} Impl;

/* How the async implementation completes its task. */
typedef enum
{
  DONE_NOW,            /* inside the implementation */
  DONE_IDLE,           /* from an idle on the thread-default context */
  DONE_THREAD,         /* from another thread */
  N_DONES
} Done;

typedef enum
{
  OUTCOME_OK,
  OUTCOME_ERROR,         /* the implementation returns STRESS_ERROR */
  OUTCOME_CANCEL_BEFORE, /* cancelled before the call */
  OUTCOME_CANCEL_AFTER,  /* cancelled right after the call, or during it on sync paths */
  N_OUTCOMES
} Outcome;

typedef enum
{
  ENTRY_SMART,         /* smartasync_operation_call() */
  ENTRY_ASYNC,         /* call_async(); in sync threads, waited for with a SmartasyncWaiter */
  ENTRY_SYNC,          /* call_sync(); in loop threads, under SMARTASYNC_MODE_SYNC */
  ENTRY_SMART_FORCED,  /* loop threads: smart call under SMARTASYNC_MODE_SYNC */
  ENTRY_REFUSED,       /* loop threads: call_sync() refused with WOULD_BLOCK */
  ENTRY_LOCK,          /* lock_run_async() in loop threads, lock_run_sync() in sync threads */
  N_ENTRIES
} Entry;

/* What the caller must receive. */
typedef enum
{
  RESULT_VALUE,
  RESULT_ERROR,
  RESULT_CANCELLED,
  RESULT_REFUSED,
  N_RESULTS
} Result;

static const char * const result_names[N_RESULTS] = { "value", "error", "cancelled", "refused" };
static const char * const entry_names[N_ENTRIES] = {
  "smart", "async", "sync", "smart-forced-sync", "refused", "lock"
};
static const char * const impl_names[N_IMPLS] = { "async", "blocking", "executor" };

static const guint outcome_weights[N_OUTCOMES] = { 50, 20, 15, 15 };
static const guint loop_entry_weights[N_ENTRIES] = { 35, 35, 10, 10, 10, 15 };
static const guint sync_entry_weights[N_ENTRIES] = { 40, 20, 40, 0, 0, 20 };

/* Calls per thread from which a round checks that every dispatch path came
 * up: the rarest (weight 10 of 115, one implementation in 3) is then
 * expected about 29 times on 2 threads with a loop. */
#define MIN_CALLS_FOR_EVERY_PATH 500

/* Few keys, so that runs are shared across threads. */
#define N_LOCK_KEYS 8

/* One call, as chosen by its thread; all but extra_cancellable travel in
 * the call's GVariant arguments. */
typedef struct
{
  guint    thread;
  guint    index;
  guint8   impl;
  guint8   done;
  guint8   outcome;
  guint8   entry;
  gboolean value_result;      /* GValue string result instead of an int */
  gboolean sync_path;         /* the call returns completed: nobody can cancel after it */
  gboolean direct;            /* blocking work runs on the calling thread */
  gboolean extra_cancellable; /* a cancellable that is never cancelled */
} Scenario;

#define SCENARIO_FORMAT "(uuyyyybbb)"

typedef struct
{
  guint         index;
  gboolean      has_loop;
  guint         n_calls;
  GThread      *thread;           /* a reference, kept until the end of the test */
  GMainContext *context;          /* its own context, for loop threads */
  GMainLoop    *loop;
  GRand        *rand;

  guint         next;             /* next call to issue */
  guint         in_flight;        /* loop threads: pending async calls */
  gboolean      driver_scheduled;

  guint8       *checked;          /* per call: times its result was verified */
  guint         expected[N_RESULTS];
  guint         received[N_RESULTS];
  guint         paths[N_ENTRIES][N_IMPLS];

  gint          progress;         /* atomic: calls verified, for the watchdog */
  gint          pending_jobs;     /* atomic: completions queued on other threads */
  guint         flushed;          /* abandoned completions dispatched at the end */
  guint         lock_shared;      /* lock calls answered by another call's run */
} Worker;

static Worker *workers;
static guint n_workers;
static SmartasyncOperation *ops[N_IMPLS];
static SmartasyncLock *stress_lock;
static gint ops_alive;            /* atomic: operations not yet finalized */
static GThreadPool *completer;    /* completes async tasks from other threads */
static gint tasks_alive;          /* atomic: tasks seen by the test not yet finalized */
static guint tasks_seen;          /* atomic */
static GMainContext *main_private;

static GMutex finished_mutex;
static GCond finished_cond;
static guint n_finished;
static gint loops_may_stop;       /* atomic: the operations are released */

/* Scenarios */

static gboolean
entry_is_sync_path (Worker *w,
                    Entry   entry)
{
  if (entry == ENTRY_LOCK)
    return !w->has_loop;
  return entry != ENTRY_ASYNC && (entry != ENTRY_SMART || !w->has_loop);
}

/* The key of a lock call, recomputed by whoever receives its result. */
static guint
lock_key_index (guint thread,
                guint index)
{
  return (thread * 7919u + index * 104729u) % N_LOCK_KEYS;
}

static Result
scenario_expected (const Scenario *s)
{
  /* Cancellation wins over everything, as run_sync checks it first. */
  if (s->outcome == OUTCOME_CANCEL_BEFORE || s->outcome == OUTCOME_CANCEL_AFTER)
    return RESULT_CANCELLED;
  if (s->entry == ENTRY_REFUSED)
    return RESULT_REFUSED;
  if (s->outcome == OUTCOME_ERROR)
    return RESULT_ERROR;
  return RESULT_VALUE;
}

static gboolean
scenario_must_not_run (const Scenario *s)
{
  return s->outcome == OUTCOME_CANCEL_BEFORE || s->entry == ENTRY_REFUSED;
}

static void
choose_scenario (Worker   *w,
                 Scenario *s)
{
  const guint *entry_weights = w->has_loop ? loop_entry_weights : sync_entry_weights;

  s->thread = w->index;
  s->index = w->next++;
  s->impl = g_rand_int_range (w->rand, 0, N_IMPLS);
  s->done = g_rand_int_range (w->rand, 0, N_DONES);
  s->outcome = test_pick_weighted (w->rand, outcome_weights, N_OUTCOMES);
  s->entry = test_pick_weighted (w->rand, entry_weights, N_ENTRIES);
  s->value_result = g_rand_boolean (w->rand);
  s->extra_cancellable = g_rand_int_range (w->rand, 0, 4) == 0;

  /* A refused call returns before anything could cancel it. */
  if (s->entry == ENTRY_REFUSED && s->outcome == OUTCOME_CANCEL_AFTER)
    s->outcome = OUTCOME_OK;

  /* Lock calls share their run's outcome: no errors (each caller's result
   * would be another's), and no leaving after the call (a caller that
   * started a run on its loop and left would stop iterating that loop while
   * others wait: doc/guarantees.md). test-faults covers both. The result
   * travels as a GValue, as locks need. */
  if (s->entry == ENTRY_LOCK)
    {
      if (s->outcome == OUTCOME_ERROR || s->outcome == OUTCOME_CANCEL_AFTER)
        s->outcome = OUTCOME_OK;
      s->value_result = TRUE;
    }

  s->sync_path = entry_is_sync_path (w, s->entry);
  s->direct = s->sync_path && s->impl != IMPL_ASYNC && s->entry != ENTRY_LOCK;

  w->expected[scenario_expected (s)]++;
}

static GVariant *
scenario_to_variant (const Scenario *s)
{
  return g_variant_new (SCENARIO_FORMAT, s->thread, s->index, s->impl, s->done,
                        s->outcome, s->entry, s->value_result, s->sync_path, s->direct);
}

static void
scenario_from_variant (GVariant *args,
                       Scenario *s)
{
  g_assert_nonnull (args);
  g_assert_cmpstr (g_variant_get_type_string (args), ==, SCENARIO_FORMAT);

  *s = (Scenario) { 0 };
  g_variant_get (args, SCENARIO_FORMAT, &s->thread, &s->index, &s->impl, &s->done,
                 &s->outcome, &s->entry, &s->value_result, &s->sync_path, &s->direct);
  g_assert_cmpuint (s->thread, <, n_workers);
  g_assert_cmpuint (s->index, <, workers[s->thread].n_calls);
}

/* Results derived from the call's identity, so that any mix-up shows. */

static gssize
expected_number (const Scenario *s)
{
  return (gssize) s->thread * 1000000 + (gssize) s->index * 3 + 1;
}

static char *
expected_string (const Scenario *s)
{
  return g_strdup_printf ("result %u/%u", s->thread, s->index);
}

static gint
expected_error_code (const Scenario *s)
{
  return (gint) (s->thread * 100000 + s->index + 1);
}

static char *
expected_error_message (const Scenario *s)
{
  return g_strdup_printf ("call %u/%u failed", s->thread, s->index);
}

static GCancellable *
scenario_cancellable (const Scenario *s)
{
  GCancellable *cancellable;

  if (s->outcome != OUTCOME_CANCEL_BEFORE && s->outcome != OUTCOME_CANCEL_AFTER &&
      !s->extra_cancellable)
    return NULL;

  cancellable = g_cancellable_new ();
  if (s->outcome == OUTCOME_CANCEL_BEFORE)
    g_cancellable_cancel (cancellable);

  return cancellable;
}

/* Live tasks: every task an implementation or a caller sees is marked once;
 * the mark's destroy notify runs when the task is finalized. */

static void
task_released (gpointer data)
{
  g_atomic_int_add (&tasks_alive, -1);
}

static GQuark task_mark;   /* set before any thread starts */

static void
track_task (gpointer task)
{
  GQuark mark = task_mark;

  g_assert_true (G_IS_TASK (task));
  if (g_object_get_qdata (task, mark) != NULL)
    return;

  g_atomic_int_inc (&tasks_alive);
  g_atomic_int_inc (&tasks_seen);
  g_object_set_qdata_full (task, mark, GINT_TO_POINTER (1), task_released);
}

/* Implementations */

static void
complete_task (GTask          *task,
               const Scenario *s)
{
  if (s->outcome == OUTCOME_ERROR)
    {
      g_autofree char *message = expected_error_message (s);

      g_task_return_new_error (task, STRESS_ERROR, expected_error_code (s), "%s", message);
    }
  else if (s->value_result)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, expected_string (s));
      g_task_return_value (task, &value);
    }
  else
    g_task_return_int (task, expected_number (s));
}

typedef struct
{
  GTask    *task;
  Scenario  scenario;
  gboolean  cancel;   /* cancel the call, then complete it as cancelled */
} Completion;

static void
completion_free (Completion *completion)
{
  g_object_unref (completion->task);
  g_free (completion);
}

static Completion *
completion_new (GTask          *task,
                const Scenario *s,
                gboolean        cancel)
{
  Completion *completion = g_new (Completion, 1);

  completion->task = g_object_ref (task);
  completion->scenario = *s;
  completion->cancel = cancel;
  return completion;
}

static gboolean
complete_from_idle (gpointer data)
{
  Completion *completion = data;

  complete_task (completion->task, &completion->scenario);
  return G_SOURCE_REMOVE;
}

static void
complete_in_idle (GTask          *task,
                  const Scenario *s)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, complete_from_idle, completion_new (task, s, FALSE),
                         (GDestroyNotify) completion_free);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

/* Runs on a completer thread. A cancel job plays a well-behaved operation
 * that is cancelled from another thread while a sync wait runs. */
static void
completer_run (gpointer data,
               gpointer unused)
{
  Completion *completion = data;
  Worker *w = &workers[completion->scenario.thread];

  if (completion->cancel)
    {
      g_cancellable_cancel (g_task_get_cancellable (completion->task));
      g_assert_true (g_task_return_error_if_cancelled (completion->task));
    }
  else
    complete_task (completion->task, &completion->scenario);

  completion_free (completion);
  g_atomic_int_add (&w->pending_jobs, -1);
}

static void
complete_from_thread (GTask          *task,
                      const Scenario *s,
                      gboolean        cancel)
{
  g_atomic_int_inc (&workers[s->thread].pending_jobs);
  g_thread_pool_push (completer, completion_new (task, s, cancel), NULL);
}

/* The context an async implementation runs with: the one its callback will
 * run on, which is the private context on every sync path. */
static GMainContext *
async_impl_context (Worker         *w,
                    const Scenario *s)
{
  return s->sync_path || !w->has_loop ? smartasync_get_private_context () : w->context;
}

static void
stress_async_impl (GTask        *task,
                   gpointer      source_object,
                   GVariant     *args,
                   GCancellable *cancellable,
                   gpointer      user_data)
{
  Scenario s;
  Worker *w;

  scenario_from_variant (args, &s);
  w = &workers[s.thread];
  track_task (task);

  g_assert_false (scenario_must_not_run (&s));
  g_assert_cmpuint (s.impl, ==, IMPL_ASYNC);
  if (s.entry == ENTRY_LOCK && !w->has_loop)
    {
      /* A run started from a sync context: a synchronous call on a worker. */
      g_assert_true (g_thread_self () != w->thread);
      g_assert_true (g_main_context_get_thread_default () == smartasync_get_private_context ());
    }
  else
    {
      g_assert_true (g_thread_self () == w->thread);
      g_assert_true (g_main_context_get_thread_default () == async_impl_context (w, &s));
    }

  /* On a sync path "after the call" can only mean during the wait. */
  if (s.outcome == OUTCOME_CANCEL_AFTER && s.sync_path && s.entry != ENTRY_LOCK)
    {
      complete_from_thread (task, &s, TRUE);
      return;
    }

  switch (s.done)
    {
    case DONE_NOW:
      complete_task (task, &s);
      break;
    case DONE_IDLE:
      complete_in_idle (task, &s);
      break;
    case DONE_THREAD:
      complete_from_thread (task, &s, FALSE);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
stress_blocking_impl (GTask        *task,
                      gpointer      source_object,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  Scenario s;

  scenario_from_variant (args, &s);
  track_task (task);

  g_assert_false (scenario_must_not_run (&s));
  g_assert_cmpuint (s.impl, !=, IMPL_ASYNC);
  /* Direct on sync paths, on a worker (a sync context) when offloaded. */
  g_assert_cmpint (g_thread_self () == workers[s.thread].thread, ==, s.direct);
  if (!s.direct)
    g_assert_false (smartasync_in_async_context ());

  /* Cancelled while running: the task must report it even though the work
   * completes. */
  if (s.outcome == OUTCOME_CANCEL_AFTER && s.sync_path)
    g_cancellable_cancel (cancellable);

  complete_task (task, &s);
}

static void
operation_finalized (gpointer data)
{
  g_atomic_int_add (&ops_alive, -1);
}

static void
create_operations (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);

  ops[IMPL_ASYNC] = smartasync_operation_new_async ("stress-async", stress_async_impl,
                                                    NULL, operation_finalized);
  ops[IMPL_BLOCKING] = smartasync_operation_new_blocking ("stress-blocking", stress_blocking_impl,
                                                          NULL, operation_finalized);
  ops[IMPL_EXECUTOR] = smartasync_operation_new_blocking ("stress-executor", stress_blocking_impl,
                                                          NULL, operation_finalized);
  smartasync_operation_set_executor (ops[IMPL_EXECUTOR], executor);
  g_atomic_int_set (&ops_alive, N_IMPLS);
  stress_lock = smartasync_lock_new ();
}

static void
lock_finalized (gpointer  data,
                GObject  *where_the_object_was)
{
  g_atomic_int_set ((gint *) data, TRUE);
}

/* Offloaded work cancelled early may still run on a worker after its
 * callback: the operations, held by their pending tasks, are finalized only
 * once all of it is done. */
static void
release_operations (void)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  gint lock_gone = FALSE;

  g_test_message ("lock: %u runs, %u joins", smartasync_lock_get_executions (stress_lock),
                  smartasync_lock_get_joins (stress_lock));
  g_object_weak_ref (G_OBJECT (stress_lock), lock_finalized, &lock_gone);
  g_clear_object (&stress_lock);
  for (guint i = 0; i < N_IMPLS; i++)
    g_clear_object (&ops[i]);

  /* Workers may still be dropping their last references: lock runs answer
   * their callers before they let go of them. */
  while (g_atomic_int_get (&ops_alive) > 0 || g_atomic_int_get (&tasks_alive) > 0 ||
         !g_atomic_int_get (&lock_gone))
    {
      if (g_get_monotonic_time () >= deadline)
        g_test_message ("still alive: %d operations, %d tasks, lock %s",
                        g_atomic_int_get (&ops_alive), g_atomic_int_get (&tasks_alive),
                        g_atomic_int_get (&lock_gone) ? "no" : "yes");
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}

/* Receiving and checking results */

typedef struct
{
  gboolean  ok;
  gssize    number;
  GValue    value;
  GError   *error;
} Received;

#define RECEIVED_INIT { FALSE, -1, G_VALUE_INIT, NULL }

static void
received_clear (Received *r)
{
  if (G_IS_VALUE (&r->value))
    g_value_unset (&r->value);
  g_clear_error (&r->error);
}

static void
receive_from_result (Received       *r,
                     const Scenario *s,
                     GAsyncResult   *result)
{
  SmartasyncOperation *op = ops[s->impl];

  if (s->entry == ENTRY_LOCK)
    r->ok = smartasync_lock_run_finish (stress_lock, result, &r->value, &r->error);
  else if (s->value_result)
    r->ok = smartasync_operation_call_finish (op, result, &r->value, &r->error);
  else
    {
      r->number = smartasync_operation_call_finish_int (op, result, &r->error);
      r->ok = r->error == NULL;
    }
}

static void
receive_from_sync_call (Received       *r,
                        const Scenario *s,
                        GCancellable   *cancellable)
{
  SmartasyncOperation *op = ops[s->impl];

  if (s->entry == ENTRY_LOCK)
    {
      g_autofree char *key = g_strdup_printf ("key-%u", lock_key_index (s->thread, s->index));

      r->ok = smartasync_lock_run_sync (stress_lock, key, op, NULL, scenario_to_variant (s),
                                        cancellable, &r->value, &r->error);
    }
  else if (s->value_result)
    r->ok = smartasync_operation_call_sync (op, NULL, scenario_to_variant (s), cancellable,
                                            &r->value, &r->error);
  else
    {
      r->number = smartasync_operation_call_sync_int (op, NULL, scenario_to_variant (s),
                                                      cancellable, &r->error);
      r->ok = r->error == NULL;
    }
}

/* A lock call gets the result of the call that started the run it joined:
 * a call of any thread, for the same key. */
static void
check_lock_value (Worker         *w,
                  const Scenario *s,
                  Received       *r)
{
  guint thread = G_MAXUINT, index = G_MAXUINT;

  g_assert_true (G_VALUE_HOLDS_STRING (&r->value));
  g_assert_cmpint (sscanf (g_value_get_string (&r->value), "result %u/%u", &thread, &index), ==, 2);
  g_assert_cmpuint (thread, <, n_workers);
  g_assert_cmpuint (index, <, workers[thread].n_calls);
  g_assert_cmpuint (lock_key_index (thread, index), ==, lock_key_index (s->thread, s->index));
  if (thread != s->thread || index != s->index)
    w->lock_shared++;
}

static void
check_value (Worker         *w,
             const Scenario *s,
             Received       *r)
{
  g_assert_no_error (r->error);
  g_assert_true (r->ok);

  if (s->entry == ENTRY_LOCK)
    check_lock_value (w, s, r);
  else if (s->value_result)
    {
      g_autofree char *expected = expected_string (s);

      g_assert_true (G_VALUE_HOLDS_STRING (&r->value));
      g_assert_cmpstr (g_value_get_string (&r->value), ==, expected);
    }
  else
    g_assert_cmpint (r->number, ==, expected_number (s));
}

static void
check_error (const Scenario *s,
             Received       *r)
{
  g_autofree char *message = expected_error_message (s);

  g_assert_error (r->error, STRESS_ERROR, expected_error_code (s));
  g_assert_cmpstr (r->error->message, ==, message);
}

/* Checks what call @s received, and that it is received exactly once. */
static void
verify (Worker         *w,
        const Scenario *s,
        Received       *r)
{
  Result expected = scenario_expected (s);

  g_assert_true (g_thread_self () == w->thread);
  g_assert_cmpuint (s->thread, ==, w->index);
  g_assert_cmpuint (w->checked[s->index], ==, 0);
  w->checked[s->index]++;

  switch (expected)
    {
    case RESULT_VALUE:
      check_value (w, s, r);
      break;
    case RESULT_ERROR:
      check_error (s, r);
      break;
    case RESULT_CANCELLED:
      g_assert_error (r->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case RESULT_REFUSED:
      g_assert_error (r->error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
      break;
    default:
      g_assert_not_reached ();
    }

  if (expected != RESULT_VALUE)
    {
      g_assert_false (r->ok);
      if (!s->value_result)
        g_assert_cmpint (r->number, ==, -1);
    }

  w->received[expected]++;
  w->paths[s->entry][s->impl]++;
  g_atomic_int_inc (&w->progress);
}

/* Calls with a callback */

typedef struct
{
  Worker           *worker;
  Scenario          scenario;
  GMainContext     *context;      /* thread-default when the call was made */
  GCancellable     *cancellable;
  SmartasyncWaiter *waiter;       /* forwards the result, for waited call_async() */
  gboolean          in_flight;    /* counted in the loop's in_flight */
} Call;

static Call *
call_new (Worker         *w,
          const Scenario *s)
{
  Call *call = g_new0 (Call, 1);

  call->worker = w;
  call->scenario = *s;
  call->context = g_main_context_get_thread_default ();
  call->cancellable = scenario_cancellable (s);
  return call;
}

static void
call_free (Call *call)
{
  g_clear_object (&call->cancellable);
  g_free (call);
}

static void loop_call_done (Worker *w);

static void
on_call_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  Call *call = data;
  Worker *w = call->worker;
  Received r = RECEIVED_INIT;

  /* On the caller's thread and context, whichever thread completed it. */
  g_assert_true (g_thread_self () == w->thread);
  g_assert_true (g_main_context_get_thread_default () == call->context);
  /* GIO's convention: the source object is the operation that was called
   * (or the lock). */
  if (call->scenario.entry == ENTRY_LOCK)
    g_assert_true (source_object == G_OBJECT (stress_lock));
  else
    g_assert_true (source_object == G_OBJECT (ops[call->scenario.impl]));
  track_task (result);

  receive_from_result (&r, &call->scenario, result);
  verify (w, &call->scenario, &r);
  received_clear (&r);

  if (call->waiter != NULL)
    smartasync_waiter_complete (call->waiter, source_object, result);
  if (call->in_flight)
    loop_call_done (w);
  call_free (call);
}

/* Loop threads, async context: smart call or call_async(), pending. */
static void
start_pending_call (Worker         *w,
                    const Scenario *s)
{
  Call *call = call_new (w, s);
  g_autoptr(GCancellable) cancellable = call->cancellable ? g_object_ref (call->cancellable) : NULL;

  g_assert_true (call->context == w->context);
  call->in_flight = TRUE;
  w->in_flight++;

  if (s->entry == ENTRY_SMART)
    {
      g_autoptr(GTask) task = NULL;

      task = smartasync_operation_call (ops[s->impl], NULL, scenario_to_variant (s),
                                        cancellable, on_call_done, call);
      /* Pending: its callback has not run (checked below). Not
       * g_task_get_completed(), which reads a bit-field that a worker
       * returning the task writes (a race ThreadSanitizer reports). */
      g_assert_nonnull (task);
    }
  else if (s->entry == ENTRY_LOCK)
    {
      g_autofree char *key = g_strdup_printf ("key-%u", lock_key_index (s->thread, s->index));

      smartasync_lock_run_async (stress_lock, key, ops[s->impl], NULL, scenario_to_variant (s),
                                 cancellable, on_call_done, call);
    }
  else
    smartasync_operation_call_async (ops[s->impl], NULL, scenario_to_variant (s),
                                     cancellable, on_call_done, call);

  /* GIO rule: never called back from inside the call. */
  g_assert_cmpuint (w->checked[s->index], ==, 0);

  if (s->outcome == OUTCOME_CANCEL_AFTER)
    g_cancellable_cancel (cancellable);
}

/* Sync context (a sync thread, or a loop thread under SMARTASYNC_MODE_SYNC):
 * the smart call has completed and called back when it returns. */
static void
run_smart_sync_call (Worker         *w,
                     const Scenario *s)
{
  Call *call = call_new (w, s);
  GMainContext *before = g_main_context_get_thread_default ();
  g_autoptr(GTask) task = NULL;

  /* The callback frees @call before the call returns. */
  task = smartasync_operation_call (ops[s->impl], NULL, scenario_to_variant (s),
                                    call->cancellable, on_call_done, call);

  g_assert_nonnull (task);
  track_task (task);
  g_assert_true (g_task_get_completed (task));
  g_assert_cmpuint (w->checked[s->index], ==, 1);
  g_assert_true (g_main_context_get_thread_default () == before);
}

static void
run_sync_call (Worker         *w,
               const Scenario *s)
{
  g_autoptr(GCancellable) cancellable = scenario_cancellable (s);
  GMainContext *before = g_main_context_get_thread_default ();
  Received r = RECEIVED_INIT;

  receive_from_sync_call (&r, s, cancellable);
  g_assert_true (g_main_context_get_thread_default () == before);
  verify (w, s, &r);
  received_clear (&r);
}

/* Sync threads: call_async() on the private context pushed by a waiter;
 * the callback runs there, during the wait, and hands the result over. */
static void
run_waited_async_call (Worker         *w,
                       const Scenario *s)
{
  SmartasyncWaiter *waiter = smartasync_waiter_new ();
  Call *call = call_new (w, s);
  g_autoptr(GCancellable) cancellable = call->cancellable ? g_object_ref (call->cancellable) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_true (call->context == smartasync_get_private_context ());
  call->waiter = waiter;
  smartasync_operation_call_async (ops[s->impl], NULL, scenario_to_variant (s),
                                   cancellable, on_call_done, call);
  g_assert_cmpuint (w->checked[s->index], ==, 0);

  if (s->outcome == OUTCOME_CANCEL_AFTER)
    g_cancellable_cancel (cancellable);

  /* No cancellable for the wait itself: it returns once the callback ran. */
  result = smartasync_waiter_wait (waiter, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_object_unref (waiter);

  g_assert_cmpuint (w->checked[s->index], ==, 1);
  g_assert_null (g_main_context_get_thread_default ());
}

/* Sync threads */

static void
issue_sync_call (Worker *w)
{
  Scenario s;

  g_assert_false (smartasync_in_async_context ());
  choose_scenario (w, &s);

  switch (s.entry)
    {
    case ENTRY_SMART:
      run_smart_sync_call (w, &s);
      break;
    case ENTRY_ASYNC:
      run_waited_async_call (w, &s);
      break;
    case ENTRY_SYNC:
    case ENTRY_LOCK:
      run_sync_call (w, &s);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
run_sync_worker (Worker *w)
{
  g_assert_null (g_main_context_get_thread_default ());

  while (w->next < w->n_calls)
    issue_sync_call (w);
}

/* Loop threads */

static void
issue_loop_call (Worker *w)
{
  Scenario s;

  choose_scenario (w, &s);

  switch (s.entry)
    {
    case ENTRY_SMART:
    case ENTRY_ASYNC:
    case ENTRY_LOCK:
      start_pending_call (w, &s);
      break;
    case ENTRY_SYNC:
      smartasync_push_mode (SMARTASYNC_MODE_SYNC);
      run_sync_call (w, &s);
      smartasync_pop_mode ();
      break;
    case ENTRY_SMART_FORCED:
      smartasync_push_mode (SMARTASYNC_MODE_SYNC);
      run_smart_sync_call (w, &s);
      smartasync_pop_mode ();
      break;
    case ENTRY_REFUSED:
      run_sync_call (w, &s);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
maybe_quit (Worker *w)
{
  if (w->next == w->n_calls && w->in_flight == 0)
    g_main_loop_quit (w->loop);
}

static gboolean
can_issue (Worker *w)
{
  return w->next < w->n_calls && w->in_flight < MAX_IN_FLIGHT;
}

/* Issues a few calls per dispatch, so that completions interleave with new
 * calls, and stops while MAX_IN_FLIGHT calls are pending. */
static gboolean
drive_calls (gpointer data)
{
  Worker *w = data;

  g_assert_true (smartasync_in_async_context ());

  for (guint n = 0; n < CALLS_PER_DISPATCH && can_issue (w); n++)
    issue_loop_call (w);

  if (can_issue (w))
    return G_SOURCE_CONTINUE;

  w->driver_scheduled = FALSE;
  maybe_quit (w);
  return G_SOURCE_REMOVE;
}

static void
schedule_driver (Worker *w)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, drive_calls, w, NULL);
  g_source_attach (idle, w->context);
  g_source_unref (idle);
  w->driver_scheduled = TRUE;
}

static void
loop_call_done (Worker *w)
{
  g_assert_cmpuint (w->in_flight, >, 0);
  w->in_flight--;

  if (!w->driver_scheduled && w->next < w->n_calls && w->in_flight <= MAX_IN_FLIGHT / 2)
    schedule_driver (w);

  maybe_quit (w);
}

static void
run_loop_worker (Worker *w)
{
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  g_main_context_push_thread_default (w->context);

  /* Pushed but not dispatching yet: still a sync context. */
  g_assert_false (smartasync_in_async_context ());

  schedule_driver (w);
  g_main_loop_run (w->loop);

  g_assert_cmpuint (w->next, ==, w->n_calls);
  g_assert_cmpuint (w->in_flight, ==, 0);
  g_assert_false (w->driver_scheduled);
}

static void
stop_loop_worker (Worker *w)
{
  gint64 give_up = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  /* Every call was answered, but the library releases what it held for a
   * call on the caller's context, and a worker still running a call that
   * was answered on cancel hands it back only when done: dispatch until
   * the main thread saw every operation, task and the lock released. */
  while (!g_atomic_int_get (&loops_may_stop))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, give_up);
      if (!g_main_context_iteration (w->context, FALSE))
        g_usleep (100);
    }

  /* Nothing stray left on the caller's context. */
  g_assert_false (g_main_context_iteration (w->context, FALSE));

  g_main_context_pop_thread_default (w->context);
  g_clear_pointer (&w->loop, g_main_loop_unref);
  g_clear_pointer (&w->context, g_main_context_unref);
}

/* Worker threads */

/* A sync wait abandoned on cancellation leaves the operation's late
 * completion on the private context, where a later wait drops it (see
 * SmartasyncWaiter). Dispatch the last ones here: smartasync_reset() would
 * drop the context with them still attached. */
static void
flush_abandoned_completions (Worker       *w,
                             GMainContext *private_context)
{
  while (g_atomic_int_get (&w->pending_jobs) > 0)
    g_usleep (100);

  while (g_main_context_iteration (private_context, FALSE))
    w->flushed++;
  g_assert_false (g_main_context_pending (private_context));
}

static void
report_finished (void)
{
  g_mutex_lock (&finished_mutex);
  n_finished++;
  g_cond_signal (&finished_cond);
  g_mutex_unlock (&finished_mutex);
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  GMainContext *private_context;

  w->thread = g_thread_ref (g_thread_self ());

  /* Every thread has its own private context, never the main thread's. */
  private_context = smartasync_get_private_context ();
  g_assert_true (private_context != main_private);
  g_assert_true (private_context != g_main_context_default ());

  if (w->has_loop)
    run_loop_worker (w);
  else
    run_sync_worker (w);

  flush_abandoned_completions (w, private_context);
  if (w->has_loop)
    {
      report_finished ();
      stop_loop_worker (w);
    }

  /* Reused by every wait of the thread. */
  g_assert_true (smartasync_get_private_context () == private_context);
  smartasync_reset ();

  if (!w->has_loop)
    report_finished ();
  return NULL;
}

static void
worker_init (Worker *w,
             guint   index,
             guint   n_calls,
             guint32 seed)
{
  *w = (Worker) { 0 };
  w->index = index;
  w->has_loop = index % 2 == 0;
  w->n_calls = n_calls;
  w->rand = g_rand_new_with_seed (seed + index);
  w->checked = g_new0 (guint8, n_calls);
}

static void
worker_clear (Worker *w)
{
  g_clear_pointer (&w->thread, g_thread_unref);
  g_clear_pointer (&w->rand, g_rand_free);
  g_clear_pointer (&w->checked, g_free);
}

/* The main thread's contexts: sentinels count foreign iterations */

typedef struct
{
  GSource  source;
  GThread *owner;
  gint     foreign_iterations;   /* atomic */
} Sentinel;

static gboolean
sentinel_prepare (GSource *source,
                  gint    *timeout)
{
  Sentinel *sentinel = (Sentinel *) source;

  if (g_thread_self () != sentinel->owner)
    g_atomic_int_inc (&sentinel->foreign_iterations);

  *timeout = -1;
  return FALSE;
}

static gboolean
sentinel_check (GSource *source)
{
  return FALSE;
}

static gboolean
sentinel_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs sentinel_funcs = {
  .prepare = sentinel_prepare,
  .check = sentinel_check,
  .dispatch = sentinel_dispatch,
};

static Sentinel *
sentinel_attach (GMainContext *context)
{
  Sentinel *sentinel = (Sentinel *) g_source_new (&sentinel_funcs, sizeof (Sentinel));

  sentinel->owner = g_thread_self ();
  g_source_attach (&sentinel->source, context);
  return sentinel;
}

static void
sentinel_check_and_free (Sentinel *sentinel)
{
  g_assert_cmpint (g_atomic_int_get (&sentinel->foreign_iterations), ==, 0);
  g_source_destroy (&sentinel->source);
  g_source_unref (&sentinel->source);
}

/* The main thread keeps waiting on its private context during the run. */
static void
main_sync_call (SmartasyncOperation *upper,
                guint                n)
{
  g_autofree char *arg = g_strdup_printf ("main-%u", n);
  g_autofree char *expected = g_ascii_strup (arg, -1);
  g_autoptr(GError) error = NULL;
  g_autofree char *result = NULL;

  result = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string (arg),
                                                   NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, expected);
  g_assert_null (g_main_context_get_thread_default ());
}

static guint
total_progress (void)
{
  guint total = 0;

  for (guint i = 0; i < n_workers; i++)
    total += g_atomic_int_get (&workers[i].progress);

  return total;
}

static void
report_stall (void)
{
  for (guint i = 0; i < n_workers; i++)
    {
      Worker *w = &workers[i];

      /* Racy reads, for diagnosis only. */
      g_test_message ("thread %u (%s): issued %u/%u, verified %d, in flight %u",
                      i, w->has_loop ? "loop" : "sync", w->next, w->n_calls,
                      g_atomic_int_get (&w->progress), w->in_flight);
    }
}

/* Waits for the workers, calling through the main private context
 * meanwhile, and fails if they stop making progress. */
static guint
wait_for_workers (void)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  gint64 last_change = g_get_monotonic_time ();
  guint last_progress = 0;
  guint main_calls = 0;

  g_mutex_lock (&finished_mutex);
  while (n_finished < n_workers)
    {
      gint64 now = g_get_monotonic_time ();
      guint progress;

      if (g_cond_wait_until (&finished_cond, &finished_mutex, now + 10 * G_TIME_SPAN_MILLISECOND))
        continue;

      g_mutex_unlock (&finished_mutex);
      main_sync_call (upper, main_calls++);

      now = g_get_monotonic_time ();
      progress = total_progress ();
      if (progress != last_progress)
        {
          last_progress = progress;
          last_change = now;
        }
      else if (now - last_change > STALL_TIMEOUT)
        report_stall ();
      g_assert_cmpint (now - last_change, <=, STALL_TIMEOUT);

      g_mutex_lock (&finished_mutex);
    }
  g_mutex_unlock (&finished_mutex);

  return main_calls;
}

static void
check_totals (guint    n_calls,
              gboolean check_paths)
{
  guint expected[N_RESULTS] = { 0 };
  guint received[N_RESULTS] = { 0 };
  guint loop_paths[N_ENTRIES][N_IMPLS] = { { 0 } };
  guint sync_paths[N_ENTRIES][N_IMPLS] = { { 0 } };
  guint total = 0;
  guint flushed = 0;

  for (guint i = 0; i < n_workers; i++)
    {
      Worker *w = &workers[i];

      flushed += w->flushed;

      /* No lost and no duplicated completion, call by call. */
      for (guint c = 0; c < n_calls; c++)
        {
          if (w->checked[c] != 1)
            g_test_message ("thread %u call %u: verified %u times", i, c, w->checked[c]);
          g_assert_cmpuint (w->checked[c], ==, 1);
        }

      for (guint r = 0; r < N_RESULTS; r++)
        {
          g_assert_cmpuint (w->received[r], ==, w->expected[r]);
          expected[r] += w->expected[r];
          received[r] += w->received[r];
          total += w->received[r];
        }

      for (guint e = 0; e < N_ENTRIES; e++)
        for (guint m = 0; m < N_IMPLS; m++)
          (w->has_loop ? loop_paths : sync_paths)[e][m] += w->paths[e][m];
    }

  g_assert_cmpuint (total, ==, n_workers * n_calls);
  g_test_message ("abandoned completions flushed at thread exit: %u", flushed);
  {
    guint shared = 0;

    for (guint i = 0; i < n_workers; i++)
      shared += workers[i].lock_shared;
    g_test_message ("lock calls answered by another call's run: %u", shared);
  }
  for (guint r = 0; r < N_RESULTS; r++)
    {
      g_test_message ("%-9s %u", result_names[r], received[r]);
      g_assert_cmpuint (received[r], ==, expected[r]);
      g_assert_cmpuint (received[r], >, 0);
    }

  /* Every dispatch path was exercised (in a round big enough for the
   * rarest path to be all but certain to come up). */
  for (guint e = 0; e < N_ENTRIES; e++)
    for (guint m = 0; m < N_IMPLS; m++)
      {
        g_test_message ("%-17s %-8s loop %5u  sync %5u", entry_names[e], impl_names[m],
                        loop_paths[e][m], sync_paths[e][m]);
        if (check_paths && loop_entry_weights[e] > 0)
          g_assert_cmpuint (loop_paths[e][m], >, 0);
        if (check_paths && sync_entry_weights[e] > 0)
          g_assert_cmpuint (sync_paths[e][m], >, 0);
      }
}

static void
start_workers (GThread **threads)
{
  for (guint i = 0; i < n_workers; i++)
    {
      g_autofree char *name = g_strdup_printf ("stress-%u", i);

      threads[i] = g_thread_new (name, worker_thread, &workers[i]);
    }
}

static guint
env_uint (const char *name,
          guint       fallback,
          guint       quick_cap)
{
  const char *env = g_getenv (name);
  guint64 value = fallback;

  if (env != NULL)
    {
      value = g_ascii_strtoull (env, NULL, 10);
      g_assert_cmpuint (value, >, 0);
      g_assert_cmpuint (value, <=, 10000000);
    }
  if (g_getenv ("SMARTASYNC_TEST_QUICK") != NULL)
    value = MIN (value, quick_cap);

  return (guint) value;
}

typedef struct
{
  guint   n_workers;
  guint   n_calls;
  guint32 seed;
  gboolean check_paths;  /* expects every dispatch path to have come up */
  double  seconds;
} Round;

/* One round: n_workers threads (half with a loop) x n_calls calls each. */
static void
run_round (Round *round)
{
  GThread **threads;   /* not g_autofree: scan-build's false leak report */
  Sentinel *private_sentinel;
  Sentinel *default_sentinel;
  gint64 start;
  guint main_calls;
  guint n_calls = round->n_calls;

  n_workers = round->n_workers;
  n_finished = 0;
  g_atomic_int_set (&tasks_seen, 0);
  workers = g_new0 (Worker, n_workers);
  threads = g_new0 (GThread *, n_workers);
  for (guint i = 0; i < n_workers; i++)
    worker_init (&workers[i], i, n_calls, round->seed);

  create_operations ();
  completer = g_thread_pool_new (completer_run, NULL, 2, FALSE, NULL);
  main_private = smartasync_get_private_context ();
  private_sentinel = sentinel_attach (main_private);
  default_sentinel = sentinel_attach (g_main_context_default ());

  start = g_get_monotonic_time ();
  g_atomic_int_set (&loops_may_stop, FALSE);
  start_workers (threads);
  main_calls = wait_for_workers ();
  g_thread_pool_free (g_steal_pointer (&completer), FALSE, TRUE);
  /* The loops still dispatch what comes back to them meanwhile. */
  release_operations ();
  g_atomic_int_set (&loops_may_stop, TRUE);
  for (guint i = 0; i < n_workers; i++)
    g_thread_join (threads[i]);
  g_free (threads);
  round->seconds = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("%u threads x %u calls in %.2f s (%.1f us per call, seed %u), "
                  "%u main-thread waits",
                  n_workers, n_calls, round->seconds,
                  round->seconds * 1e6 / ((double) n_workers * n_calls),
                  round->seed, main_calls);

  check_totals (n_calls, round->check_paths);

  sentinel_check_and_free (private_sentinel);
  sentinel_check_and_free (default_sentinel);
  g_assert_true (smartasync_get_private_context () == main_private);
  main_private = NULL;

  g_test_message ("tasks seen %u, still alive %d", g_atomic_int_get (&tasks_seen),
                  g_atomic_int_get (&tasks_alive));
  for (guint i = 0; i < n_workers; i++)
    worker_clear (&workers[i]);
  g_clear_pointer (&workers, g_free);

  smartasync_reset ();
}

static void
test_stress_mixed (void)
{
  Round round = {
    .n_workers = env_uint ("SMARTASYNC_STRESS_THREADS", 8, 4),
    .n_calls = env_uint ("SMARTASYNC_STRESS_CALLS", 10000, 500),
    .seed = g_test_rand_int (),
  };

  round.check_paths = round.n_calls >= MIN_CALLS_FOR_EVERY_PATH;

  run_round (&round);
}

/* Resident set size, after giving free heap pages back to the system so that
 * only live memory (and fragmentation) counts. */
static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

#ifdef __GLIBC__
  malloc_trim (0);
#endif
  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);

  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

/* A warm-up round grows every pool and cache to its working size (thread
 * stacks, malloc arenas, GLib's worker pools); the big round that follows
 * must leave nothing behind: no task, no operation, and no resident memory
 * beyond a tolerance. The check is skipped where the allocator keeps freed
 * memory on purpose (AddressSanitizer's quarantine) and under
 * SMARTASYNC_TEST_QUICK (valgrind, tiny rounds). */
#define RSS_TOLERANCE (8 * 1024 * 1024)

static void
test_stress_memory (void)
{
  Round big = {
    .n_workers = env_uint ("SMARTASYNC_STRESS_THREADS", 8, 4),
    .n_calls = env_uint ("SMARTASYNC_STRESS_CALLS", 10000, 500),
    .seed = g_test_rand_int (),
  };
  Round warm_up = {
    .n_workers = big.n_workers,
    .n_calls = MAX (big.n_calls / 10, 100),
    .seed = big.seed + 7919,
  };
  gsize before, after_warm_up, after;
  gboolean check_rss = g_getenv ("SMARTASYNC_TEST_QUICK") == NULL;

#ifdef UNDER_ASAN
  check_rss = FALSE;
#endif

  big.check_paths = big.n_calls >= MIN_CALLS_FOR_EVERY_PATH;

  before = resident_bytes ();
  run_round (&warm_up);
  after_warm_up = resident_bytes ();
  run_round (&big);
  after = resident_bytes ();

  g_test_message ("RSS: %.1f MiB at start, %.1f MiB after the warm-up (%u x %u calls), "
                  "%.1f MiB after the big round (%u x %u calls, %.1f s): %+.1f MiB",
                  before / 1048576.0, after_warm_up / 1048576.0,
                  warm_up.n_workers, warm_up.n_calls,
                  after / 1048576.0, big.n_workers, big.n_calls, big.seconds,
                  ((double) after - (double) after_warm_up) / 1048576.0);

  g_assert_cmpint (g_atomic_int_get (&tasks_alive), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&ops_alive), ==, 0);
  if (check_rss)
    g_assert_cmpuint (after, <=, after_warm_up + RSS_TOLERANCE);
  else
    g_test_message ("RSS check skipped (sanitizer or SMARTASYNC_TEST_QUICK)");
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  task_mark = g_quark_from_static_string ("stress-task-mark");

  g_test_add_func ("/smartasync/stress/mixed", test_stress_mixed);
  g_test_add_func ("/smartasync/stress/memory", test_stress_memory);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
