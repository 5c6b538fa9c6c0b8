/* test-lock.c: SmartasyncLock, the singleflight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TEST_ERROR (g_quark_from_static_string ("test-lock-error"))

static gint executions;
static gint answered;      /* runs of slow_answer_async that returned */

/* Hang guards: generous, and they say which wait hung. */
#define HANG_GUARD_S 120

static void
hang_guard (gint64      deadline,
            const char *what)
{
  if (g_get_monotonic_time () > deadline)
    g_error ("%s: hang guard: still waiting for %s after %d s",
             g_test_get_path (), what, HANG_GUARD_S);
}
/* Cleared from callers_init() until every caller of a test started
 * (callers_run()); runs answer only while it is set. A run started from
 * main () goes to a worker, and on a slow machine (valgrind) its 20 ms could
 * pass before the last caller asked, which then started a second run. */
static gint callers_released = TRUE;

typedef struct
{
  GTask *task;
  char  *answer;
  gboolean fail;
} Pending;

static gboolean
answer_later (gpointer data)
{
  Pending *pending = data;

  if (!g_atomic_int_get (&callers_released))
    return G_SOURCE_CONTINUE;

  if (pending->fail)
    g_task_return_new_error (pending->task, TEST_ERROR, 7, "run failed");
  else if (!g_task_return_error_if_cancelled (pending->task))
    {
      GValue value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, g_steal_pointer (&pending->answer));
      g_task_return_value (pending->task, &value);
      g_value_unset (&value);
    }

  g_atomic_int_inc (&answered);
  g_object_unref (pending->task);
  g_free (pending->answer);
  g_free (pending);
  return G_SOURCE_REMOVE;
}

/* Answers "answer:<args>" after 20 ms on the thread-default context; args
 * "fail" makes it fail. Counts executions. */
static void
slow_answer_async (GTask        *task,
                   gpointer      source,
                   GVariant     *args,
                   GCancellable *cancellable,
                   gpointer      user_data)
{
  Pending *pending = g_new0 (Pending, 1);
  const char *arg = args ? g_variant_get_string (args, NULL) : "none";
  GSource *timeout = g_timeout_source_new (20);

  g_atomic_int_inc (&executions);
  pending->task = g_object_ref (task);
  pending->answer = g_strdup_printf ("answer:%s", arg);
  pending->fail = g_strcmp0 (arg, "fail") == 0;
  g_source_set_callback (timeout, answer_later, pending, NULL);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
}

typedef struct
{
  SmartasyncLock *lock;
  int             pending;
  int             ok;
  int             errors;
  int             cancelled;
  GPtrArray      *answers;
  GMainLoop      *loop;
} Callers;

static void
caller_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Callers *callers = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (smartasync_lock_run_finish (SMARTASYNC_LOCK (source), result, &value, &error))
    {
      callers->ok++;
      g_ptr_array_add (callers->answers, g_value_dup_string (&value));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    callers->cancelled++;
  else
    {
      g_assert_error (error, TEST_ERROR, 7);
      g_assert_cmpstr (error->message, ==, "run failed");
      callers->errors++;
    }

  if (--callers->pending == 0)
    g_main_loop_quit (callers->loop);
}

static void
callers_init (Callers        *callers,
              SmartasyncLock *lock,
              int             n)
{
  *callers = (Callers) { lock, n, 0, 0, 0, g_ptr_array_new_with_free_func (g_free),
                         g_main_loop_new (g_main_context_get_thread_default (), FALSE) };
  g_atomic_int_set (&callers_released, FALSE);
}

static void
callers_clear (Callers *callers)
{
  g_ptr_array_unref (callers->answers);
  g_main_loop_unref (callers->loop);
  g_atomic_int_set (&callers_released, TRUE);
}

static gboolean
release_callers (gpointer data)
{
  g_atomic_int_set (&callers_released, TRUE);
  return G_SOURCE_REMOVE;
}

