/* test-operation.c: the smart call, every cell of the dispatch matrix
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/syscall.h>

#include "test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

static GMainLoop *loop;

/* Captures one completion: where and when it ran, and what it carried. */
typedef struct
{
  int           calls;
  GThread      *thread;
  GMainContext *context;
  gboolean      in_async;
  GAsyncResult *result;
} Completion;

static void
record_completion (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  Completion *completion = data;

  completion->calls++;
  completion->thread = g_thread_self ();
  completion->context = g_main_context_get_thread_default ();
  completion->in_async = smartasync_in_async_context ();
  g_set_object (&completion->result, result);
  if (loop != NULL)
    g_main_loop_quit (loop);
}

static void
completion_clear (Completion *completion)
{
  g_clear_object (&completion->result);
}

/* Runs @func inside a running loop on the default context and keeps the loop
 * running until @completion has been recorded. */
static void
run_in_loop_until (GSourceFunc  func,
                   gpointer     data,
                   Completion  *completion)
{
  loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (func, data);
  while (completion->calls == 0)
    g_main_loop_run (loop);
  g_clear_pointer (&loop, g_main_loop_unref);
}

/* Matrix: sync context */

static void
test_sync_async (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *result =
    smartasync_operation_call_sync_pointer (op, NULL, g_variant_new_string ("hello"), NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "HELLO");
  g_assert_null (g_main_context_get_thread_default ());
}

static void
test_sync_blocking_direct (void)
{
  GThread *ran_on = NULL;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", test_double_blocking, &ran_on, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (smartasync_operation_call_sync_int (op, NULL, g_variant_new_int32 (21), NULL, &error), ==, 42);
  g_assert_no_error (error);
  g_assert_true (ran_on == g_thread_self ());
}

/* An asynchronous implementation is async code wherever it is called from:
 * called synchronously, it runs from a dispatch of the private context, so
 * a smart call it makes returns a pending task instead of blocking it. A
 * blocking implementation called synchronously runs in its caller's sync
 * context. */
static void
record_context_impl (GTask        *task,
                     gpointer      source_object,
                     GVariant     *args,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  gboolean *in_async = user_data;

  *in_async = smartasync_in_async_context ();
  g_task_return_boolean (task, TRUE);
}

static void
test_sync_call_impl_context (void)
{
  gboolean async_impl_in_async = FALSE;
  gboolean blocking_impl_in_async = TRUE;
  g_autoptr(SmartasyncOperation) async_op =
    smartasync_operation_new_async ("where", record_context_impl, &async_impl_in_async, NULL);
  g_autoptr(SmartasyncOperation) blocking_op =
    smartasync_operation_new_blocking ("where", record_context_impl, &blocking_impl_in_async, NULL);

  g_assert_true (smartasync_operation_call_sync_boolean (async_op, NULL, NULL, NULL, NULL));
  g_assert_true (async_impl_in_async);
  g_assert_true (smartasync_operation_call_sync_boolean (blocking_op, NULL, NULL, NULL, NULL));
  g_assert_false (blocking_impl_in_async);
  g_assert_false (smartasync_in_async_context ());
}

/* Matrix: async context */

typedef struct
{
  SmartasyncOperation *op;
  GVariant            *args;
  Completion          *completion;
  gboolean             returned_before_callback;
  GThread             *loop_thread;
} AsyncCall;

static gboolean
start_call_async (gpointer data)
{
  AsyncCall *call = data;

  smartasync_operation_call_async (call->op, NULL, call->args, NULL, record_completion, call->completion);
  call->returned_before_callback = call->completion->calls == 0;
  call->loop_thread = g_thread_self ();
  return G_SOURCE_REMOVE;
}

static void
test_async_async (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  Completion completion = { 0 };
  AsyncCall call = { op, g_variant_new_string ("later"), &completion, FALSE, NULL };
  g_autofree char *result = NULL;

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_true (call.returned_before_callback);
  g_assert_cmpint (completion.calls, ==, 1);
  g_assert_true (completion.thread == g_thread_self ());
  g_assert_true (completion.in_async);
  result = smartasync_operation_call_finish_pointer (op, completion.result, NULL);
  g_assert_cmpstr (result, ==, "LATER");
  completion_clear (&completion);
}

static void
test_async_blocking_offloaded (void)
{
  GThread *ran_on = NULL;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", test_double_blocking, &ran_on, NULL);
  Completion completion = { 0 };
  AsyncCall call = { op, g_variant_new_int32 (5), &completion, FALSE, NULL };

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_true (call.returned_before_callback);
  g_assert_nonnull (ran_on);
  g_assert_true (ran_on != g_thread_self ());
  g_assert_true (completion.thread == g_thread_self ());
  g_assert_cmpint (smartasync_operation_call_finish_int (op, completion.result, NULL), ==, 10);
  completion_clear (&completion);
}

/* The smart call */

