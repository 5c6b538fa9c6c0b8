/* smartasync-daemon.c: a GNOME-style D-Bus service whose methods run through the bridge
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A session service that owns org.example.Smartasync1 and exports the
 * interface described in org.example.Smartasync1.xml (embedded as a
 * GResource). A D-Bus method handler is code the main loop dispatches, an
 * async context: it must answer later instead of blocking, or every other
 * client waits. So each method calls its operation with the asynchronous
 * entry points, and the bridge handles each kind of implementation:
 *
 * - Hash and Slow are blocking implementations (read and hash a file; a
 *   blocking call that takes a while). Called from the handler, they are
 *   offloaded to a bounded SmartasyncExecutor, and the loop keeps answering
 *   Ping meanwhile. The executor keeps them off GLib's shared GTask pool,
 *   which GIO's own asynchronous file calls (ReadFile) need.
 * - ReadFile is an asynchronous implementation built on GIO's async calls:
 *   it runs on the main thread, no thread of ours involved.
 * - Report is an expensive asynchronous computation run through a
 *   SmartasyncLock keyed by the report's name: identical requests arriving
 *   while it runs share one execution.
 *
 * Each call that may take a while belongs to its caller, whose unique name
 * is watched while it has calls pending: when the client leaves the bus
 * (killed mid-call, say), its calls are cancelled, so no work is done for
 * nobody and nothing is kept for it. SIGTERM and SIGINT cancel everything,
 * answer the callers, wait for the workers to drop their last references,
 * and exit with status 0, having freed everything.
 *
 * For tests, --hold keeps every Slow call and Report computation going
 * after its time is up, until the daemon receives SIGUSR1: a test can then
 * see, through GetCounters, every request it sent arrive and join before
 * any of them is answered, however slowly a loaded machine runs it.
 *
 * Usage: smartasync-daemon [--address=ADDRESS] [--replace] [--threads=N] [--report-ms=MS]
 *                          [--hold]
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <smartasync-glib.h>

#define BUS_NAME          "org.example.Smartasync1"
#define OBJECT_PATH       "/org/example/Smartasync1"
#define INTERFACE_NAME    "org.example.Smartasync1"
#define INTROSPECTION_XML "/org/example/Smartasync1/org.example.Smartasync1.xml"

#define MAX_SLOW_MS       10000
#define SLOW_NAP_MS       10            /* how often Slow looks at its cancellable */
#define MAX_KEY_LENGTH    255
#define MAX_READ_SIZE     (8 * 1024 * 1024)
#define HASH_CHUNK_SIZE   (64 * 1024)
#define DEFAULT_THREADS   4
#define DEFAULT_REPORT_MS 300
#define DRAIN_POLL_MS     10
#define DRAIN_TIMEOUT_S   5

/* Errors */

typedef enum
{
  DAEMON_ERROR_FAILED,
  DAEMON_ERROR_NOT_FOUND,
  DAEMON_ERROR_NOT_REGULAR_FILE,
  DAEMON_ERROR_PERMISSION_DENIED,
  DAEMON_ERROR_TOO_LARGE,
  DAEMON_ERROR_CANCELLED,
} DaemonError;

static const GDBusErrorEntry daemon_error_entries[] = {
  { DAEMON_ERROR_FAILED, INTERFACE_NAME ".Error.Failed" },
  { DAEMON_ERROR_NOT_FOUND, INTERFACE_NAME ".Error.NotFound" },
  { DAEMON_ERROR_NOT_REGULAR_FILE, INTERFACE_NAME ".Error.NotRegularFile" },
  { DAEMON_ERROR_PERMISSION_DENIED, INTERFACE_NAME ".Error.PermissionDenied" },
  { DAEMON_ERROR_TOO_LARGE, INTERFACE_NAME ".Error.TooLarge" },
  { DAEMON_ERROR_CANCELLED, INTERFACE_NAME ".Error.Cancelled" },
};

#define DAEMON_ERROR (daemon_error_quark ())

/* Registered with GDBus, the domain travels under its D-Bus names, and a
 * GDBus client that registers it too gets the same GError back. */
static GQuark
daemon_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("smartasync-daemon-error-quark", &quark,
                                      daemon_error_entries,
                                      G_N_ELEMENTS (daemon_error_entries));
  return (GQuark) quark;
}

/* Implementations fail with GIO's errors, which GDBus would send as
 * "org.gtk.GDBus.UnmappedGError.Quark..." names: clients get the service's
 * own names instead. Takes @error. */
