/* demo.c: one implementation per operation, called from every kind of caller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Runs real GIO work through the dispatch matrix and reports what happened:
 * an async implementation (file loads) and a blocking one (SHA-256), each
 * called with the same smart call from plain main() and from inside a running
 * GMainLoop, then through a bounded executor.
 *
 * Usage: smartasync-demo [MiB to hash, default 64]
 */

#include <locale.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

#define N_FILES      3
#define FILE_SIZE    (256 * 1024)
#define N_PARTS      4
#define EXEC_THREADS 2

/* Instrumentation for the report, updated by whichever thread hashes. */
static GThread *main_thread;
static gint     hashes_off_main;
static gint     hashes_running;
static gint     hashes_peak;

typedef struct _Demo Demo;
typedef void (*DemoStep) (Demo *demo);

struct _Demo
{
  GMainLoop           *loop;
  SmartasyncOperation *load_op;
  SmartasyncOperation *hash_op;
  GFile               *files[N_FILES];
  char                *tmpdir;
  gsize                data_size;   /* bytes to hash */
  char                *sync_hex;    /* the hash computed from main() */
  char                *hex;         /* the latest hash */
  GError              *error;       /* the first failure */
  guint                ticks;       /* of a 1 ms timer, while the loop runs */
  guint                ticker_id;
  guint                spins;       /* loop iterations while loads are pending */
  guint                spinner_id;

  /* The step in progress: @then runs once its last callback has arrived. */
  DemoStep             then;
  guint                pending;
  guint                callbacks;
  gsize                bytes;
  guint                ticks_at_start;
  gint64               started;
};

/* Prints what was done, its outcome and the time since the step began.
 * ASCII only in the columns (printf pads bytes, not characters); the unit
 * comes last, so a multibyte µ cannot shift anything. */
static void G_GNUC_PRINTF (3, 4)
print_row (Demo       *demo,
           const char *what,
           const char *format,
           ...)
{
  gint64 us = g_get_monotonic_time () - demo->started;
  g_autofree char *outcome = NULL;
  va_list args;

  va_start (args, format);
  outcome = g_strdup_vprintf (format, args);
  va_end (args);

  if (us < 1000)
    g_print ("   %-38s %-36s %7" G_GINT64_FORMAT " %s\n", what, outcome, us,
             g_get_charset (NULL) ? "µs" : "us");
  else
    g_print ("   %-38s %-36s %7.1f ms\n", what, outcome, us / 1000.0);
}

static void
print_section (const char *title)
{
  g_print ("\n%-62s in_async_context() = %s\n", title,
           smartasync_in_async_context () ? "async" : "sync");
}

static void
begin_step (Demo     *demo,
            guint     pending,
            DemoStep  then)
{
  demo->then = then;
  demo->pending = pending;
  demo->callbacks = demo->bytes = demo->spins = 0;
  demo->ticks_at_start = demo->ticks;
  g_atomic_int_set (&hashes_off_main, 0);
  g_atomic_int_set (&hashes_peak, 0);
  demo->started = g_get_monotonic_time ();
}

/* Keeps the first error (taking ownership); the remaining steps are skipped. */
static void
fail (Demo   *demo,
      GError *error)
{
  if (demo->error == NULL)
    demo->error = error;
  else
    g_error_free (error);
  if (demo->loop != NULL)
    g_main_loop_quit (demo->loop);
}

static void
step_done (Demo *demo)
{
  DemoStep then = demo->then;

  if (--demo->pending > 0 || demo->error != NULL || then == NULL)
    return;
  demo->then = NULL;
  then (demo);
}

/* The async implementation is plain GIO code that completes its task from
 * the load's callback. The load binds to the context the bridge pushed:
 * the thread's private one in a sync context, the caller's in an async one. */
static void
load_file_done (GObject      *source,
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
load_file_impl (GTask        *task,
                gpointer      source_object,
                GVariant     *args,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_file_load_contents_async (G_FILE (source_object), cancellable,
                              load_file_done, g_object_ref (task));
}

/* The blocking implementation hashes all the data, or the (tt) offset and
 * length range of it. It may run on any thread, so it only reads immutable
 * data and updates atomics. */
static void
hash_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  gsize size;
  const guchar *data = g_bytes_get_data (user_data, &size);
  guint64 offset = 0, length = size;
  gint running = g_atomic_int_add (&hashes_running, 1) + 1;
  char *hex = NULL;
  gint peak;

  while (running > (peak = g_atomic_int_get (&hashes_peak)) &&
         !g_atomic_int_compare_and_exchange (&hashes_peak, peak, running))
    ;
  if (g_thread_self () != main_thread)
    g_atomic_int_inc (&hashes_off_main);

  if (args != NULL)
    g_variant_get (args, "(tt)", &offset, &length);
  if (offset <= size && length <= size - offset)
    hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data + offset, length);

  /* Done before returning: the callback may start the next step at once. */
  g_atomic_int_add (&hashes_running, -1);
  if (hex != NULL)
    g_task_return_pointer (task, hex, g_free);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "Range outside the %" G_GSIZE_FORMAT " bytes of data", size);
}