static void
test_smart_call_sync_context (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  Completion completion = { 0 };
  g_autoptr(GTask) task =
    smartasync_operation_call (op, NULL, g_variant_new_string ("now"), NULL, record_completion, &completion);
  g_autofree char *result = NULL;

  /* Completed, and the callback already ran, with the private context popped. */
  g_assert_true (g_task_get_completed (task));
  g_assert_cmpint (completion.calls, ==, 1);
  g_assert_false (completion.in_async);
  g_assert_null (completion.context);
  g_assert_true (completion.result == G_ASYNC_RESULT (task));
  result = smartasync_operation_call_finish_pointer (op, G_ASYNC_RESULT (task), NULL);
  g_assert_cmpstr (result, ==, "NOW");
  completion_clear (&completion);
}

typedef struct
{
  SmartasyncOperation *op;
  Completion          *completion;
  GTask               *task;
  gboolean             pending_on_return;
} SmartCall;

static gboolean
start_smart_call (gpointer data)
{
  SmartCall *call = data;

  call->task = smartasync_operation_call (call->op, NULL, g_variant_new_int32 (4), NULL,
                                          record_completion, call->completion);
  call->pending_on_return = !g_task_get_completed (call->task) && call->completion->calls == 0;
  return G_SOURCE_REMOVE;
}

static void
test_smart_call_async_context (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", test_double_blocking, NULL, NULL);
  Completion completion = { 0 };
  SmartCall call = { op, &completion, NULL, FALSE };

  run_in_loop_until (start_smart_call, &call, &completion);
  g_assert_true (call.pending_on_return);
  g_assert_cmpint (completion.calls, ==, 1);
  g_assert_true (completion.result == G_ASYNC_RESULT (call.task));
  g_assert_cmpint (smartasync_operation_call_finish_int (op, completion.result, NULL), ==, 8);
  g_object_unref (call.task);
  completion_clear (&completion);
}

/* Results of every kind pass through */

static void
return_value_blocking (GTask        *task,
                       gpointer      source,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, g_variant_get_string (args, NULL));
  g_task_return_value (task, &value);
  g_value_unset (&value);
}

static void
return_boolean_async (GTask        *task,
                      gpointer      source,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  g_task_return_boolean (task, g_variant_get_boolean (args));
}

static void
test_result_kinds (void)
{
  g_autoptr(SmartasyncOperation) value_op =
    smartasync_operation_new_blocking ("value", return_value_blocking, NULL, NULL);
  g_autoptr(SmartasyncOperation) bool_op =
    smartasync_operation_new_async ("bool", return_boolean_async, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) source = g_object_new (G_TYPE_OBJECT, NULL);

  g_assert_true (smartasync_operation_call_sync (value_op, source, g_variant_new_string ("v"), NULL, &value, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_STRING (&value));
  g_assert_cmpstr (g_value_get_string (&value), ==, "v");

  g_assert_true (smartasync_operation_call_sync_boolean (bool_op, source, g_variant_new_boolean (TRUE), NULL, &error));
  g_assert_false (smartasync_operation_call_sync_boolean (bool_op, source, g_variant_new_boolean (FALSE), NULL, &error));
  g_assert_no_error (error);

  /* A NULL out value ignores the result. */
  g_assert_true (smartasync_operation_call_sync (value_op, NULL, g_variant_new_string ("x"), NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
check_source_object (GTask        *task,
                     gpointer      source,
                     GVariant     *args,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  /* The task's own source object is the operation, as GIO's convention wants. */
  g_task_return_boolean (task, source == user_data && SMARTASYNC_IS_OPERATION (g_task_get_source_object (task)));
}

static void
test_source_object (void)
{
  g_autoptr(GObject) source = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("source", check_source_object, source, NULL);

  g_assert_true (smartasync_operation_call_sync_boolean (op, source, NULL, NULL, NULL));
}

/* Errors pass through unchanged on every path */

static void
fail_async (GTask        *task,
            gpointer      source,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  g_task_return_new_error (task, TEST_ERROR, 42, "failed: %s", g_variant_get_string (args, NULL));
}

static void
test_errors_pass_through (void)
{
  g_autoptr(SmartasyncOperation) async_op = smartasync_operation_new_async ("fail", fail_async, NULL, NULL);
  g_autoptr(SmartasyncOperation) blocking_op = smartasync_operation_new_blocking ("fail", fail_async, NULL, NULL);
  g_autoptr(GError) error = NULL;
  Completion completion = { 0 };
  AsyncCall call = { blocking_op, g_variant_new_string ("offloaded"), &completion, FALSE, NULL };

  g_assert_null (smartasync_operation_call_sync_pointer (async_op, NULL, g_variant_new_string ("sync"), NULL, &error));
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "failed: sync");
  g_clear_error (&error);

  g_assert_cmpint (smartasync_operation_call_sync_int (blocking_op, NULL, g_variant_new_string ("direct"), NULL, &error), ==, -1);
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "failed: direct");
  g_clear_error (&error);

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_false (smartasync_operation_call_finish_boolean (blocking_op, completion.result, &error));
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "failed: offloaded");
  completion_clear (&completion);
}

static void
forget_to_complete (GTask        *task,
                    gpointer      source,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
}

static void
test_blocking_not_completed (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("forgetful", forget_to_complete, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, &error));
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  g_assert_nonnull (strstr (error->message, "“forgetful”"));
}

