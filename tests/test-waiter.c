/* test-waiter.c: synchronous waits on GIO asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>
#include <glib-unix.h>

#include "test-util.h"

static GFile *
make_temp_file (const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileIOStream) stream = NULL;
  GFile *file = g_file_new_tmp ("smartasync-test-XXXXXX", &stream, &error);

  g_assert_no_error (error);
  g_file_replace_contents (file, contents, strlen (contents), NULL, FALSE,
                           G_FILE_CREATE_NONE, NULL, NULL, &error);
  g_assert_no_error (error);
  return file;
}

static void
delete_temp_file (GFile *file)
{
  g_file_delete (file, NULL, NULL);
  g_object_unref (file);
}

static void
test_waiter_load_contents (void)
{
  GFile *file = make_temp_file ("hello waiter");
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  /* The private context is pushed before the operation starts. */
  g_assert_true (g_main_context_get_thread_default () == smartasync_get_private_context ());
  g_file_load_contents_async (file, NULL, smartasync_waiter_callback, waiter);
  result = smartasync_waiter_wait (waiter, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_null (g_main_context_get_thread_default ());

  g_assert_true (g_file_load_contents_finish (file, result, &contents, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "hello waiter");
  delete_temp_file (file);
}

static void
test_waiter_macro_and_errors (void)
{
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/smartasync/file");
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result =
    SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, missing, NULL);

  char *contents = NULL;

  g_assert_no_error (error);
  g_assert_false (g_file_load_contents_finish (missing, result, &contents, NULL, NULL, &error));
  g_assert_null (contents);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static gpointer
wait_in_thread (gpointer data)
{
  GFile *file = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result =
    SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, file, NULL);
  char *contents = NULL;

  g_assert_no_error (error);
  g_file_load_contents_finish (file, result, &contents, NULL, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
test_waiter_from_threads (void)
{
  GFile *file = make_temp_file ("threads");
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("waiter", wait_in_thread, file);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autofree char *contents = g_thread_join (threads[i]);

      g_assert_cmpstr (contents, ==, "threads");
    }
  delete_temp_file (file);
}

/* An operation that completes only through a file descriptor: the private
 * context's poll function must never starve it. */
typedef struct
{
  GTask *task;
  int    fds[2];
} PipeOp;

static gboolean
pipe_readable (gint         fd,
               GIOCondition condition,
               gpointer     data)
{
  PipeOp *op = data;
  char byte = 0;

  g_assert_cmpint (read (fd, &byte, 1), ==, 1);
  g_task_return_int (op->task, byte);
  return G_SOURCE_REMOVE;
}

static gpointer
write_later (gpointer data)
{
  PipeOp *op = data;

  g_usleep (20 * 1000);
  g_assert_cmpint (write (op->fds[1], "z", 1), ==, 1);
  return NULL;
}

static void
test_waiter_fd_source (void)
{
  PipeOp op;
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GAsyncResult) result = NULL;
  GSource *source;
  GThread *writer;

  g_assert_true (g_unix_open_pipe (op.fds, FD_CLOEXEC, NULL));
  op.task = g_task_new (NULL, NULL, smartasync_waiter_callback, waiter);
  source = g_unix_fd_source_new (op.fds[0], G_IO_IN);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) pipe_readable, &op, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  writer = g_thread_new ("writer", write_later, &op);

  result = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_cmpint (g_task_propagate_int (G_TASK (result), NULL), ==, 'z');

  g_thread_join (writer);
  g_source_destroy (source);
  g_source_unref (source);
  g_object_unref (op.task);
  close (op.fds[0]);
  close (op.fds[1]);
}

/* Cancelling the wait returns at once, even if the operation ignores
 * cancellation; its late completion is dropped safely. */
static gint late_started, late_released, late_done;

/* Returns only once the test released it, after checking that the wait
 * returned first. */
static void
complete_after_delay (GTask        *task,
                      gpointer      source,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_atomic_int_set (&late_started, TRUE);
  test_wait_for_flag (&late_released, "the test to release the operation");
  g_task_return_int (task, 7);
  g_atomic_int_set (&late_done, TRUE);
}