/* The runs are released once the loop has dispatched the sources queued
 * before (callers started or cancelled from idles): at a lower priority, so
 * that a run on a worker cannot answer before a cancel however late the
 * loop gets to it. */
static void
callers_run (Callers *callers)
{
  GSource *release = g_idle_source_new ();

  g_source_set_priority (release, G_PRIORITY_LOW);
  g_source_set_callback (release, release_callers, NULL, NULL);
  g_source_attach (release, g_main_loop_get_context (callers->loop));
  if (callers->pending > 0)
    g_main_loop_run (callers->loop);
  g_source_destroy (release);
  g_source_unref (release);
  g_atomic_int_set (&callers_released, TRUE);
}

static void
start_callers (Callers             *callers,
               SmartasyncOperation *op,
               const char          *key,
               const char          *arg,
               int                  n,
               GCancellable        *cancellable)
{
  for (int i = 0; i < n; i++)
    smartasync_lock_run_async (callers->lock, key, op, NULL, g_variant_new_string (arg),
                               cancellable, caller_done, callers);
}

typedef struct
{
  Callers             *callers;
  SmartasyncOperation *op;
  const char          *key;
  const char          *arg;
  int                  n;
  GCancellable        *cancellable;
} DeferredStart;

static gboolean
deferred_start (gpointer data)
{
  DeferredStart *start = data;

  g_assert_true (smartasync_in_async_context ());
  start_callers (start->callers, start->op, start->key, start->arg, start->n, start->cancellable);
  /* Started on this thread: it cannot complete before we return to the loop. */
  g_assert_true (smartasync_lock_is_running (start->callers->lock, start->key));
  return G_SOURCE_REMOVE;
}

/* From main () the run goes to a worker; from a running loop it runs on the
 * loop's thread. */
static void
check_coalesced (int      n,
                 gboolean from_loop)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  Callers callers;
  DeferredStart start = { &callers, op, "k", "x", n, NULL };

  executions = 0;
  callers_init (&callers, lock, n);
  if (from_loop)
    g_idle_add (deferred_start, &start);
  else
    start_callers (&callers, op, "k", "x", n, NULL);
  callers_run (&callers);

  g_assert_cmpint (executions, ==, 1);
  g_assert_cmpint (callers.ok, ==, n);
  g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 1);
  g_assert_cmpuint (smartasync_lock_get_joins (lock), ==, n - 1);
  for (guint i = 0; i < callers.answers->len; i++)
    g_assert_cmpstr (g_ptr_array_index (callers.answers, i), ==, "answer:x");
  /* Each caller got its own copy. */
  if (n > 1)
    g_assert_true (g_ptr_array_index (callers.answers, 0) != g_ptr_array_index (callers.answers, 1));
  g_assert_false (smartasync_lock_is_running (lock, "k"));
  callers_clear (&callers);
}

static void
test_lock_five_callers (void)
{
  check_coalesced (5, FALSE);
  check_coalesced (5, TRUE);
}

static void
test_lock_ten_thousand_callers (void)
{
  check_coalesced (g_getenv ("SMARTASYNC_TEST_QUICK") ? 1000 : 10000, TRUE);
}

static void
test_lock_not_a_cache (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  Callers callers;

  executions = 0;
  for (int round = 0; round < 2; round++)
    {
      callers_init (&callers, lock, 3);
      start_callers (&callers, op, NULL, round == 0 ? "first" : "second", 3, NULL);
      callers_run (&callers);
      g_assert_cmpstr (g_ptr_array_index (callers.answers, 0), ==, round == 0 ? "answer:first" : "answer:second");
      callers_clear (&callers);
    }
  g_assert_cmpint (executions, ==, 2);
}

static void
test_lock_shared_error (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  Callers callers;

  executions = 0;
  callers_init (&callers, lock, 4);
  start_callers (&callers, op, "k", "fail", 4, NULL);
  callers_run (&callers);
  g_assert_cmpint (executions, ==, 1);
  g_assert_cmpint (callers.errors, ==, 4);
  callers_clear (&callers);
}

