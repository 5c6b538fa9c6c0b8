/* fuzz-api.c: a libFuzzer harness that runs random sequences of API calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The input is a program. Each instruction is one byte (the opcode, modulo
 * the number of instructions) followed by its argument bytes; a missing byte
 * reads as 0, so every input is a valid program. The main thread keeps a
 * "loop" context of its own pushed as thread-default while it runs the
 * program, and:
 *
 *   CALL_SYNC  CALL_ASYNC  SMART  AWAIT  BATCH   call an operation through
 *   LOCK                                         each entry point (SMART and
 *                                                LOCK from a dispatch of the
 *                                                loop, or not)
 *   ITERATE  CANCEL  COMPLETE                    drive pending calls
 *   RESET  LOCK_RESET  LOCK_RENEW  EXECUTOR      global state
 *   SET_CONTEXT
 *   THREAD   spawns a thread that runs the next bytes as a program of sync
 *            calls (call_sync, smart calls, lock_run_sync, batches, awaits,
 *            resets), then waits to be released and exits
 *   JOIN     drains everything and joins the threads
 *
 * There are three operations: an asynchronous implementation whose
 * behaviour (complete now, from an idle, from a helper thread, parked until
 * COMPLETE, cancel itself first, never complete) and result (value or error)
 * are chosen per call, a blocking one (offloaded to GLib's pool), and a
 * blocking one on a SmartasyncExecutor, which returns its result with
 * g_task_return_pointer() and declares it a string (result-type), so that
 * every entry point also reads declared results. Results carry the id of
 * the call whose implementation produced them.
 *
 * Invariants checked (a violation aborts, which libFuzzer reports):
 * - every callback runs exactly once, on the caller's thread and context;
 * - the result is the one the implementation produced for that call (or,
 *   through a lock, for a call of the same key), or G_IO_ERROR_CANCELLED
 *   only when something cancelled it, or the documented error of a
 *   misbehaving implementation;
 * - implementations run on the thread and context the dispatch rules say;
 * - no GLib or smartasync warning or critical is logged;
 * - everything completes: the final drain has a deadline;
 * - no leak: LeakSanitizer (libFuzzer's -detect_leaks=1) or valgrind
 *   (fuzz-api-replay under `meson test --setup valgrind`).
 *
 * The harness stays away from documented limitations and from the cases
 * that tests/reliability/test-faults.c covers one by one ("isolated" cases,
 * among them three former gaps this harness found), so that what it finds is
 * new: it lets late completions of abandoned waits arrive before the waiting
 * thread resets or exits (a janitor thread would dispatch them, out of the
 * harness's sight), it never lets a lock run or a batch call drop its task,
 * lock runs on workers complete on the worker, and its threads keep
 * iterating their private context until everything has drained. */

#include <smartasync-glib.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Calls made and threads run so far, for fuzz-replay.c's summary. */
extern guint64 fuzz_api_calls, fuzz_api_threads;
guint64 fuzz_api_calls, fuzz_api_threads;

#define FUZZ_ERROR (g_quark_from_static_string ("fuzz-error"))

#define MAX_INSTRUCTIONS 48
#define MAX_THREAD_INSTRUCTIONS 12
#define MAX_THREADS 4
#define MAX_RECORDS 200
#define MAX_BATCH 4
#define N_KEYS 4
#define DRAIN_TIMEOUT_US (30 * G_USEC_PER_SEC)

/* What the current input did, printed when an invariant breaks. */
static GMutex trace_mutex;
static GString *trace;

G_GNUC_PRINTF (1, 2) static void
trace_event (const char *format,
             ...)
{
  va_list args;

  g_mutex_lock (&trace_mutex);
  if (trace != NULL)
    {
      g_string_append_printf (trace, "  [%p] ", (void *) g_thread_self ());
      va_start (args, format);
      g_string_append_vprintf (trace, format, args);
      va_end (args);
      g_string_append_c (trace, '\n');
    }
  g_mutex_unlock (&trace_mutex);
}

#define CHECK(cond, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      fuzz_fail (__LINE__, #cond, __VA_ARGS__); \
  } G_STMT_END

G_GNUC_PRINTF (3, 4) G_GNUC_NORETURN static void
fuzz_fail (int         line,
           const char *cond,
           const char *format,
           ...)
{
  va_list args;

  g_mutex_lock (&trace_mutex);
  if (trace != NULL)
    fprintf (stderr, "fuzz-api.c: trace of the input so far:\n%s", trace->str);
  g_mutex_unlock (&trace_mutex);
  fprintf (stderr, "fuzz-api.c:%d: invariant violated: %s\n  ", line, cond);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fprintf (stderr, "\n");
  abort ();
}

/* Operations and modes */

enum { OP_ASYNC, OP_BLOCKING, OP_EXECUTOR, N_OPS };

typedef enum
{
  M_NOW,            /* complete inside the implementation */
  M_IDLE,           /* from an idle on the thread-default context (async) */
  M_THREAD,         /* from a helper thread (async) */
  M_MANUAL,         /* parked until COMPLETE or the drain (async) */
  M_CANCEL,         /* cancel the task's cancellable first, complete anyway */
  M_NEVER,          /* cancel the task's cancellable, never complete (async) */
  M_NOT_COMPLETED,  /* return without completing (blocking, direct paths) */
  M_DELAY,          /* sleep a little, then complete (blocking) */
  N_MODES
} Mode;

typedef enum
{
  VIA_CALL_SYNC,
  VIA_CALL_ASYNC,
  VIA_SMART_SYNC,
  VIA_SMART_ASYNC,
  VIA_AWAIT,
  VIA_AWAIT_SYNC,
  VIA_BATCH,
  VIA_LOCK,
} Via;

typedef struct _Batch Batch;