/* Cancels once the operation runs (the wait is under way). */
static gpointer
cancel_later (gpointer data)
{
  test_wait_for_flag (&late_started, "the operation to start");
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_waiter_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GTask) task = g_task_new (NULL, NULL, smartasync_waiter_callback, waiter);
  g_autoptr(GError) error = NULL;
  GThread *canceller = g_thread_new ("cancel", cancel_later, cancellable);
  GFile *file = make_temp_file ("after");
  g_autoptr(GAsyncResult) later = NULL;
  g_autofree char *contents = NULL;

  g_task_run_in_thread (task, complete_after_delay);
  g_assert_null (smartasync_waiter_wait (waiter, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Returned before the operation did: no timing assertion needed. */
  g_assert_false (g_atomic_int_get (&late_done));
  g_thread_join (canceller);

  /* The abandoned completion lands on the private context; the next wait
   * dispatches it to the abandoned waiter, which ignores it. */
  g_atomic_int_set (&late_released, TRUE);
  test_wait_for_flag (&late_done, "the operation to return");
  later = SMARTASYNC_WAIT (NULL, NULL, g_file_load_contents_async, file, NULL);
  g_assert_true (g_file_load_contents_finish (file, later, &contents, NULL, NULL, NULL));
  g_assert_cmpstr (contents, ==, "after");
  delete_temp_file (file);
}

/* Nesting: a callback dispatched during a wait waits again. */
typedef struct
{
  GFile *file;
  char  *inner;
  int    outer_calls;
} NestedWaits;

static void
outer_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  NestedWaits *nested = data;
  g_autoptr(GAsyncResult) inner_result = NULL;
  g_autoptr(GError) error = NULL;

  nested->outer_calls++;
  inner_result = SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, nested->file, NULL);
  g_assert_no_error (error);
  g_file_load_contents_finish (nested->file, inner_result, &nested->inner, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
outer_operation (GTask        *task,
                 gpointer      source,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  GFile *file = user_data;

  /* A nested load while this wait runs, then complete the outer task. */
  g_file_load_contents_async (file, NULL, outer_done, g_task_get_task_data (task));
  g_task_return_boolean (task, TRUE);
}

static void
test_waiter_nested (void)
{
  NestedWaits nested = { make_temp_file ("nested"), NULL, 0 };
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GTask) task = g_task_new (NULL, NULL, smartasync_waiter_callback, waiter);
  g_autoptr(GAsyncResult) result = NULL;

  g_task_set_task_data (task, &nested, NULL);
  outer_operation (task, NULL, NULL, NULL, nested.file);
  result = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));

  /* Drain what the nested load left: another wait dispatches it if the
   * outer completion came first. */
  while (nested.outer_calls == 0)
    {
      g_autoptr(GAsyncResult) r = SMARTASYNC_WAIT (NULL, NULL, g_file_load_contents_async, nested.file, NULL);
      g_autofree char *again = NULL;

      g_file_load_contents_finish (nested.file, r, &again, NULL, NULL, NULL);
    }
  g_assert_cmpint (nested.outer_calls, ==, 1);
  g_assert_cmpstr (nested.inner, ==, "nested");
  g_free (nested.inner);
  delete_temp_file (nested.file);
}

/* Leftovers: a source attached during a wait, ready when the operation
 * completes, is dispatched before the wait returns, not in a later wait. */
static void
leave_low_priority_idle (GTask        *task,
                         gpointer      source,
                         GVariant     *args,
                         GCancellable *cancellable,
                         gpointer      user_data)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_LOW);
  g_source_set_callback (idle, test_set_flag, user_data, NULL);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
  g_task_return_boolean (task, TRUE);
}

static void
test_waiter_ready_leftover_dispatched (void)
{
  gboolean fired = FALSE;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("leftover", leave_low_priority_idle, &fired, NULL);

  g_assert_true (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, NULL));
  g_assert_true (fired);
}

/* A smart call started during a wait that outlives the operation which
 * started it is finished by that wait: its callback never fires inside a
 * later, unrelated wait. */
typedef struct
{
  int      inner_calls;
  gboolean inner_done_before_return;
} Outlive;

static void
inner_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  Outlive *outlive = data;
  g_autofree char *upper = g_task_propagate_pointer (G_TASK (result), NULL);

  g_assert_cmpstr (upper, ==, "SLOW");
  outlive->inner_calls++;
}