/* Issue 14, defect 5: a NULL out value means "ignore the result", whatever
 * kind the implementation returned (before: an int result gave GIO's
 * critical and an error); a GValue asked of a pointer result fails with an
 * error that names the operation. */
static void
test_ignore_result (void)
{
  g_autoptr(SmartasyncOperation) doubler =
    smartasync_operation_new_blocking ("double", test_double_blocking, NULL, NULL);
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  g_assert_true (smartasync_operation_call_sync (doubler, NULL, g_variant_new_int32 (2), NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (smartasync_operation_call_sync (upper, NULL, g_variant_new_string ("a"), NULL, NULL, &error));
  g_assert_no_error (error);
  task = smartasync_operation_call (doubler, NULL, g_variant_new_int32 (2), NULL, NULL, NULL);
  g_assert_true (smartasync_operation_call_finish (doubler, G_ASYNC_RESULT (task), NULL, &error));
  g_assert_no_error (error);

  /* Errors still come through. */
  g_assert_false (smartasync_operation_call_sync (upper, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Issue 14, defect 5: an operation that declares its result type gives its
 * result as a GValue on every path, whatever g_task_return_*() it calls.
 * (Before: every GValue read of a pointer, boolean or int result failed
 * with SMARTASYNC_ERROR_FAILED after GIO's critical.) The lock's paths are
 * in test-lock.c. */
static void
assert_finish_declared (SmartasyncOperation *op,
                        GAsyncResult        *result)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok = smartasync_operation_call_finish (op, result, &value, &error);

  test_assert_declared_outcome (op, ok, &value, error);
}

static void
check_declared_paths (SmartasyncOperation *op)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) smart = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  Completion completion = { 0 };
  AsyncCall call = { op, NULL, &completion, FALSE, NULL };
  gboolean ok;

  ok = smartasync_operation_call_sync (op, NULL, NULL, NULL, &value, &error);
  test_assert_declared_outcome (op, ok, &value, error);
  g_value_unset (&value);
  g_clear_error (&error);

  /* The smart call in a sync context. */
  task = smartasync_operation_call (op, NULL, NULL, NULL, NULL, NULL);
  assert_finish_declared (op, G_ASYNC_RESULT (task));

  g_value_init (&smart, G_TYPE_TASK);
  g_value_take_object (&smart, smartasync_operation_call (op, NULL, NULL, NULL, NULL, NULL));
  ok = smartasync_await_sync (&smart, NULL, &value, &error);
  test_assert_declared_outcome (op, ok, &value, error);

  smartasync_batch_add (batch, op, NULL, NULL);
  g_assert_true (smartasync_batch_wait (batch, NULL, NULL));
  assert_finish_declared (op, smartasync_batch_get_result (batch, 0));
  smartasync_batch_close (batch);

  /* From a running loop: on the loop's thread (async), offloaded (blocking). */
  run_in_loop_until (start_call_async, &call, &completion);
  assert_finish_declared (op, completion.result);
  completion_clear (&completion);
}

static void
test_declared_results (void)
{
  test_for_each_declared (check_declared_paths);
}

static void
assert_mismatch (GError     *error,
                 const char *name,
                 const char *detail)
{
  g_autofree char *quoted = g_strdup_printf ("“%s”", name);

  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, quoted));
  g_assert_nonnull (strstr (error->message, detail));
}

/* A declared result read by a typed finish function of another kind, or an
 * object of another class than the declared one: an error naming the
 * operation, no critical, and the result is not lost. (Before: the typed
 * forms read the union GTask keeps whatever it held: call_sync_boolean() of
 * an int result returned TRUE.) */
static void
test_declared_mismatch (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("declared-int", test_return_declared, NULL, NULL);
  g_autoptr(SmartasyncOperation) file_op =
    smartasync_operation_new_blocking ("file", test_return_action, NULL, NULL);
  g_autoptr(SmartasyncOperation) failing =
    smartasync_operation_new_async ("fail", fail_async, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  smartasync_operation_set_result_type (op, G_TYPE_INT);
  g_assert_cmpint (smartasync_operation_call_sync_int (op, NULL, NULL, NULL, &error), ==, 42);
  g_assert_no_error (error);

  g_assert_false (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, &error));
  assert_mismatch (error, "declared-int", "g_task_return_int()");
  g_clear_error (&error);
  g_assert_null (smartasync_operation_call_sync_pointer (op, NULL, NULL, NULL, &error));
  assert_mismatch (error, "declared-int", "gint");
  g_clear_error (&error);

  /* Refused before reading: the GValue form still gets the result. */
  task = smartasync_operation_call (op, NULL, NULL, NULL, NULL, NULL);
  g_assert_null (smartasync_operation_call_finish_pointer (op, G_ASYNC_RESULT (task), &error));
  assert_mismatch (error, "declared-int", "g_task_return_pointer()");
  g_clear_error (&error);
  assert_finish_declared (op, G_ASYNC_RESULT (task));

  smartasync_operation_set_result_type (file_op, G_TYPE_FILE);
  g_assert_false (smartasync_operation_call_sync (file_op, NULL, NULL, NULL, &value, &error));
  assert_mismatch (error, "file", "returned a GSimpleAction, not the GFile");
  g_clear_error (&error);
  /* A failed call leaves a NULL pointer in the out value (for bindings). */
  g_assert_true (G_VALUE_HOLDS_POINTER (&value));
  g_value_unset (&value);

  /* Errors do not depend on the kind: any finish function gets them. */
  smartasync_operation_set_result_type (failing, G_TYPE_STRING);
  g_assert_false (smartasync_operation_call_sync (failing, NULL, g_variant_new_string ("v"),
                                                  NULL, &value, &error));
  g_assert_error (error, TEST_ERROR, 42);
  g_clear_error (&error);
  g_value_unset (&value);
  g_assert_cmpint (smartasync_operation_call_sync_int (failing, NULL, g_variant_new_string ("i"),
                                                       NULL, &error), ==, -1);
  g_assert_error (error, TEST_ERROR, 42);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  (*(int *) data)++;
}

static void
test_result_type_property (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("typed", test_return_declared, NULL, NULL);
  GType unsupported[] = { G_TYPE_POINTER, G_TYPE_DOUBLE, G_TYPE_BOXED, G_TYPE_GTYPE };
  GType type = G_TYPE_INVALID;
  int notified = 0;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      g_test_trap_assert_stderr ("*CRITICAL*typed* cannot declare gpointer as its result type*"
                                 "CRITICAL*cannot declare gdouble*"
                                 "CRITICAL*cannot declare GBoxed*"
                                 "CRITICAL*cannot declare GType*");
      return;
    }

  /* The library's structured criticals are not seen by
   * g_test_expect_message() in GLib 2.74: the parent reads them. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_assert_cmpuint (smartasync_operation_get_result_type (op), ==, G_TYPE_NONE);
  g_signal_connect (op, "notify::result-type", G_CALLBACK (count_notify), &notified);

  g_object_set (op, "result-type", G_TYPE_BYTES, NULL);
  g_object_get (op, "result-type", &type, NULL);
  g_assert_cmpuint (type, ==, G_TYPE_BYTES);
  smartasync_operation_set_result_type (op, G_TYPE_BYTES);
  g_assert_cmpint (notified, ==, 1);

  /* Refused, and nothing changes. */
  for (guint i = 0; i < G_N_ELEMENTS (unsupported); i++)
    {
      smartasync_operation_set_result_type (op, unsupported[i]);
      g_assert_cmpuint (smartasync_operation_get_result_type (op), ==, G_TYPE_BYTES);
    }
  g_assert_cmpint (notified, ==, 1);

  /* G_TYPE_INVALID is G_TYPE_NONE: g_task_return_value(). */
  smartasync_operation_set_result_type (op, G_TYPE_INVALID);
  g_assert_cmpuint (smartasync_operation_get_result_type (op), ==, G_TYPE_NONE);
  g_assert_cmpint (notified, ==, 2);
}