static GError *
to_service_error (GError *error)
{
  static const struct { GIOErrorEnum io; DaemonError code; } map[] = {
    { G_IO_ERROR_NOT_FOUND, DAEMON_ERROR_NOT_FOUND },
    { G_IO_ERROR_IS_DIRECTORY, DAEMON_ERROR_NOT_REGULAR_FILE },
    { G_IO_ERROR_NOT_REGULAR_FILE, DAEMON_ERROR_NOT_REGULAR_FILE },
    { G_IO_ERROR_PERMISSION_DENIED, DAEMON_ERROR_PERMISSION_DENIED },
    { G_IO_ERROR_CANCELLED, DAEMON_ERROR_CANCELLED },
  };
  DaemonError code = DAEMON_ERROR_FAILED;
  GError *translated;

  if (error->domain == DAEMON_ERROR || error->domain == G_DBUS_ERROR)
    return error;

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (error->domain == G_IO_ERROR && error->code == (gint) map[i].io)
      code = map[i].code;

  translated = g_error_new_literal (DAEMON_ERROR, code, error->message);
  g_error_free (error);
  return translated;
}

/* The service */

typedef struct
{
  guint calls;                  /* main thread only */
  guint cancellations;
  guint errors;
  gint  executions;             /* atomic: blocking runs count on workers */
  gint  offloads;               /* atomic */
  gint  report_runs;            /* atomic */
} Counters;

typedef struct
{
  GMainLoop           *loop;
  GDBusConnection     *connection;
  gulong               closed_id;
  GDBusNodeInfo       *introspection;
  guint                registration_id;
  guint                owner_id;
  gboolean             name_acquired;
  gboolean             name_lost;      /* to another instance, or never owned */
  guint                sigterm_id;
  guint                sigint_id;
  guint                sigusr1_id;

  SmartasyncExecutor  *executor;
  SmartasyncOperation *hash_op;
  SmartasyncOperation *slow_op;
  SmartasyncOperation *read_op;
  SmartasyncOperation *report_op;
  SmartasyncLock      *report_lock;
  guint                report_ms;
  gboolean             hold;       /* --hold: work ends on SIGUSR1 only */
  gint                 releases;   /* atomic: SIGUSR1s received */
  GQueue               held_reports; /* main thread: Computations done, held */

  GThread             *main_thread;
  GHashTable          *callers;   /* unique name -> Caller, while it has calls */
  guint                n_callers; /* Callers alive, tracked or not */
  guint                n_pending; /* calls not answered yet */
  Counters             counters;

  gboolean             shutting_down;
  int                  exit_status;
  gint                 n_alive;   /* atomic: our objects not finalized yet */
  guint                drain_id;
  gint64               drain_deadline;
  gboolean             drained;
} Daemon;

static void daemon_drain    (Daemon *daemon);
static void daemon_shutdown (Daemon *daemon,
                             int     exit_status);

/* With --hold, work goes on until a SIGUSR1 arrives after it started:
 * @releases_at_start is daemon->releases read before it was counted as an
 * execution. */
static gboolean
work_held (Daemon *daemon,
           gint    releases_at_start)
{
  return daemon->hold && g_atomic_int_get (&daemon->releases) == releases_at_start;
}

/* Operations, the lock and the executor may lose their last reference on a
 * worker thread, after the call they served has been answered: exit waits
 * for these notifications, so that it frees everything. */
static void
on_tracked_finalized (gpointer  data,
                      GObject  *where_the_object_was)
{
  Daemon *daemon = data;

  g_atomic_int_add (&daemon->n_alive, -1);
}

static gpointer
daemon_track (Daemon   *daemon,
              gpointer  object)
{
  g_atomic_int_inc (&daemon->n_alive);
  g_object_weak_ref (object, on_tracked_finalized, daemon);
  return object;
}

/* Callers */

/* A client with calls pending. Its calls share its cancellable: a client
 * that leaves the bus takes all its calls with it. */
typedef struct
{
  Daemon       *daemon;
  char         *name;
  GCancellable *cancellable;
  guint         watch_id;
  guint         n_calls;
  gboolean      vanished;
} Caller;

static void
caller_clear (gpointer data)
{
  Caller *caller = data;

  caller->daemon->n_callers--;
  g_object_unref (caller->cancellable);
  g_free (caller->name);
}

static void
caller_unref (gpointer caller)
{
  g_rc_box_release_full (caller, caller_clear);
}

/* Stops tracking the caller; it lives on while its calls hold it. A later
 * call from the same client gets a new Caller. */
static void
caller_forget (Caller *caller)
{
  Daemon *daemon = caller->daemon;
  Caller *hold = g_rc_box_acquire (caller);

  g_clear_handle_id (&caller->watch_id, g_bus_unwatch_name);
  if (g_hash_table_lookup (daemon->callers, caller->name) == caller)
    g_hash_table_remove (daemon->callers, caller->name);
  caller_unref (hold);
}