static void
slow_blocking (GTask        *task,
               gpointer      source,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  g_usleep (30 * 1000);
  g_task_return_pointer (task, g_strdup ("SLOW"), g_free);
}

static void
start_inner_and_complete (GTask        *task,
                          gpointer      source,
                          GVariant     *args,
                          GCancellable *cancellable,
                          gpointer      user_data)
{
  g_autoptr(SmartasyncOperation) slow =
    smartasync_operation_new_blocking ("slow", slow_blocking, NULL, NULL);

  /* Offloaded from inside the wait, bound to the private context. */
  smartasync_operation_call_async (slow, NULL, NULL, NULL, inner_done, user_data);
  g_task_return_boolean (task, TRUE);
}

static void
test_waiter_tracked_leftover (void)
{
  Outlive outlive = { 0, FALSE };
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("outer", start_inner_and_complete, &outlive, NULL);
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autofree char *later = NULL;

  g_assert_true (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, NULL));
  g_assert_cmpint (outlive.inner_calls, ==, 1);

  later = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("u"), NULL, NULL);
  g_assert_cmpstr (later, ==, "U");
  g_assert_cmpint (outlive.inner_calls, ==, 1);
}

/* A wait from code a running loop dispatches is refused, whether or not the
 * operation needs that loop, and never hangs. */
static gboolean
complete_from_default (gpointer data)
{
  GTask *task = data;

  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
needs_default_context (GTask        *task,
                       gpointer      source,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data)
{
  g_timeout_add_full (G_PRIORITY_DEFAULT, 1, complete_from_default,
                      g_object_ref (task), g_object_unref);
}

typedef struct
{
  GError  *private_only;
  GError  *needs_outer;
  gboolean forced_ok;
} RefusalCheck;

static gboolean
try_waits_in_loop (gpointer data)
{
  RefusalCheck *check = data;
  g_autoptr(SmartasyncOperation) private_only =
    smartasync_operation_new_async ("private-only", test_upper_async, NULL, NULL);
  g_autoptr(SmartasyncOperation) needs_outer =
    smartasync_operation_new_async ("needs-outer", needs_default_context, NULL, NULL);
  char *forced;

  g_assert_null (smartasync_operation_call_sync_pointer (private_only, NULL, g_variant_new_string ("p"),
                                                         NULL, &check->private_only));
  g_assert_false (smartasync_operation_call_sync_boolean (needs_outer, NULL, NULL, NULL,
                                                          &check->needs_outer));

  /* The caller asserts the loop is not needed: the wait runs. */
  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  forced = smartasync_operation_call_sync_pointer (private_only, NULL, g_variant_new_string ("p"), NULL, NULL);
  smartasync_pop_mode ();
  check->forced_ok = g_strcmp0 (forced, "P") == 0;
  g_free (forced);
  return G_SOURCE_REMOVE;
}

static void
test_waiter_refused_in_running_loop (void)
{
  RefusalCheck check = { NULL, NULL, FALSE };

  test_run_in_loop (try_waits_in_loop, &check);
  g_assert_error (check.private_only, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  g_assert_nonnull (strstr (check.private_only->message, "“private-only”"));
  g_assert_nonnull (strstr (check.private_only->message, "asynchronous call"));
  g_assert_error (check.needs_outer, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  g_assert_nonnull (strstr (check.needs_outer->message, "“needs-outer”"));
  g_assert_true (check.forced_ok);
  g_clear_error (&check.private_only);
  g_clear_error (&check.needs_outer);
}

/* Log capture, for the debug messages: records "operation:path" of every
 * Smartasync message, and cancels the stalled wait when its report comes. */
static GPtrArray    *logged;         /* "operation:path" */
static GCancellable *cancel_on_stall;

static GLogWriterOutput
record_log (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *operation = NULL, *path = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "SMARTASYNC_OPERATION") == 0)
        operation = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "SMARTASYNC_PATH") == 0)
        path = fields[i].value;
    }

  if (logged != NULL && operation != NULL && path != NULL)
    g_ptr_array_add (logged, g_strdup_printf ("%s:%s", operation, path));
  if (g_strcmp0 (path, "stall") == 0 && cancel_on_stall != NULL)
    g_cancellable_cancel (cancel_on_stall);

  return g_log_writer_default (level, fields, n_fields, user_data);
}

