/* dispatch.c: what smartasync_in_async_context() answers, case by case
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/dispatch.md quotes. Each function checks one case of
 * the detection rule and records the answer; main() compares every answer
 * with the one the guide gives and exits non-zero on a difference.
 */

#include <smartasync-glib.h>

static gboolean failed;

static void
expect (const char *where,
        gboolean    in_async_context,
        gboolean    expected)
{
  g_print ("%-56s %s\n", where, in_async_context ? "async" : "sync");
  if (in_async_context != expected)
    {
      g_printerr ("  expected %s\n", expected ? "async" : "sync");
      failed = TRUE;
    }
}

/* Case: main() before any loop runs. */
static void
check_main_before_loop (void)
{
  expect ("main() before any loop", smartasync_in_async_context (), FALSE);
}

/* Case: an idle dispatched by g_main_loop_run(). */
static gboolean
idle_in_loop (gpointer loop)
{
  expect ("idle dispatched by g_main_loop_run()", smartasync_in_async_context (), TRUE);

  /* The override wins over detection, for the scope it is pushed. */
  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  expect ("same idle, SMARTASYNC_MODE_SYNC pushed", smartasync_in_async_context (), FALSE);
  smartasync_pop_mode ();

  /* In C, a scope guard pops the mode when the block ends. */
  {
    g_autoptr(SmartasyncModeScope) G_GNUC_UNUSED scope =
      smartasync_mode_scope_new (SMARTASYNC_MODE_SYNC);

    expect ("same idle, in a SmartasyncModeScope", smartasync_in_async_context (), FALSE);
  }
  expect ("same idle, after the scope", smartasync_in_async_context (), TRUE);

  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
check_idle_in_loop (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_idle_add (idle_in_loop, loop);
  g_main_loop_run (loop);
}

/* Case: a worker thread of g_task_run_in_thread(). */
static void
worker (GTask        *task,
        gpointer      source_object,
        gpointer      task_data,
        GCancellable *cancellable)
{
  g_task_return_boolean (task, smartasync_in_async_context ());
}

static void
check_task_worker (void)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_run_in_thread_sync (task, worker);
  expect ("worker thread of g_task_run_in_thread()",
          g_task_propagate_boolean (task, NULL), FALSE);
}

/* Case: a thread that pushed its own context, before and while it runs it. */
static gboolean
idle_on_own_context (gpointer loop)
{
  expect ("thread's own context, dispatched by its loop", smartasync_in_async_context (), TRUE);
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
thread_with_own_context (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (context, FALSE);
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (context);
  expect ("thread's own context pushed, not iterated yet", smartasync_in_async_context (), FALSE);

  g_source_set_callback (idle, idle_on_own_context, loop, NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  g_main_loop_run (loop);

  g_main_context_pop_thread_default (context);
  g_main_loop_unref (loop);
  g_main_context_unref (context);
  return NULL;
}

static void
check_thread_own_context (void)
{
  g_thread_join (g_thread_new ("own-context", thread_with_own_context, NULL));
}

/* Case: code dispatched by the library's own private-context wait. An
 * implementation schedules an idle on the thread-default context, which
 * during a synchronous call is the thread's private one. */
static gboolean
idle_during_wait (gpointer user_data)
{
  GTask *task = user_data;

  expect ("idle dispatched during a synchronous wait", smartasync_in_async_context (), TRUE);
  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
later_impl (GTask        *task,
            gpointer      source_object,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  GSource *idle = g_idle_source_new ();

  expect ("asynchronous implementation, called synchronously",
          smartasync_in_async_context (), TRUE);
  g_source_set_callback (idle, idle_during_wait, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

static void
check_inside_private_wait (void)
{
  g_autoptr(SmartasyncOperation) later =
    smartasync_operation_new_async ("later", later_impl, NULL, NULL);

  g_assert_true (smartasync_operation_call_sync_boolean (later, NULL, NULL, NULL, NULL));
}

/* Case: the global default context dispatches while another context is
 * thread-default and nobody iterates it. */
static gboolean
idle_on_default (gpointer user_data)
{
  gboolean *dispatched = user_data;

  expect ("global default dispatching, other context pushed", smartasync_in_async_context (), FALSE);
  *dispatched = TRUE;
  return G_SOURCE_REMOVE;
}

static void
check_default_dispatch_other_pushed (void)
{
  GMainContext *other = g_main_context_new ();
  gboolean dispatched = FALSE;

  g_idle_add (idle_on_default, &dispatched);
  g_main_context_push_thread_default (other);
  while (!dispatched)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_pop_thread_default (other);
  g_main_context_unref (other);
}

/* Case: GApplication's handlers. */
static void
on_startup (GApplication *app)
{
  expect ("GApplication::startup", smartasync_in_async_context (), FALSE);
}

static void
upper_impl (GTask        *task,
            gpointer      source_object,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  g_task_return_pointer (task, g_utf8_strup (g_variant_get_string (args, NULL), -1), g_free);
}

static void
on_upper_done (GObject      *operation,
               GAsyncResult *result,
               gpointer      user_data)
{
  GApplication *app = user_data;
  g_autofree char *upper =
    smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (operation), result, NULL);

  g_print ("%-56s %s\n", "  ... the pending call completed on the app's loop:", upper);
  g_application_release (app);
}

static void
on_activate (GApplication        *app,
             SmartasyncOperation *upper)
{
  g_autoptr(GTask) done = NULL;
  g_autoptr(GTask) pending = NULL;

  expect ("GApplication::activate", smartasync_in_async_context (), FALSE);

  /* A smart call made here blocks until done, on the private context. */
  done = smartasync_operation_call (upper, NULL, g_variant_new_string ("now"), NULL, NULL, NULL);
  g_assert_true (g_task_get_completed (done));

  /* To get a pending task that completes once the application's loop runs,
   * say so. */
  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  expect ("GApplication::activate, SMARTASYNC_MODE_ASYNC pushed",
          smartasync_in_async_context (), TRUE);
  g_application_hold (app);
  pending = smartasync_operation_call (upper, NULL, g_variant_new_string ("later"), NULL,
                                       on_upper_done, app);
  smartasync_pop_mode ();
  g_assert_false (g_task_get_completed (pending));
}

static void
check_application_handlers (void)
{
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", upper_impl, NULL, NULL);
  g_autoptr(GApplication) app =
    g_application_new ("org.example.SmartasyncDispatch", G_APPLICATION_NON_UNIQUE);

  g_signal_connect (app, "startup", G_CALLBACK (on_startup), NULL);
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), upper);
  g_application_run (app, 0, NULL);
}

int
main (void)
{
  check_main_before_loop ();
  check_idle_in_loop ();
  check_task_worker ();
  check_thread_own_context ();
  check_inside_private_wait ();
  check_default_dispatch_other_pushed ();
  check_application_handlers ();

  return failed ? 1 : 0;
}
