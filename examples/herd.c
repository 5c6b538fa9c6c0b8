/* herd.c: a thundering herd of requests for one resource, coalesced by SmartasyncLock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A daemon-like program: a GMainLoop receives many concurrent requests for
 * the same expensive resource, a report that takes ~100 ms to compute (an
 * async implementation, like a query to a slow backend). Every request goes
 * through one SmartasyncLock keyed by the report's name, so each report is
 * computed once however many requests arrive while it is being computed, and
 * every request gets the result on its own callback. Requests alternate
 * between two reports: the two keys are computed in parallel, not one after
 * the other.
 *
 * Request #0, the one that starts the first computation, gives up early by
 * cancelling its GCancellable: it gets G_IO_ERROR_CANCELLED at once, and the
 * computation it started goes on for everybody else.
 *
 * Then the same workload runs without the lock, every request calling the
 * operation itself: one execution per request, all at once.
 *
 * Usage: smartasync-herd [requests, default 500]
 * The exit status is non-zero if any count is not the expected one.
 */

#include <locale.h>

#include <smartasync-glib.h>

#define REPORT_MS  100   /* one computation of a report */
#define ARRIVAL_MS  40   /* the requests arrive spread over this time */
#define CANCEL_MS   60   /* when request #0 gives up */
#define N_KEYS       2

static const char *const keys[N_KEYS] = { "report/daily", "report/weekly" };

/* The backend's view. Everything below runs on the main thread: the
 * implementation is asynchronous, so no thread is involved. */
static guint backend_executions;
static guint backend_running;
static guint backend_peak;

/* The implementation */

typedef struct
{
  GTask   *task;
  GSource *timer;
  GSource *cancelled;
  char    *report;
} Computation;

/* Both sources are destroyed whichever fires first, so the other one can
 * never run with freed data. */
static void
computation_finish (Computation *comp)
{
  backend_running--;
  g_source_destroy (comp->timer);
  g_source_destroy (comp->cancelled);
  g_source_unref (comp->timer);
  g_source_unref (comp->cancelled);

  /* The lock needs a GValue: each of its callers gets its own copy. */
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
  computation_finish (data);
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

/* Computes the report named by the string argument, in REPORT_MS. It honours
 * its cancellable as a GIO operation does: a cancellable source, rather than
 * a "cancelled" handler, completes the task from the main context and never
 * from inside g_cancellable_cancel(). */
static void
report_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  Computation *comp = g_new0 (Computation, 1);

  backend_executions++;
  backend_running++;
  backend_peak = MAX (backend_peak, backend_running);

  /* The execution number makes every computed report distinct, so that the
   * answers show how many computations the requests shared. */
  comp->task = g_object_ref (task);
  comp->report = g_strdup_printf ("%s, computation #%u", g_variant_get_string (args, NULL),
                                  backend_executions);
  comp->timer = attach_source (g_timeout_source_new (REPORT_MS), computation_done, comp);
  comp->cancelled = attach_source (g_cancellable_source_new (cancellable),
                                   G_SOURCE_FUNC (computation_cancelled), comp);
}

/* The requests */

typedef struct
{
  GMainLoop           *loop;
  SmartasyncOperation *report_op;
  SmartasyncLock      *lock;          /* NULL for the run without the lock */
  guint                n_requests;
  guint                pending;
  guint                answered;
  guint                cancelled;
  guint                failed;
  GHashTable          *reports;       /* distinct answers */
  gint64               started;
  gint64               elapsed;       /* until the last answer */
  gint64               cancelled_at;  /* when request #0 got its error */
  GCancellable        *first_cancellable;
  guint                cancel_id;
} Herd;

typedef struct
{
  Herd         *herd;
  guint         index;
  GCancellable *cancellable;          /* request #0's; NULL for the others */
} Request;

static double
ms_since (Herd *herd)
{
  return (g_get_monotonic_time () - herd->started) / 1000.0;
}

static void
record_answer (Herd          *herd,
               Request       *request,
               const GValue  *value,
               const GError  *error)
{
  if (error == NULL)
    {
      herd->answered++;
      g_hash_table_add (herd->reports, g_value_dup_string (value));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && request->index == 0)
    {
      herd->cancelled++;
      herd->cancelled_at = g_get_monotonic_time () - herd->started;
    }
  else
    {
      herd->failed++;
      g_printerr ("   request #%u failed: %s\n", request->index, error->message);
    }
}