static guint
count_logged (const char *entry)
{
  guint n = 0;

  for (guint i = 0; logged != NULL && i < logged->len; i++)
    n += g_strcmp0 (g_ptr_array_index (logged, i), entry) == 0;
  return n;
}

/* A wait whose operation needs the global default context, which nothing
 * iterates here, never hangs silently: it reports the stall, naming the
 * operation, and the caller's cancellable gets it out. The report is a debug
 * message: a legitimately slow wait must not abort a program that makes
 * warnings fatal (as GTest does). */
static void
test_waiter_stall_reported (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(SmartasyncOperation) op =
        smartasync_operation_new_async ("needs-default", needs_default_context, NULL, NULL);
      g_autoptr(GError) error = NULL;

      cancel_on_stall = g_cancellable_new ();
      g_assert_false (smartasync_operation_call_sync_boolean (op, NULL, NULL, cancel_on_stall, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_object (&cancel_on_stall);
      /* The timeout left on the default context completes the task now. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      return;
    }

  /* Warnings stay fatal in the child, as g_test_init() made them. */
  g_setenv ("SMARTASYNC_STALL_REPORT_MS", "50", TRUE);
  g_setenv ("G_MESSAGES_DEBUG", "Smartasync", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_unsetenv ("SMARTASYNC_STALL_REPORT_MS");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*Smartasync-DEBUG*needs-default*has made no progress for 50 ms*"
                             "g_main_context_get_thread_default*");
  g_test_trap_assert_stderr_unmatched ("*WARNING*");
}

/* Completes its task from a timeout on the thread-default context, after
 * user_data milliseconds. */
static void
complete_after_timeout (GCancellable        *cancellable,
                        guint                delay_ms,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  GSource *timeout = g_timeout_source_new (delay_ms);

  g_task_set_source_tag (task, complete_after_timeout);
  g_source_set_callback (timeout, complete_from_default, task, g_object_unref);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
}

/* The stall report's delay is per wait, and 0 turns it off. */
static void
test_waiter_stall_threshold (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(SmartasyncWaiter) quiet = NULL;
  g_autoptr(SmartasyncWaiter) eager = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GTask *task;

  if (!g_test_subprocess ())
    {
      /* The default delay is read once per process. */
      g_setenv ("SMARTASYNC_STALL_REPORT_MS", "20", TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_unsetenv ("SMARTASYNC_STALL_REPORT_MS");
      g_test_trap_assert_passed ();
      return;
    }

  logged = g_ptr_array_new_with_free_func (g_free);
  smartasync_set_debug (TRUE);

  /* Its own delay, here a second: the report cancels the wait. */
  eager = smartasync_waiter_new_full ("eager", SMARTASYNC_WAITER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  smartasync_waiter_set_stall_report (eager, 1000);
  task = g_task_new (NULL, NULL, smartasync_waiter_callback, eager);
  cancellable = cancel_on_stall = g_cancellable_new ();
  g_assert_null (smartasync_waiter_wait (eager, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  cancel_on_stall = NULL;
  g_assert_cmpuint (count_logged ("eager:stall"), ==, 1);
  /* Its late completion goes to the abandoned waiter. */
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);

  /* Turned off: a wait outliving the default delay (20 ms) says nothing. */
  quiet = smartasync_waiter_new_full ("quiet", SMARTASYNC_WAITER_FLAGS_NONE, &error);
  smartasync_waiter_set_stall_report (quiet, 0);
  complete_after_timeout (NULL, 200, smartasync_waiter_callback, quiet);
  result = smartasync_waiter_wait (quiet, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_task_propagate_boolean (G_TASK (result), NULL));
  g_assert_cmpuint (count_logged ("quiet:stall"), ==, 0);
  g_assert_cmpuint (count_logged ("quiet:wait"), ==, 1);
  g_clear_object (&result);

  /* The default delay, for the same wait. */
  g_clear_object (&quiet);
  quiet = smartasync_waiter_new_full ("default", SMARTASYNC_WAITER_FLAGS_NONE, &error);
  complete_after_timeout (NULL, 200, smartasync_waiter_callback, quiet);
  result = smartasync_waiter_wait (quiet, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_logged ("default:stall"), ==, 1);

  g_clear_pointer (&logged, g_ptr_array_unref);
}

/* Defect 1: a refused wait starts nothing. */
typedef struct
{
  guint    started;
  GError  *macro_error;
  GError  *new_full_error;
  gboolean new_full_null;
  gboolean macro_null;
} StartCount;

static void
counting_async (StartCount          *count,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  count->started++;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
wait_refused_in_loop (gpointer data)
{
  StartCount *count = data;
  GAsyncResult *result;

  result = SMARTASYNC_WAIT (&count->macro_error, NULL, counting_async, count);
  count->macro_null = result == NULL;
  g_clear_object (&result);

  count->new_full_null = smartasync_waiter_new_full ("store", SMARTASYNC_WAITER_FLAGS_NONE,
                                                     &count->new_full_error) == NULL;
  return G_SOURCE_REMOVE;
}

static void
test_waiter_refused_starts_nothing (void)
{
  StartCount count = { 0, };

  test_run_in_loop (wait_refused_in_loop, &count);
  g_assert_cmpuint (count.started, ==, 0);
  g_assert_true (count.macro_null);
  g_assert_error (count.macro_error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  /* Named after the _async function the macro was given. */
  g_assert_nonnull (strstr (count.macro_error->message, "“counting_async”"));
  g_assert_true (count.new_full_null);
  g_assert_error (count.new_full_error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  g_assert_nonnull (strstr (count.new_full_error->message, "“store”"));
  g_clear_error (&count.macro_error);
  g_clear_error (&count.new_full_error);
  /* Nothing was pushed, nothing is left on the loop's context. */
  g_assert_null (g_main_context_get_thread_default ());
  g_assert_false (g_main_context_pending (NULL));
}

/* Defect 2: a ported _sync function that must keep blocking a running
 * loop, as its hand-written nested loop did, opts in per wait. */
typedef struct
{
  gboolean ok;
  guint    in_async_context;
  GFile   *file;
  char    *contents;
} BlockingPort;

static gboolean
wait_blocking_in_loop (gpointer data)
{
  BlockingPort *port = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) timed = NULL;

  port->in_async_context = smartasync_in_async_context ();
  result = SMARTASYNC_WAIT_FULL (SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP, &error, NULL,
                                 g_file_load_contents_async, port->file, NULL);
  g_assert_no_error (error);
  g_file_load_contents_finish (port->file, result, &port->contents, NULL, NULL, &error);
  g_assert_no_error (error);

  /* A source of the thread-default context, the private one while waiting. */
  timed = SMARTASYNC_WAIT_FULL (SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP, &error, NULL,
                                complete_after_timeout, NULL, 1);
  g_assert_no_error (error);
  port->ok = g_task_propagate_boolean (G_TASK (timed), NULL);
  return G_SOURCE_REMOVE;
}

static void
test_waiter_block_running_loop (void)
{
  BlockingPort port = { FALSE, 0, make_temp_file ("kept"), NULL };

  test_run_in_loop (wait_blocking_in_loop, &port);
  g_assert_true (port.in_async_context);
  g_assert_true (port.ok);
  g_assert_cmpstr (port.contents, ==, "kept");
  g_free (port.contents);
  delete_temp_file (port.file);
}

/* Defect 5: every wait is named, and logs one debug line. */
static void
test_waiter_named_debug_line (void)
{
  GFile *file = make_temp_file ("named");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper-named", test_upper_async, NULL, NULL);
  g_autofree char *up = NULL;

  logged = g_ptr_array_new_with_free_func (g_free);
  smartasync_set_debug (TRUE);
  result = SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, file, NULL);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  up = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("n"), NULL, NULL);
  smartasync_set_debug (FALSE);

  g_assert_cmpstr (up, ==, "N");
  g_assert_cmpuint (count_logged ("g_file_load_contents_async:wait"), ==, 1);
  g_assert_cmpuint (count_logged ("upper-named:wait"), ==, 1);
  g_clear_pointer (&logged, g_ptr_array_unref);
  delete_temp_file (file);
}

/* Defect 6: an implementation that pushes a context and does not pop it. */
static void
push_and_forget (GTask        *task,
                 gpointer      source,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  GMainContext *stray = g_main_context_new ();

  g_main_context_push_thread_default (stray);
  g_main_context_unref (stray);
  g_task_return_boolean (task, TRUE);
}

static void
test_wait_unpopped_push (void)
{
  g_autoptr(SmartasyncOperation) async_op = NULL;
  g_autoptr(SmartasyncOperation) blocking_op = NULL;
  g_autoptr(SmartasyncOperation) upper = NULL;
  g_autofree char *later = NULL;
  GMainContext *own;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      g_test_trap_assert_stderr ("*CRITICAL*pusher* pushed 1 thread-default main context "
                                 "without popping it; popped*"
                                 "CRITICAL*blocking-pusher* pushed 1 thread-default main "
                                 "context without popping it; popped*");
      return;
    }

  /* The library's structured criticals are not seen by
   * g_test_expect_message() in GLib 2.74: the parent reads them. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  async_op = smartasync_operation_new_async ("pusher", push_and_forget, NULL, NULL);
  blocking_op = smartasync_operation_new_blocking ("blocking-pusher", push_and_forget, NULL, NULL);
  upper = smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);

  g_assert_true (smartasync_operation_call_sync_boolean (async_op, NULL, NULL, NULL, NULL));
  g_assert_null (g_main_context_get_thread_default ());

  /* The direct path restores the caller's own context. */
  own = g_main_context_new ();
  g_main_context_push_thread_default (own);
  g_assert_true (smartasync_operation_call_sync_boolean (blocking_op, NULL, NULL, NULL, NULL));
  g_assert_true (g_main_context_get_thread_default () == own);
  g_main_context_pop_thread_default (own);
  g_main_context_unref (own);

  /* Later waits bind to the private context again. */
  later = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("l"), NULL, NULL);
  g_assert_cmpstr (later, ==, "L");
  g_assert_null (g_main_context_get_thread_default ());
}

/* Defect 7: a blocking implementation called from a sync context is sync
 * code, passed straight through as in the Python original: it runs with its
 * caller's thread-default context, not the private one. */
static void
record_thread_default (GTask        *task,
                       gpointer      source,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data)
{
  *(GMainContext **) user_data = g_main_context_get_thread_default ();
  g_task_return_boolean (task, TRUE);
}

static void
test_wait_blocking_passes_through (void)
{
  GMainContext *seen = NULL;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_blocking ("direct-op", record_thread_default, &seen, NULL);
  g_autoptr(GTask) smart = NULL;
  GMainContext *own = g_main_context_new ();

  logged = g_ptr_array_new_with_free_func (g_free);
  smartasync_set_debug (TRUE);

  seen = (GMainContext *) op;
  g_assert_true (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, NULL));
  g_assert_null (seen);

  g_main_context_push_thread_default (own);
  seen = NULL;
  smart = smartasync_operation_call (op, NULL, NULL, NULL, NULL, NULL);
  g_assert_true (seen == own);
  g_assert_true (g_main_context_get_thread_default () == own);
  g_main_context_pop_thread_default (own);
  g_assert_true (smartasync_operation_call_finish_boolean (op, G_ASYNC_RESULT (smart), NULL));

  smartasync_set_debug (FALSE);
  g_assert_cmpuint (count_logged ("direct-op:direct"), ==, 2);
  g_clear_pointer (&logged, g_ptr_array_unref);
  /* Its completion was dispatched on the private context, not left on the
   * caller's. */
  g_assert_false (g_main_context_pending (own));
  g_main_context_unref (own);
}

/* Defect 3b: a timeout an implementation attached to the private context
 * and never removed does not fire inside a later, unrelated wait: the
 * context is retired, and the thread gets a fresh one. A clean wait keeps
 * the context. */
static void
leave_timeout (GTask        *task,
               gpointer      source,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new (10);

  g_source_set_callback (timeout, test_set_flag, user_data, NULL);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
  g_task_return_boolean (task, TRUE);
}

static void
test_wait_leftover_timeout_retired (void)
{
  gboolean fired = FALSE;
  g_autoptr(SmartasyncOperation) leaver =
    smartasync_operation_new_async ("leaver", leave_timeout, &fired, NULL);
  g_autoptr(SmartasyncOperation) upper =
    smartasync_operation_new_async ("upper", test_upper_async, NULL, NULL);
  g_autoptr(GAsyncResult) slow = NULL;
  g_autoptr(GError) error = NULL;
  GMainContext *before = g_main_context_ref (smartasync_get_private_context ());
  GMainContext *fresh;
  char *up;

  logged = g_ptr_array_new_with_free_func (g_free);
  smartasync_set_debug (TRUE);
  g_assert_true (smartasync_operation_call_sync_boolean (leaver, NULL, NULL, NULL, NULL));
  fresh = smartasync_get_private_context ();
  g_assert_true (fresh != before);

  /* A later wait that outlives the leftover timeout. */
  slow = SMARTASYNC_WAIT (&error, NULL, complete_after_timeout, NULL, 200);
  g_assert_no_error (error);
  g_assert_true (g_task_propagate_boolean (G_TASK (slow), NULL));
  g_assert_false (fired);
  smartasync_set_debug (FALSE);
  g_assert_cmpuint (count_logged ("leaver:retired"), ==, 1);
  g_assert_cmpuint (count_logged ("complete_after_timeout:retired"), ==, 0);
  g_clear_pointer (&logged, g_ptr_array_unref);

  /* The clean case keeps its context. */
  up = smartasync_operation_call_sync_pointer (upper, NULL, g_variant_new_string ("c"), NULL, NULL);
  g_assert_cmpstr (up, ==, "C");
  g_free (up);
  g_assert_true (smartasync_get_private_context () == fresh);

  /* The retired context dies with its timeout, which never fires. */
  g_main_context_unref (before);
  g_assert_false (fired);
}

static void
test_waiter_bad_input (void)
{
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GTask) task = g_task_new (NULL, NULL, smartasync_waiter_callback, waiter);
  g_autoptr(GAsyncResult) result = NULL;

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*SMARTASYNC_IS_WAITER*");
  g_assert_null (smartasync_waiter_wait (NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  g_task_return_boolean (task, TRUE);
  result = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_nonnull (result);

  g_test_expect_message ("Smartasync", G_LOG_LEVEL_CRITICAL, "*waited*");
  g_assert_null (smartasync_waiter_wait (waiter, NULL, NULL));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_log_set_writer_func (record_log, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/waiter/load-contents", test_waiter_load_contents);
  g_test_add_func ("/smartasync/waiter/macro-and-errors", test_waiter_macro_and_errors);
  g_test_add_func ("/smartasync/waiter/from-threads", test_waiter_from_threads);
  g_test_add_func ("/smartasync/waiter/fd-source", test_waiter_fd_source);
  g_test_add_func ("/smartasync/waiter/cancel", test_waiter_cancel);
  g_test_add_func ("/smartasync/waiter/nested", test_waiter_nested);
  g_test_add_func ("/smartasync/waiter/ready-leftover-dispatched", test_waiter_ready_leftover_dispatched);
  g_test_add_func ("/smartasync/waiter/tracked-leftover", test_waiter_tracked_leftover);
  g_test_add_func ("/smartasync/waiter/refused-in-running-loop", test_waiter_refused_in_running_loop);
  g_test_add_func ("/smartasync/waiter/stall-reported", test_waiter_stall_reported);
  g_test_add_func ("/smartasync/waiter/stall-threshold", test_waiter_stall_threshold);
  g_test_add_func ("/smartasync/waiter/refused-starts-nothing", test_waiter_refused_starts_nothing);
  g_test_add_func ("/smartasync/waiter/block-running-loop", test_waiter_block_running_loop);
  g_test_add_func ("/smartasync/waiter/named-debug-line", test_waiter_named_debug_line);
  g_test_add_func ("/smartasync/wait/unpopped-push", test_wait_unpopped_push);
  g_test_add_func ("/smartasync/wait/blocking-passes-through", test_wait_blocking_passes_through);
  g_test_add_func ("/smartasync/wait/leftover-timeout-retired", test_wait_leftover_timeout_retired);
  g_test_add_func ("/smartasync/waiter/bad-input", test_waiter_bad_input);

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