/* One callback per operation serves both kinds of callers: in a sync context
 * it has run when the smart call returns, in an async one it runs on the loop. */
static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  bytes = smartasync_operation_call_finish_pointer (demo->load_op, result, &error);
  demo->callbacks++;
  if (bytes == NULL)
    fail (demo, error);
  else
    demo->bytes += g_bytes_get_size (bytes);
  step_done (demo);
}

static void
on_hashed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Demo *demo = user_data;
  GError *error = NULL;
  char *hex = smartasync_operation_call_finish_pointer (demo->hash_op, result, &error);

  demo->callbacks++;
  if (hex == NULL)
    fail (demo, error);
  else
    {
      g_free (demo->hex);
      demo->hex = hex;
    }
  step_done (demo);
}

/* The same smart calls serve both kinds of context; only the outcome differs. */
static void
smart_load_files (Demo     *demo,
                  DemoStep  then)
{
  guint completed = 0;

  begin_step (demo, N_FILES, then);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autoptr(GTask) task = smartasync_operation_call (demo->load_op, demo->files[i],
                                                         NULL, NULL, on_loaded, demo);
      completed += g_task_get_completed (task);
    }
  print_row (demo, "smart call, async impl \"load-file\"", "%u/%u done on return, %u callbacks",
             completed, N_FILES, demo->callbacks);
}

static void
smart_hash (Demo     *demo,
            DemoStep  then)
{
  g_autoptr(GTask) task = NULL;

  begin_step (demo, 1, then);
  task = smartasync_operation_call (demo->hash_op, NULL, NULL, NULL, on_hashed, demo);
  print_row (demo, "smart call, blocking impl \"sha256\"", "%s",
             !g_task_get_completed (task) ? "pending on return, offloaded"
             : hashes_off_main == 0 ? "done on return, on the main thread"
             : "done on return, OFF the main thread");
}

/* Step 1, from main() before any loop runs. SMARTASYNC_WAIT drives an
 * existing GIO call on the thread's private context: no loop is needed. */
static gboolean
run_sync_phase (Demo    *demo,
                GError **error)
{
  gsize total = 0;

  print_section ("1. Sync context: main(), before any main loop runs");
  begin_step (demo, 0, NULL);
  for (guint i = 0; i < N_FILES; i++)
    {
      g_autoptr(GAsyncResult) res = NULL;
      g_autofree char *contents = NULL;
      gsize length;

      res = SMARTASYNC_WAIT (error, NULL, g_file_load_contents_async, demo->files[i], NULL);
      if (res == NULL ||
          !g_file_load_contents_finish (demo->files[i], res, &contents, &length, NULL, error))
        return FALSE;
      total += length;
    }
  print_row (demo, "SMARTASYNC_WAIT (g_file_load_contents)", "%u files, %" G_GSIZE_FORMAT " bytes",
             N_FILES, total);

  smart_load_files (demo, NULL);
  if (demo->callbacks != N_FILES || demo->bytes != total)
    return FALSE;
  smart_hash (demo, NULL);
  demo->sync_hex = g_strdup (demo->hex);

  return demo->error == NULL && demo->callbacks == 1 && hashes_off_main == 0;
}

static gboolean
count_up (gpointer counter)
{
  (*(guint *) counter)++;
  return G_SOURCE_CONTINUE;
}

static void
executor_done (Demo *demo)
{
  gint off_main = g_atomic_int_get (&hashes_off_main);
  gint peak = g_atomic_int_get (&hashes_peak);

  print_row (demo, "  -> callbacks on the loop", "%d/%d on workers, at most %d at once",
             off_main, N_PARTS, peak);
  if (off_main != N_PARTS || peak > EXEC_THREADS)
    fail (demo, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "Executor broke its bound"));
  g_main_loop_quit (demo->loop);
}

/* Step 3: a bounded executor. All parts are offloaded at once, but no more
 * than EXEC_THREADS of them run in parallel. */
static void
start_executor_phase (Demo *demo)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (EXEC_THREADS);
  guint64 part = demo->data_size / N_PARTS;

  g_print ("\n3. SmartasyncExecutor, %d threads: %d quarter-size \"sha256\" calls "
           "from the loop\n", EXEC_THREADS, N_PARTS);
  smartasync_operation_set_executor (demo->hash_op, executor);
  begin_step (demo, N_PARTS, executor_done);
  for (guint i = 0; i < N_PARTS; i++)
    {
      guint64 length = i + 1 < N_PARTS ? part : demo->data_size - i * part;
      GVariant *range = g_variant_new ("(tt)", i * part, length);

      g_object_unref (smartasync_operation_call (demo->hash_op, NULL, range, NULL,
                                                 on_hashed, demo));
    }
}

