/* batch.c: many calls at once from sync code, and contexts per worker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/batch.md quotes: the GLib versions of the Python
 * SmartAsync's loop-reuse patterns. A batch runs eight slow calls
 * concurrently and one that fails, and reads the results in call order; a
 * pool of worker threads serves requests with synchronous calls, each worker
 * reusing its own private context with no set-up; and a worker that wants a
 * context per request adopts one and drops it. Exits non-zero if anything
 * differs from the guide.
 */

#include <locale.h>

#include <smartasync-glib.h>

/* A slow blocking operation: squares a number in 30 ms, fails on 13. */
static void
square_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  gint32 n = g_variant_get_int32 (args);

  g_usleep (30 * G_TIME_SPAN_MILLISECOND);
  if (n == 13)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unlucky number");
  else
    g_task_return_int (task, n * n);
}

static gboolean
gather (SmartasyncOperation *square_op)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GError) error = NULL;
  gint32 numbers[] = { 1, 2, 3, 4, 13, 5, 6, 7, 8 };
  gint64 started = g_get_monotonic_time ();
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    smartasync_batch_add (batch, square_op, NULL, g_variant_new_int32 (numbers[i]));

  if (!smartasync_batch_wait (batch, NULL, &error))
    g_error ("the wait failed: %s", error->message);

  for (guint i = 0; i < smartasync_batch_get_size (batch); i++)
    {
      g_autoptr(GError) call_error = NULL;
      gssize square = smartasync_operation_call_finish_int (square_op,
                                                            smartasync_batch_get_result (batch, i),
                                                            &call_error);

      if (call_error != NULL)
        g_print ("  %d: %s\n", numbers[i], call_error->message);
      ok &= call_error != NULL ? numbers[i] == 13 : square == numbers[i] * numbers[i];
    }
  smartasync_batch_close (batch);

  g_print ("batch of %u calls of 30 ms each: %.0f ms\n", (guint) G_N_ELEMENTS (numbers),
           (g_get_monotonic_time () - started) / 1000.0);
  return ok;
}

/* An asynchronous operation that completes from the thread-default context,
 * as GIO operations do. */
static gboolean
return_key (gpointer user_data)
{
  GTask *task = user_data;

  g_task_return_pointer (task, g_strdup (g_task_get_task_data (task)), g_free);
  return G_SOURCE_REMOVE;
}

static void
lookup_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  GSource *idle = g_idle_source_new ();

  g_task_set_task_data (task, g_variant_dup_string (args, NULL), g_free);
  g_source_set_callback (idle, return_key, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

static SmartasyncOperation *lookup_op;
static gint mismatches;

/* A request handler on a worker thread: plain synchronous calls. Each
 * worker's private context is created by its first call and reused by every
 * later one, for as long as the thread lives. */
static GPrivate first_context;

static void
handle_request (gpointer request,
                gpointer pool_data)
{
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *value = smartasync_operation_call_sync_pointer (lookup_op, NULL,
                                                                       g_variant_new_string (request),
                                                                       NULL, NULL);

      if (g_strcmp0 (value, request) != 0)
        g_atomic_int_inc (&mismatches);
    }

  if (g_private_get (&first_context) == NULL)
    g_private_set (&first_context, smartasync_get_private_context ());
  else if (g_private_get (&first_context) != smartasync_get_private_context ())
    g_atomic_int_inc (&mismatches);

  g_free (request);
}

/* A worker that wants a fresh context per request, as a middleware that
 * creates a loop per request would: it adopts one and drops it at the end. */
static void
handle_request_own_context (gpointer request,
                            gpointer pool_data)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(GTask) task = NULL;

  smartasync_set_private_context (context);
  task = smartasync_operation_call (lookup_op, NULL, g_variant_new_string (request),
                                    NULL, NULL, NULL);
  if (g_task_get_context (task) != context)
    g_atomic_int_inc (&mismatches);
  smartasync_set_private_context (NULL);   /* back to a private one */

  g_main_context_unref (context);
  g_free (request);
}

static gboolean
serve (GFunc handler)
{
  GThreadPool *pool = g_thread_pool_new (handler, NULL, 3, TRUE, NULL);

  g_atomic_int_set (&mismatches, 0);
  for (guint i = 0; i < 12; i++)
    g_thread_pool_push (pool, g_strdup_printf ("request-%u", i), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);

  return g_atomic_int_get (&mismatches) == 0;
}

int
main (void)
{
  g_autoptr(SmartasyncOperation) square_op =
    smartasync_operation_new_blocking ("square", square_impl, NULL, NULL);
  gboolean ok = TRUE;

  setlocale (LC_ALL, "");
  lookup_op = smartasync_operation_new_async ("lookup", lookup_impl, NULL, NULL);

  ok &= gather (square_op);

  ok &= serve (handle_request);
  g_print ("3 workers, 12 requests, 36 calls: one private context per worker %s\n",
           ok ? "OK" : "FAILED");

  ok &= serve (handle_request_own_context);
  g_print ("3 workers, a context per request: %s\n", ok ? "OK" : "FAILED");

  g_object_unref (lookup_op);
  return ok ? 0 : 1;
}