static void
on_caller_vanished (GDBusConnection *connection,
                    const char      *name,
                    gpointer         data)
{
  Caller *caller = g_rc_box_acquire (data);

  g_debug ("%s left the bus with %u call(s) pending: cancelling them", name, caller->n_calls);
  caller->vanished = TRUE;
  caller_forget (caller);

  /* Last: cancelling completes calls, which may run their callbacks now. */
  g_cancellable_cancel (caller->cancellable);
  caller_unref (caller);
}

/* Calls come through a message bus, so they always have a sender. */
static Caller *
caller_get (Daemon     *daemon,
            const char *sender)
{
  Caller *caller = g_hash_table_lookup (daemon->callers, sender);

  if (caller != NULL)
    return g_rc_box_acquire (caller);

  caller = g_rc_box_new0 (Caller);
  caller->daemon = daemon;
  caller->name = g_strdup (sender);
  caller->cancellable = g_cancellable_new ();
  daemon->n_callers++;
  g_hash_table_insert (daemon->callers, caller->name, caller);

  /* A name watch rather than a bare NameOwnerChanged subscription: it also
   * asks the bus for the name's owner, so a client that left before the
   * subscription took effect is noticed too. */
  caller->watch_id = g_bus_watch_name_on_connection (daemon->connection, sender,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     NULL, on_caller_vanished,
                                                     g_rc_box_acquire (caller), caller_unref);
  return g_rc_box_acquire (caller);
}

/* Calls */

typedef struct
{
  Daemon                *daemon;
  Caller                *caller;
  GDBusMethodInvocation *invocation;
} Call;

static Call *
call_new (Daemon                *daemon,
          GDBusMethodInvocation *invocation)
{
  Call *call = g_new0 (Call, 1);

  call->daemon = daemon;
  call->invocation = invocation;
  call->caller = caller_get (daemon, g_dbus_method_invocation_get_sender (invocation));
  call->caller->n_calls++;
  daemon->n_pending++;
  return call;
}

static GCancellable *
call_get_cancellable (Call *call)
{
  return call->caller->cancellable;
}

static void
call_free (Call *call)
{
  Daemon *daemon = call->daemon;

  if (--call->caller->n_calls == 0)
    caller_forget (call->caller);
  caller_unref (call->caller);
  g_free (call);

  daemon->n_pending--;
  daemon_drain (daemon);
}

/* Answers the call with @reply (floating) or @error (taken), and frees it. */
static void
call_complete (Call     *call,
               GVariant *reply,
               GError   *error)
{
  Daemon *daemon = call->daemon;
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  if (error == NULL)
    g_dbus_method_invocation_return_value (invocation, reply);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Only two things cancel: the client left, or the service stops. */
      daemon->counters.cancellations++;
      if (call->caller->vanished)
        g_object_unref (invocation);
      else
        g_dbus_method_invocation_return_error_literal (invocation, DAEMON_ERROR,
                                                       DAEMON_ERROR_CANCELLED,
                                                       "The service is shutting down");
      g_error_free (error);
    }
  else
    {
      daemon->counters.errors++;
      g_dbus_method_invocation_take_error (invocation, to_service_error (error));
    }

  call_free (call);
}

/* Files */

static gboolean
check_regular_file (GFile      *file,
                    GFileInfo  *info,
                    GError    **error)
{
  g_autofree char *path = NULL;

  if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR)
    return TRUE;

  path = g_file_get_path (file);
  g_set_error (error, DAEMON_ERROR, DAEMON_ERROR_NOT_REGULAR_FILE,
               "“%s” is not a regular file", path);
  return FALSE;
}

static gboolean
check_read_size (GFile    *file,
                 goffset   size,
                 GError  **error)
{
  g_autofree char *path = NULL;

  if (size <= MAX_READ_SIZE)
    return TRUE;

  path = g_file_get_path (file);
  g_set_error (error, DAEMON_ERROR, DAEMON_ERROR_TOO_LARGE,
               "“%s” is larger than %d bytes", path, MAX_READ_SIZE);
  return FALSE;
}

/* Hash: a blocking implementation */

/* A blocking run counts as offloaded when it runs off the main thread:
 * the counter shows where the bridge sent it. */
static void
count_blocking_run (Daemon *daemon)
{
  g_atomic_int_inc (&daemon->counters.executions);
  if (g_thread_self () != daemon->main_thread)
    g_atomic_int_inc (&daemon->counters.offloads);
}

/* Only regular files: /dev/zero would be hashed forever, a FIFO would
 * block a worker until somebody writes to it. */
