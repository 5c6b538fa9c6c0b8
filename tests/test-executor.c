/* test-executor.c: SmartasyncExecutor, the pool that runs offloaded blocking work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* A gate that blocked work waits at, and that counts who arrived. */
typedef struct
{
  GMutex mutex;
  GCond  cond;
  guint  arrived;
  guint  running;
  guint  max_running;
  gboolean open;
} Gate;

static Gate gate;

static void
gate_reset (void)
{
  g_mutex_lock (&gate.mutex);
  gate.arrived = gate.running = gate.max_running = 0;
  gate.open = FALSE;
  g_mutex_unlock (&gate.mutex);
}

static void
gate_wait_for_arrivals (guint n)
{
  g_mutex_lock (&gate.mutex);
  while (gate.arrived < n)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);
}

static void
gate_open (void)
{
  g_mutex_lock (&gate.mutex);
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);
}

static void
gated_func (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  g_mutex_lock (&gate.mutex);
  gate.arrived++;
  gate.running++;
  gate.max_running = MAX (gate.max_running, gate.running);
  g_cond_broadcast (&gate.cond);
  while (!gate.open)
    g_cond_wait (&gate.cond, &gate.mutex);
  gate.running--;
  g_mutex_unlock (&gate.mutex);

  g_task_return_pointer (task, g_thread_self (), NULL);
}

static gint ran;

static void
counted_func (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  g_atomic_int_inc (&ran);
  g_task_return_pointer (task, g_thread_self (), NULL);
}

typedef struct
{
  guint         calls;
  GThread      *thread;
  GMainContext *context;
  gpointer      worker;
  GError       *error;
} Answer;

static void
record_answer (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Answer *answer = data;

  answer->calls++;
  answer->thread = g_thread_self ();
  answer->context = g_main_context_ref_thread_default ();
  answer->worker = g_task_propagate_pointer (G_TASK (result), &answer->error);
}

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->context, g_main_context_unref);
  g_clear_error (&answer->error);
}

static void
wait_for_answer (GMainContext *context,
                 Answer       *answer)
{
  while (answer->calls == 0)
    g_main_context_iteration (context, TRUE);
}

static void
run_task (SmartasyncExecutor *executor,
          GCancellable       *cancellable,
          GTaskThreadFunc     func,
          Answer             *answer)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, record_answer, answer);

  smartasync_executor_run_in_thread (executor, task, func);
}

/* Work runs on a worker; its callback on the context the task was created on. */
static void
test_executor_runs_on_worker (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  g_autoptr(GMainContext) context = g_main_context_new ();
  Answer answer = { 0 };

  g_main_context_push_thread_default (context);
  run_task (executor, NULL, counted_func, &answer);
  wait_for_answer (context, &answer);
  g_main_context_pop_thread_default (context);

  g_assert_no_error (answer.error);
  g_assert_cmpuint (answer.calls, ==, 1);
  g_assert_true (answer.thread == g_thread_self ());
  g_assert_true (answer.context == context);
  g_assert_nonnull (answer.worker);
  g_assert_true (answer.worker != g_thread_self ());
  answer_clear (&answer);
}

/* Issue 14, defect 1: with every worker busy, queued work that is cancelled
 * is answered at once with G_IO_ERROR_CANCELLED on its context, while the
 * busy work still waits at its gate, and never runs. (Before: it was
 * answered only when a worker freed up: this test then hangs, its gate
 * closed.) */
static void
test_executor_cancel_queued (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  Answer busy[2] = { { 0 } }, queued = { 0 }, after = { 0 };

  gate_reset ();
  g_atomic_int_set (&ran, 0);
  g_main_context_push_thread_default (context);
  run_task (executor, NULL, gated_func, &busy[0]);
  run_task (executor, NULL, gated_func, &busy[1]);
  gate_wait_for_arrivals (2);

  run_task (executor, cancellable, counted_func, &queued);
  g_cancellable_cancel (cancellable);
  wait_for_answer (context, &queued);

  g_assert_error (queued.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (queued.thread == g_thread_self ());
  g_assert_true (queued.context == context);
  g_assert_cmpuint (busy[0].calls + busy[1].calls, ==, 0);

  /* Queued behind the cancelled one: once it has run, the cancelled work was
   * taken off the queue, and skipped. */
  run_task (executor, NULL, counted_func, &after);
  gate_open ();
  wait_for_answer (context, &busy[0]);
  wait_for_answer (context, &busy[1]);
  wait_for_answer (context, &after);
  g_main_context_pop_thread_default (context);

  g_assert_cmpint (g_atomic_int_get (&ran), ==, 1);
  g_assert_cmpuint (queued.calls, ==, 1);
  for (guint i = 0; i < 2; i++)
    answer_clear (&busy[i]);
  answer_clear (&queued);
  answer_clear (&after);
}

/* Already cancelled when queued: answered, never run. */
static void
test_executor_cancel_before_queued (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  Answer cancelled = { 0 }, after = { 0 };

  g_atomic_int_set (&ran, 0);
  g_main_context_push_thread_default (context);
  g_cancellable_cancel (cancellable);
  run_task (executor, cancellable, counted_func, &cancelled);
  run_task (executor, NULL, counted_func, &after);
  wait_for_answer (context, &cancelled);
  wait_for_answer (context, &after);
  g_main_context_pop_thread_default (context);

  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (cancelled.calls, ==, 1);
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 1);
  answer_clear (&cancelled);
  answer_clear (&after);
}