typedef struct
{
  gatomicrefcount ref_count;
  guint64        self;             /* the serialized call arguments: this record */
  guint          id;
  Via            via;
  guint8         op;
  Mode           mode;
  gboolean       fail;
  gint           key;              /* lock: 0..N_KEYS-1 */
  gboolean       dispatched;       /* called from a dispatch of the loop */
  gboolean       lock_on_worker;   /* lock run started from a sync context */
  GThread       *caller;
  GMainContext  *caller_context;   /* thread-default at the call, for callbacks */
  gboolean       has_callback;
  GCancellable  *cancellable;
  Batch         *batch;
  gint           cancel_issued;    /* atomic */
  gint           reset_epoch;      /* lock: the lock's reset count at the call */
  gint           callbacks;        /* atomic */
  gint           runs;             /* atomic */
} Record;

struct _Batch
{
  gint cancelled;                  /* atomic: cancelled, or a call cancelled the batch */
};

typedef struct
{
  GTask        *task;
  GMainContext *context;           /* the task's, not a reference */
  gpointer      rec;               /* a reference */
} Parked;

typedef struct
{
  GThread  *thread;
  guint8   *code;
  gsize     len;
  gint      program_done;          /* atomic */
  gint      release;               /* atomic */
} ThreadProgram;

typedef struct
{
  GMainContext   *loop;            /* the main thread's, pushed during the run */
  SmartasyncLock *lock;
  GMutex          mutex;           /* records, parked, batches */
  GPtrArray      *records;
  GPtrArray      *parked;
  GPtrArray      *batches;
  GPtrArray      *threads;
  gint            lock_resets;     /* atomic: twice per reset, odd while one runs */
  gint            key_cancels[N_KEYS];          /* atomic: leaders that cancel their run */
  gint            key_not_completed[N_KEYS];    /* atomic: NOT_COMPLETED or dropped runs */
  gint            next_id;         /* atomic */
} Run;

static SmartasyncOperation *ops[N_OPS];
static SmartasyncExecutor *executors[3];   /* candidates for the default one */
static GThreadPool *helpers;
static gint helper_jobs;           /* atomic */
static gint impls_running;         /* atomic */
static Run *run;

/* Logging: any warning or critical is a failure */

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      fuzz_fail (__LINE__, "no warning or critical", "a warning or critical was logged");
    }
  return G_LOG_WRITER_HANDLED;
}

/* Reading the program */

typedef struct
{
  const guint8 *data;
  gsize         size;
  gsize         pos;
} Reader;

static guint8
next_byte (Reader *r)
{
  return r->pos < r->size ? r->data[r->pos++] : 0;
}

static gboolean
reader_done (Reader *r)
{
  return r->pos >= r->size;
}

/* Records */

static Record *
record_new (Via       via,
            guint8    op,
            guint8    mode_byte,
            guint8    flags,
            gboolean  dispatched)
{
  Record *rec = g_new0 (Record, 1);

  g_atomic_ref_count_init (&rec->ref_count);
  rec->self = (guint64) GPOINTER_TO_SIZE (rec);
  rec->id = (guint) g_atomic_int_add (&run->next_id, 1) + 1;
  rec->via = via;
  rec->op = op % N_OPS;
  rec->mode = mode_byte % N_MODES;
  rec->fail = flags & 1;
  rec->key = -1;
  rec->dispatched = dispatched;
  rec->caller = g_thread_self ();
  rec->caller_context = g_main_context_get_thread_default ();
  if (flags & 2)
    {
      rec->cancellable = g_cancellable_new ();
      if (flags & 4)
        {
          g_atomic_int_set (&rec->cancel_issued, TRUE);
          g_cancellable_cancel (rec->cancellable);
        }
    }
  return rec;
}

static gboolean
via_is_direct (Via via)
{
  return via == VIA_CALL_SYNC || via == VIA_SMART_SYNC || via == VIA_AWAIT_SYNC;
}

/* Maps modes the path cannot take to ones it can: the harness keeps away
 * from hangs that are the caller's or a known gap's (see the top). */
static void
record_fix_mode (Record   *rec,
                 gboolean  can_park)
{
  gboolean blocking = rec->op != OP_ASYNC;
  gboolean sync_wait = via_is_direct (rec->via) ||
                       (rec->via == VIA_LOCK && rec->lock_on_worker);

  if (blocking)
    {
      /* Returning without completing gets NOT_COMPLETED on the direct paths
       * and, on the executor, for callers that do not hold the task (a
       * smart call's caller does: its task stays pending, as documented). */
      if (rec->mode == M_NOT_COMPLETED &&
          (via_is_direct (rec->via) || (rec->via == VIA_LOCK && rec->lock_on_worker) ||
           (rec->op == OP_EXECUTOR && (rec->via == VIA_CALL_ASYNC || rec->via == VIA_BATCH))))
        return;
      if (rec->mode != M_NOW && rec->mode != M_CANCEL && rec->mode != M_DELAY)
        rec->mode = M_NOW;
      return;
    }

  if (rec->mode == M_NOT_COMPLETED || rec->mode == M_DELAY)
    rec->mode = M_IDLE;
  if (rec->mode == M_MANUAL && !can_park)
    rec->mode = M_THREAD;
  /* A dropped task ends sync waits, lock runs and batch calls
   * (NOT_COMPLETED) and awaits (FAILED); a plain async call is never
   * answered (GTask's contract). */
  if (rec->mode == M_NEVER && !sync_wait && rec->via != VIA_AWAIT && rec->via != VIA_LOCK &&
      rec->via != VIA_BATCH)
    rec->mode = M_THREAD;
  /* A run on a worker abandons its wait when every caller leaves; a
   * completion arriving after the worker exited goes to a janitor thread
   * (test-faults.c, isolated/lock-worker-abandoned-wait, found by this
   * fuzzer), out of the final drain's sight: completions of worker runs stay
   * on the worker. */
  if (rec->via == VIA_LOCK && rec->lock_on_worker &&
      (rec->mode == M_THREAD || rec->mode == M_MANUAL))
    rec->mode = M_IDLE;

  /* A cancelling mode needs something to cancel. */
  if (rec->mode == M_CANCEL && rec->cancellable == NULL && rec->via != VIA_LOCK &&
      rec->via != VIA_BATCH)
    rec->mode = M_NOW;
}