static char *
hash_file (const char    *path,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = g_malloc (HASH_CHUNK_SIZE);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  gssize n;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                            cancellable, error);
  if (info == NULL || !check_regular_file (file, info, error))
    return NULL;

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;

  /* Each read checks the cancellable: the hash of a large file stops
   * within a chunk of its client leaving. */
  while ((n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, HASH_CHUNK_SIZE,
                                   cancellable, error)) > 0)
    g_checksum_update (checksum, buffer, n);

  return n == 0 ? g_strdup (g_checksum_get_string (checksum)) : NULL;
}

static void
hash_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GError *error = NULL;
  const char *path;
  char *hex;

  count_blocking_run (user_data);
  g_variant_get (args, "(&s)", &path);
  hex = hash_file (path, cancellable, &error);
  if (hex != NULL)
    g_task_return_pointer (task, hex, g_free);
  else
    g_task_return_error (task, error);
}

/* Slow: a blocking implementation */

/* Stands for a blocking call of a library without an async API. It naps
 * in short slices, so that a cancelled call frees its worker within one
 * nap instead of working on for nobody. */
static void
slow_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  gint64 start = g_get_monotonic_time ();
  gint64 end;
  guint32 ms;

  Daemon *daemon = user_data;
  gint releases = g_atomic_int_get (&daemon->releases);

  count_blocking_run (daemon);
  g_variant_get (args, "(u)", &ms);
  end = start + (gint64) ms * 1000;

  for (gint64 now = start; now < end || work_held (daemon, releases);
       now = g_get_monotonic_time ())
    {
      if (g_task_return_error_if_cancelled (task))
        return;
      g_usleep (now < end ? MIN (end - now, SLOW_NAP_MS * 1000) : SLOW_NAP_MS * 1000);
    }

  g_task_return_int (task, (g_get_monotonic_time () - start) / 1000);
}

/* ReadFile: an asynchronous implementation, on the main thread */

static void
on_read_loaded (GObject      *source_object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GTask) task = data;
  GError *error = NULL;
  GBytes *bytes;

  bytes = g_file_load_bytes_finish (G_FILE (source_object), result, NULL, &error);

  /* Checked again: the file may have grown since it was measured. */
  if (bytes != NULL && !check_read_size (G_FILE (source_object), g_bytes_get_size (bytes), &error))
    g_clear_pointer (&bytes, g_bytes_unref);

  if (bytes != NULL)
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

/* Measured before it is loaded: a service does not read a huge file into
 * memory to find out that it cannot send it. */
static void
on_read_measured (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      data)
{
  g_autoptr(GTask) task = data;
  GFile *file = G_FILE (source_object);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GFileInfo) info = NULL;
  GError *error = NULL;

  info = g_file_query_info_finish (file, result, &error);
  if (info == NULL || !check_regular_file (file, info, &error) ||
      !check_read_size (file, g_file_info_get_size (info), &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_file_load_bytes_async (file, cancellable, on_read_loaded, g_steal_pointer (&task));
}

static void
read_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  Daemon *daemon = user_data;
  g_autoptr(GFile) file = NULL;
  const char *path;

  g_atomic_int_inc (&daemon->counters.executions);
  g_variant_get (args, "(&s)", &path);
  file = g_file_new_for_path (path);
  g_file_query_info_async (file,
                           G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, cancellable,
                           on_read_measured, g_object_ref (task));
}

/* Report: an asynchronous implementation, run through the lock */

typedef struct
{
  Daemon  *daemon;
  GTask   *task;
  GSource *timer;      /* NULL once held (--hold) */
  gint     releases;   /* daemon->releases when it started */
  GSource *cancelled;
  char    *report;
} Computation;

/* Whichever source fires first destroys both, so that the other can never
 * run with freed data; a held computation leaves the held queue. */
static void
computation_finish (Computation *comp)
{
  if (comp->timer != NULL)
    {
      g_source_destroy (comp->timer);
      g_source_unref (comp->timer);
    }
  else
    g_queue_remove (&comp->daemon->held_reports, comp);
  g_source_destroy (comp->cancelled);
  g_source_unref (comp->cancelled);

  /* Through the lock, results travel as GValues: each caller gets a copy. */
  if (!g_task_return_error_if_cancelled (comp->task))
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, g_steal_pointer (&comp->report));
      g_task_return_value (comp->task, &value);
    }

  g_object_unref (comp->task);
  g_free (comp->report);
  g_free (comp);
}

static gboolean
computation_done (gpointer data)
{
  Computation *comp = data;

  if (work_held (comp->daemon, comp->releases))
    {
      /* Destroyed by returning G_SOURCE_REMOVE. */
      g_clear_pointer (&comp->timer, g_source_unref);
      g_queue_push_tail (&comp->daemon->held_reports, comp);
      return G_SOURCE_REMOVE;
    }
  computation_finish (comp);
  return G_SOURCE_REMOVE;
}

static gboolean
computation_cancelled (GCancellable *cancellable,
                       gpointer      data)
{
  computation_finish (data);
  return G_SOURCE_REMOVE;
}