static void
hash_done (Demo *demo)
{
  gboolean same = g_str_equal (demo->hex, demo->sync_hex);

  print_row (demo, "  -> callback on the loop", "%s; 1 ms timer: %u ticks",
             hashes_off_main == 1 ? "on a worker" : "NOT offloaded",
             demo->ticks - demo->ticks_at_start);
  g_print ("   sha256 %.16s... %s\n", demo->hex,
           same ? "same from main() and from the loop" : "DIFFERS from the one of main()");
  if (hashes_off_main != 1 || !same)
    fail (demo, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "Offloaded hash went wrong"));
  else
    start_executor_phase (demo);
}

static void
loads_done (Demo *demo)
{
  g_clear_handle_id (&demo->spinner_id, g_source_remove);
  print_row (demo, "  -> callbacks on the loop", "%u/%u; loop ran %u iterations",
             demo->callbacks, N_FILES, demo->spins);
  if (demo->bytes != N_FILES * FILE_SIZE)
    fail (demo, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "Short read"));
  else
    smart_hash (demo, hash_done);  /* from a GTask callback: still async */
}

/* Step 2: the same smart calls, from an idle of a running loop. */
static gboolean
start_loop_phase (gpointer user_data)
{
  Demo *demo = user_data;

  print_section ("2. Async context: an idle of a running GMainLoop");
  smart_load_files (demo, loads_done);

  /* Counts loop iterations until the last callback, as proof that the loop
   * keeps running. At the completions' own priority it is dispatched in
   * every iteration, even those that also dispatch a completion. */
  demo->spinner_id = g_idle_add_full (G_PRIORITY_DEFAULT, count_up, &demo->spins, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
demo_setup (Demo     *demo,
            guint64   mib,
            GError  **error)
{
  guchar *data;

  /* Deterministic data, so the checksum is the same on every run. */
  demo->data_size = mib << 20;
  data = g_malloc (demo->data_size);
  for (gsize i = 0; i < demo->data_size; i++)
    data[i] = (guchar) ((i * 2654435761u) >> 24);
  demo->hash_op = smartasync_operation_new_blocking ("sha256", hash_impl,
                                                     g_bytes_new_take (data, demo->data_size),
                                                     (GDestroyNotify) g_bytes_unref);
  demo->load_op = smartasync_operation_new_async ("load-file", load_file_impl, NULL, NULL);

  demo->tmpdir = g_dir_make_tmp ("smartasync-demo-XXXXXX", error);
  for (guint i = 0; demo->tmpdir != NULL && i < N_FILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u.txt", i + 1);
      g_autofree char *path = g_build_filename (demo->tmpdir, name, NULL);
      g_autofree char *contents = g_strnfill (FILE_SIZE, 'a' + i);

      if (!g_file_set_contents (path, contents, FILE_SIZE, error))
        return FALSE;
      demo->files[i] = g_file_new_for_path (path);
    }
  return demo->tmpdir != NULL;
}

static void
demo_clear (Demo *demo)
{
  for (guint i = 0; i < N_FILES && demo->files[i] != NULL; i++)
    {
      g_file_delete (demo->files[i], NULL, NULL);
      g_object_unref (demo->files[i]);
    }
  if (demo->tmpdir != NULL)
    g_rmdir (demo->tmpdir);
  g_free (demo->tmpdir);
  g_clear_handle_id (&demo->ticker_id, g_source_remove);
  g_clear_handle_id (&demo->spinner_id, g_source_remove);
  g_clear_pointer (&demo->loop, g_main_loop_unref);
  g_clear_object (&demo->load_op);
  g_clear_object (&demo->hash_op);
  g_free (demo->sync_hex);
  g_free (demo->hex);
  g_clear_error (&demo->error);
}

int
main (int   argc,
      char *argv[])
{
  Demo demo = { 0 };
  guint64 mib = 64;
  int status;

  setlocale (LC_ALL, "");
  if (argc > 2 || (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 1, 4096, &mib, NULL)))
    {
      g_printerr ("Usage: %s [MiB to hash, 1-4096, default 64]\n", argv[0]);
      return 2;
    }

  main_thread = g_thread_self ();
  g_print ("smartasync-glib %s demo: one implementation per operation, every caller\n"
           "   %d temp files of %d KiB to load, %" G_GUINT64_FORMAT " MiB of data to hash\n",
           SMARTASYNC_VERSION_S, N_FILES, FILE_SIZE / 1024, mib);

  status = !demo_setup (&demo, mib, &demo.error) || !run_sync_phase (&demo, &demo.error);
  if (status == 0)
    {
      demo.loop = g_main_loop_new (NULL, FALSE);
      demo.ticker_id = g_timeout_add (1, count_up, &demo.ticks);
      g_idle_add (start_loop_phase, &demo);
      g_main_loop_run (demo.loop);
      status = demo.error != NULL;
    }

  if (status != 0)
    g_printerr ("\nsmartasync-demo failed: %s\n",
                demo.error ? demo.error->message : "unexpected result (see above)");
  else
    g_print ("\nAll four paths OK.\n");

  demo_clear (&demo);
  smartasync_reset ();
  return status;
}