static void
record_add (Record *rec)
{
  trace_event ("r%u: via %d op %d mode %d fail %d key %d cancellable %s%s dispatched %d "
               "on-worker %d epoch %d", rec->id, rec->via, rec->op, rec->mode, rec->fail, rec->key,
               rec->cancellable ? "yes" : "no",
               g_atomic_int_get (&rec->cancel_issued) ? " (cancelled)" : "", rec->dispatched,
               rec->lock_on_worker, rec->reset_epoch);
  g_mutex_lock (&run->mutex);
  g_ptr_array_add (run->records, rec);
  g_mutex_unlock (&run->mutex);
}

static Record *
record_ref (Record *rec)
{
  g_atomic_ref_count_inc (&rec->ref_count);
  return rec;
}

static void
record_unref (gpointer data)
{
  Record *rec = data;

  if (!g_atomic_ref_count_dec (&rec->ref_count))
    return;
  g_clear_object (&rec->cancellable);
  g_free (rec);
}

/* The call's arguments hold a reference to its record: offloaded work
 * cancelled early may still run after the input is over (GLib's pool runs
 * the thread function anyway), and must find its record. */
static GVariant *
record_args (Record *rec)
{
  return g_variant_new_from_data (G_VARIANT_TYPE ("(t)"), &rec->self, sizeof rec->self, TRUE,
                                  record_unref, record_ref (rec));
}

static Record *
record_from_args (GVariant *args)
{
  guint64 pointer = 0;

  CHECK (args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE ("(t)")), "arguments");
  g_variant_get (args, "(t)", &pointer);
  return GSIZE_TO_POINTER ((gsize) pointer);
}

/* Results */

static void
return_result (GTask  *task,
               Record *rec)
{
  if (rec->fail)
    g_task_return_new_error (task, FUZZ_ERROR, (gint) rec->id, "e:%u", rec->id);
  else if (g_task_get_source_object (task) == ops[OP_EXECUTOR])
    g_task_return_pointer (task, g_strdup_printf ("v:%u", rec->id), g_free);
  else
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, g_strdup_printf ("v:%u", rec->id));
      g_task_return_value (task, &value);
    }
}

static Record *
find_record (guint id)
{
  Record *found = NULL;

  g_mutex_lock (&run->mutex);
  for (guint i = 0; i < run->records->len && found == NULL; i++)
    {
      Record *rec = g_ptr_array_index (run->records, i);

      if (rec->id == id)
        found = rec;
    }
  g_mutex_unlock (&run->mutex);
  return found;
}

/* Checks what @rec received; @value is set when @ok. */
static void
check_result (Record       *rec,
              gboolean      ok,
              const GValue *value,
              const GError *error)
{
  Record *producer = rec;
  guint id = 0;
  gboolean cancel_allowed;

  if (ok)
    {
      CHECK (error == NULL, "record %u: success with an error", rec->id);
      CHECK (value != NULL && G_VALUE_HOLDS_STRING (value), "record %u: value type", rec->id);
      CHECK (sscanf (g_value_get_string (value), "v:%u", &id) == 1, "record %u: value %s",
             rec->id, g_value_get_string (value));
    }
  else
    {
      CHECK (error != NULL, "record %u: failure without an error", rec->id);
      if (error->domain == FUZZ_ERROR)
        {
          id = (guint) error->code;
          CHECK (sscanf (error->message, "e:%u", &id) == 1 && id == (guint) error->code,
                 "record %u: error message %s", rec->id, error->message);
        }
    }

  if (id != 0)
    {
      if (rec->via == VIA_LOCK)
        {
          producer = find_record (id);
          CHECK (producer != NULL && producer->via == VIA_LOCK && producer->key == rec->key,
                 "record %u (lock key %d) got the result of record %u", rec->id, rec->key, id);
        }
      else
        CHECK (id == rec->id, "record %u got the result of record %u", rec->id, id);
      CHECK (g_atomic_int_get (&producer->runs) == 1, "record %u: producer %u ran %d times",
             rec->id, producer->id, g_atomic_int_get (&producer->runs));
      CHECK (producer->fail == !ok, "record %u: %s from producer %u that should %s", rec->id,
             ok ? "value" : "error", producer->id, producer->fail ? "fail" : "succeed");
      return;
    }

  /* Errors that are not the implementation's. */
  cancel_allowed = g_atomic_int_get (&rec->cancel_issued) ||
                   (rec->via != VIA_LOCK && (rec->mode == M_CANCEL || rec->mode == M_NEVER)) ||
                   (rec->batch != NULL && g_atomic_int_get (&rec->batch->cancelled)) ||
                   (rec->via == VIA_LOCK &&
                    (g_atomic_int_get (&run->lock_resets) != rec->reset_epoch ||
                     (rec->reset_epoch & 1) ||
                     g_atomic_int_get (&run->key_cancels[rec->key]) > 0));
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      CHECK (cancel_allowed, "record %u (via %d, mode %d): cancelled but nothing cancelled it",
             rec->id, rec->via, rec->mode);
      return;
    }
  if (g_error_matches (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED))
    {
      /* A blocking implementation that did not complete its task, or one
       * that dropped it: it ends a sync wait and a lock run. */
      CHECK (rec->mode == M_NOT_COMPLETED || rec->mode == M_NEVER ||
             (rec->via == VIA_LOCK && g_atomic_int_get (&run->key_not_completed[rec->key]) > 0),
             "record %u: NOT_COMPLETED", rec->id);
      return;
    }
  if (g_error_matches (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED))
    {
      /* An awaited task that was dropped. */
      CHECK (rec->via == VIA_AWAIT && rec->mode == M_NEVER, "record %u: FAILED: %s",
             rec->id, error->message);
      return;
    }
  fuzz_fail (__LINE__, "known error", "record %u: unexpected error %s %d: %s", rec->id,
             g_quark_to_string (error->domain), error->code, error->message);
}

static void
record_received (Record       *rec,
                 gboolean      ok,
                 const GValue *value,
                 const GError *error)
{
  gint calls = g_atomic_int_add (&rec->callbacks, 1) + 1;

  trace_event ("r%u: answered %s%s%s", rec->id,
               ok ? (value && G_VALUE_HOLDS_STRING (value) ? g_value_get_string (value) : "?") : "",
               error ? g_quark_to_string (error->domain) : "", error ? error->message : "");
  CHECK (calls == 1, "record %u: result received %d times", rec->id, calls);
  check_result (rec, ok, value, error);
}

