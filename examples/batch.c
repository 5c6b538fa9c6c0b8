/* batch.c: load many files concurrently from a plain synchronous program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* No main loop anywhere: main() writes small files in a temporary directory,
 * then loads them twice through one SmartasyncOperation that wraps
 * g_file_load_contents_async():
 *
 * 1. one by one, with smartasync_operation_call_sync_pointer(): each call
 *    waits for its load before the next one starts;
 * 2. all at once, in a SmartasyncBatch: every load is started first, then
 *    one wait lets them all progress together on the thread's private
 *    context (GIO runs local file I/O on its worker threads).
 *
 * One path in the middle names a file that does not exist: that call, and
 * only that one, fails with G_IO_ERROR_NOT_FOUND. Results come back in call
 * order, whatever order the loads complete in.
 *
 * Usage: smartasync-batch [files, default 200]
 * The exit status is non-zero if a result is not the expected one.
 */

#include <locale.h>
#include <string.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

#define FILE_SIZE (16 * 1024)

typedef struct
{
  char    *tmpdir;
  char   **paths;       /* n_paths entries, NULL-terminated */
  guint    n_paths;
  guint    missing;     /* the index of the path that does not exist */
} Files;

/* The implementation: plain GIO code, that completes its task from the
 * load's callback. The load binds to the context the bridge pushed: the
 * thread's private one, the same for a single call and for a batch. */
static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *contents;
  gsize length;

  if (g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    g_task_return_pointer (task, g_bytes_new_take (contents, length),
                           (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

static void
load_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (args, NULL));

  g_file_load_contents_async (file, cancellable, load_done, g_object_ref (task));
}

/* File i starts with "file <i>\n": a result in the wrong slot shows. */
static char *
expected_contents (guint i)
{
  char *contents = g_malloc (FILE_SIZE);
  int len = g_snprintf (contents, FILE_SIZE, "file %u\n", i);

  memset (contents + len, 'a' + i % 26, FILE_SIZE - len);
  return contents;
}

static gboolean
files_create (Files   *files,
              guint    n,
              GError **error)
{
  files->tmpdir = g_dir_make_tmp ("smartasync-batch-XXXXXX", error);
  if (files->tmpdir == NULL)
    return FALSE;

  files->paths = g_new0 (char *, n + 1);
  files->n_paths = n;
  files->missing = n / 2;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%03u.txt", i);
      g_autofree char *contents = NULL;

      files->paths[i] = g_build_filename (files->tmpdir, i == files->missing ? "missing.txt" : name,
                                          NULL);
      if (i == files->missing)
        continue;
      contents = expected_contents (i);
      if (!g_file_set_contents (files->paths[i], contents, FILE_SIZE, error))
        return FALSE;
    }
  return TRUE;
}

static void
files_clear (Files *files)
{
  /* paths ends early if files_create() failed half-way. */
  for (guint i = 0; files->paths != NULL && files->paths[i] != NULL; i++)
    if (i != files->missing)
      g_unlink (files->paths[i]);
  if (files->tmpdir != NULL && g_rmdir (files->tmpdir) != 0)
    g_printerr ("Could not remove %s\n", files->tmpdir);
  g_clear_pointer (&files->paths, g_strfreev);
  g_clear_pointer (&files->tmpdir, g_free);
}

/* Checks one result: the contents of file i, or NOT_FOUND for the missing
 * one. */
static gboolean
check_result (Files        *files,
              guint         i,
              GBytes       *bytes,
              const GError *error)
{
  g_autofree char *expected = NULL;

  if (i == files->missing)
    return bytes == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  if (bytes == NULL)
    {
      g_printerr ("   call #%u failed: %s\n", i, error->message);
      return FALSE;
    }

  expected = expected_contents (i);
  return g_bytes_get_size (bytes) == FILE_SIZE &&
         memcmp (g_bytes_get_data (bytes, NULL), expected, FILE_SIZE) == 0;
}

static void
print_row (const char *what,
           guint       loaded,
           guint       n,
           gint64      us)
{
  g_print ("   %-30s %4u loaded, %4u failed %9.1f ms\n", what, loaded, n - loaded, us / 1000.0);
}