static void
on_answer (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  Request *request = data;
  Herd *herd = request->herd;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (herd->lock != NULL)
    smartasync_lock_run_finish (herd->lock, result, &value, &error);
  else
    smartasync_operation_call_finish (herd->report_op, result, &value, &error);
  record_answer (herd, request, &value, error);

  g_clear_object (&request->cancellable);
  g_free (request);
  if (--herd->pending == 0)
    {
      herd->elapsed = g_get_monotonic_time () - herd->started;
      g_main_loop_quit (herd->loop);
    }
}

/* A request arrives: the handler a daemon would run for a D-Bus call. */
static gboolean
on_request (gpointer data)
{
  Request *request = data;
  Herd *herd = request->herd;
  const char *key = keys[request->index % N_KEYS];
  GVariant *args = g_variant_new_string (key);

  if (herd->lock != NULL)
    smartasync_lock_run_async (herd->lock, key, herd->report_op, NULL, args,
                               request->cancellable, on_answer, request);
  else
    smartasync_operation_call_async (herd->report_op, NULL, args,
                                     request->cancellable, on_answer, request);
  return G_SOURCE_REMOVE;
}

/* Request #0 gives up, as a client that disconnects would. */
static gboolean
cancel_first_request (gpointer data)
{
  Herd *herd = data;

  if (herd->lock != NULL)
    g_print ("   at %5.1f ms, request #0 cancels; computing %s: %s, %s: %s\n",
             ms_since (herd),
             keys[0], smartasync_lock_is_running (herd->lock, keys[0]) ? "yes" : "no",
             keys[1], smartasync_lock_is_running (herd->lock, keys[1]) ? "yes" : "no");
  herd->cancel_id = 0;
  g_cancellable_cancel (herd->first_cancellable);
  return G_SOURCE_REMOVE;
}

/* The requests arrive over ARRIVAL_MS, all well before the first report is
 * ready, so every one of them is concurrent with the computations. */
static void
herd_run (Herd           *herd,
          SmartasyncLock *lock)
{
  herd->lock = lock;
  herd->pending = herd->n_requests;
  herd->answered = herd->cancelled = herd->failed = 0;
  herd->cancelled_at = -1;
  herd->reports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  herd->first_cancellable = g_cancellable_new ();
  backend_executions = backend_peak = 0;

  herd->started = g_get_monotonic_time ();
  for (guint i = 0; i < herd->n_requests; i++)
    {
      Request *request = g_new0 (Request, 1);

      request->herd = herd;
      request->index = i;
      if (i == 0)
        request->cancellable = g_object_ref (herd->first_cancellable);
      g_timeout_add ((guint) ((guint64) i * ARRIVAL_MS / herd->n_requests), on_request, request);
    }

  /* Added after the arrivals: should both be due in one iteration (a very
   * slow machine), the arrivals are dispatched first. */
  herd->cancel_id = g_timeout_add (CANCEL_MS, cancel_first_request, herd);

  g_main_loop_run (herd->loop);
  g_clear_handle_id (&herd->cancel_id, g_source_remove);
}

static void
herd_clear_run (Herd *herd)
{
  g_clear_pointer (&herd->reports, g_hash_table_unref);
  g_clear_object (&herd->first_cancellable);
}

static void G_GNUC_PRINTF (3, 4)
print_row (const char *what,
           guint       value,
           const char *format,
           ...)
{
  g_autofree char *note = NULL;
  va_list args;

  va_start (args, format);
  note = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("   %-26s %6u   %s\n", what, value, note);
}

static void
print_common_rows (Herd *herd)
{
  print_row ("answered with a report", herd->answered, "%u distinct report(s)",
             g_hash_table_size (herd->reports));
  print_row ("G_IO_ERROR_CANCELLED", herd->cancelled, "request #0, at %.1f ms",
             herd->cancelled_at / 1000.0);
  print_row ("backend: at most at once", backend_peak, "%s",
             herd->lock != NULL ? "computations running in parallel (one per key)"
                                : "computations running in parallel");
  g_print ("   %-26s %6.1f ms until the last answer (a report takes %d ms; "
           "the last request arrives at ~%d ms)\n", "elapsed",
           herd->elapsed / 1000.0, REPORT_MS, ARRIVAL_MS);
}

