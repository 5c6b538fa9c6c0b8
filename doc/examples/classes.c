/* classes.c: the usage examples of the class pages of the reference
 * (SmartasyncOperation, SmartasyncLock, SmartasyncExecutor, SmartasyncBatch,
 * SmartasyncWaiter). Each block of a class's doc comment is a verbatim excerpt
 * of this program (doc/check-snippets.py checks it), which the 'docs' suite
 * builds and runs: it exits non-zero when an example does not do what its
 * page says.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <smartasync-glib.h>

static int failures;

static void
expect (const char *what,
        gboolean    ok)
{
  g_print ("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok)
    failures++;
}

/* A blocking implementation: doubles its argument. */
static void
double_it (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  g_task_return_int (task, 2 * g_variant_get_int32 (args));
}

/* The same, returning a GValue, as implementations run through a lock do. */
static void
double_value (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 2 * g_variant_get_int32 (args));
  g_task_return_value (task, &value);
}

static void
example_operation (void)
{
  g_autoptr(GError) error = NULL;
  gssize result;

  /* Written once, callable from anywhere: from a thread without a running
   * loop the call just returns the result. */
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", double_it, NULL, NULL);

  result = smartasync_operation_call_sync_int (op, NULL, g_variant_new_int32 (21),
                                               NULL, &error);
  g_assert_no_error (error);
  g_print ("double (21) = %" G_GSSIZE_FORMAT "\n", result);

  expect ("Operation: call_sync_int returns the result", result == 42);
}

static void
example_lock (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", double_value, NULL, NULL);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  /* One lock for the resource; every caller that asks for the same key
   * while a run is in flight joins it instead of starting another. */
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();

  if (smartasync_lock_run_sync (lock, "report:2026-11", op, NULL,
                                g_variant_new_int32 (21), NULL, &value, &error))
    g_print ("report = %d, %u execution(s)\n", g_value_get_int (&value),
             smartasync_lock_get_executions (lock));

  expect ("Lock: run_sync gives the run's result", G_VALUE_HOLDS_INT (&value) &&
          g_value_get_int (&value) == 42);
}

static void
example_executor (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", double_it, NULL, NULL);

  /* At most two threads for this operation's blocking work, instead of
   * GLib's shared pool. */
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);

  smartasync_operation_set_executor (op, executor);

  expect ("Executor: set on the operation", smartasync_executor_get_max_threads (executor) == 2);
}

static void
example_batch (void)
{
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("double", double_it, NULL, NULL);
  gssize sum = 0;

  /* Many calls at once from sync code, then one wait for all of them;
   * results in call order. */
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();

  for (gint32 i = 1; i <= 10; i++)
    smartasync_batch_add (batch, op, NULL, g_variant_new_int32 (i));
  if (smartasync_batch_wait (batch, NULL, NULL))
    for (guint i = 0; i < smartasync_batch_get_size (batch); i++)
      sum += smartasync_operation_call_finish_int (op, smartasync_batch_get_result (batch, i),
                                                   NULL);

  expect ("Batch: every result, in call order", sum == 110);
}

static void
example_waiter (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  /* Any GIO _async function, waited for on this thread's private context:
   * the waiter is the callback's user data. */
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_file_load_contents_async (file, NULL, smartasync_waiter_callback, waiter);
  res = smartasync_waiter_wait (waiter, NULL, &error);
  if (res != NULL)
    g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);

  expect ("Waiter: the file's contents", error == NULL && length > 0 &&
          strstr (contents, "classes.c") != NULL);
}

int
main (int   argc,
      char *argv[])
{
  const char *srcdir = g_getenv ("G_TEST_SRCDIR");
  g_autofree char *self = g_build_filename (srcdir != NULL ? srcdir : ".", "examples",
                                            "classes.c", NULL);

  example_operation ();
  example_lock ();
  example_executor ();
  example_batch ();
  example_waiter (self);

  return failures == 0 ? 0 : 1;
}