static gint64
load_one_by_one (SmartasyncOperation *load_op,
                 Files               *files,
                 guint               *n_ok)
{
  gint64 started = g_get_monotonic_time ();
  gint64 elapsed;
  guint loaded = 0;

  *n_ok = 0;
  for (guint i = 0; i < files->n_paths; i++)
    {
      g_autoptr(GError) error = NULL;
      GVariant *args = g_variant_new_string (files->paths[i]);
      g_autoptr(GBytes) bytes = smartasync_operation_call_sync_pointer (load_op, NULL, args,
                                                                        NULL, &error);

      loaded += bytes != NULL;
      *n_ok += check_result (files, i, bytes, error);
    }
  elapsed = g_get_monotonic_time () - started;
  print_row ("one by one, call_sync_pointer", loaded, files->n_paths, elapsed);
  return elapsed;
}

/* Reads the results in call order, after the wait: each call's error stays
 * with its own result. */
static gint64
load_in_batch (SmartasyncOperation *load_op,
               Files               *files,
               guint               *n_ok)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(GError) wait_error = NULL;
  g_autofree char *missing_message = NULL;
  gint64 started = g_get_monotonic_time ();
  gint64 elapsed;
  guint loaded = 0;

  *n_ok = 0;
  for (guint i = 0; i < files->n_paths; i++)
    smartasync_batch_add (batch, load_op, NULL, g_variant_new_string (files->paths[i]));

  if (smartasync_batch_wait (batch, NULL, &wait_error))
    for (guint i = 0; i < files->n_paths; i++)
      {
        g_autoptr(GError) error = NULL;
        GAsyncResult *result = smartasync_batch_get_result (batch, i);
        g_autoptr(GBytes) bytes = smartasync_operation_call_finish_pointer (load_op, result,
                                                                            &error);

        if (i == files->missing)
          missing_message = g_strdup_printf ("call #%u, %s: %s", i,
                                             strrchr (files->paths[i], G_DIR_SEPARATOR) + 1,
                                             error ? error->message : "no error!");
        loaded += bytes != NULL;
        *n_ok += check_result (files, i, bytes, error);
      }
  else
    g_printerr ("   batch wait failed: %s\n", wait_error->message);
  smartasync_batch_close (batch);

  elapsed = g_get_monotonic_time () - started;
  print_row ("SmartasyncBatch, all at once", loaded, files->n_paths, elapsed);
  if (missing_message != NULL)
    g_print ("     %s\n", missing_message);
  return elapsed;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SmartasyncOperation) load_op = NULL;
  g_autoptr(GError) error = NULL;
  Files files = { 0 };
  guint64 n = 200;
  guint ok_single = 0, ok_batch = 0;
  gint64 t_single, t_batch;
  gboolean ok;

  setlocale (LC_ALL, "");
  if (argc > 2 || (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 2, 999, &n, NULL)))
    {
      g_printerr ("Usage: %s [files, 2-999, default 200]\n", argv[0]);
      return 2;
    }

  if (!files_create (&files, (guint) n, &error))
    {
      g_printerr ("smartasync-batch: %s\n", error->message);
      files_clear (&files);
      return 1;
    }

  g_print ("smartasync-glib %s batch: %u files of %d KiB in %s, one of them missing; "
           "no main loop\n", SMARTASYNC_VERSION_S, files.n_paths, FILE_SIZE / 1024, files.tmpdir);
  load_op = smartasync_operation_new_async ("load-file", load_impl, NULL, NULL);

  /* The files were just written: both runs read them from the page cache,
   * so what differs is the waiting, not the disk. */
  t_single = load_one_by_one (load_op, &files, &ok_single);
  t_batch = load_in_batch (load_op, &files, &ok_batch);
  g_print ("   the batch was %.1fx as fast as the one by one loads\n",
           (double) t_single / MAX (t_batch, 1));

  /* check_result() also counts the missing file's expected error. */
  ok = ok_single == files.n_paths && ok_batch == files.n_paths;
  if (ok)
    g_print ("OK: every result in its slot, one NOT_FOUND error for the missing file only.\n");
  else
    g_printerr ("smartasync-batch failed: %u and %u of %u results as expected\n",
                ok_single, ok_batch, files.n_paths);

  files_clear (&files);
  g_clear_object (&load_op);
  smartasync_reset ();
  return ok ? 0 : 1;
}