/* Issue 14, defect 3: an asynchronous implementation that drops its task
 * uncompleted, called from a running loop, is answered with
 * SMARTASYNC_ERROR_NOT_COMPLETED on the caller's thread and context, once,
 * as on the sync and offload paths. (Before: never answered; this test then
 * hangs.) */
static void
test_async_dropped_task (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("forgetful", forget_to_complete, NULL, NULL);
  g_autoptr(GError) error = NULL;
  Completion completion = { 0 };
  AsyncCall call = { op, NULL, &completion, FALSE, NULL };

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_cmpint (completion.calls, ==, 1);
  g_assert_true (completion.thread == g_thread_self ());
  g_assert_null (completion.context);
  g_assert_false (smartasync_operation_call_finish (op, completion.result, NULL, &error));
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  g_assert_nonnull (strstr (error->message, "“forgetful”"));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (completion.calls, ==, 1);
  completion_clear (&completion);
}

/* Cancellation */

static int implementation_runs;

static void
count_and_double (GTask        *task,
                  gpointer      source,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  g_atomic_int_inc (&implementation_runs);
  test_double_blocking (task, source, args, cancellable, NULL);
}

typedef struct
{
  SmartasyncOperation *op;
  GCancellable        *cancellable;
  Completion          *completion;
} CancelledCall;