static void
on_callback (GObject      *source_object,
             GAsyncResult *result,
             gpointer      data)
{
  Record *rec = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  CHECK (g_thread_self () == rec->caller, "record %u: callback on another thread", rec->id);
  CHECK (g_main_context_get_thread_default () == rec->caller_context,
         "record %u: callback on another context", rec->id);
  CHECK (rec->has_callback, "record %u: unexpected callback", rec->id);

  if (rec->via == VIA_LOCK)
    ok = smartasync_lock_run_finish (SMARTASYNC_LOCK (source_object), result, &value, &error);
  else if (rec->via == VIA_AWAIT)
    ok = smartasync_await_finish (result, &value, &error);
  else
    {
      CHECK (source_object == G_OBJECT (ops[rec->op]), "record %u: source object", rec->id);
      ok = smartasync_operation_call_finish (ops[rec->op], result, &value, &error);
    }
  record_received (rec, ok, &value, error);
}

/* Helper threads: complete, cancel, drop */

typedef enum { JOB_COMPLETE, JOB_CANCEL_COMPLETE, JOB_CANCEL_DROP, JOB_CANCEL } JobKind;

typedef struct
{
  JobKind       kind;
  GTask        *task;
  Record       *rec;
  GCancellable *cancellable;
} Job;

static void
helper_run (gpointer data,
            gpointer unused)
{
  Job *job = data;

  switch (job->kind)
    {
    case JOB_COMPLETE:
      return_result (job->task, job->rec);
      break;
    case JOB_CANCEL_COMPLETE:
      g_cancellable_cancel (g_task_get_cancellable (job->task));
      return_result (job->task, job->rec);
      break;
    case JOB_CANCEL_DROP:
      g_cancellable_cancel (g_task_get_cancellable (job->task));
      break;
    case JOB_CANCEL:
      g_cancellable_cancel (job->cancellable);
      break;
    default:
      g_assert_not_reached ();
    }

  g_clear_object (&job->task);
  g_clear_object (&job->cancellable);
  g_free (job);
  g_atomic_int_add (&helper_jobs, -1);
}

static void
helper_push (JobKind       kind,
             GTask        *task,
             Record       *rec,
             GCancellable *cancellable)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->task = task ? g_object_ref (task) : NULL;
  job->rec = rec;
  job->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  g_atomic_int_inc (&helper_jobs);
  g_thread_pool_push (helpers, job, NULL);
}

static void
wait_helpers (void)
{
  gint64 deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_US;

  while (g_atomic_int_get (&helper_jobs) > 0 || g_atomic_int_get (&impls_running) > 0)
    {
      CHECK (g_get_monotonic_time () < deadline, "helpers idle in time");
      g_usleep (50);
    }
}

/* Implementations */

/* Where the implementation of @rec must run. */
static void
check_impl_placement (Record   *rec,
                      gboolean  blocking)
{
  gboolean on_caller;

  if (rec->via == VIA_LOCK && rec->lock_on_worker)
    on_caller = FALSE;
  else if (blocking)
    on_caller = via_is_direct (rec->via);
  else
    on_caller = TRUE;

  CHECK ((g_thread_self () == rec->caller) == on_caller,
         "record %u (via %d): implementation %s the caller's thread", rec->id, rec->via,
         on_caller ? "not on" : "on");

  if (!blocking)
    {
      GMainContext *expected;

      /* Sync waits and batches run it on the private context; async calls
       * on the caller's; worker-run lock flights on the worker's. */
      if (via_is_direct (rec->via) || rec->via == VIA_BATCH ||
          (rec->via == VIA_LOCK && rec->lock_on_worker))
        expected = smartasync_get_private_context ();
      else
        expected = rec->caller_context;
      CHECK (g_main_context_get_thread_default () == expected,
             "record %u (via %d): implementation on the wrong context", rec->id, rec->via);
    }
  else
    CHECK (on_caller || !smartasync_in_async_context (),
           "record %u: offloaded work in an async context", rec->id);
}

static gboolean
complete_from_idle (gpointer data)
{
  GTask *task = data;

  return_result (task, record_from_args (g_task_get_task_data (task)));
  return G_SOURCE_REMOVE;
}

static void
fuzz_async_impl (GTask        *task,
                 gpointer      source_object,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  Record *rec = record_from_args (args);
  gint runs;
  GSource *idle;
  Parked *parked;

  g_atomic_int_inc (&impls_running);
  runs = g_atomic_int_add (&rec->runs, 1) + 1;
  trace_event ("r%u: async implementation runs (task cancellable %p)", rec->id,
               (void *) g_task_get_cancellable (task));
  CHECK (runs == 1, "record %u: implementation ran %d times", rec->id, runs);
  check_impl_placement (rec, FALSE);

  switch (rec->mode)
    {
    case M_NOW:
      return_result (task, rec);
      break;
    case M_IDLE:
      g_task_set_task_data (task, g_variant_ref (args), (GDestroyNotify) g_variant_unref);
      idle = g_idle_source_new ();
      g_source_set_callback (idle, complete_from_idle, g_object_ref (task), g_object_unref);
      g_source_attach (idle, g_main_context_get_thread_default ());
      g_source_unref (idle);
      break;
    case M_THREAD:
      helper_push (JOB_COMPLETE, task, rec, NULL);
      break;
    case M_MANUAL:
      parked = g_new (Parked, 1);
      parked->task = g_object_ref (task);
      parked->context = g_task_get_context (task);
      parked->rec = record_ref (rec);
      g_mutex_lock (&run->mutex);
      g_ptr_array_add (run->parked, parked);
      g_mutex_unlock (&run->mutex);
      break;
    case M_CANCEL:
      if (rec->via == VIA_LOCK && rec->lock_on_worker)
        {
          /* On the worker, before its wait starts (see record_fix_mode). */
          g_cancellable_cancel (g_task_get_cancellable (task));
          return_result (task, rec);
        }
      else
        helper_push (JOB_CANCEL_COMPLETE, task, rec, NULL);
      break;
    case M_NEVER:
      helper_push (JOB_CANCEL_DROP, task, rec, NULL);
      break;
    default:
      fuzz_fail (__LINE__, "async mode", "record %u: mode %d", rec->id, rec->mode);
    }

  g_atomic_int_add (&impls_running, -1);
}