/* Says which count is wrong, so that a failure explains itself. */
static gboolean
expect (const char *what,
        guint       got,
        guint       wanted)
{
  if (got != wanted)
    g_printerr ("   wrong count: %s is %u, expected %u\n", what, got, wanted);
  return got == wanted;
}

/* Every request except #0 has its report, #0 was cancelled, nothing failed.
 * Not short-circuited: every wrong count is reported. */
static gboolean
check_answers (Herd *herd)
{
  return expect ("answered", herd->answered, herd->n_requests - 1) &
         expect ("cancelled", herd->cancelled, 1) &
         expect ("failed", herd->failed, 0);
}

static gboolean
run_with_lock (Herd *herd)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  guint executions, joins;
  gboolean ok;

  g_print ("\nWith one SmartasyncLock, keyed by report name:\n");
  herd_run (herd, lock);
  executions = smartasync_lock_get_executions (lock);
  joins = smartasync_lock_get_joins (lock);

  print_row ("requests", herd->n_requests, "%u per key", herd->n_requests / N_KEYS);
  print_row ("executions", executions, "smartasync_lock_get_executions(): one per key");
  print_row ("joins", joins, "smartasync_lock_get_joins()");
  print_common_rows (herd);

  /* One computation per key, both at once, each shared by all its requests
   * (#0's included: its computation went on without it). */
  ok = check_answers (herd) &
       expect ("executions", executions, N_KEYS) &
       expect ("backend executions", backend_executions, N_KEYS) &
       expect ("joins", joins, herd->n_requests - N_KEYS) &
       expect ("backend peak", backend_peak, N_KEYS) &
       expect ("distinct reports", g_hash_table_size (herd->reports), N_KEYS);
  herd_clear_run (herd);
  return ok;
}

static gboolean
run_without_lock (Herd *herd)
{
  gboolean ok;

  g_print ("\nWithout the lock, every request calls the operation itself:\n");
  herd_run (herd, NULL);

  print_row ("requests", herd->n_requests, "%u per key", herd->n_requests / N_KEYS);
  print_row ("executions", backend_executions, "one per request");
  print_common_rows (herd);

  /* #0 cancelled its own computation; every other one delivered its own. */
  ok = check_answers (herd) &
       expect ("executions", backend_executions, herd->n_requests) &
       expect ("distinct reports", g_hash_table_size (herd->reports), herd->n_requests - 1);
  herd_clear_run (herd);
  return ok;
}

int
main (int   argc,
      char *argv[])
{
  Herd herd = { 0 };
  guint64 n = 500;
  gboolean ok;

  setlocale (LC_ALL, "");
  if (argc > 2 || (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 4, 100000, &n, NULL)))
    {
      g_printerr ("Usage: %s [requests, 4-100000, default 500]\n", argv[0]);
      return 2;
    }

  g_print ("smartasync-glib %s herd: %" G_GUINT64_FORMAT " concurrent requests for %d reports "
           "of ~%d ms, arriving over %d ms\n", SMARTASYNC_VERSION_S, n, N_KEYS, REPORT_MS,
           ARRIVAL_MS);

  herd.n_requests = (guint) n;
  herd.loop = g_main_loop_new (NULL, FALSE);
  herd.report_op = smartasync_operation_new_async ("compute-report", report_impl, NULL, NULL);

  ok = run_with_lock (&herd);
  ok = run_without_lock (&herd) && ok;

  if (ok)
    g_print ("\nOK: the lock served %u requests with %d executions instead of %u.\n",
             herd.n_requests, N_KEYS, herd.n_requests);
  else
    g_printerr ("\nsmartasync-herd failed: unexpected counts (see above)\n");

  g_main_loop_unref (herd.loop);
  g_object_unref (herd.report_op);
  smartasync_reset ();
  return ok ? 0 : 1;
}