static void
test_lock_keyed_parallel (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  Callers callers;
  guint a = 0, b = 0;

  executions = 0;
  callers_init (&callers, lock, 6);
  start_callers (&callers, op, "a", "a", 3, NULL);
  start_callers (&callers, op, "b", "b", 3, NULL);
  callers_run (&callers);

  g_assert_cmpint (executions, ==, 2);
  for (guint i = 0; i < callers.answers->len; i++)
    {
      const char *answer = g_ptr_array_index (callers.answers, i);

      a += g_str_equal (answer, "answer:a");
      b += g_str_equal (answer, "answer:b");
    }
  g_assert_cmpuint (a, ==, 3);
  g_assert_cmpuint (b, ==, 3);
  callers_clear (&callers);
}

/* An async implementation that completes only when the test releases it:
 * runs are held open by a gate, not by time. */
static GMutex held_mutex;
static GCond held_cond;
static GPtrArray *held_tasks;

static void
held_answer_async (GTask        *task,
                   gpointer      source,
                   GVariant     *args,
                   GCancellable *cancellable,
                   gpointer      user_data)
{
  g_atomic_int_inc (&executions);
  g_task_set_task_data (task, g_strdup_printf ("answer:%s", g_variant_get_string (args, NULL)), g_free);
  g_mutex_lock (&held_mutex);
  g_ptr_array_add (held_tasks, g_object_ref (task));
  g_cond_broadcast (&held_cond);
  g_mutex_unlock (&held_mutex);
}

static GTask *
wait_for_held_task (void)
{
  GTask *task;

  g_mutex_lock (&held_mutex);
  while (held_tasks->len == 0)
    g_cond_wait (&held_cond, &held_mutex);
  task = g_ptr_array_steal_index (held_tasks, 0);
  g_mutex_unlock (&held_mutex);
  return task;
}

static void
release_held_task (GTask *task)
{
  GValue value = G_VALUE_INIT;

  if (!g_task_return_error_if_cancelled (task))
    {
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, g_task_get_task_data (task));
      g_task_return_value (task, &value);
      g_value_unset (&value);
    }
  g_object_unref (task);
}

static void
iterate_until_cancelled (Callers *callers,
                         int      n)
{
  while (callers->cancelled < n)
    g_main_context_iteration (NULL, TRUE);
}

/* Issue 14, defect 6: reset frees the key and answers the joiners with
 * G_IO_ERROR_CANCELLED; the caller that started the run keeps it and gets
 * its result, as in the Python original (before: it was cancelled too).
 * Deterministic: the runs complete only when the test releases them (the
 * test assumed before that two callers started afresh overlapped in time,
 * which a busy machine broke). */
static void
test_lock_reset (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("held", held_answer_async, NULL, NULL);
  g_autoptr(GCancellable) leader_cancellable = g_cancellable_new ();
  g_autoptr(GTask) first = NULL;
  g_autoptr(GTask) second = NULL;
  g_autoptr(GTask) third = NULL;
  Callers callers;

  held_tasks = g_ptr_array_new ();

  /* Idle lock: harmless. */
  smartasync_lock_reset (lock);

  executions = 0;
  callers_init (&callers, lock, 3);
  start_callers (&callers, op, "k", "x", 3, NULL);
  first = wait_for_held_task ();
  smartasync_lock_reset (lock);
  g_assert_false (smartasync_lock_is_running (lock, "k"));
  iterate_until_cancelled (&callers, 2);
  g_assert_cmpint (callers.ok, ==, 0);
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (first)));

  /* The key is free: two callers start afresh and share a new run, while
   * the first one is still held. */
  {
    Callers afresh;

    callers_init (&afresh, lock, 2);
    start_callers (&afresh, op, "k", "y", 2, NULL);
    second = wait_for_held_task ();
    g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 2);
    g_assert_cmpuint (smartasync_lock_get_joins (lock), ==, 3);
    release_held_task (g_steal_pointer (&second));
    callers_run (&afresh);
    g_assert_cmpint (afresh.ok, ==, 2);
    for (guint i = 0; i < 2; i++)
      g_assert_cmpstr (g_ptr_array_index (afresh.answers, i), ==, "answer:y");
    callers_clear (&afresh);
  }

  /* The reset run completes for its first caller only. */
  release_held_task (g_steal_pointer (&first));
  callers_run (&callers);
  g_assert_cmpint (callers.ok, ==, 1);
  g_assert_cmpint (callers.cancelled, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (callers.answers, 0), ==, "answer:x");
  callers_clear (&callers);

  /* A run whose first caller has left is cancelled by the reset. */
  callers_init (&callers, lock, 2);
  start_callers (&callers, op, "k", "z", 1, leader_cancellable);
  start_callers (&callers, op, "k", "z", 1, NULL);
  third = wait_for_held_task ();
  g_cancellable_cancel (leader_cancellable);
  g_assert_false (g_cancellable_is_cancelled (g_task_get_cancellable (third)));
  smartasync_lock_reset (lock);
  callers_run (&callers);
  g_assert_cmpint (callers.cancelled, ==, 2);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (third)));
  release_held_task (g_steal_pointer (&third));
  callers_clear (&callers);

  g_assert_cmpint (executions, ==, 3);
  g_clear_pointer (&held_tasks, g_ptr_array_unref);
}