static void
fuzz_blocking_impl (GTask        *task,
                    gpointer      source_object,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  Record *rec = record_from_args (args);
  gint runs;

  g_atomic_int_inc (&impls_running);
  runs = g_atomic_int_add (&rec->runs, 1) + 1;
  trace_event ("r%u: blocking implementation runs (cancellable %p%s)", rec->id,
               (void *) cancellable,
               g_cancellable_is_cancelled (cancellable) ? ", cancelled" : "");
  CHECK (runs == 1, "record %u: implementation ran %d times", rec->id, runs);
  check_impl_placement (rec, TRUE);

  switch (rec->mode)
    {
    case M_NOW:
      return_result (task, rec);
      break;
    case M_DELAY:
      g_usleep (200);
      return_result (task, rec);
      break;
    case M_CANCEL:
      g_cancellable_cancel (cancellable);
      return_result (task, rec);
      break;
    case M_NOT_COMPLETED:
      break;
    default:
      fuzz_fail (__LINE__, "blocking mode", "record %u: mode %d", rec->id, rec->mode);
    }

  g_atomic_int_add (&impls_running, -1);
}

/* Entry points, shared by the main thread and the thread programs */

static void
call_sync (Record *rec)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = smartasync_operation_call_sync (ops[rec->op], NULL, record_args (rec), rec->cancellable,
                                       &value, &error);
  CHECK (g_main_context_get_thread_default () == rec->caller_context,
         "record %u: context not restored", rec->id);
  record_received (rec, ok, &value, error);
}

static void
call_smart (Record *rec)
{
  g_autoptr(GTask) task = NULL;

  rec->has_callback = TRUE;
  task = smartasync_operation_call (ops[rec->op], NULL, record_args (rec), rec->cancellable,
                                    on_callback, rec);
  CHECK (task != NULL, "record %u: smart call returned no task", rec->id);
  if (rec->via == VIA_SMART_SYNC)
    {
      CHECK (g_task_get_completed (task), "record %u: sync smart call pending", rec->id);
      CHECK (g_atomic_int_get (&rec->callbacks) == 1, "record %u: sync smart call did not call back",
             rec->id);
    }
  else
    {
      CHECK (!g_task_get_completed (task), "record %u: async smart call completed", rec->id);
      CHECK (g_atomic_int_get (&rec->callbacks) == 0, "record %u: called back from inside",
             rec->id);
    }
}

static void
call_await_sync (Record *rec)
{
  g_autoptr(GTask) task = NULL;
  g_auto(GValue) pending = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  task = smartasync_operation_call (ops[rec->op], NULL, record_args (rec), rec->cancellable,
                                    NULL, NULL);
  g_value_init (&pending, G_TYPE_TASK);
  g_value_set_object (&pending, task);
  ok = smartasync_await_sync (&pending, rec->cancellable, &value, &error);
  record_received (rec, ok, &value, error);
}

static void
call_lock_sync (Record *rec)
{
  static const char * const keys[N_KEYS] = { "a", "b", "c", NULL };
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(SmartasyncLock) lock = NULL;
  gboolean ok;

  g_mutex_lock (&run->mutex);
  lock = g_object_ref (run->lock);
  g_mutex_unlock (&run->mutex);
  ok = smartasync_lock_run_sync (lock, keys[rec->key], ops[rec->op], NULL, record_args (rec),
                                 rec->cancellable, &value, &error);
  record_received (rec, ok, &value, error);
}

static void
lock_note_leader_modes (Record *rec)
{
  if (rec->mode == M_CANCEL || rec->mode == M_NEVER)
    g_atomic_int_inc (&run->key_cancels[rec->key]);
  if (rec->mode == M_NOT_COMPLETED || rec->mode == M_NEVER)
    g_atomic_int_inc (&run->key_not_completed[rec->key]);
}

/* A batch of up to MAX_BATCH calls, read from @r. */
static void
call_batch (Reader   *r,
            gboolean  can_park)
{
  GMainContext *before = g_main_context_get_thread_default ();
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  Batch *shared = g_new0 (Batch, 1);
  Record *recs[MAX_BATCH];
  guint n = 1 + next_byte (r) % MAX_BATCH;
  guint8 flags = next_byte (r);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_mutex_lock (&run->mutex);
  g_ptr_array_add (run->batches, shared);
  g_mutex_unlock (&run->mutex);

  for (guint i = 0; i < n; i++)
    {
      guint8 op = next_byte (r), mode = next_byte (r);

      /* Calls share the batch's cancellable: no cancellable of their own. */
      recs[i] = record_new (VIA_BATCH, op, mode, next_byte (r) & 1, FALSE);
      recs[i]->caller_context = before;
      recs[i]->batch = shared;
      record_fix_mode (recs[i], can_park);
      /* Both cancel the batch's cancellable, shared by every call. */
      if (recs[i]->mode == M_CANCEL || recs[i]->mode == M_NEVER)
        g_atomic_int_set (&shared->cancelled, TRUE);
      record_add (recs[i]);
    }

  if (flags & 1)
    {
      g_atomic_int_set (&shared->cancelled, TRUE);
      smartasync_batch_cancel (batch);
    }
  for (guint i = 0; i < n; i++)
    CHECK (smartasync_batch_add (batch, ops[recs[i]->op], NULL, record_args (recs[i])) == i,
           "batch index");
  if (flags & 2)
    {
      g_atomic_int_set (&shared->cancelled, TRUE);
      smartasync_batch_cancel (batch);
    }

  ok = smartasync_batch_wait (batch, NULL, &error);
  CHECK (ok || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED), "batch wait");
  for (guint i = 0; i < n; i++)
    {
      GAsyncResult *result = smartasync_batch_get_result (batch, i);
      g_auto(GValue) value = G_VALUE_INIT;
      g_autoptr(GError) call_error = NULL;
      gboolean call_ok;

      CHECK (result != NULL, "batch result %u missing", i);
      call_ok = smartasync_operation_call_finish (ops[recs[i]->op], result, &value, &call_error);
      record_received (recs[i], call_ok, &value, call_error);
    }
  smartasync_batch_close (batch);
  CHECK (g_main_context_get_thread_default () == before, "batch context");
}

