/* sync-callers.c: GIO's asynchronous API, called from code with no loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/sync-callers.md quotes: a command-line tool that
 * writes and reads files with GIO's _async functions and no main loop, four
 * worker threads doing the same at once, a wait abandoned through its
 * cancellable, and the same wait refused (instead of freezing the loop)
 * once a main loop runs. Exits non-zero if anything differs from the guide.
 */

#include <locale.h>
#include <string.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

/* One GIO call, waited for in one expression. */
static char *
read_file (const char  *path,
           GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) res = NULL;
  char *contents = NULL;

  res = SMARTASYNC_WAIT (error, NULL, g_file_load_contents_async, file, NULL);
  if (res == NULL)
    return NULL;   /* the wait itself failed */

  if (!g_file_load_contents_finish (file, res, &contents, NULL, NULL, error))
    return NULL;   /* the operation failed */

  return contents;
}

/* The same, with the three calls the macro makes spelled out: for compilers
 * without statement expressions, or to start the operation conditionally. */
static gboolean
write_file (const char  *path,
            const char  *text,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_file_replace_contents_async (file, text, strlen (text), NULL, FALSE,
                                 G_FILE_CREATE_NONE, NULL,
                                 smartasync_waiter_callback, waiter);
  res = smartasync_waiter_wait (waiter, NULL, error);

  return res != NULL &&
         g_file_replace_contents_finish (file, res, NULL, error);
}

/* Worker threads: each one has its own private context, created by its
 * first wait and reused by the next ones. */
typedef struct
{
  char         *path;
  GMainContext *main_context;   /* main()'s private context */
  gboolean      ok;
} Job;

static gpointer
worker (gpointer data)
{
  Job *job = data;
  GMainContext *first = NULL;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = g_strdup_printf ("round %u\n", i);
      g_autofree char *back = NULL;

      if (!write_file (job->path, text, &error) ||
          (back = read_file (job->path, &error)) == NULL)
        {
          g_printerr ("worker: %s\n", error->message);
          return NULL;
        }
      if (g_strcmp0 (back, text) != 0)
        return NULL;
      if (first == NULL)
        first = smartasync_get_private_context ();
    }

  job->ok = first == smartasync_get_private_context () && first != job->main_context;
  return NULL;
}

/* A wait that gives up when its cancellable is cancelled, here from
 * another thread after a little while. */
static gpointer
cancel_soon (gpointer cancellable)
{
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (cancellable);
  return NULL;
}

static gboolean
wait_for_sleep_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSubprocess) sleeper = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  GThread *canceller;
  gint64 started = g_get_monotonic_time ();

  sleeper = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "sleep", "30", NULL);
  g_assert_no_error (error);

  canceller = g_thread_new ("cancel-soon", cancel_soon, cancellable);
  /* The first cancellable abandons the wait, the second cancels the
   * operation itself: whichever reports first, the error is CANCELLED. */
  res = SMARTASYNC_WAIT (&error, cancellable, g_subprocess_wait_async, sleeper, cancellable);
  if (res != NULL)
    g_subprocess_wait_finish (sleeper, res, &error);
  g_thread_join (canceller);

  g_subprocess_force_exit (sleeper);
  g_print ("wait for `sleep 30` cancelled after %.1f s: %s\n",
           (g_get_monotonic_time () - started) / (double) G_TIME_SPAN_SECOND, error->message);

  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Once a loop runs, the same wait is refused rather than freezing it. */
typedef struct
{
  GMainLoop  *loop;
  const char *path;
  gboolean    refused;
} InLoop;

static void
on_loaded (GObject      *file,
           GAsyncResult *res,
           gpointer      user_data)
{
  InLoop *in_loop = user_data;
  g_autofree char *contents = NULL;

  if (g_file_load_contents_finish (G_FILE (file), res, &contents, NULL, NULL, NULL))
    g_print ("from the loop, asynchronously: %s", contents);
  g_main_loop_quit (in_loop->loop);
}

static gboolean
on_idle (gpointer user_data)
{
  InLoop *in_loop = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = read_file (in_loop->path, &error);
  g_autoptr(GFile) file = NULL;

  if (contents == NULL && g_error_matches (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK))
    {
      g_print ("refused: %s\n", error->message);
      in_loop->refused = TRUE;

      /* In a loop, use the asynchronous call. */
      file = g_file_new_for_path (in_loop->path);
      g_file_load_contents_async (file, NULL, on_loaded, in_loop);
    }
  else
    g_main_loop_quit (in_loop->loop);

  return G_SOURCE_REMOVE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("smartasync-sync-XXXXXX", &error);
  g_autofree char *config = g_build_filename (dir, "config.ini", NULL);
  g_autofree char *text = NULL;
  Job jobs[4];
  GThread *threads[4];
  InLoop in_loop = { NULL, config, FALSE };
  gboolean ok = TRUE;

  setlocale (LC_ALL, "");
  g_assert_no_error (error);

  /* main(), before any loop: a command-line tool's whole life. */
  if (!write_file (config, "[main]\nanswer=42\n", &error) ||
      (text = read_file (config, &error)) == NULL)
    g_error ("%s", error->message);
  g_print ("main(), no loop: %zu bytes written and read back\n", strlen (text));

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i] = (Job) { g_strdup_printf ("%s/worker-%u.txt", dir, i),
                        smartasync_get_private_context (), FALSE };
      threads[i] = g_thread_new ("worker", worker, &jobs[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_thread_join (threads[i]);
      ok &= jobs[i].ok;
      g_unlink (jobs[i].path);
      g_free (jobs[i].path);
    }
  g_print ("4 worker threads: 20 waits each, %s\n", ok ? "each on its own private context" : "FAILED");

  ok &= wait_for_sleep_cancelled ();

  in_loop.loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (on_idle, &in_loop);
  g_main_loop_run (in_loop.loop);
  g_main_loop_unref (in_loop.loop);
  ok &= in_loop.refused;

  g_unlink (config);
  g_rmdir (dir);
  return ok ? 0 : 1;
}