static GSource *
attach_source (GSource     *source,
               GSourceFunc  func,
               gpointer     data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

/* A report takes report_ms to compute, like a query to a slow backend.
 * The computation's number makes each report distinct, so that clients can
 * see which requests shared one. A cancellable source, rather than a
 * "cancelled" handler, completes the task from the main loop and never from
 * inside g_cancellable_cancel(). */
static void
report_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  Daemon *daemon = user_data;
  Computation *comp = g_new0 (Computation, 1);
  const char *key;
  guint number;

  comp->releases = g_atomic_int_get (&daemon->releases);
  g_atomic_int_inc (&daemon->counters.executions);
  number = (guint) g_atomic_int_add (&daemon->counters.report_runs, 1) + 1;
  g_variant_get (args, "(&s)", &key);

  comp->daemon = daemon;
  comp->task = g_object_ref (task);
  comp->report = g_strdup_printf ("report “%s”, computation #%u", key, number);
  comp->timer = attach_source (g_timeout_source_new (daemon->report_ms), computation_done, comp);
  comp->cancelled = attach_source (g_cancellable_source_new (cancellable),
                                   G_SOURCE_FUNC (computation_cancelled), comp);
}

/* Methods */

static void
on_hash_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  GError *error = NULL;
  g_autofree char *hex = NULL;

  hex = smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (source_object),
                                                  result, &error);
  call_complete (data, hex != NULL ? g_variant_new ("(s)", hex) : NULL, error);
}

static void
on_slow_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  GError *error = NULL;
  gssize elapsed;

  elapsed = smartasync_operation_call_finish_int (SMARTASYNC_OPERATION (source_object),
                                                  result, &error);
  call_complete (data, error == NULL ? g_variant_new ("(u)", (guint32) elapsed) : NULL, error);
}

static void
on_read_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  GError *error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GVariant *contents = NULL;

  bytes = smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (source_object),
                                                    result, &error);
  if (bytes != NULL)
    contents = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
  call_complete (data, contents != NULL ? g_variant_new ("(@ay)", contents) : NULL, error);
}

static void
on_report_done (GObject      *source_object,
                GAsyncResult *result,
                gpointer      data)
{
  Call *call = data;
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (smartasync_lock_run_finish (call->daemon->report_lock, result, &value, &error))
    call_complete (call, g_variant_new ("(s)", g_value_get_string (&value)), NULL);
  else
    call_complete (call, NULL, error);
}

/* The handlers run in async context: call_async offloads the blocking
 * implementations and runs the asynchronous ones here, on the main thread;
 * either way the callback comes back to the main thread. The D-Bus
 * parameters are the implementations' arguments as they come. */
static void
start_hash (Call     *call,
            GVariant *parameters)
{
  smartasync_operation_call_async (call->daemon->hash_op, NULL, parameters,
                                   call_get_cancellable (call), on_hash_done, call);
}

static void
start_slow (Call     *call,
            GVariant *parameters)
{
  smartasync_operation_call_async (call->daemon->slow_op, NULL, parameters,
                                   call_get_cancellable (call), on_slow_done, call);
}

static void
start_read_file (Call     *call,
                 GVariant *parameters)
{
  smartasync_operation_call_async (call->daemon->read_op, NULL, parameters,
                                   call_get_cancellable (call), on_read_done, call);
}

/* The caller's cancellable lets this caller leave; the computation goes on
 * for the others, and stops only once every caller has left. */
static void
start_report (Call     *call,
              GVariant *parameters)
{
  const char *key;

  g_variant_get (parameters, "(&s)", &key);
  smartasync_lock_run_async (call->daemon->report_lock, key, call->daemon->report_op, NULL,
                             parameters, call_get_cancellable (call), on_report_done, call);
}

/* GDBus has already checked the argument types against the introspection
 * data; these check the values, before any work starts. */
static gboolean
check_path (GVariant  *parameters,
            GError   **error)
{
  const char *path;

  g_variant_get (parameters, "(&s)", &path);
  if (g_path_is_absolute (path))
    return TRUE;

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
               "“%s” is not an absolute path", path);
  return FALSE;
}

static gboolean
check_milliseconds (GVariant  *parameters,
                    GError   **error)
{
  guint32 ms;

  g_variant_get (parameters, "(u)", &ms);
  if (ms <= MAX_SLOW_MS)
    return TRUE;

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
               "%u ms is more than the maximum, %d ms", ms, MAX_SLOW_MS);
  return FALSE;
}

static gboolean
check_key (GVariant  *parameters,
           GError   **error)
{
  const char *key;
  gsize length;

  g_variant_get (parameters, "(&s)", &key);
  length = strlen (key);
  if (length > 0 && length <= MAX_KEY_LENGTH)
    return TRUE;

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
               "A report key has 1 to %d bytes, not %" G_GSIZE_FORMAT, MAX_KEY_LENGTH, length);
  return FALSE;
}