/* Never more than max-threads pieces of work at once. */
static void
test_executor_bounded (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  g_autoptr(GMainContext) context = g_main_context_new ();
  Answer answers[5] = { { 0 } };

  gate_reset ();
  g_main_context_push_thread_default (context);
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    run_task (executor, NULL, gated_func, &answers[i]);
  gate_wait_for_arrivals (2);
  gate_open ();
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    wait_for_answer (context, &answers[i]);
  g_main_context_pop_thread_default (context);

  g_assert_cmpuint (gate.arrived, ==, G_N_ELEMENTS (answers));
  g_assert_cmpuint (gate.max_running, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_assert_no_error (answers[i].error);
      answer_clear (&answers[i]);
    }
}

/* Dropping the executor lets queued work finish. */
static void
test_executor_finalize_with_queued_work (void)
{
  SmartasyncExecutor *executor = smartasync_executor_new (1);
  g_autoptr(GMainContext) context = g_main_context_new ();
  Answer first = { 0 }, second = { 0 };

  gate_reset ();
  g_main_context_push_thread_default (context);
  run_task (executor, NULL, gated_func, &first);
  run_task (executor, NULL, gated_func, &second);
  gate_wait_for_arrivals (1);
  g_object_unref (executor);
  gate_open ();
  wait_for_answer (context, &first);
  wait_for_answer (context, &second);
  g_main_context_pop_thread_default (context);

  g_assert_no_error (first.error);
  g_assert_no_error (second.error);
  answer_clear (&first);
  answer_clear (&second);
}

static void
test_executor_bad_input (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*max_threads*");
  g_assert_null (smartasync_executor_new (0));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*task_func*");
  smartasync_executor_run_in_thread (executor, task, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_EXECUTOR*");
  smartasync_executor_run_in_thread (NULL, task, counted_func);
  g_test_assert_expected_messages ();
}

/* Two calling loops, each keeping calls in flight on one executor: the
 * pool notes which threads queue work and its spinner steps aside for the
 * second loop; whatever it decides, every call is answered once, on the
 * thread of the loop that made it, and none is lost in a hand-off between
 * the spinner and a sleeping worker. */
#define LOOP_CALLS 2000
#define LOOP_IN_FLIGHT 8

typedef struct
{
  SmartasyncExecutor *executor;
  GMainContext       *context;
  GThread            *thread;
  guint               issued;
  guint               answered;
  guint               wrong;     /* answers on another thread, or failed */
  gint                done;      /* atomic */
} CallingLoop;

static void calling_loop_issue (CallingLoop *loop);

static void
calling_loop_answer (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  CallingLoop *loop = data;
  g_autoptr(GError) error = NULL;
  gpointer worker = g_task_propagate_pointer (G_TASK (result), &error);

  if (worker == NULL || worker == loop->thread || g_thread_self () != loop->thread)
    loop->wrong++;
  if (++loop->answered == LOOP_CALLS)
    g_atomic_int_set (&loop->done, TRUE);
  else if (loop->issued < LOOP_CALLS)
    calling_loop_issue (loop);
}

static void
calling_loop_issue (CallingLoop *loop)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, calling_loop_answer, loop);

  loop->issued++;
  smartasync_executor_run_in_thread (loop->executor, task, counted_func);
}

static gpointer
calling_loop_main (gpointer data)
{
  CallingLoop *loop = data;

  loop->thread = g_thread_self ();
  g_main_context_push_thread_default (loop->context);
  for (guint i = 0; i < LOOP_IN_FLIGHT; i++)
    calling_loop_issue (loop);
  while (!g_atomic_int_get (&loop->done))
    g_main_context_iteration (loop->context, TRUE);
  g_main_context_pop_thread_default (loop->context);
  return NULL;
}

static void
test_executor_two_calling_loops (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  CallingLoop loops[2];
  GThread *threads[2];

  g_atomic_int_set (&ran, 0);
  for (guint i = 0; i < G_N_ELEMENTS (loops); i++)
    {
      loops[i] = (CallingLoop) { executor, g_main_context_new (), NULL, 0, 0, 0, FALSE };
      threads[i] = g_thread_new ("calling-loop", calling_loop_main, &loops[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (loops); i++)
    {
      test_wait_for_flag (&loops[i].done, "every call of a calling loop answered");
      g_thread_join (threads[i]);
      g_assert_cmpuint (loops[i].answered, ==, LOOP_CALLS);
      g_assert_cmpuint (loops[i].wrong, ==, 0);
      g_main_context_unref (loops[i].context);
    }
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 2 * LOOP_CALLS);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/executor/runs-on-worker", test_executor_runs_on_worker);
  g_test_add_func ("/smartasync/executor/cancel/queued", test_executor_cancel_queued);
  g_test_add_func ("/smartasync/executor/cancel/before-queued", test_executor_cancel_before_queued);
  g_test_add_func ("/smartasync/executor/bounded", test_executor_bounded);
  g_test_add_func ("/smartasync/executor/finalize-with-queued-work", test_executor_finalize_with_queued_work);
  g_test_add_func ("/smartasync/executor/bad-input", test_executor_bad_input);
  g_test_add_func ("/smartasync/executor/two-calling-loops", test_executor_two_calling_loops);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