/* Thread programs */

enum { T_CALL_SYNC, T_SMART, T_LOCK, T_BATCH, T_RESET, T_AWAIT_SYNC, N_THREAD_OPS };

/* Waits until no completion bound to this thread's private context is
 * outstanding, then dispatches what is ready: after that, dropping the
 * context loses nothing (doc/guarantees.md). */
static void
quiesce_own_context (void)
{
  GMainContext *own = smartasync_get_private_context ();
  gint64 deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_US;
  gboolean waiting = TRUE;

  while (waiting)
    {
      waiting = g_atomic_int_get (&helper_jobs) > 0;
      g_mutex_lock (&run->mutex);
      for (guint i = 0; i < run->parked->len && !waiting; i++)
        waiting = ((Parked *) g_ptr_array_index (run->parked, i))->context == own;
      g_mutex_unlock (&run->mutex);

      while (g_main_context_iteration (own, FALSE))
        ;
      if (waiting)
        {
          CHECK (g_get_monotonic_time () < deadline, "thread quiesced in time");
          g_usleep (100);
        }
    }
}

static gpointer
thread_program (gpointer data)
{
  ThreadProgram *prog = data;
  Reader r = { prog->code, prog->len, 0 };
  GMainContext *own;

  for (guint n = 0; n < MAX_THREAD_INSTRUCTIONS && !reader_done (&r); n++)
    {
      guint8 opcode = next_byte (&r) % N_THREAD_OPS;
      guint8 op, mode, flags, key;
      Record *rec;

      trace_event ("thread instruction %d", opcode);
      switch (opcode)
        {
        case T_CALL_SYNC:
        case T_SMART:
        case T_AWAIT_SYNC:
          op = next_byte (&r), mode = next_byte (&r), flags = next_byte (&r);
          rec = record_new (opcode == T_CALL_SYNC ? VIA_CALL_SYNC
                            : opcode == T_SMART ? VIA_SMART_SYNC : VIA_AWAIT_SYNC,
                            op, mode, flags, FALSE);
          record_fix_mode (rec, TRUE);
          record_add (rec);
          if (opcode == T_CALL_SYNC)
            call_sync (rec);
          else if (opcode == T_SMART)
            call_smart (rec);
          else
            call_await_sync (rec);
          break;
        case T_LOCK:
          key = next_byte (&r), op = next_byte (&r), mode = next_byte (&r), flags = next_byte (&r);
          rec = record_new (VIA_LOCK, op, mode, flags, FALSE);
          rec->key = key % N_KEYS;
          rec->lock_on_worker = TRUE;
          rec->reset_epoch = g_atomic_int_get (&run->lock_resets);
          record_fix_mode (rec, FALSE);
          lock_note_leader_modes (rec);
          record_add (rec);
          call_lock_sync (rec);
          break;
        case T_BATCH:
          call_batch (&r, TRUE);
          break;
        case T_RESET:
          quiesce_own_context ();
          smartasync_reset ();
          break;
        default:
          g_assert_not_reached ();
        }
    }

  g_atomic_int_set (&prog->program_done, TRUE);

  /* Keep dispatching late completions until the drain is over. */
  own = smartasync_get_private_context ();
  while (!g_atomic_int_get (&prog->release))
    {
      while (g_main_context_iteration (own, FALSE))
        ;
      g_usleep (100);
    }
  while (g_main_context_iteration (own, FALSE))
    ;
  return NULL;
}

/* Main thread instructions */

enum
{
  I_CALL_SYNC,
  I_CALL_ASYNC,
  I_SMART,
  I_AWAIT,
  I_BATCH,
  I_LOCK,
  I_ITERATE,
  I_CANCEL,
  I_COMPLETE,
  I_RESET,
  I_LOCK_RESET,
  I_LOCK_RENEW,
  I_EXECUTOR,
  I_SET_CONTEXT,
  I_THREAD,
  I_JOIN,
  N_INSTRUCTIONS
};

typedef struct
{
  gboolean  ran;
  Record   *rec;
  int       what;
} Dispatch;

static gboolean
dispatched_call (gpointer data)
{
  Dispatch *d = data;
  Record *rec = d->rec;

  CHECK (smartasync_in_async_context (), "dispatch is an async context");
  rec->caller_context = g_main_context_get_thread_default ();
  if (d->what == I_SMART)
    call_smart (rec);
  else if (d->what == I_AWAIT)
    {
      g_autoptr(GTask) task = smartasync_operation_call (ops[rec->op], NULL, record_args (rec),
                                                         rec->cancellable, NULL, NULL);
      g_auto(GValue) pending = G_VALUE_INIT;

      CHECK (!g_task_get_completed (task), "record %u: async smart call completed", rec->id);
      g_value_init (&pending, G_TYPE_TASK);
      g_value_set_object (&pending, task);
      rec->has_callback = TRUE;
      smartasync_await_async (&pending, rec->cancellable, on_callback, rec);
    }
  else
    {
      static const char * const keys[N_KEYS] = { "a", "b", "c", NULL };

      rec->has_callback = TRUE;
      smartasync_lock_run_async (run->lock, keys[rec->key], ops[rec->op], NULL,
                                 record_args (rec), rec->cancellable, on_callback, rec);
    }
  CHECK (g_atomic_int_get (&rec->callbacks) == 0, "record %u: called back from inside", rec->id);
  d->ran = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_dispatched (Record *rec,
                int     what)
{
  Dispatch d = { FALSE, rec, what };
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, dispatched_call, &d, NULL);
  g_source_attach (idle, run->loop);
  g_source_unref (idle);
  while (!d.ran)
    g_main_context_iteration (run->loop, TRUE);
}