static GVariant *
answer_ping (Daemon *daemon)
{
  return g_variant_new ("(s)", "pong");
}

static GVariant *
answer_counters (Daemon *daemon)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{su}"));
  g_variant_builder_add (&builder, "{su}", "calls", daemon->counters.calls);
  g_variant_builder_add (&builder, "{su}", "executions",
                         (guint32) g_atomic_int_get (&daemon->counters.executions));
  g_variant_builder_add (&builder, "{su}", "coalesced",
                         smartasync_lock_get_joins (daemon->report_lock));
  g_variant_builder_add (&builder, "{su}", "offloads",
                         (guint32) g_atomic_int_get (&daemon->counters.offloads));
  g_variant_builder_add (&builder, "{su}", "cancellations", daemon->counters.cancellations);
  g_variant_builder_add (&builder, "{su}", "errors", daemon->counters.errors);
  g_variant_builder_add (&builder, "{su}", "pending", daemon->n_pending);
  g_variant_builder_add (&builder, "{su}", "callers", g_hash_table_size (daemon->callers));
  return g_variant_new ("(a{su})", &builder);
}

typedef struct
{
  const char *name;
  GVariant *(*answer) (Daemon *daemon);       /* cheap: answered at once */
  gboolean  (*check)  (GVariant *parameters,  /* the others: checked, then started */
                       GError  **error);
  void      (*start)  (Call     *call,
                       GVariant *parameters);
} Method;

static const Method methods[] = {
  { "Hash", NULL, check_path, start_hash },
  { "Slow", NULL, check_milliseconds, start_slow },
  { "Report", NULL, check_key, start_report },
  { "ReadFile", NULL, check_path, start_read_file },
  { "Ping", answer_ping, NULL, NULL },
  { "GetCounters", answer_counters, NULL, NULL },
};

static void
handle_method_call (GDBusConnection       *connection,
                    const char            *sender,
                    const char            *object_path,
                    const char            *interface_name,
                    const char            *method_name,
                    GVariant              *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  Daemon *daemon = user_data;
  const Method *method = NULL;
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (methods) && method == NULL; i++)
    if (g_str_equal (methods[i].name, method_name))
      method = &methods[i];

  /* GDBus answers unknown methods itself; this is for an XML that lists a
   * method this file does not implement. */
  if (method == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "%s is not implemented", method_name);
      return;
    }

  daemon->counters.calls++;
  if (method->answer != NULL)
    g_dbus_method_invocation_return_value (invocation, method->answer (daemon));
  else if (!method->check (parameters, &error))
    {
      daemon->counters.errors++;
      g_dbus_method_invocation_take_error (invocation, error);
    }
  else
    method->start (call_new (daemon, invocation), parameters);
}

static const GDBusInterfaceVTable interface_vtable = { handle_method_call, NULL, NULL, { 0 } };

/* Life cycle */

/* Exits once every object has been finalized: the poll is short and runs
 * only while stopping. */
static gboolean
check_drained (gpointer data)
{
  Daemon *daemon = data;

  daemon->drained = g_atomic_int_get (&daemon->n_alive) == 0 && daemon->n_callers == 0;
  if (!daemon->drained && g_get_monotonic_time () < daemon->drain_deadline)
    return G_SOURCE_CONTINUE;

  if (!daemon->drained)
    {
      g_printerr ("smartasync-daemon: %d object(s) still referenced %d s after the last "
                  "call (a leak, or work that ignores cancellation); exiting anyway\n",
                  g_atomic_int_get (&daemon->n_alive), DRAIN_TIMEOUT_S);
      daemon->exit_status = EXIT_FAILURE;
    }
  daemon->drain_id = 0;
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_REMOVE;
}

/* Once stopping with every call answered: drops the operations, then waits
 * for the references that workers and GDBus's name watches still hold. */
static void
daemon_drain (Daemon *daemon)
{
  if (!daemon->shutting_down || daemon->n_pending > 0 || daemon->drain_id != 0)
    return;

  g_clear_object (&daemon->report_lock);
  g_clear_object (&daemon->report_op);
  g_clear_object (&daemon->read_op);
  g_clear_object (&daemon->slow_op);
  g_clear_object (&daemon->hash_op);
  g_clear_object (&daemon->executor);

  daemon->drain_deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_S * G_USEC_PER_SEC;
  daemon->drain_id = g_timeout_add (DRAIN_POLL_MS, check_drained, daemon);
}

