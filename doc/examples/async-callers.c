/* async-callers.c: a blocking library, called from a running main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/async-callers.md quotes. A GMainLoop stands for a GTK
 * application's or a daemon's loop: GTK signal handlers and D-Bus method
 * handlers are dispatched by such a loop, so what holds for the idle below
 * holds for them. A blocking function (a slow checksum) is offloaded from
 * the loop while a timer keeps ticking; a bounded executor caps how many run
 * at once; and a function that must stay on its thread is refused instead of
 * being offloaded. Exits non-zero if anything differs from the guide.
 */

#include <locale.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

/* The "legacy library": blocking, slow, thread-safe. */
static char *
legacy_checksum (const char  *path,
                 GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  g_usleep (50 * G_TIME_SPAN_MILLISECOND);   /* a slow disk, a slow server... */
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
}

/* Wrapped once, as a blocking operation: it completes its task before it
 * returns, and may run on a worker thread. */
static void
checksum_impl (GTask        *task,
               gpointer      source_object,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  GError *error = NULL;
  char *sum = legacy_checksum (g_variant_get_string (args, NULL), &error);

  if (sum != NULL)
    g_task_return_pointer (task, sum, g_free);
  else
    g_task_return_error (task, error);
}

/* The same, counting how many run at once and where, for the checks. */
static GThread *main_thread;
static gint running, most_running, ran_on_main_thread;

static void
counted_checksum_impl (GTask        *task,
                       gpointer      source_object,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data)
{
  gint now = g_atomic_int_add (&running, 1) + 1;
  gint most = g_atomic_int_get (&most_running);

  while (now > most && !g_atomic_int_compare_and_exchange (&most_running, most, now))
    most = g_atomic_int_get (&most_running);
  if (g_thread_self () == main_thread)
    g_atomic_int_inc (&ran_on_main_thread);

  checksum_impl (task, source_object, args, cancellable, user_data);
  g_atomic_int_add (&running, -1);
}

typedef struct
{
  GMainLoop           *loop;
  SmartasyncOperation *checksum_op;
  SmartasyncOperation *ui_op;
  const char          *path;
  guint                ticks;
  guint                pending;
  gboolean             ok;
} App;

/* The loop is never frozen: this timer keeps firing during the work. */
static gboolean
tick (gpointer user_data)
{
  App *app = user_data;

  app->ticks++;
  return G_SOURCE_CONTINUE;
}

static void
on_checksum (GObject      *operation,
             GAsyncResult *result,
             gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *sum =
    smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (operation), result, &error);

  /* Back on the loop's thread: safe to touch widgets here. */
  app->ok &= sum != NULL && g_thread_self () == main_thread;
  if (--app->pending == 0)
    g_main_loop_quit (app->loop);
}

/* Think of it as a button's "clicked" handler. */
static gboolean
on_clicked (gpointer user_data)
{
  App *app = user_data;

  smartasync_operation_call_async (app->checksum_op, NULL, g_variant_new_string (app->path),
                                   NULL, on_checksum, app);
  app->pending++;
  return G_SOURCE_REMOVE;
}

/* The same through the smart call: here, in a loop, it offloads too. */
static gboolean
on_clicked_smart (gpointer user_data)
{
  App *app = user_data;
  g_autoptr(GTask) task = smartasync_operation_call (app->checksum_op, NULL,
                                                     g_variant_new_string (app->path),
                                                     NULL, on_checksum, app);

  g_assert_false (g_task_get_completed (task));   /* pending: the loop goes on */
  app->pending++;
  return G_SOURCE_REMOVE;
}

/* Six clicks at once, through an executor of two threads. */
static gboolean
on_six_clicks (gpointer user_data)
{
  App *app = user_data;

  for (guint i = 0; i < 6; i++)
    on_clicked (app);
  return G_SOURCE_REMOVE;
}

/* A function that must run on the thread that calls it, such as one that
 * touches GTK widgets or calls back into JavaScript under GJS. */
static void
refresh_ui_impl (GTask        *task,
                 gpointer      source_object,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  g_task_return_boolean (task, g_thread_self () == main_thread);
}

static void
on_refreshed (GObject      *operation,
              GAsyncResult *result,
              gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!smartasync_operation_call_finish_boolean (SMARTASYNC_OPERATION (operation), result, &error))
    {
      g_print ("refused: %s\n", error->message);
      app->ok &= g_error_matches (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED);
    }
  else
    app->ok = FALSE;
  if (--app->pending == 0)
    g_main_loop_quit (app->loop);
}

static gboolean
on_refresh_clicked (gpointer user_data)
{
  App *app = user_data;

  smartasync_operation_call_async (app->ui_op, NULL, NULL, NULL, on_refreshed, app);
  app->pending++;
  return G_SOURCE_REMOVE;
}

static void
run_loop (App         *app,
          GSourceFunc  handler)
{
  guint timer = g_timeout_add (5, tick, app);

  app->ticks = 0;
  g_idle_add (handler, app);
  g_main_loop_run (app->loop);
  g_source_remove (timer);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SmartasyncExecutor) executor = NULL;
  g_autofree char *path = NULL;
  App app = { NULL, NULL, NULL, NULL, 0, 0, TRUE };
  int fd;

  setlocale (LC_ALL, "");
  main_thread = g_thread_self ();
  fd = g_file_open_tmp ("smartasync-async-XXXXXX", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, "blocking work, off the loop\n", -1, &error);
  g_assert_no_error (error);

  app.loop = g_main_loop_new (NULL, FALSE);
  app.path = path;
  app.checksum_op = smartasync_operation_new_blocking ("checksum", counted_checksum_impl,
                                                      NULL, NULL);

  run_loop (&app, on_clicked);
  g_print ("offloaded: the loop ticked %u times meanwhile\n", app.ticks);
  app.ok &= app.ticks > 0 && g_atomic_int_get (&ran_on_main_thread) == 0;

  run_loop (&app, on_clicked_smart);
  app.ok &= g_atomic_int_get (&ran_on_main_thread) == 0;

  executor = smartasync_executor_new (2);
  smartasync_operation_set_executor (app.checksum_op, executor);
  g_atomic_int_set (&most_running, 0);
  run_loop (&app, on_six_clicks);
  g_print ("six calls on an executor of 2 threads: at most %d at once\n", most_running);
  app.ok &= most_running <= 2;

  app.ui_op = smartasync_operation_new_blocking ("refresh-ui", refresh_ui_impl, NULL, NULL);
  g_object_set (app.ui_op, "thread-safe", FALSE, NULL);
  run_loop (&app, on_refresh_clicked);

  /* From a sync context, the same operation simply runs here. */
  app.ok &= smartasync_operation_call_sync_boolean (app.ui_op, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_object_unref (app.ui_op);
  g_object_unref (app.checksum_op);
  g_main_loop_unref (app.loop);
  g_unlink (path);
  return app.ok ? 0 : 1;
}
