/* test-context.c: context detection, mode overrides and the private context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* main () before any loop runs */
static void
test_detect_main_before_loop (void)
{
  g_assert_false (smartasync_in_async_context ());
}

static gboolean
record_in_async (gpointer data)
{
  *(gboolean *) data = smartasync_in_async_context ();
  return G_SOURCE_REMOVE;
}

static void
test_detect_idle_in_loop (void)
{
  gboolean in_async = FALSE;

  test_run_in_loop (record_in_async, &in_async);
  g_assert_true (in_async);
}

typedef struct
{
  GMainLoop *loop;
  gboolean   in_async;
  gboolean   called;
} TaskCallbackCheck;

static void
task_callback_records (GObject      *source,
                       GAsyncResult *result,
                       gpointer      data)
{
  TaskCallbackCheck *check = data;

  check->in_async = smartasync_in_async_context ();
  check->called = TRUE;
  g_main_loop_quit (check->loop);
}

static void
complete_in_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void
test_detect_task_callback (void)
{
  TaskCallbackCheck check = { g_main_loop_new (NULL, FALSE), FALSE, FALSE };
  g_autoptr(GTask) task = g_task_new (NULL, NULL, task_callback_records, &check);

  g_task_run_in_thread (task, complete_in_thread);
  g_main_loop_run (check.loop);

  g_assert_true (check.called);
  g_assert_true (check.in_async);
  g_main_loop_unref (check.loop);
}

static void
record_in_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  g_task_return_boolean (task, smartasync_in_async_context ());
}

/* A worker of g_task_run_in_thread (), started from inside a running loop:
 * the worker itself is a sync context. */
static gboolean
start_worker_check (gpointer data)
{
  gboolean *worker_async = data;
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_run_in_thread_sync (task, record_in_thread);
  *worker_async = g_task_propagate_boolean (task, NULL);
  return G_SOURCE_REMOVE;
}

static void
test_detect_task_worker (void)
{
  gboolean worker_async = TRUE;

  test_run_in_loop (start_worker_check, &worker_async);
  g_assert_false (worker_async);
}

/* A thread that pushed its own context: sync before its loop runs, async
 * inside it. */
static gpointer
own_context_thread (gpointer data)
{
  gboolean *results = data;
  GMainContext *context = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (context, FALSE);
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (context);
  results[0] = smartasync_in_async_context ();

  g_source_set_callback (idle, record_in_async, &results[1], NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, (GSourceFunc) g_main_loop_quit, loop, NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  g_main_loop_run (loop);

  g_main_context_pop_thread_default (context);
  g_main_loop_unref (loop);
  g_main_context_unref (context);
  return NULL;
}

static void
test_detect_thread_own_context (void)
{
  gboolean results[2] = { TRUE, FALSE };
  GThread *thread = g_thread_new ("own-context", own_context_thread, results);

  g_thread_join (thread);
  g_assert_false (results[0]);
  g_assert_true (results[1]);
}

/* Code dispatched by the bridge's own wait is async: a nested smart call gets
 * a pending task bound to the private context. */
typedef struct
{
  gboolean  in_async;
  gboolean  nested_was_pending;
  gboolean  nested_on_private;
  char     *nested_result;
} NestedCheck;

static void
nested_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  NestedCheck *check = data;

  check->nested_result = g_task_propagate_pointer (G_TASK (result), NULL);
}

typedef struct
{
  NestedCheck *check;
  GTask       *task;
} Probe;

static gboolean
nested_probe (gpointer data)
{
  Probe *probe = data;
  NestedCheck *check = probe->check;
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GTask) nested = NULL;

  check->in_async = smartasync_in_async_context ();
  nested = smartasync_operation_call (upper, NULL, g_variant_new_string ("inner"),
                                      NULL, nested_done, check);
  check->nested_was_pending = !g_task_get_completed (nested);
  check->nested_on_private = g_task_get_context (nested) == smartasync_get_private_context ();

  g_task_return_boolean (probe->task, TRUE);
  g_object_unref (probe->task);
  g_free (probe);
  return G_SOURCE_REMOVE;
}