static void
clear_flag (gint    *flag,
            GObject *where_it_was)
{
  g_atomic_int_set (flag, FALSE);
}

static gboolean
cancel_idle (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

/* Callers that leave through their cancellable do not keep the lock, their
 * task or their cancellable alive (valgrind sees no leak there: the signal
 * handler table keeps them reachable). */
static void
test_lock_cancelled_waiters_freed (void)
{
  SmartasyncLock *lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  GCancellable *cancellable = g_cancellable_new ();
  gint lock_alive = TRUE, cancellable_alive = TRUE;
  gint64 deadline;
  Callers callers;

  g_object_weak_ref (G_OBJECT (lock), (GWeakNotify) clear_flag, &lock_alive);
  g_object_weak_ref (G_OBJECT (cancellable), (GWeakNotify) clear_flag, &cancellable_alive);
  callers_init (&callers, lock, 2);
  start_callers (&callers, op, "k", "x", 2, cancellable);
  g_idle_add (cancel_idle, cancellable);
  callers_run (&callers);
  g_assert_cmpint (callers.cancelled, ==, 2);
  callers_clear (&callers);

  g_object_unref (cancellable);
  g_object_unref (lock);
  /* The run finishes (it was cancelled when both left), then all is freed. */
  deadline = g_get_monotonic_time () + HANG_GUARD_S * G_USEC_PER_SEC;
  while (g_atomic_int_get (&lock_alive) || g_atomic_int_get (&cancellable_alive))
    {
      hang_guard (deadline, "the lock and the cancellable to be freed");
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}

static void
test_lock_waiter_and_leader_cancel (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  g_autoptr(GCancellable) leader = g_cancellable_new ();
  g_autoptr(GCancellable) waiter = g_cancellable_new ();
  Callers callers;

  executions = 0;
  callers_init (&callers, lock, 4);
  start_callers (&callers, op, "k", "x", 1, leader);
  start_callers (&callers, op, "k", "x", 1, waiter);
  start_callers (&callers, op, "k", "x", 2, NULL);
  g_idle_add (cancel_idle, leader);
  g_idle_add (cancel_idle, waiter);
  callers_run (&callers);

  /* The leader and one waiter left at once; the run went on for the others. */
  g_assert_cmpint (callers.cancelled, ==, 2);
  g_assert_cmpint (callers.ok, ==, 2);
  g_assert_cmpint (executions, ==, 1);
  callers_clear (&callers);
}

/* When every caller leaves, the run itself is cancelled. */
static void
record_cancelled_run (GTask        *task,
                      gpointer      source,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  slow_answer_async (task, source, args, cancellable, user_data);
  *(GCancellable **) user_data = g_object_ref (cancellable);
}

static void
test_lock_all_leave_cancels_run (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  GCancellable *run_cancellable = NULL;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("answer", record_cancelled_run, &run_cancellable, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gint answered_before = g_atomic_int_get (&answered);
  gint64 deadline;
  Callers callers;

  DeferredStart start = { &callers, op, "k", "x", 3, cancellable };

  /* Started from a running loop: the run happens on this thread. */
  callers_init (&callers, lock, 3);
  g_idle_add (deferred_start, &start);
  g_idle_add (cancel_idle, cancellable);
  callers_run (&callers);
  g_assert_nonnull (run_cancellable);
  g_assert_cmpint (callers.cancelled, ==, 3);
  g_assert_true (g_cancellable_is_cancelled (run_cancellable));
  g_assert_false (smartasync_lock_is_running (lock, "k"));
  g_object_unref (run_cancellable);
  callers_clear (&callers);

  /* The cancelled run (on this thread) finishes before the operation goes
   * away. */
  deadline = g_get_monotonic_time () + HANG_GUARD_S * G_USEC_PER_SEC;
  while (g_atomic_int_get (&answered) == answered_before)
    {
      hang_guard (deadline, "the cancelled run to finish");
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Callers on four threads, each running its own loop, share one run. */
typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  int                  ok;
} ThreadCallers;

static gpointer
caller_thread (gpointer data)
{
  ThreadCallers *shared = data;
  GMainContext *context = g_main_context_new ();
  Callers callers;
  int ok;

  g_main_context_push_thread_default (context);
  callers_init (&callers, shared->lock, 25);
  start_callers (&callers, shared->op, "shared", "x", 25, NULL);
  callers_run (&callers);
  ok = callers.ok;
  callers_clear (&callers);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  smartasync_reset ();
  return GINT_TO_POINTER (ok);
}

static void
test_lock_threads_with_loops (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  ThreadCallers shared = { lock, op, 0 };
  GThread *threads[4];
  int total = 0;

  executions = 0;
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("caller", caller_thread, &shared);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    total += GPOINTER_TO_INT (g_thread_join (threads[i]));

  g_assert_cmpint (total, ==, 100);
  /* Threads may start a little apart: a late one may start a second run,
   * never more than one per thread. */
  g_assert_cmpint (executions, >=, 1);
  g_assert_cmpint (executions, <=, 4);
  g_assert_cmpuint (smartasync_lock_get_executions (lock) + smartasync_lock_get_joins (lock), ==, 100);
}

/* Sync callers (no loop) join a run started by an async caller, and async
 * callers join a run started by a sync one. */
typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  char                *answer;
} SyncCaller;

static gpointer
sync_caller_thread (gpointer data)
{
  SyncCaller *caller = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_in_async_context ());
  g_assert_true (smartasync_lock_run_sync (caller->lock, "k", caller->op, NULL,
                                           g_variant_new_string ("sync"), NULL, &value, &error));
  g_assert_no_error (error);
  caller->answer = g_value_dup_string (&value);
  smartasync_reset ();
  return NULL;
}

/* Answers only once the lock has seen @data joins: the joiners cannot
 * arrive too late, however slow the machine (valgrind). */
typedef struct
{
  GTask          *task;
  SmartasyncLock *lock;
  guint           joins;
  char           *answer;
} Gated;

static gboolean
answer_when_joined (gpointer data)
{
  Gated *gated = data;
  GValue value = G_VALUE_INIT;

  if (smartasync_lock_get_joins (gated->lock) < gated->joins)
    return G_SOURCE_CONTINUE;

  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_steal_pointer (&gated->answer));
  g_task_return_value (gated->task, &value);
  g_value_unset (&value);
  g_object_unref (gated->task);
  g_free (gated);
  return G_SOURCE_REMOVE;
}

static SmartasyncLock *gated_lock;
static guint gated_joins;

static void
gated_answer_async (GTask        *task,
                    gpointer      source,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  Gated *gated = g_new0 (Gated, 1);
  GSource *poll = g_timeout_source_new (2);

  g_atomic_int_inc (&executions);
  gated->task = g_object_ref (task);
  gated->lock = gated_lock;
  gated->joins = gated_joins;
  gated->answer = g_strdup_printf ("answer:%s", g_variant_get_string (args, NULL));
  g_source_set_callback (poll, answer_when_joined, gated, NULL);
  g_source_attach (poll, g_main_context_get_thread_default ());
  g_source_unref (poll);
}

static void
test_lock_sync_joins_async (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", gated_answer_async, NULL, NULL);
  SyncCaller caller = { lock, op, NULL };
  Callers callers;
  GThread *thread;

  executions = 0;
  gated_lock = lock;
  gated_joins = 2;   /* the second async caller and the sync one */
  callers_init (&callers, lock, 2);
  start_callers (&callers, op, "k", "async", 2, NULL);
  thread = g_thread_new ("sync-caller", sync_caller_thread, &caller);
  callers_run (&callers);
  g_thread_join (thread);

  g_assert_cmpint (executions, ==, 1);
  g_assert_cmpstr (caller.answer, ==, "answer:async");
  g_free (caller.answer);
  callers_clear (&callers);
}

static void
test_lock_async_joins_sync (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", gated_answer_async, NULL, NULL);
  SyncCaller caller = { lock, op, NULL };
  Callers callers;
  GThread *thread;

  executions = 0;
  gated_lock = lock;
  gated_joins = 3;   /* the three async callers */
  thread = g_thread_new ("sync-caller", sync_caller_thread, &caller);
  while (!smartasync_lock_is_running (lock, "k"))
    g_usleep (1000);
  callers_init (&callers, lock, 3);
  start_callers (&callers, op, "k", "async", 3, NULL);
  callers_run (&callers);
  g_thread_join (thread);

  g_assert_cmpint (executions, ==, 1);
  g_assert_cmpstr (caller.answer, ==, "answer:sync");
  for (guint i = 0; i < callers.answers->len; i++)
    g_assert_cmpstr (g_ptr_array_index (callers.answers, i), ==, "answer:sync");
  g_free (caller.answer);
  callers_clear (&callers);
}

static void
test_lock_sync_caller_main (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("answer", slow_answer_async, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_lock_run_sync (lock, NULL, op, NULL, g_variant_new_string ("fail"), NULL, &value, &error));
  g_assert_error (error, TEST_ERROR, 7);
  g_clear_error (&error);
  /* An out value is always initialized on return, even on failure. */
  g_assert_true (G_IS_VALUE (&value));
  g_value_unset (&value);
  g_assert_true (smartasync_lock_run_sync (lock, NULL, op, NULL, g_variant_new_string ("ok"), NULL, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, "answer:ok");
}

static SmartasyncLock *exiting_lock;

/* Waits until a second caller joined the run, then ends its thread. */
static void
exit_thread_blocking (GTask        *task,
                      gpointer      source,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  g_atomic_int_inc (&executions);
  while (smartasync_lock_get_joins (exiting_lock) < 1)
    g_usleep (1000);
  g_thread_exit (NULL);
}

typedef struct
{
  SmartasyncOperation *op;
  GError              *error;
  gboolean             returned;
} ExitCaller;

static gpointer
exit_caller_thread (gpointer data)
{
  ExitCaller *caller = data;

  caller->returned = !smartasync_lock_run_sync (exiting_lock, "k", caller->op, NULL, NULL, NULL,
                                               NULL, &caller->error);
  return NULL;
}

/* Issue 14, defect 4: a run whose worker thread exits inside the
 * implementation answers every sync caller of its key with an error, and
 * the key is free again. (Before: they waited forever; this test hangs.)
 * g_thread_exit() skips the C cleanup of the frames it leaves, so what they
 * held (the run's own GTask) is lost with them: that leak is the
 * implementation's, and the test runs in a subprocess, out of valgrind's
 * count. */
static void
test_lock_worker_thread_exits (void)
{
  g_test_trap_subprocess ("/smartasync/lock/worker-thread-exits/subprocess", 0,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
worker_thread_exits (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("exits", exit_thread_blocking, NULL, NULL);
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  ExitCaller callers[2] = { { op, NULL, FALSE }, { op, NULL, FALSE } };
  GThread *threads[2];

  executions = 0;
  exiting_lock = lock;
  smartasync_operation_set_executor (op, executor);
  threads[0] = g_thread_new ("exit-caller-0", exit_caller_thread, &callers[0]);
  while (!smartasync_lock_is_running (lock, "k"))
    g_usleep (1000);
  threads[1] = g_thread_new ("exit-caller-1", exit_caller_thread, &callers[1]);

  for (guint i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (callers[i].returned);
      g_assert_error (callers[i].error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
      g_assert_nonnull (strstr (callers[i].error->message, "“exits”"));
      g_clear_error (&callers[i].error);
    }
  g_assert_cmpint (executions, ==, 1);
  g_assert_false (smartasync_lock_is_running (lock, "k"));
  exiting_lock = NULL;
}

/* Ends without the exit handlers: LeakSanitizer's would report the frames
 * the exited worker lost (the implementation's leak, see above) and fail
 * the subprocess in the ASan build. */
static void
test_lock_worker_thread_exits_subprocess (void)
{
  worker_thread_exits ();
  fflush (stdout);
  _exit (0);
}

/* Issue 14, defect 5: a declared result of any kind through the lock: run
 * from main () on a worker (a sync call), and from a running loop on the
 * loop's thread (call_async); every caller gets its own copy (boxed,
 * string) or reference (object). (Before: SMARTASYNC_ERROR_FAILED after
 * GIO's critical for anything but g_task_return_value().) */
typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  GValue               values[3];
  GError              *errors[3];
  guint                answered;
} DeclaredCallers;

static void
declared_caller_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      data)
{
  DeclaredCallers *callers = data;
  guint i = callers->answered++;

  if (!smartasync_lock_run_finish (callers->lock, result, &callers->values[i], &callers->errors[i]))
    g_value_unset (&callers->values[i]);
}

static gboolean
start_declared_callers (gpointer data)
{
  DeclaredCallers *callers = data;

  for (guint i = 0; i < G_N_ELEMENTS (callers->values); i++)
    smartasync_lock_run_async (callers->lock, "k", callers->op, NULL, NULL, NULL,
                               declared_caller_done, callers);
  return G_SOURCE_REMOVE;
}

/* Three callers of one run, from a running loop; iterates until answered. */
static void
run_declared_callers (DeclaredCallers *callers)
{
  gint64 deadline = g_get_monotonic_time () + HANG_GUARD_S * G_USEC_PER_SEC;

  test_run_in_loop (start_declared_callers, callers);
  while (callers->answered < G_N_ELEMENTS (callers->values))
    {
      g_main_context_iteration (NULL, TRUE);
      hang_guard (deadline, "the callers of a declared run");
    }
}

static void
declared_callers_clear (DeclaredCallers *callers)
{
  for (guint i = 0; i < G_N_ELEMENTS (callers->values); i++)
    {
      if (G_IS_VALUE (&callers->values[i]))
        g_value_unset (&callers->values[i]);
      g_clear_error (&callers->errors[i]);
    }
}

static void
check_lock_declared (SmartasyncOperation *op)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  GType type = smartasync_operation_get_result_type (op);
  DeclaredCallers callers = { lock, op, { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT } };
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = smartasync_lock_run_sync (lock, "k", op, NULL, NULL, NULL, &value, &error);
  test_assert_declared_outcome (op, ok, &value, error);
  run_declared_callers (&callers);
  g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 2);
  g_assert_cmpuint (smartasync_lock_get_joins (lock), ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (callers.values); i++)
    test_assert_declared_outcome (op, callers.errors[i] == NULL, &callers.values[i], callers.errors[i]);
  /* Copies, not one pointer shared among callers. */
  if (ok && (type == G_TYPE_STRING || type == G_TYPE_STRV))
    g_assert_true (g_value_peek_pointer (&callers.values[0]) !=
                   g_value_peek_pointer (&callers.values[1]));
  declared_callers_clear (&callers);
}

static void
test_lock_declared_results (void)
{
  test_for_each_declared (check_lock_declared);
}

/* A result that does not match its declaration, or an undeclared one that
 * is not a GValue: every caller gets an error naming the operation (and,
 * undeclared, the fix), the key is freed. */
static void
test_lock_result_mismatch (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) file_op =
    smartasync_operation_new_async ("file", test_return_action, NULL, NULL);
  g_autoptr(SmartasyncOperation) undeclared =
    smartasync_operation_new_blocking ("undeclared-int", test_double_blocking, NULL, NULL);
  DeclaredCallers callers = { lock, file_op, { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT } };
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  smartasync_operation_set_result_type (file_op, G_TYPE_FILE);
  run_declared_callers (&callers);
  for (guint i = 0; i < G_N_ELEMENTS (callers.values); i++)
    {
      g_assert_error (callers.errors[i], SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
      g_assert_nonnull (strstr (callers.errors[i]->message, "“file” returned a GSimpleAction, not the GFile"));
    }
  declared_callers_clear (&callers);
  g_assert_false (smartasync_lock_is_running (lock, "k"));

  /* Undeclared: GTask reports a programmer error; the callers an error. */
  g_test_expect_message ("GLib-GIO", G_LOG_LEVEL_CRITICAL, "*result_destroy*");
  g_assert_false (smartasync_lock_run_sync (lock, "k", undeclared, NULL, g_variant_new_int32 (21),
                                            NULL, &value, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "“undeclared-int”"));
  g_assert_nonnull (strstr (error->message, "smartasync_operation_set_result_type()"));
  g_assert_false (smartasync_lock_is_running (lock, "k"));
}

static void
test_lock_bad_input (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_OPERATION*");
  smartasync_lock_run_async (lock, "k", NULL, NULL, NULL, NULL, NULL, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_LOCK*");
  smartasync_lock_reset (NULL);
  g_test_assert_expected_messages ();

  g_assert_false (smartasync_lock_is_running (lock, "k"));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/lock/coalesce/five", test_lock_five_callers);
  g_test_add_func ("/smartasync/lock/coalesce/ten-thousand", test_lock_ten_thousand_callers);
  g_test_add_func ("/smartasync/lock/not-a-cache", test_lock_not_a_cache);
  g_test_add_func ("/smartasync/lock/shared-error", test_lock_shared_error);
  g_test_add_func ("/smartasync/lock/keyed-parallel", test_lock_keyed_parallel);
  g_test_add_func ("/smartasync/lock/reset", test_lock_reset);
  g_test_add_func ("/smartasync/lock/cancel/leader-and-waiter", test_lock_waiter_and_leader_cancel);
  g_test_add_func ("/smartasync/lock/cancel/all-leave", test_lock_all_leave_cancels_run);
  g_test_add_func ("/smartasync/lock/cancel/waiters-freed", test_lock_cancelled_waiters_freed);
  g_test_add_func ("/smartasync/lock/threads-with-loops", test_lock_threads_with_loops);
  g_test_add_func ("/smartasync/lock/sync-joins-async", test_lock_sync_joins_async);
  g_test_add_func ("/smartasync/lock/async-joins-sync", test_lock_async_joins_sync);
  g_test_add_func ("/smartasync/lock/sync-caller", test_lock_sync_caller_main);
  g_test_add_func ("/smartasync/lock/bad-input", test_lock_bad_input);
  g_test_add_func ("/smartasync/lock/results/declared", test_lock_declared_results);
  g_test_add_func ("/smartasync/lock/results/mismatch", test_lock_result_mismatch);
  g_test_add_func ("/smartasync/lock/worker-thread-exits", test_lock_worker_thread_exits);
  g_test_add_func ("/smartasync/lock/worker-thread-exits/subprocess", test_lock_worker_thread_exits_subprocess);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
