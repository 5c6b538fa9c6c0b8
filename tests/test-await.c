/* test-await.c: smart values, await and continuations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-await-error"))

static void
set_task (GValue *value,
          GTask  *task)
{
  g_value_init (value, G_TYPE_TASK);
  g_value_set_object (value, task);
}

typedef struct
{
  guint   delay_ms;
  GValue  result;
  GError *error;
} Later;

static void
return_later_in_thread (GTask        *task,
                        gpointer      source,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  Later *later = task_data;

  g_usleep (later->delay_ms * 1000);
  if (later->error != NULL)
    g_task_return_error (task, g_error_copy (later->error));
  else
    g_task_return_value (task, &later->result);
}

static void
later_free (gpointer data)
{
  Later *later = data;

  if (G_IS_VALUE (&later->result))
    g_value_unset (&later->result);
  g_clear_error (&later->error);
  g_free (later);
}

/* A pending task, bound to the thread-default context, that returns @result
 * (or fails when @result is NULL) after @delay_ms on a worker thread. */
static GTask *
pending_task (const GValue *result,
              guint         delay_ms)
{
  GTask *task = g_task_new (NULL, NULL, NULL, NULL);
  Later *later = g_new0 (Later, 1);

  later->delay_ms = delay_ms;
  if (result != NULL)
    {
      g_value_init (&later->result, G_VALUE_TYPE (result));
      g_value_copy (result, &later->result);
    }
  else
    later->error = g_error_new_literal (TEST_ERROR, 3, "level failed");
  g_task_set_task_data (task, later, later_free);
  g_task_run_in_thread (task, return_later_in_thread);
  return task;
}

/* Tasks bound to this thread's private context, so that sync waits on the
 * private context can complete them. */
static GTask *
pending_task_on_private (const GValue *result,
                         guint         delay_ms)
{
  GTask *task;

  g_main_context_push_thread_default (smartasync_get_private_context ());
  task = pending_task (result, delay_ms);
  g_main_context_pop_thread_default (smartasync_get_private_context ());
  return task;
}

static void
test_is_pending (void)
{
  g_auto(GValue) plain = G_VALUE_INIT;
  g_auto(GValue) handle = G_VALUE_INIT;
  g_autoptr(GTask) task = NULL;

  g_value_init (&plain, G_TYPE_INT);
  g_value_set_int (&plain, 3);
  g_assert_false (smartasync_is_pending (&plain));

  task = pending_task_on_private (&plain, 10);
  set_task (&handle, task);
  g_assert_true (smartasync_is_pending (&handle));

  g_assert_true (smartasync_await_sync (&handle, NULL, NULL, NULL));
  g_assert_false (smartasync_is_pending (&handle));
}

static void
test_await_sync_nested (void)
{
  g_auto(GValue) deep = G_VALUE_INIT;
  g_auto(GValue) middle = G_VALUE_INIT;
  g_auto(GValue) outer = G_VALUE_INIT;
  g_auto(GValue) resolved = G_VALUE_INIT;
  g_autoptr(GTask) inner_task = NULL;
  g_autoptr(GTask) outer_task = NULL;
  g_autoptr(GError) error = NULL;

  g_value_init (&deep, G_TYPE_STRING);
  g_value_set_string (&deep, "deep");
  inner_task = pending_task_on_private (&deep, 30);
  set_task (&middle, inner_task);
  outer_task = pending_task_on_private (&middle, 5);
  set_task (&outer, outer_task);

  g_assert_true (smartasync_await_sync (&outer, NULL, &resolved, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&resolved), ==, "deep");
}

static void
test_await_sync_ready_and_error (void)
{
  g_auto(GValue) plain = G_VALUE_INIT;
  g_auto(GValue) resolved = G_VALUE_INIT;
  g_auto(GValue) failing = G_VALUE_INIT;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_value_init (&plain, G_TYPE_INT);
  g_value_set_int (&plain, 7);
  g_assert_true (smartasync_await_sync (&plain, NULL, &resolved, &error));
  g_assert_cmpint (g_value_get_int (&resolved), ==, 7);

  task = pending_task_on_private (NULL, 5);
  set_task (&failing, task);
  g_assert_false (smartasync_await_sync (&failing, NULL, NULL, &error));
  g_assert_error (error, TEST_ERROR, 3);
}