static gboolean
start_cancelled_call (gpointer data)
{
  CancelledCall *call = data;

  smartasync_operation_call_async (call->op, NULL, g_variant_new_int32 (1), call->cancellable,
                                   record_completion, call->completion);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_before_start (void)
{
  g_autoptr(SmartasyncOperation) blocking = smartasync_operation_new_blocking ("count", count_and_double, NULL, NULL);
  g_autoptr(SmartasyncOperation) async_op = smartasync_operation_new_async ("count", count_and_double, NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Completion completion = { 0 };
  CancelledCall call = { async_op, cancellable, &completion };
  g_autoptr(GTask) smart = NULL;

  implementation_runs = 0;
  g_cancellable_cancel (cancellable);

  g_assert_cmpint (smartasync_operation_call_sync_int (blocking, NULL, g_variant_new_int32 (1), cancellable, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  smart = smartasync_operation_call (async_op, NULL, g_variant_new_int32 (1), cancellable, NULL, NULL);
  g_assert_true (g_task_get_completed (smart));
  g_assert_cmpint (g_task_propagate_int (smart, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  run_in_loop_until (start_cancelled_call, &call, &completion);
  g_assert_cmpint (smartasync_operation_call_finish_int (async_op, completion.result, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  completion_clear (&completion);

  g_assert_cmpint (implementation_runs, ==, 0);
}

static gint slow_work_started;

/* Cancels once the slow work started: a cancel after a fixed delay could
 * come, on a loaded machine, before the call started. */
static gpointer
cancel_after (gpointer data)
{
  test_wait_for_flag (&slow_work_started, "the slow work to start");
  g_cancellable_cancel (data);
  return NULL;
}

/* Ignores cancellation and completes after 150 ms, from another thread. */
static void
complete_late_async (GTask        *task,
                     gpointer      source,
                     GVariant     *args,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  g_task_run_in_thread (task, (GTaskThreadFunc) (void (*) (void)) user_data);
}

/* Slow work ignoring cancellation: the wait must not wait for it. Whether
 * it returned first is checked, not how long the wait took (no timing
 * assertions: the machines are small and noisy, and valgrind is slow). */
static gint slow_work_done;
static gint slow_work_released;

static void
wait_for_slow_work (void)
{
  g_atomic_int_set (&slow_work_released, TRUE);
  test_wait_for_flag (&slow_work_done, "the slow work to return");
}

/* Slow work: returns only once the test released it (after checking that
 * the caller was answered first). */
static void
sleep_then_return (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_atomic_int_set (&slow_work_started, TRUE);
  test_wait_for_flag (&slow_work_released, "the test to release the slow work");
  g_task_return_int (task, 3);
  g_atomic_int_set (&slow_work_done, TRUE);
}

static void
test_cancel_during_sync_wait (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("late", complete_late_async, sleep_then_return, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller;
  g_autofree char *later = NULL;
  g_autoptr(SmartasyncOperation) upper = smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);

  slow_work_done = slow_work_started = slow_work_released = FALSE;
  canceller = g_thread_new ("cancel", cancel_after, cancellable);
  g_assert_cmpint (smartasync_operation_call_sync_int (op, NULL, NULL, cancellable, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_atomic_int_get (&slow_work_done));
  g_thread_join (canceller);

  /* Let the abandoned operation finish; a later wait drops its completion. */
  wait_for_slow_work ();
  later = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("ok"), NULL, NULL);
  g_assert_cmpstr (later, ==, "OK");
}

static void
slow_blocking (GTask        *task,
               gpointer      source,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  g_atomic_int_set (&slow_work_started, TRUE);
  test_wait_for_flag (&slow_work_released, "the test to release the slow work");
  g_task_return_int (task, 1);
  g_atomic_int_set (&slow_work_done, TRUE);
}

static void
test_cancel_during_offload (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("slow", slow_blocking, NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Completion completion = { 0 };
  CancelledCall call = { op, cancellable, &completion };
  GThread *canceller;

  slow_work_done = slow_work_started = slow_work_released = FALSE;
  canceller = g_thread_new ("cancel", cancel_after, cancellable);
  run_in_loop_until (start_cancelled_call, &call, &completion);
  g_assert_false (g_atomic_int_get (&slow_work_done));
  g_assert_cmpint (smartasync_operation_call_finish_int (op, completion.result, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);

  /* No late callback once the worker finishes. */
  wait_for_slow_work ();
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (completion.calls, ==, 1);
  completion_clear (&completion);
}

/* A well-behaved async implementation: completes after 10 s unless cancelled. */
static void
on_cancelled_return (GCancellable *cancellable,
                     GTask        *task)
{
  g_task_return_error_if_cancelled (task);
}

static void
wait_for_cancel_async (GTask        *task,
                       gpointer      source,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data)
{
  g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled_return),
                         g_object_ref (task), g_object_unref);
}

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_pending_async (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("wait", wait_for_cancel_async, NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Completion completion = { 0 };
  CancelledCall call = { op, cancellable, &completion };

  g_timeout_add (10, cancel_now, cancellable);
  run_in_loop_until (start_cancelled_call, &call, &completion);
  g_assert_cmpint (completion.calls, ==, 1);
  g_assert_false (smartasync_operation_call_finish_boolean (op, completion.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  completion_clear (&completion);
}

/* Offload: executors and nesting */

static void
nested_countdown (GTask        *task,
                  gpointer      source,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  SmartasyncOperation *self = *(SmartasyncOperation **) user_data;
  gint32 n = g_variant_get_int32 (args);
  g_autoptr(GError) error = NULL;
  gssize below;

  if (n == 0)
    {
      g_task_return_int (task, 0);
      return;
    }

  /* On a worker this is a sync context: the nested call runs inline. */
  g_assert_false (smartasync_in_async_context ());
  below = smartasync_operation_call_sync_int (self, NULL, g_variant_new_int32 (n - 1), NULL, &error);
  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_int (task, below + 1);
}

static void
test_nested_offloads_small_pool (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  g_autoptr(SmartasyncExecutor) got = NULL;
  SmartasyncOperation *op = NULL;
  Completion completion = { 0 };
  AsyncCall call = { NULL, g_variant_new_int32 (100), &completion, FALSE, NULL };

  /* The implementation calls its own operation, reached through &op. */
  op = smartasync_operation_new_blocking ("countdown", nested_countdown, &op, NULL);
  call.op = op;
  smartasync_operation_set_executor (op, executor);
  got = smartasync_operation_dup_executor (op);
  g_assert_true (got == executor);

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_cmpint (smartasync_operation_call_finish_int (op, completion.result, NULL), ==, 100);
  completion_clear (&completion);
  g_object_unref (op);
}

typedef struct
{
  SmartasyncOperation *op;
  int                  pending;
  gboolean             all_right;
} ManyCalls;

static void
many_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  ManyCalls *many = data;
  GTask *task = G_TASK (result);
  gint32 sent = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "sent"));

  if (g_task_propagate_int (task, NULL) != 2 * sent)
    many->all_right = FALSE;
  if (--many->pending == 0)
    g_main_loop_quit (loop);
}

static gboolean
start_many (gpointer data)
{
  ManyCalls *many = data;

  for (gint32 i = 0; i < many->pending; i++)
    {
      g_autoptr(GTask) task =
        smartasync_operation_call (many->op, NULL, g_variant_new_int32 (i), NULL, many_done, many);

      g_object_set_data (G_OBJECT (task), "sent", GINT_TO_POINTER (i));
    }
  return G_SOURCE_REMOVE;
}

static void
test_concurrent_offloads (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", test_double_blocking, NULL, NULL);
  ManyCalls many = { op, 200, TRUE };

  for (int round = 0; round < 2; round++)
    {
      smartasync_set_default_executor (round == 0 ? NULL : executor);
      many.pending = 200;
      loop = g_main_loop_new (NULL, FALSE);
      g_idle_add (start_many, &many);
      g_main_loop_run (loop);
      g_clear_pointer (&loop, g_main_loop_unref);
      g_assert_true (many.all_right);
    }
  smartasync_set_default_executor (NULL);
}

/* An idle executor stops spinning: once the work stops, each of its workers
 * ends up blocked in the kernel, in futex() on the pool's condition variable
 * (one address for all), and stays there without being woken. Read from
 * /proc rather than measured as a CPU budget, so that neither a loaded
 * machine nor valgrind can fail it. */
#define IDLE_HANG_GUARD_S 60

/* The futex a thread is blocked on, from /proc/self/task/TID/syscall
 * ("NR arg1 ...", or "running"); 0 when it is not blocked in futex(). */
static guint64
blocked_on_futex (const char *tid)
{
  g_autofree char *path = g_build_filename ("/proc/self/task", tid, "syscall", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  fields = g_strsplit (contents, " ", 3);
  if (g_strv_length (fields) < 2 || g_ascii_strtoll (fields[0], NULL, 10) != SYS_futex)
    return 0;
  return g_ascii_strtoull (fields[1], NULL, 16);
}

/* How many times a thread was switched out: it grows whenever it ran. */
static guint64
context_switches (const char *tid)
{
  g_autofree char *path = g_build_filename ("/proc/self/task", tid, "status", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint64 n = 0;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "voluntary_ctxt_switches:") ||
        g_str_has_prefix (lines[i], "nonvoluntary_ctxt_switches:"))
      n += g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
  return n;
}

/* The thread ids of the executor workers (threads named smartasync-work)
 * that are not in @exclude. */
static GPtrArray *
list_workers (GPtrArray *exclude)
{
  GPtrArray *tids = test_list_threads_named ("smartasync-work");

  for (guint i = tids->len; i > 0; i--)
    if (g_ptr_array_find_with_equal_func (exclude, g_ptr_array_index (tids, i - 1),
                                          g_str_equal, NULL))
      g_ptr_array_remove_index (tids, i - 1);
  return tids;
}

/* Whether every thread of @tids is blocked on one and the same futex. */
static gboolean
all_blocked_on_one_futex (GPtrArray *tids)
{
  guint64 first = 0;

  for (guint i = 0; i < tids->len; i++)
    {
      guint64 futex = blocked_on_futex (g_ptr_array_index (tids, i));

      if (futex == 0 || (i > 0 && futex != first))
        return FALSE;
      first = futex;
    }
  return tids->len > 0;
}

static void
check_executor_idle_does_not_spin (void);

/* In a process of its own: the workers of executors that earlier tests
 * dropped, or that their late releases still hold, would count as this
 * executor's (a third idle worker, on another pool's futex, hung it in
 * CI's dist run). */
static void
test_executor_idle_does_not_spin (void)
{
  if (g_test_subprocess ())
    {
      check_executor_idle_does_not_spin ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
  g_test_trap_assert_passed ();
}

static void
check_executor_idle_does_not_spin (void)
{
#ifdef SYS_futex
  g_autoptr(GPtrArray) others = test_list_threads_named ("smartasync-work");
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", test_double_blocking, NULL, NULL);
  ManyCalls many = { op, 100, TRUE };
  g_autoptr(GPtrArray) workers = NULL;
  g_autoptr(GArray) switches = g_array_new (FALSE, FALSE, sizeof (guint64));
  gint64 deadline;

  smartasync_operation_set_executor (op, executor);
  loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (start_many, &many);
  g_main_loop_run (loop);
  g_clear_pointer (&loop, g_main_loop_unref);
  g_assert_true (many.all_right);

  /* The work is done: the workers spin for their budget at most, then
   * block. A spinner shows as "running", a worker waiting for the pool's
   * lock on another futex. */
  deadline = g_get_monotonic_time () + IDLE_HANG_GUARD_S * G_USEC_PER_SEC;
  for (;;)
    {
      g_clear_pointer (&workers, g_ptr_array_unref);
      workers = list_workers (others);
      if (all_blocked_on_one_futex (workers))
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: hang guard: still waiting after %d s for the %u idle worker(s) to block "
                 "on the pool's condition variable (a worker keeps spinning)",
                 g_test_get_path (), IDLE_HANG_GUARD_S, workers->len);
      g_usleep (1000);
    }
  g_test_message ("%u idle worker(s) blocked", workers->len);
  g_assert_cmpuint (workers->len, <=, 2);

  /* And they stay blocked: nothing wakes an idle worker. The pause is a
   * window to watch, not a wait for something to happen. */
  for (guint i = 0; i < workers->len; i++)
    {
      guint64 n = context_switches (g_ptr_array_index (workers, i));

      g_array_append_val (switches, n);
    }
  g_usleep (200 * 1000);
  g_assert_true (all_blocked_on_one_futex (workers));
  for (guint i = 0; i < workers->len; i++)
    g_assert_cmpuint (context_switches (g_ptr_array_index (workers, i)), ==,
                      g_array_index (switches, guint64, i));
#else
  g_test_skip ("needs Linux's /proc/self/task/TID/syscall");
#endif
}

/* Implementations that must stay on their thread are never offloaded. */
static void
test_not_thread_safe (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("js-like", test_double_blocking, NULL, NULL);
  Completion completion = { 0 };
  AsyncCall call = { op, g_variant_new_int32 (2), &completion, FALSE, NULL };
  g_autoptr(GError) error = NULL;

  g_object_set (op, "thread-safe", FALSE, NULL);
  g_assert_cmpint (smartasync_operation_call_sync_int (op, NULL, g_variant_new_int32 (2), NULL, NULL), ==, 4);

  run_in_loop_until (start_call_async, &call, &completion);
  g_assert_cmpint (smartasync_operation_call_finish_int (op, completion.result, &error), ==, -1);
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED);
  g_assert_nonnull (strstr (error->message, "js-like"));
  completion_clear (&completion);
}

/* Programmer errors */

static void
test_bad_input (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GTask) foreign = g_task_new (NULL, NULL, NULL, NULL);
  GParamSpec *not_an_object;

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (smartasync_operation_new_async ("x", NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
  g_assert_null (smartasync_operation_new_blocking (NULL, test_double_blocking, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_OPERATION*");
  g_assert_false (smartasync_operation_call_sync (NULL, NULL, NULL, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  /* A type instance that is not a GObject. */
  not_an_object = g_param_spec_int ("n", NULL, NULL, 0, 1, 0, G_PARAM_READABLE);
  g_param_spec_ref_sink (not_an_object);
  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*G_IS_OBJECT*");
  g_assert_null (smartasync_operation_call (op, not_an_object, NULL, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
  g_param_spec_unref (not_an_object);

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*g_task_is_valid*");
  g_assert_null (smartasync_operation_call_finish_pointer (op, G_ASYNC_RESULT (foreign), NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_OPERATION*");
  smartasync_operation_set_result_type (NULL, G_TYPE_INT);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_OPERATION*");
  g_assert_cmpuint (smartasync_operation_get_result_type (NULL), ==, G_TYPE_NONE);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*max_threads*");
  g_assert_null (smartasync_executor_new (0));
  g_test_assert_expected_messages ();

  g_task_return_boolean (foreign, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_properties (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("props", test_double_blocking, NULL, NULL);
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (3);
  g_autofree char *name = NULL;
  SmartasyncKind kind;
  g_autoptr(SmartasyncExecutor) got = NULL;

  g_object_set (op, "executor", executor, NULL);
  g_object_get (op, "name", &name, "kind", &kind, "executor", &got, NULL);
  g_assert_cmpstr (name, ==, "props");
  g_assert_cmpstr (smartasync_operation_get_name (op), ==, "props");
  g_assert_cmpint (kind, ==, SMARTASYNC_KIND_BLOCKING);
  g_assert_cmpint (smartasync_operation_get_kind (op), ==, SMARTASYNC_KIND_BLOCKING);
  g_assert_true (got == executor);
  g_assert_cmpuint (smartasync_executor_get_max_threads (executor), ==, 3);
}

static void
test_executor_properties (void)
{
  g_autoptr(SmartasyncExecutor) by_default = smartasync_executor_new (2);
  g_autoptr(SmartasyncExecutor) tuned = g_object_new (SMARTASYNC_TYPE_EXECUTOR,
                                                      "max-threads", 5, "spin-us", 7, NULL);
  guint max_threads, spin_us;

  g_object_get (by_default, "max-threads", &max_threads, "spin-us", &spin_us, NULL);
  g_assert_cmpuint (max_threads, ==, 2);
  g_assert_cmpuint (spin_us, ==, 50);
  g_object_get (tuned, "max-threads", &max_threads, "spin-us", &spin_us, NULL);
  g_assert_cmpuint (max_threads, ==, 5);
  g_assert_cmpuint (spin_us, ==, 7);
  g_assert_cmpuint (smartasync_executor_get_max_threads (tuned), ==, 5);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/operation/matrix/sync-async", test_sync_async);
  g_test_add_func ("/smartasync/operation/matrix/sync-blocking", test_sync_blocking_direct);
  g_test_add_func ("/smartasync/operation/matrix/sync-impl-context", test_sync_call_impl_context);
  g_test_add_func ("/smartasync/operation/matrix/async-async", test_async_async);
  g_test_add_func ("/smartasync/operation/matrix/async-blocking", test_async_blocking_offloaded);
  g_test_add_func ("/smartasync/operation/smart/sync-context", test_smart_call_sync_context);
  g_test_add_func ("/smartasync/operation/smart/async-context", test_smart_call_async_context);
  g_test_add_func ("/smartasync/operation/results/kinds", test_result_kinds);
  g_test_add_func ("/smartasync/operation/results/source-object", test_source_object);
  g_test_add_func ("/smartasync/operation/errors/pass-through", test_errors_pass_through);
  g_test_add_func ("/smartasync/operation/errors/not-completed", test_blocking_not_completed);
  g_test_add_func ("/smartasync/operation/errors/async-dropped-task", test_async_dropped_task);
  g_test_add_func ("/smartasync/operation/results/ignore", test_ignore_result);
  g_test_add_func ("/smartasync/operation/results/declared", test_declared_results);
  g_test_add_func ("/smartasync/operation/results/declared-mismatch", test_declared_mismatch);
  g_test_add_func ("/smartasync/operation/results/result-type", test_result_type_property);
  g_test_add_func ("/smartasync/operation/cancel/before-start", test_cancel_before_start);
  g_test_add_func ("/smartasync/operation/cancel/during-sync-wait", test_cancel_during_sync_wait);
  g_test_add_func ("/smartasync/operation/cancel/during-offload", test_cancel_during_offload);
  g_test_add_func ("/smartasync/operation/cancel/pending-async", test_cancel_pending_async);
  g_test_add_func ("/smartasync/operation/offload/nested-small-pool", test_nested_offloads_small_pool);
  g_test_add_func ("/smartasync/operation/offload/concurrent", test_concurrent_offloads);
  g_test_add_func ("/smartasync/operation/offload/not-thread-safe", test_not_thread_safe);
  g_test_add_func ("/smartasync/operation/offload/executor-idle-does-not-spin", test_executor_idle_does_not_spin);
  g_test_add_func ("/smartasync/operation/bad-input", test_bad_input);
  g_test_add_func ("/smartasync/operation/properties", test_properties);
  g_test_add_func ("/smartasync/operation/executor-properties", test_executor_properties);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