static gboolean
all_settled (void)
{
  gboolean settled = g_atomic_int_get (&helper_jobs) == 0 &&
                     g_atomic_int_get (&impls_running) == 0;

  g_mutex_lock (&run->mutex);
  settled = settled && run->parked->len == 0;
  for (guint i = 0; i < run->records->len && settled; i++)
    {
      Record *rec = g_ptr_array_index (run->records, i);

      settled = g_atomic_int_get (&rec->callbacks) == 1;
    }
  g_mutex_unlock (&run->mutex);

  for (guint i = 0; i < run->threads->len && settled; i++)
    settled = g_atomic_int_get (&((ThreadProgram *) g_ptr_array_index (run->threads, i))->program_done);

  return settled;
}

static void
complete_parked (guint    index,
                 gboolean from_helper)
{
  Parked *parked = NULL;

  g_mutex_lock (&run->mutex);
  if (run->parked->len > 0)
    parked = g_ptr_array_steal_index (run->parked, index % run->parked->len);
  g_mutex_unlock (&run->mutex);
  if (parked == NULL)
    return;

  if (from_helper)
    helper_push (JOB_COMPLETE, parked->task, parked->rec, NULL);
  else
    return_result (parked->task, parked->rec);
  g_object_unref (parked->task);
  record_unref (parked->rec);
  g_free (parked);
}

/* Completes everything, waits for every callback and every thread program,
 * then releases and joins the threads. */
static void
drain (void)
{
  gint64 deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_US;

  while (!all_settled ())
    {
      CHECK (g_get_monotonic_time () < deadline, "everything completes (drain timed out)");
      complete_parked (0, FALSE);
      while (g_main_context_iteration (run->loop, FALSE))
        ;
      g_usleep (50);
    }

  /* A lock run on a worker answers its callers, then returns its own task
   * to the context of the caller that started it: give it time to arrive
   * while that thread still iterates (see isolated/lock-leader-thread-exits
   * in test-faults.c). */
  g_usleep (500);
  while (g_main_context_iteration (run->loop, FALSE))
    ;

  for (guint i = 0; i < run->threads->len; i++)
    {
      ThreadProgram *prog = g_ptr_array_index (run->threads, i);

      g_atomic_int_set (&prog->release, TRUE);
      g_thread_join (prog->thread);
      g_free (prog->code);
      g_free (prog);
    }
  g_ptr_array_set_size (run->threads, 0);
  while (g_main_context_iteration (run->loop, FALSE))
    ;
}

static void
cancel_some_record (guint8 pick,
                    guint8 how)
{
  Record *target = NULL;

  g_mutex_lock (&run->mutex);
  for (guint i = 0; i < run->records->len && target == NULL; i++)
    {
      Record *rec = g_ptr_array_index (run->records, (pick + i) % run->records->len);

      if (rec->cancellable != NULL && g_atomic_int_get (&rec->callbacks) == 0)
        target = rec;
    }
  if (target != NULL)
    g_atomic_int_set (&target->cancel_issued, TRUE);
  g_mutex_unlock (&run->mutex);

  if (target == NULL)
    return;
  trace_event ("r%u: cancel%s", target->id, (how & 1) ? " from a helper" : "");
  if (how & 1)
    helper_push (JOB_CANCEL, NULL, NULL, target->cancellable);
  else
    g_cancellable_cancel (target->cancellable);
}