/* Completes its task from an idle that probes the context first. */
static void
probe_then_complete (GTask        *task,
                     gpointer      source,
                     GVariant     *args,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  Probe *probe = g_new (Probe, 1);
  GSource *idle = g_idle_source_new ();

  probe->check = user_data;
  probe->task = g_object_ref (task);
  g_source_set_callback (idle, nested_probe, probe, NULL);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

static void
test_detect_inside_private_wait (void)
{
  NestedCheck check = { 0 };
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("probe", probe_then_complete, &check, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (check.in_async);
  g_assert_true (check.nested_was_pending);
  g_assert_true (check.nested_on_private);
  /* The nested call was started inside the wait, so the wait finished it. */
  g_assert_cmpstr (check.nested_result, ==, "INNER");
  g_free (check.nested_result);
}

/* Dispatched by the global default context while another context is pushed
 * and nobody iterates it: sync, and a smart call returns a completed task
 * rather than one bound to the idle pushed context. */
typedef struct
{
  gboolean in_async;
  gboolean completed;
  char    *result;
} PushedCheck;

static gboolean
pushed_other_probe (gpointer data)
{
  PushedCheck *check = data;
  GMainContext *other = g_main_context_new ();
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GTask) task = NULL;

  g_main_context_push_thread_default (other);
  g_assert_true (g_main_context_is_owner (other));
  g_assert_cmpint (g_main_depth (), >, 0);
  check->in_async = smartasync_in_async_context ();
  task = smartasync_operation_call (upper, NULL, g_variant_new_string ("x"), NULL, NULL, NULL);
  check->completed = g_task_get_completed (task);
  check->result = g_task_propagate_pointer (task, NULL);
  g_main_context_pop_thread_default (other);
  g_main_context_unref (other);
  return G_SOURCE_REMOVE;
}

static void
test_detect_default_dispatch_other_pushed (void)
{
  PushedCheck check = { TRUE, FALSE, NULL };

  test_run_in_loop (pushed_other_probe, &check);
  g_assert_false (check.in_async);
  g_assert_true (check.completed);
  g_assert_cmpstr (check.result, ==, "X");
  g_free (check.result);
}

/* GApplication startup/activate run inside g_application_run () before any
 * source is dispatched: sync. */
typedef struct
{
  int   startup;
  int   activate;
  int   activate_forced;
  char *activate_result;
} AppCheck;

static void
app_startup (GApplication *app,
             AppCheck     *check)
{
  check->startup = smartasync_in_async_context ();
}

static void
app_activate (GApplication *app,
              AppCheck     *check)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);

  check->activate = smartasync_in_async_context ();
  /* Sync there: a smart call completes before activate returns, on the
   * private context, without the application's loop. */
  check->activate_result =
    smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("app"), NULL, NULL);
  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  check->activate_forced = smartasync_in_async_context ();
  smartasync_pop_mode ();
}

static void
test_detect_application_handlers (void)
{
  AppCheck check = { -1, -1, -1, NULL };
  g_autoptr(GApplication) app =
    g_application_new ("org.example.SmartasyncTest", G_APPLICATION_NON_UNIQUE);

  g_signal_connect (app, "startup", G_CALLBACK (app_startup), &check);
  g_signal_connect (app, "activate", G_CALLBACK (app_activate), &check);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);

  g_assert_cmpint (check.startup, ==, FALSE);
  g_assert_cmpint (check.activate, ==, FALSE);
  g_assert_cmpint (check.activate_forced, ==, TRUE);
  g_assert_cmpstr (check.activate_result, ==, "APP");
  g_free (check.activate_result);
}

/* Mode overrides */

static gboolean
record_modes_in_loop (gpointer data)
{
  gboolean *results = data;

  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  results[0] = smartasync_in_async_context ();
  smartasync_push_mode (SMARTASYNC_MODE_AUTO);
  results[1] = smartasync_in_async_context ();
  smartasync_pop_mode ();
  smartasync_pop_mode ();
  results[2] = smartasync_in_async_context ();
  return G_SOURCE_REMOVE;
}

static void
test_mode_push_pop (void)
{
  gboolean in_loop[3] = { TRUE, FALSE, FALSE };

  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);
  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_ASYNC);
  g_assert_true (smartasync_in_async_context ());
  smartasync_pop_mode ();
  g_assert_false (smartasync_in_async_context ());

  test_run_in_loop (record_modes_in_loop, in_loop);
  g_assert_false (in_loop[0]);
  g_assert_true (in_loop[1]);
  g_assert_true (in_loop[2]);
}

static void
test_mode_scope_and_clear (void)
{
  {
    g_autoptr(SmartasyncModeScope) G_GNUC_UNUSED scope = smartasync_mode_scope_new (SMARTASYNC_MODE_ASYNC);

    g_assert_true (smartasync_in_async_context ());
  }
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);

  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  smartasync_clear_modes ();
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);
  g_assert_false (smartasync_in_async_context ());
}

static void
test_mode_bad_input (void)
{
  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  smartasync_pop_mode ();
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  smartasync_push_mode ((SmartasyncMode) 42);
  g_test_assert_expected_messages ();
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);
}

static void
record_worker_mode (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  gboolean *results = task_data;

  results[0] = smartasync_get_mode ();
  results[1] = smartasync_in_async_context ();
  g_task_return_boolean (task, TRUE);
}

