/* test-batch.c: batch scopes for sync code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>

#include "test-util.h"

/* An async implementation over a real GIO operation: loads a file named by
 * the string argument and returns its contents. */
static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      data)
{
  g_autoptr(GTask) task = data;
  GError *error = NULL;
  char *contents = NULL;

  if (g_file_load_contents_finish (G_FILE (source), result, &contents, NULL, NULL, &error))
    g_task_return_pointer (task, contents, g_free);
  else
    g_task_return_error (task, error);
}

static void
load_async (GTask        *task,
            gpointer      source,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (args, NULL));

  g_file_load_contents_async (file, cancellable, loaded, g_object_ref (task));
}

static char *
write_numbered_files (guint n)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("smartasync-batch-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%u", dir, i);
      g_autofree char *contents = g_strdup_printf ("file %u", i);

      g_assert_true (g_file_set_contents (path, contents, -1, NULL));
    }
  return dir;
}

static void
remove_numbered_files (char  *dir,
                       guint  n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%u", dir, i);

      g_remove (path);
    }
  g_rmdir (dir);
  g_free (dir);
}

/* 1 000 concurrent GIO operations from plain main (), results in order, and
 * a missing file reported for its own call only. */
static void
test_batch_many_loads (void)
{
  guint n = g_getenv ("SMARTASYNC_TEST_QUICK") ? 100 : 1000;
  char *dir = write_numbered_files (n);
  g_autoptr(SmartasyncOperation) load = smartasync_operation_new_async ("load", load_async, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_strdup_printf ("%s/missing", dir);
  guint missing_index;

  g_assert_false (smartasync_in_async_context ());
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%u", dir, i);

      g_assert_cmpuint (smartasync_batch_add (batch, load, NULL, g_variant_new_string (path)), ==, i);
    }
  missing_index = smartasync_batch_add (batch, load, NULL, g_variant_new_string (missing));

  g_assert_true (smartasync_batch_wait (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (smartasync_batch_get_size (batch), ==, n + 1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("file %u", i);
      g_autofree char *contents =
        smartasync_operation_call_finish_pointer (load, smartasync_batch_get_result (batch, i), &error);

      g_assert_no_error (error);
      g_assert_cmpstr (contents, ==, expected);
    }
  g_assert_null (smartasync_operation_call_finish_pointer (load, smartasync_batch_get_result (batch, missing_index), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  smartasync_batch_close (batch);
  g_assert_null (g_main_context_get_thread_default ());
  remove_numbered_files (dir, n);
}

/* Blocking calls in a batch run concurrently on workers: each call holds
 * its worker until a second call is running beside it, so the batch
 * completes only if calls overlap (serial calls would hang, and the hang
 * guard says so), whatever the machine's load. */
static gint running, max_running;

static void
sleepy_blocking (GTask        *task,
                 gpointer      source,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  gint now = g_atomic_int_add (&running, 1) + 1;
  gint seen;

  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while ((seen = g_atomic_int_get (&max_running)) < now &&
         !g_atomic_int_compare_and_exchange (&max_running, seen, now))
    ;
  while (g_atomic_int_get (&max_running) < 2)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("hang guard: no second batch call ran beside this one in 120 s");
      g_usleep (1000);
    }
  g_atomic_int_add (&running, -1);
  g_task_return_int (task, g_variant_get_int32 (args));
}

static void
test_batch_blocking_concurrent (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (4);
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("sleepy", sleepy_blocking, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();

  max_running = 0;
  smartasync_operation_set_executor (op, executor);
  for (gint32 i = 0; i < 8; i++)
    smartasync_batch_add (batch, op, NULL, g_variant_new_int32 (i));
  g_assert_true (smartasync_batch_wait (batch, NULL, NULL));
  for (gint32 i = 0; i < 8; i++)
    g_assert_cmpint (smartasync_operation_call_finish_int (op, smartasync_batch_get_result (batch, i), NULL), ==, i);
  g_assert_cmpint (max_running, >, 1);

  /* More calls and another wait in the same scope. */
  smartasync_batch_add (batch, op, NULL, g_variant_new_int32 (99));
  g_assert_true (smartasync_batch_wait (batch, NULL, NULL));
  g_assert_cmpint (smartasync_operation_call_finish_int (op, smartasync_batch_get_result (batch, 8), NULL), ==, 99);
  smartasync_batch_close (batch);
  smartasync_batch_close (batch);
}

/* Cancelling the batch cancels every call; each reports it. The handler may
 * run on the cancelling thread: GTask then completes on the task's context. */
static void
return_cancelled (GCancellable *cancellable,
                  gpointer      task)
{
  g_task_return_error_if_cancelled (task);
}

static void
wait_for_cancel (GTask        *task,
                 gpointer      source,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  g_cancellable_connect (cancellable, G_CALLBACK (return_cancelled),
                         g_object_ref (task), g_object_unref);
}

static gpointer
cancel_soon (gpointer data)
{
  g_usleep (10 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_batch_cancel (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("wait", wait_for_cancel, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller;

  for (int i = 0; i < 5; i++)
    smartasync_batch_add (batch, op, NULL, NULL);
  canceller = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (smartasync_batch_wait (batch, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);

  for (int i = 0; i < 5; i++)
    {
      g_autoptr(GError) call_error = NULL;

      g_assert_false (smartasync_operation_call_finish_boolean (op, smartasync_batch_get_result (batch, i), &call_error));
      g_assert_error (call_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  smartasync_batch_close (batch);
}

/* Closing with calls pending cancels and finishes them. */
static void
test_batch_close_pending (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("wait", wait_for_cancel, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GError) error = NULL;

  smartasync_batch_add (batch, op, NULL, NULL);
  g_assert_null (smartasync_batch_get_result (batch, 0));
  smartasync_batch_close (batch);
  g_assert_false (smartasync_operation_call_finish_boolean (op, smartasync_batch_get_result (batch, 0), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (g_main_context_get_thread_default ());
}

/* A worker serving many requests reuses its private context: no batch and
 * no loop of its own needed (the "middleware" pattern). */
static gpointer
serve_requests (gpointer data)
{
  SmartasyncOperation *op = data;
  GMainContext *first = NULL;

  for (int i = 0; i < 50; i++)
    {
      g_autofree char *request = g_strdup_printf ("req%d", i);
      g_autofree char *reply = smartasync_operation_call_sync_pointer (op, NULL, g_variant_new_string (request), NULL, NULL);
      g_autofree char *expected = g_ascii_strup (request, -1);

      g_assert_cmpstr (reply, ==, expected);
      if (first == NULL)
        first = smartasync_get_private_context ();
      g_assert_true (smartasync_get_private_context () == first);
    }
  return first;
}

static void
test_worker_reuses_private_context (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  GThread *a = g_thread_new ("worker-a", serve_requests, op);
  GThread *b = g_thread_new ("worker-b", serve_requests, op);
  gpointer context_a = g_thread_join (a);
  gpointer context_b = g_thread_join (b);

  /* Each worker kept one context for all its requests (the pointers may be
   * equal: a context freed at thread exit can be reallocated). */
  g_assert_nonnull (context_a);
  g_assert_nonnull (context_b);
}

typedef struct
{
  SmartasyncOperation *op;
  SmartasyncBatch     *batch;
  GError              *wait_error;
} RefusedBatch;

static gboolean
open_batch_in_loop (gpointer data)
{
  RefusedBatch *refused = data;

  refused->batch = smartasync_batch_new ();
  smartasync_batch_add (refused->batch, refused->op, NULL, g_variant_new_string ("never"));
  g_assert_false (smartasync_batch_wait (refused->batch, NULL, &refused->wait_error));
  smartasync_batch_close (refused->batch);
  return G_SOURCE_REMOVE;
}

static void
test_batch_refused_in_loop (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  RefusedBatch refused = { op, NULL, NULL };
  g_autoptr(GError) error = NULL;

  test_run_in_loop (open_batch_in_loop, &refused);
  g_assert_error (refused.wait_error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  g_clear_error (&refused.wait_error);

  /* The call did not start: its slot reports why, once the loop's context
   * dispatches it. */
  while (smartasync_batch_get_result (refused.batch, 0) == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (smartasync_operation_call_finish_pointer (op, smartasync_batch_get_result (refused.batch, 0), &error));
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  g_object_unref (refused.batch);
}

/* Defect 3a: a fire-and-forget library call that an implementation starts
 * inside a batch completes before the batch closes, never inside a later,
 * unrelated wait of the thread. */
typedef struct
{
  GMutex               mutex;
  GCond                cond;
  gboolean             open;
  guint                done;
  SmartasyncOperation *gated;
} Nested;

static void
gated_blocking (GTask        *task,
                gpointer      source,
                GVariant     *args,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Nested *nested = user_data;

  g_mutex_lock (&nested->mutex);
  while (!nested->open)
    g_cond_wait (&nested->cond, &nested->mutex);
  g_mutex_unlock (&nested->mutex);
  g_task_return_boolean (task, TRUE);
}

static void
nested_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Nested *nested = data;

  g_assert_true (smartasync_operation_call_finish_boolean (nested->gated, result, NULL));
  nested->done++;
}

static void
start_nested_and_complete (GTask        *task,
                           gpointer      source,
                           GVariant     *args,
                           GCancellable *cancellable,
                           gpointer      user_data)
{
  Nested *nested = user_data;

  /* Offloaded, and not waited for by this implementation. */
  smartasync_operation_call_async (nested->gated, NULL, NULL, NULL, nested_done, nested);
  g_task_return_boolean (task, TRUE);
}

static void
test_batch_nested_call_drained (void)
{
  Nested nested = { .open = FALSE, .done = 0 };
  g_autoptr(SmartasyncOperation) outer = NULL;
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(SmartasyncBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *later = NULL;

  g_mutex_init (&nested.mutex);
  g_cond_init (&nested.cond);
  nested.gated = smartasync_operation_new_blocking ("gated", gated_blocking, &nested, NULL);
  outer = smartasync_operation_new_async ("outer", start_nested_and_complete, &nested, NULL);

  batch = smartasync_batch_new ();
  smartasync_batch_add (batch, outer, NULL, NULL);
  g_assert_true (smartasync_batch_wait (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (nested.done, ==, 0);   /* still gated */

  g_mutex_lock (&nested.mutex);
  nested.open = TRUE;
  g_cond_broadcast (&nested.cond);
  g_mutex_unlock (&nested.mutex);
  smartasync_batch_close (batch);
  g_assert_cmpuint (nested.done, ==, 1);

  later = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("l"), NULL, NULL);
  g_assert_cmpstr (later, ==, "L");
  g_assert_cmpuint (nested.done, ==, 1);

  g_object_unref (nested.gated);
  g_mutex_clear (&nested.mutex);
  g_cond_clear (&nested.cond);
}

/* A batch is a scope for many synchronous calls: they reuse its pushed
 * private context, and what one of them leaves behind belongs to the scope,
 * which retires the context when it closes. */
static void
leave_timeout (GTask        *task,
               gpointer      source,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new_seconds (3600);

  g_source_set_callback (timeout, test_set_flag, user_data, NULL);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
  g_task_return_boolean (task, TRUE);
}

static void
test_batch_scope_for_sync_calls (void)
{
  gboolean fired = FALSE;
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(SmartasyncOperation) leaver =
    smartasync_operation_new_async ("leaver", leave_timeout, &fired, NULL);
  g_autoptr(SmartasyncBatch) scope = smartasync_batch_new ();
  GMainContext *context = g_main_context_ref (smartasync_get_private_context ());

  g_assert_true (g_main_context_get_thread_default () == context);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *up =
        smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("s"), NULL, NULL);

      g_assert_cmpstr (up, ==, "S");
      g_assert_true (g_main_context_get_thread_default () == context);
    }

  /* Left inside the scope: the context stays until the scope closes. */
  g_assert_true (smartasync_operation_call_sync_boolean (leaver, NULL, NULL, NULL, NULL));
  g_assert_true (g_main_context_get_thread_default () == context);
  g_assert_true (smartasync_get_private_context () == context);

  smartasync_batch_close (scope);
  g_assert_null (g_main_context_get_thread_default ());
  g_assert_true (smartasync_get_private_context () != context);
  g_main_context_unref (context);
  g_assert_false (fired);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/batch/many-loads", test_batch_many_loads);
  g_test_add_func ("/smartasync/batch/blocking-concurrent", test_batch_blocking_concurrent);
  g_test_add_func ("/smartasync/batch/cancel", test_batch_cancel);
  g_test_add_func ("/smartasync/batch/close-pending", test_batch_close_pending);
  g_test_add_func ("/smartasync/batch/worker-reuses-private-context", test_worker_reuses_private_context);
  g_test_add_func ("/smartasync/batch/refused-in-loop", test_batch_refused_in_loop);
  g_test_add_func ("/smartasync/batch/nested-call-drained", test_batch_nested_call_drained);
  g_test_add_func ("/smartasync/batch/scope-for-sync-calls", test_batch_scope_for_sync_calls);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