static void
execute (Reader *r,
         guint8  opcode)
{
  static const char * const keys[N_KEYS] = { "a", "b", "c", NULL };
  guint8 op, mode, flags, key, n;
  Record *rec;

  trace_event ("instruction %d", opcode % N_INSTRUCTIONS);
  switch (opcode % N_INSTRUCTIONS)
    {
    case I_CALL_SYNC:
      op = next_byte (r), mode = next_byte (r), flags = next_byte (r);
      rec = record_new (VIA_CALL_SYNC, op, mode, flags, FALSE);
      record_fix_mode (rec, FALSE);
      record_add (rec);
      call_sync (rec);
      break;

    case I_CALL_ASYNC:
      op = next_byte (r), mode = next_byte (r), flags = next_byte (r);
      rec = record_new (VIA_CALL_ASYNC, op, mode, flags, FALSE);
      record_fix_mode (rec, TRUE);
      rec->has_callback = TRUE;
      record_add (rec);
      smartasync_operation_call_async (ops[rec->op], NULL, record_args (rec), rec->cancellable,
                                       on_callback, rec);
      CHECK (g_atomic_int_get (&rec->callbacks) == 0, "record %u: called back from inside",
             rec->id);
      break;

    case I_SMART:
      op = next_byte (r), mode = next_byte (r), flags = next_byte (r);
      rec = record_new ((flags & 8) ? VIA_SMART_ASYNC : VIA_SMART_SYNC, op, mode, flags,
                        (flags & 8) != 0);
      record_fix_mode (rec, (flags & 8) != 0);
      record_add (rec);
      if (flags & 8)
        run_dispatched (rec, I_SMART);
      else
        call_smart (rec);
      break;

    case I_AWAIT:
      op = next_byte (r), mode = next_byte (r), flags = next_byte (r);
      rec = record_new (VIA_AWAIT, op, mode, flags, TRUE);
      record_fix_mode (rec, TRUE);
      record_add (rec);
      run_dispatched (rec, I_AWAIT);
      break;

    case I_BATCH:
      call_batch (r, FALSE);
      break;

    case I_LOCK:
      key = next_byte (r), op = next_byte (r), mode = next_byte (r), flags = next_byte (r);
      rec = record_new (VIA_LOCK, op, mode, flags, (flags & 8) != 0);
      rec->key = key % N_KEYS;
      rec->lock_on_worker = !rec->dispatched;
      rec->reset_epoch = g_atomic_int_get (&run->lock_resets);
      record_fix_mode (rec, rec->dispatched);
      lock_note_leader_modes (rec);
      record_add (rec);
      if (rec->dispatched)
        run_dispatched (rec, I_LOCK);
      else
        {
          rec->has_callback = TRUE;
          smartasync_lock_run_async (run->lock, keys[rec->key], ops[rec->op], NULL,
                                     record_args (rec), rec->cancellable, on_callback, rec);
          CHECK (g_atomic_int_get (&rec->callbacks) == 0, "record %u: called back from inside",
                 rec->id);
        }
      break;

    case I_ITERATE:
      n = next_byte (r) % 8;
      for (guint i = 0; i < n; i++)
        g_main_context_iteration (run->loop, FALSE);
      break;

    case I_CANCEL:
      op = next_byte (r), flags = next_byte (r);
      cancel_some_record (op, flags);
      break;

    case I_COMPLETE:
      op = next_byte (r), flags = next_byte (r);
      complete_parked (op, flags & 1);
      break;

    case I_RESET:
      /* Late completions of abandoned waits reach the context first. */
      wait_helpers ();
      smartasync_reset ();
      break;

    case I_LOCK_RESET:
      /* Odd while the reset runs: a call that starts meanwhile may still
       * join a flight the reset answers. */
      g_atomic_int_inc (&run->lock_resets);
      smartasync_lock_reset (run->lock);
      g_atomic_int_inc (&run->lock_resets);
      break;

    case I_LOCK_RENEW:
      g_mutex_lock (&run->mutex);
      g_object_unref (run->lock);
      run->lock = smartasync_lock_new ();
      g_mutex_unlock (&run->mutex);
      break;

    case I_EXECUTOR:
      flags = next_byte (r);
      smartasync_set_default_executor ((flags & 1) ? executors[flags % 3] : NULL);
      break;

    case I_SET_CONTEXT:
      flags = next_byte (r);
      wait_helpers ();
      if (flags & 1)
        {
          g_autoptr(GMainContext) adopted = g_main_context_new ();

          smartasync_set_private_context (adopted);
        }
      else
        smartasync_set_private_context (NULL);
      break;

    case I_THREAD:
      n = next_byte (r) % 24;
      if (run->threads->len < MAX_THREADS)
        {
          ThreadProgram *prog = g_new0 (ThreadProgram, 1);

          prog->len = MIN ((gsize) n, r->size - r->pos);
          prog->code = g_memdup2 (r->data + r->pos, prog->len);
          g_ptr_array_add (run->threads, prog);
          fuzz_api_threads++;
          prog->thread = g_thread_new ("fuzz-program", thread_program, prog);
        }
      r->pos = MIN (r->pos + n, r->size);
      break;

    case I_JOIN:
      drain ();
      break;

    default:
      g_assert_not_reached ();
    }
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(SmartasyncExecutor) executor = NULL;

  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);

  /* No worker thread may exit while LeakSanitizer looks: glibc clears a
   * thread's TSD slot before running its destructor, so GLib's per-thread
   * data (GSlice's magazines, the main loop's dispatch state) of an exiting
   * thread looks leaked for a moment. GLib's pools keep their idle threads,
   * and executors are never finalized (EXECUTOR picks one of three). */
  g_thread_pool_set_max_unused_threads (-1);
  g_thread_pool_set_max_idle_time (0);
  for (guint i = 0; i < G_N_ELEMENTS (executors); i++)
    executors[i] = smartasync_executor_new (1 + i);
  /* Make the stall report (a wait with no progress) a failure too. */
  g_setenv ("SMARTASYNC_STALL_REPORT_MS", "10000", FALSE);

  ops[OP_ASYNC] = smartasync_operation_new_async ("fuzz-async", fuzz_async_impl, NULL, NULL);
  ops[OP_BLOCKING] = smartasync_operation_new_blocking ("fuzz-blocking", fuzz_blocking_impl,
                                                        NULL, NULL);
  ops[OP_EXECUTOR] = smartasync_operation_new_blocking ("fuzz-executor", fuzz_blocking_impl,
                                                        NULL, NULL);
  executor = smartasync_executor_new (2);
  smartasync_operation_set_executor (ops[OP_EXECUTOR], executor);
  smartasync_operation_set_result_type (ops[OP_EXECUTOR], G_TYPE_STRING);
  helpers = g_thread_pool_new (helper_run, NULL, 2, FALSE, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Reader r = { data, size, 0 };
  Run state = { 0 };

  if (ops[OP_ASYNC] == NULL)
    LLVMFuzzerInitialize (NULL, NULL);

  run = &state;
  g_mutex_lock (&trace_mutex);
  trace = g_string_new (NULL);
  g_mutex_unlock (&trace_mutex);
  g_mutex_init (&state.mutex);
  state.loop = g_main_context_new ();
  state.lock = smartasync_lock_new ();
  state.records = g_ptr_array_new_with_free_func (record_unref);
  state.parked = g_ptr_array_new ();
  state.batches = g_ptr_array_new_with_free_func (g_free);
  state.threads = g_ptr_array_new ();
  g_main_context_push_thread_default (state.loop);

  for (guint n = 0; n < MAX_INSTRUCTIONS && !reader_done (&r); n++)
    {
      guint n_records;

      g_mutex_lock (&state.mutex);
      n_records = state.records->len;
      g_mutex_unlock (&state.mutex);
      if (n_records >= MAX_RECORDS)
        break;
      execute (&r, next_byte (&r));
    }

  drain ();

  fuzz_api_calls += state.records->len;

  /* Every call was answered once, and every record's producer ran once. */
  for (guint i = 0; i < state.records->len; i++)
    {
      Record *rec = g_ptr_array_index (state.records, i);

      CHECK (g_atomic_int_get (&rec->callbacks) == 1, "record %u: answered %d times", rec->id,
             g_atomic_int_get (&rec->callbacks));
      CHECK (g_atomic_int_get (&rec->runs) <= 1, "record %u: ran %d times", rec->id,
             g_atomic_int_get (&rec->runs));
    }

  g_main_context_pop_thread_default (state.loop);
  while (g_main_context_iteration (state.loop, FALSE))
    ;
  g_main_context_unref (state.loop);
  g_object_unref (state.lock);
  wait_helpers ();
  smartasync_reset ();

  g_ptr_array_unref (state.threads);
  g_ptr_array_unref (state.batches);
  g_ptr_array_unref (state.parked);
  g_ptr_array_unref (state.records);
  g_mutex_clear (&state.mutex);
  run = NULL;
  g_mutex_lock (&trace_mutex);
  g_string_free (g_steal_pointer (&trace), TRUE);
  g_mutex_unlock (&trace_mutex);
  return 0;
}