static void
daemon_shutdown (Daemon *daemon,
                 int     exit_status)
{
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer caller;

  if (daemon->shutting_down)
    return;
  daemon->shutting_down = TRUE;
  daemon->exit_status = exit_status;
  g_debug ("stopping with %u call(s) pending", daemon->n_pending);

  /* No new calls from here on. A name this instance does not own (lost, or
   * refused) is not given back: GLib 2.74's g_bus_unown_name() still sends
   * ReleaseName for it and warns ("Unexpected reply 3 when releasing name",
   * not the owner; or "Error releasing name" once the connection is closed).
   * Later GLib forgets a lost name; see daemon_free(). */
  if (!daemon->name_lost)
    g_clear_handle_id (&daemon->owner_id, g_bus_unown_name);
  if (daemon->registration_id != 0)
    g_dbus_connection_unregister_object (daemon->connection, daemon->registration_id);
  daemon->registration_id = 0;

  /* Collected first: a cancelled call may complete at once and remove its
   * caller from the table. */
  g_hash_table_iter_init (&iter, daemon->callers);
  while (g_hash_table_iter_next (&iter, NULL, &caller))
    g_ptr_array_add (cancellables, g_object_ref (((Caller *) caller)->cancellable));
  for (guint i = 0; i < cancellables->len; i++)
    g_cancellable_cancel (g_ptr_array_index (cancellables, i));

  daemon_drain (daemon);
}

static gboolean
on_stop_signal (gpointer data)
{
  daemon_shutdown (data, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

/* --hold: lets the held work end, the Slow calls on their workers and the
 * computations here. */
static gboolean
on_release_signal (gpointer data)
{
  Daemon *daemon = data;

  g_atomic_int_inc (&daemon->releases);
  g_debug ("released %u held report(s)", g_queue_get_length (&daemon->held_reports));
  while (!g_queue_is_empty (&daemon->held_reports))
    computation_finish (g_queue_peek_head (&daemon->held_reports));
  return G_SOURCE_CONTINUE;
}

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      gpointer         data)
{
  g_printerr ("smartasync-daemon: the bus connection closed%s%s\n",
              error != NULL ? ": " : "", error != NULL ? error->message : "");
  daemon_shutdown (data, EXIT_FAILURE);
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         data)
{
  Daemon *daemon = data;

  daemon->name_acquired = TRUE;
  g_debug ("owning %s", name);
}

/* Losing the name before owning it means another instance runs; after,
 * with the bus still there, that one replaced this one (--replace): a
 * normal end. */
static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         data)
{
  Daemon *daemon = data;
  gboolean replaced = daemon->name_acquired && !g_dbus_connection_is_closed (connection);

  daemon->name_lost = TRUE;
  if (!daemon->name_acquired)
    g_printerr ("smartasync-daemon: %s is owned by another process "
                "(start with --replace to take it over)\n", name);
  daemon_shutdown (daemon, replaced ? EXIT_SUCCESS : EXIT_FAILURE);
}

static Daemon *
daemon_new (guint    threads,
            guint    report_ms,
            gboolean hold)
{
  Daemon *daemon = g_new0 (Daemon, 1);

  daemon->loop = g_main_loop_new (NULL, FALSE);
  daemon->main_thread = g_thread_self ();
  daemon->callers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, caller_unref);
  daemon->report_ms = report_ms;
  daemon->hold = hold;
  g_queue_init (&daemon->held_reports);

  /* A bounded pool of our own: many slow calls queue there instead of
   * filling GLib's shared GTask pool, which ReadFile's GIO calls need. */
  daemon->executor = daemon_track (daemon, smartasync_executor_new (threads));
  daemon->hash_op = smartasync_operation_new_blocking ("hash", hash_impl, daemon, NULL);
  daemon->slow_op = smartasync_operation_new_blocking ("slow", slow_impl, daemon, NULL);
  daemon->read_op = smartasync_operation_new_async ("read-file", read_impl, daemon, NULL);
  daemon->report_op = smartasync_operation_new_async ("report", report_impl, daemon, NULL);
  smartasync_operation_set_executor (daemon->hash_op, daemon->executor);
  smartasync_operation_set_executor (daemon->slow_op, daemon->executor);
  daemon_track (daemon, daemon->hash_op);
  daemon_track (daemon, daemon->slow_op);
  daemon_track (daemon, daemon->read_op);
  daemon_track (daemon, daemon->report_op);
  daemon->report_lock = daemon_track (daemon, smartasync_lock_new ());

  daemon->sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, daemon);
  daemon->sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, daemon);
  if (hold)
    daemon->sigusr1_id = g_unix_signal_add (SIGUSR1, on_release_signal, daemon);
  return daemon;
}

static GDBusConnection *
connect_to_bus (const char  *address,
                GError     **error)
{
  if (address == NULL)
    return g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);

  return g_dbus_connection_new_for_address_sync (address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, error);
}