static void
test_mode_not_inherited_by_workers (void)
{
  gboolean results[2] = { -1, -1 };
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  g_task_set_task_data (task, results, NULL);
  g_task_run_in_thread_sync (task, record_worker_mode);
  smartasync_pop_mode ();

  g_assert_cmpint (results[0], ==, SMARTASYNC_MODE_AUTO);
  g_assert_cmpint (results[1], ==, FALSE);
}

/* The private context */

static gboolean
sentinel_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean sentinel_finalized;

static void
sentinel_finalize (GSource *source)
{
  sentinel_finalized = TRUE;
}

static GSourceFuncs sentinel_funcs = { NULL, NULL, sentinel_dispatch, sentinel_finalize, NULL, NULL };

/* A source that is finalized when @context is: a way to see a context die. */
static void
watch_context (GMainContext *context)
{
  GSource *sentinel = g_source_new (&sentinel_funcs, sizeof (GSource));

  sentinel_finalized = FALSE;
  g_source_attach (sentinel, context);
  g_source_unref (sentinel);
}

static void
test_thread_context_reused (void)
{
  GMainContext *context = smartasync_get_private_context ();
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autofree char *result = NULL;

  g_assert_nonnull (context);
  g_assert_true (context != g_main_context_default ());
  result = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("a"), NULL, NULL);
  g_assert_cmpstr (result, ==, "A");
  g_assert_true (smartasync_get_private_context () == context);

  watch_context (context);
  smartasync_reset ();
  g_assert_true (sentinel_finalized);
}

static gpointer
thread_with_private_context (gpointer data)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autofree char *result =
    smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("t"), NULL, NULL);

  g_assert_cmpstr (result, ==, "T");
  watch_context (smartasync_get_private_context ());
  return NULL;
}

static void
test_thread_context_freed_at_exit (void)
{
  g_thread_join (g_thread_new ("private", thread_with_private_context, NULL));
  g_assert_true (sentinel_finalized);
}

static void
test_thread_context_adopt (void)
{
  GMainContext *mine = g_main_context_new ();
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GTask) task = NULL;
  GMainContext *created;

  smartasync_set_private_context (mine);
  g_assert_true (smartasync_get_private_context () == mine);
  task = smartasync_operation_call (upper, NULL, g_variant_new_string ("m"), NULL, NULL, NULL);
  g_assert_true (g_task_get_context (task) == mine);

  smartasync_set_private_context (NULL);
  created = smartasync_get_private_context ();
  g_assert_true (created != mine);
  g_main_context_unref (mine);
  smartasync_reset ();
}

/* Debug logging */

static void
test_debug_logging (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SmartasyncOperation) upper =
        smartasync_operation_new_async ("upper-logged", test_upper_async, NULL, NULL);
      g_autofree char *result =
        smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("x"), NULL, NULL);

      g_assert_cmpstr (result, ==, "X");
      return;
    }

  g_setenv ("G_MESSAGES_DEBUG", "Smartasync", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*Smartasync-DEBUG*upper-logged: sync context, async implementation*");

  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout_unmatched ("*upper-logged*");
  g_test_trap_assert_stderr_unmatched ("*upper-logged*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/context/detect/main-before-loop", test_detect_main_before_loop);
  g_test_add_func ("/smartasync/context/detect/idle-in-loop", test_detect_idle_in_loop);
  g_test_add_func ("/smartasync/context/detect/task-callback", test_detect_task_callback);
  g_test_add_func ("/smartasync/context/detect/task-worker", test_detect_task_worker);
  g_test_add_func ("/smartasync/context/detect/thread-own-context", test_detect_thread_own_context);
  g_test_add_func ("/smartasync/context/detect/inside-private-wait", test_detect_inside_private_wait);
  g_test_add_func ("/smartasync/context/detect/default-dispatch-other-pushed", test_detect_default_dispatch_other_pushed);
  g_test_add_func ("/smartasync/context/detect/application-handlers", test_detect_application_handlers);
  g_test_add_func ("/smartasync/context/mode/push-pop", test_mode_push_pop);
  g_test_add_func ("/smartasync/context/mode/scope-and-clear", test_mode_scope_and_clear);
  g_test_add_func ("/smartasync/context/mode/bad-input", test_mode_bad_input);
  g_test_add_func ("/smartasync/context/mode/not-inherited-by-workers", test_mode_not_inherited_by_workers);
  g_test_add_func ("/smartasync/context/private/reused-and-reset", test_thread_context_reused);
  g_test_add_func ("/smartasync/context/private/freed-at-thread-exit", test_thread_context_freed_at_exit);
  g_test_add_func ("/smartasync/context/private/adopt-and-drop", test_thread_context_adopt);
  g_test_add_func ("/smartasync/context/debug-logging", test_debug_logging);

  return g_test_run ();
}