static gpointer
cancel_soon (gpointer data)
{
  g_usleep (10 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
abandoned_done (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  g_assert_false (smartasync_await_finish (result, NULL, data));
}

static void
test_await_cancel_and_abandoned (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  GTask *never;
  GThread *canceller;

  g_main_context_push_thread_default (smartasync_get_private_context ());
  never = g_task_new (NULL, NULL, NULL, NULL);
  g_main_context_pop_thread_default (smartasync_get_private_context ());
  set_task (&value, never);

  canceller = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (smartasync_await_sync (&value, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);
  g_clear_error (&error);

  /* A pending task whose last owner drops it fails the await instead of
   * leaving it waiting forever. This one is bound to the default context,
   * which this test iterates. */
  g_value_unset (&value);
  g_object_unref (never);
  never = g_task_new (NULL, NULL, NULL, NULL);
  set_task (&value, never);
  smartasync_await_async (&value, NULL, abandoned_done, &error);
  g_value_unset (&value);
  g_object_unref (never);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED);
}

/* From a running loop: the smart call returns a pending task, awaited
 * asynchronously. */
typedef struct
{
  GMainLoop *loop;
  char      *resolved;
} AwaitInLoop;

static void
awaited (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  AwaitInLoop *check = data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (smartasync_await_finish (result, &value, NULL));
  check->resolved = g_value_dup_string (&value);
  g_main_loop_quit (check->loop);
}

static void
upper_value_blocking (GTask        *task,
                      gpointer      source,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_ascii_strup (g_variant_get_string (args, NULL), -1));
  g_task_return_value (task, &value);
}

static gboolean
start_await_in_loop (gpointer data)
{
  AwaitInLoop *check = data;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("upper", upper_value_blocking, NULL, NULL);
  g_autoptr(GTask) task = smartasync_operation_call (op, NULL, g_variant_new_string ("loop"), NULL, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;

  set_task (&value, task);
  g_assert_true (smartasync_is_pending (&value));
  smartasync_await_async (&value, NULL, awaited, check);
  return G_SOURCE_REMOVE;
}

static void
test_await_async_in_loop (void)
{
  AwaitInLoop check = { g_main_loop_new (NULL, FALSE), NULL };

  g_idle_add (start_await_in_loop, &check);
  g_main_loop_run (check.loop);
  g_assert_cmpstr (check.resolved, ==, "LOOP");
  g_free (check.resolved);
  g_main_loop_unref (check.loop);
}

/* Continuations */

static int continuation_calls;

static gboolean
string_length (const GValue  *value,
               GValue        *result,
               gpointer       user_data,
               GError       **error)
{
  continuation_calls++;
  if (!G_VALUE_HOLDS_STRING (value))
    {
      g_set_error (error, TEST_ERROR, 9, "not a string");
      return FALSE;
    }

  g_value_init (result, G_TYPE_UINT);
  g_value_set_uint (result, strlen (g_value_get_string (value)));
  return TRUE;
}

static void
count_destroy (gpointer data)
{
  (*(int *) data)++;
}

static void
test_continuation_ready (void)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) result = G_VALUE_INIT;
  g_auto(GValue) bad = G_VALUE_INIT;
  g_auto(GValue) bad_result = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  int destroyed = 0;

  continuation_calls = 0;
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "Alice");
  g_assert_true (smartasync_continuation (&value, string_length, &destroyed, count_destroy, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (continuation_calls, ==, 1);
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_false (smartasync_is_pending (&result));
  g_assert_cmpuint (g_value_get_uint (&result), ==, 5);

  g_value_init (&bad, G_TYPE_INT);
  g_assert_false (smartasync_continuation (&bad, string_length, &destroyed, count_destroy, &bad_result, &error));
  g_assert_error (error, TEST_ERROR, 9);
  g_assert_cmpint (destroyed, ==, 2);
}

static void
test_continuation_pending (void)
{
  g_auto(GValue) name = G_VALUE_INIT;
  g_auto(GValue) middle = G_VALUE_INIT;
  g_auto(GValue) outer = G_VALUE_INIT;
  g_auto(GValue) result = G_VALUE_INIT;
  g_auto(GValue) resolved = G_VALUE_INIT;
  g_autoptr(GTask) inner_task = NULL;
  g_autoptr(GTask) outer_task = NULL;
  g_autoptr(GError) error = NULL;
  int destroyed = 0;

  continuation_calls = 0;
  g_value_init (&name, G_TYPE_STRING);
  g_value_set_string (&name, "Bartholomew");
  inner_task = pending_task_on_private (&name, 20);
  set_task (&middle, inner_task);
  outer_task = pending_task_on_private (&middle, 5);
  set_task (&outer, outer_task);

  /* Created while the private context is pushed, so the pending result
   * completes there and a sync await can finish it. */
  g_main_context_push_thread_default (smartasync_get_private_context ());
  g_assert_true (smartasync_continuation (&outer, string_length, &destroyed, count_destroy, &result, &error));
  g_main_context_pop_thread_default (smartasync_get_private_context ());
  g_assert_no_error (error);
  g_assert_true (smartasync_is_pending (&result));
  g_assert_cmpint (continuation_calls, ==, 0);

  g_assert_true (smartasync_await_sync (&result, NULL, &resolved, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_value_get_uint (&resolved), ==, 11);
  g_assert_cmpint (continuation_calls, ==, 1);
  g_assert_cmpint (destroyed, ==, 1);
}

static void
test_await_bad_input (void)
{
  GValue unset = G_VALUE_INIT;

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*G_IS_VALUE*");
  g_assert_false (smartasync_is_pending (&unset));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*G_IS_VALUE*");
  g_assert_false (smartasync_await_sync (&unset, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/await/is-pending", test_is_pending);
  g_test_add_func ("/smartasync/await/sync-nested", test_await_sync_nested);
  g_test_add_func ("/smartasync/await/sync-ready-and-error", test_await_sync_ready_and_error);
  g_test_add_func ("/smartasync/await/cancel-and-abandoned", test_await_cancel_and_abandoned);
  g_test_add_func ("/smartasync/await/async-in-loop", test_await_async_in_loop);
  g_test_add_func ("/smartasync/await/continuation-ready", test_continuation_ready);
  g_test_add_func ("/smartasync/await/continuation-pending", test_continuation_pending);
  g_test_add_func ("/smartasync/await/bad-input", test_await_bad_input);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