/* The object is exported before the name is requested, so that a client
 * that sees the name can call it at once. */
static gboolean
daemon_start (Daemon      *daemon,
              const char  *address,
              gboolean     replace,
              GError     **error)
{
  g_autoptr(GBytes) xml = NULL;

  daemon->connection = connect_to_bus (address, error);
  if (daemon->connection == NULL)
    return FALSE;
  g_dbus_connection_set_exit_on_close (daemon->connection, FALSE);
  daemon->closed_id = g_signal_connect (daemon->connection, "closed",
                                        G_CALLBACK (on_connection_closed), daemon);

  /* GResource data is always NUL-terminated. */
  xml = g_resources_lookup_data (INTROSPECTION_XML, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (xml == NULL)
    return FALSE;
  daemon->introspection = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL), error);
  if (daemon->introspection == NULL)
    return FALSE;

  daemon->registration_id =
    g_dbus_connection_register_object (daemon->connection, OBJECT_PATH,
                                       g_dbus_node_info_lookup_interface (daemon->introspection,
                                                                          INTERFACE_NAME),
                                       &interface_vtable, daemon, NULL, error);
  if (daemon->registration_id == 0)
    return FALSE;

  daemon->owner_id = g_bus_own_name_on_connection (daemon->connection, BUS_NAME,
                                                   G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                                   G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE |
                                                   (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                                   on_name_acquired, on_name_lost, daemon, NULL);
  return TRUE;
}

/* Sends the last answers, closes the connection and frees everything. If
 * work outlived the drain timeout, the objects it may still touch are left
 * to the exit. */
static void
daemon_free (Daemon *daemon)
{
  g_clear_handle_id (&daemon->sigterm_id, g_source_remove);
  g_clear_handle_id (&daemon->sigint_id, g_source_remove);
  g_clear_handle_id (&daemon->sigusr1_id, g_source_remove);
  if (!daemon->name_lost)
    g_clear_handle_id (&daemon->owner_id, g_bus_unown_name);

  if (daemon->connection != NULL)
    {
      g_clear_signal_handler (&daemon->closed_id, daemon->connection);
      if (daemon->registration_id != 0)
        g_dbus_connection_unregister_object (daemon->connection, daemon->registration_id);
      g_dbus_connection_flush_sync (daemon->connection, NULL, NULL);
      g_dbus_connection_close_sync (daemon->connection, NULL, NULL);
    }
  /* A lost name's ownership record (GLib's, with a reference to the
   * connection) is left to the process's exit: unowning it would warn. */
  daemon->owner_id = 0;
  g_clear_object (&daemon->connection);

  g_clear_pointer (&daemon->introspection, g_dbus_node_info_unref);
  g_main_loop_unref (daemon->loop);
  if (!daemon->shutting_down || daemon->drained)
    {
      g_clear_object (&daemon->report_lock);
      g_clear_object (&daemon->report_op);
      g_clear_object (&daemon->read_op);
      g_clear_object (&daemon->slow_op);
      g_clear_object (&daemon->hash_op);
      g_clear_object (&daemon->executor);
      g_hash_table_unref (daemon->callers);
      g_free (daemon);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *address = NULL;
  gboolean replace = FALSE;
  gboolean hold = FALSE;
  int threads = DEFAULT_THREADS;
  int report_ms = DEFAULT_REPORT_MS;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address,
      "Use the message bus at ADDRESS instead of the session bus", "ADDRESS" },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      "Replace a running instance", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Worker threads for blocking work (1-64, default 4)", "N" },
    { "report-ms", 0, 0, G_OPTION_ARG_INT, &report_ms,
      "How long a report takes to compute (1-60000, default 300)", "MS" },
    { "hold", 0, 0, G_OPTION_ARG_NONE, &hold,
      "For tests: Slow calls and reports end only when SIGUSR1 arrives", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  Daemon *daemon;
  int status;

  setlocale (LC_ALL, "");
  context = g_option_context_new ("— smartasync-glib's example D-Bus service");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      threads < 1 || threads > 64 || report_ms < 1 || report_ms > 60000 || argc > 1)
    {
      g_printerr ("smartasync-daemon: %s (see --help)\n",
                  error != NULL ? error->message : "bad arguments");
      return 2;
    }

  daemon_error_quark ();
  daemon = daemon_new ((guint) threads, (guint) report_ms, hold);
  if (daemon_start (daemon, address, replace, &error))
    g_main_loop_run (daemon->loop);
  else
    {
      g_printerr ("smartasync-daemon: %s\n", error->message);
      daemon->exit_status = EXIT_FAILURE;
    }

  status = daemon->exit_status;
  daemon_free (daemon);
  smartasync_reset ();
  return status;
}
