/* test-gobject-new.c: every public type built the GObject way, as bindings do
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* An implementation returning a GValue, as bindings' implementations do. */
static void
answer_42 (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  g_task_return_value (task, &value);
  g_value_unset (&value);
}

static void
assert_no_implementation (const GError *error,
                          const char   *name)
{
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, "smartasync_operation_new_async"));
}

typedef struct
{
  SmartasyncOperation *operation;
  GMainLoop           *loop;
  GError              *error;
  int                  calls;
} AsyncCall;

static void
async_call_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  AsyncCall *call = data;

  call->calls++;
  g_assert_false (smartasync_operation_call_finish (call->operation, result, NULL, &call->error));
  g_main_loop_quit (call->loop);
}

static gboolean
start_async_call (gpointer data)
{
  AsyncCall *call = data;

  smartasync_operation_call_async (call->operation, NULL, NULL, NULL, async_call_done, call);
  return G_SOURCE_REMOVE;
}

/* Answered with an error from a running loop (offloaded when blocking). */
static void
assert_async_call_refused (SmartasyncOperation *operation,
                           const char          *name)
{
  AsyncCall call = { operation, g_main_loop_new (NULL, FALSE), NULL, 0 };

  g_idle_add (start_async_call, &call);
  g_main_loop_run (call.loop);
  g_assert_cmpint (call.calls, ==, 1);
  assert_no_implementation (call.error, name);
  g_clear_error (&call.error);
  g_main_loop_unref (call.loop);
}

/* `Smartasync.Operation(name=…)`: no implementation can be given that way.
 * Every entry point answers with an error naming the constructors, on
 * every path, instead of calling a NULL function. */
static void
test_operation_without_implementation (void)
{
  SmartasyncKind kinds[] = { SMARTASYNC_KIND_ASYNC, SMARTASYNC_KIND_BLOCKING };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr(SmartasyncOperation) operation =
        g_object_new (SMARTASYNC_TYPE_OPERATION, "name", "bare", "kind", kinds[i], NULL);
      g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GTask) task = NULL;
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_cmpstr (smartasync_operation_get_name (operation), ==, "bare");
      g_assert_false (smartasync_operation_call_sync (operation, NULL, NULL, NULL, &value, &error));
      assert_no_implementation (error, "bare");
      g_clear_error (&error);

      task = smartasync_operation_call (operation, NULL, NULL, NULL, NULL, NULL);
      g_assert_false (smartasync_operation_call_finish (operation, G_ASYNC_RESULT (task), NULL, &error));
      assert_no_implementation (error, "bare");
      g_clear_error (&error);

      g_assert_false (smartasync_lock_run_sync (lock, "k", operation, NULL, NULL, NULL, NULL, &error));
      assert_no_implementation (error, "bare");
      g_clear_error (&error);

      assert_async_call_refused (operation, "bare");
    }
}

static void
test_operation_without_name (void)
{
  g_autoptr(SmartasyncOperation) operation = g_object_new (SMARTASYNC_TYPE_OPERATION, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (smartasync_operation_get_name (operation), ==, "unnamed operation");
  g_assert_cmpint (smartasync_operation_get_kind (operation), ==, SMARTASYNC_KIND_ASYNC);
  g_assert_false (smartasync_operation_call_sync (operation, NULL, NULL, NULL, NULL, &error));
  assert_no_implementation (error, "unnamed operation");
}

typedef struct
{
  SmartasyncOperation *operation;
  GMainLoop           *loop;
  GThread             *thread;
  int                  result;
} Offload;

static void
offload_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Offload *offload = data;
  g_autoptr(GError) error = NULL;

  offload->thread = g_thread_self ();
  offload->result = smartasync_operation_call_finish_int (offload->operation, result, &error);
  g_assert_no_error (error);
  g_main_loop_quit (offload->loop);
}

static gboolean
start_offload (gpointer data)
{
  Offload *offload = data;

  smartasync_operation_call_async (offload->operation, NULL, g_variant_new_int32 (21), NULL,
                                   offload_done, offload);
  return G_SOURCE_REMOVE;
}

/* An executor built with g_object_new() has its defaults and runs work. */
static void
test_executor (void)
{
  g_autoptr(SmartasyncExecutor) executor = g_object_new (SMARTASYNC_TYPE_EXECUTOR, NULL);
  g_autoptr(SmartasyncOperation) operation = NULL;
  GThread *worker = NULL;
  Offload offload = { NULL, g_main_loop_new (NULL, FALSE), NULL, 0 };

  g_assert_cmpuint (smartasync_executor_get_max_threads (executor), ==, 4);

  operation = smartasync_operation_new_blocking ("double", test_double_blocking, &worker, NULL);
  smartasync_operation_set_executor (operation, executor);
  offload.operation = operation;
  g_idle_add (start_offload, &offload);
  g_main_loop_run (offload.loop);

  g_assert_cmpint (offload.result, ==, 42);
  g_assert_true (offload.thread == g_thread_self ());
  g_assert_nonnull (worker);
  g_assert_true (worker != g_thread_self ());
  g_main_loop_unref (offload.loop);
}

static void
test_lock (void)
{
  g_autoptr(SmartasyncLock) lock = g_object_new (SMARTASYNC_TYPE_LOCK, NULL);
  g_autoptr(SmartasyncOperation) operation =
    smartasync_operation_new_blocking ("answer", answer_42, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (smartasync_lock_run_sync (lock, "k", operation, NULL, NULL, NULL, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 1);
}

/* `Smartasync.Batch()`: the batch is open, as smartasync_batch_new() opens it. */
static void
test_batch (void)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = g_object_new (SMARTASYNC_TYPE_BATCH, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_cmpuint (smartasync_batch_add (batch, upper, NULL, g_variant_new_string ("a")), ==, 0);
  g_assert_cmpuint (smartasync_batch_add (batch, upper, NULL, g_variant_new_string ("b")), ==, 1);
  g_assert_true (smartasync_batch_wait (batch, NULL, &error));
  g_assert_no_error (error);

  first = smartasync_operation_call_finish_pointer (upper, smartasync_batch_get_result (batch, 0), &error);
  g_assert_no_error (error);
  second = smartasync_operation_call_finish_pointer (upper, smartasync_batch_get_result (batch, 1), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, "A");
  g_assert_cmpstr (second, ==, "B");
  smartasync_batch_close (batch);
  g_assert_null (g_main_context_get_thread_default ());
}

/* `Smartasync.Waiter()`: the private context is pushed, as
 * smartasync_waiter_new() pushes it, and the wait returns the result. */
static void
test_waiter (void)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(SmartasyncWaiter) waiter = g_object_new (SMARTASYNC_TYPE_WAITER, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (g_main_context_get_thread_default () == smartasync_get_private_context ());
  smartasync_operation_call_async (upper, NULL, g_variant_new_string ("w"), NULL,
                                   smartasync_waiter_callback, waiter);
  result = smartasync_waiter_wait (waiter, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (g_main_context_get_thread_default ());

  text = smartasync_operation_call_finish_pointer (upper, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "W");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/gobject-new/operation/no-implementation", test_operation_without_implementation);
  g_test_add_func ("/smartasync/gobject-new/operation/no-name", test_operation_without_name);
  g_test_add_func ("/smartasync/gobject-new/executor", test_executor);
  g_test_add_func ("/smartasync/gobject-new/lock", test_lock);
  g_test_add_func ("/smartasync/gobject-new/batch", test_batch);
  g_test_add_func ("/smartasync/gobject-new/waiter", test_waiter);

  return g_test_run ();
}
