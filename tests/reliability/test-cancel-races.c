/* test-cancel-races.c: cancellation races, every call answered once, nothing left alive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Many calls whose cancellables the caller releases at once and another
 * thread cancels at random moments (issue 14, defect 7). The calls mix:
 *
 * - an asynchronous implementation (completing inside the call, from an
 *   idle, from another thread, or only when cancelled) and a blocking one,
 *   offloaded on the default path (GLib's pool for operations, the
 *   library's pool for lock runs) or on a SmartasyncExecutor;
 * - sync callers (threads without a loop: call_sync, the smart call,
 *   lock_run_sync) and async callers (threads running their own loop:
 *   call_async, the smart call, lock_run_async);
 * - SmartasyncLock runs on a few keys shared by every thread, so that
 *   leaders and joiners, on both kinds of threads, race with each other and
 *   with their cancellations.
 *
 * Results are objects whose instances are counted, returned with
 * g_task_return_pointer() or g_task_return_value(); the calls' source
 * objects, tasks and cancellables are counted too. The test checks that
 * every call is answered exactly once, on its thread and context, with its
 * own result (a lock caller: a result for its key) or G_IO_ERROR_CANCELLED
 * (only if its cancellable was cancelled; always if it was cancelled before
 * the call), and that once every call was answered, with the loops still
 * running and the sync threads gone, every result, task, source object and
 * cancellable is finalized: nothing waits for a later call to be released.
 *
 * Synchronisation is by counts only: the waits for "every call answered"
 * and "everything released" poll counters, with a hang guard
 * (SMARTASYNC_RACE_GUARD_S, default 120 s) that fails the test and says what
 * is missing.
 *
 * Each thread's choices come from the seed (printed; SMARTASYNC_RACE_SEED
 * replays them); the interleaving does not. SMARTASYNC_RACE_CALLS sets the
 * number of calls (default 10 000; 1 000 with SMARTASYNC_TEST_QUICK, as
 * under valgrind). */

#include "test-util.h"

#include <stdlib.h>

#define N_LOOP_THREADS 2
#define N_SYNC_THREADS 2
#define N_CALLER_THREADS (N_LOOP_THREADS + N_SYNC_THREADS)
#define N_LOCK_KEYS 4
#define MAX_IN_FLIGHT 48
#define CALLS_PER_DISPATCH 6
/* The canceller cancels one of its pending cancellables when it has this
 * many, or at random, or when nothing new comes. */
#define MAX_PENDING_CANCELS 24
/* Busy work, in loop turns: a few microseconds at most. */
#define MAX_SPIN 4000

/* The counted objects */

typedef enum
{
  ALIVE_RESULT,
  ALIVE_SOURCE,
  ALIVE_TASK,
  ALIVE_CANCELLABLE,
  N_ALIVE
} Alive;

static const char * const alive_names[N_ALIVE] = {
  "results", "source objects", "tasks", "cancellables"
};
static gint alive[N_ALIVE];      /* atomic */
static guint created[N_ALIVE];   /* atomic */

#define RACE_TYPE_OBJECT (race_object_get_type ())
G_DECLARE_FINAL_TYPE (RaceObject, race_object, RACE, OBJECT, GObject)

struct _RaceObject
{
  GObject  parent_instance;
  Alive    kind;
  guint    call;   /* the call that made it */
  guint    key;    /* its lock key */
};

G_DEFINE_FINAL_TYPE (RaceObject, race_object, G_TYPE_OBJECT)

static void count_released (Alive kind,
                            guint call);

static void
race_object_finalize (GObject *object)
{
  count_released (RACE_OBJECT (object)->kind, RACE_OBJECT (object)->call);
  G_OBJECT_CLASS (race_object_parent_class)->finalize (object);
}

static void
race_object_class_init (RaceObjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = race_object_finalize;
}

static void
race_object_init (RaceObject *self)
{
}

static void count_made (Alive kind,
                        guint call);

static RaceObject *
race_object_new (Alive kind,
                 guint call,
                 guint key)
{
  RaceObject *self = g_object_new (RACE_TYPE_OBJECT, NULL);

  self->kind = kind;
  self->call = call;
  self->key = key;
  count_made (kind, call);
  return self;
}

/* Calls */

typedef enum
{
  OP_ASYNC,
  OP_BLOCKING,   /* the default path */
  OP_EXECUTOR,
  N_OPS
} OpKind;

typedef enum
{
  ENTRY_CALL,    /* call_async on a loop thread, call_sync on a sync thread */
  ENTRY_SMART,
  ENTRY_LOCK,
  N_ENTRIES
} Entry;

/* Who cancels the call's cancellable, and when. */
typedef enum
{
  CANCEL_NONE,          /* no cancellable */
  CANCEL_NEVER,         /* one that the canceller holds a while, never cancelled */
  CANCEL_BEFORE,        /* cancelled by the caller before the call */
  CANCEL_RIGHT_AFTER,   /* loop threads: cancelled by the caller right after the call */
  CANCEL_RANDOM,        /* cancelled by the canceller thread, at a random moment */
  N_CANCELS
} Cancel;

/* How the asynchronous implementation completes its task. */
typedef enum
{
  DONE_NOW,
  DONE_IDLE,           /* from an idle on its thread-default context */
  DONE_THREAD,         /* from a completer thread */
  DONE_ON_CANCEL,      /* from the cancellable's handler, on the cancelling thread */
  DONE_LATE,           /* by the canceller thread, at a random later moment */
  N_DONES
} Done;

static const guint loop_cancel_weights[N_CANCELS] = { 10, 10, 10, 20, 50 };
static const guint sync_cancel_weights[N_CANCELS] = { 10, 15, 10, 0, 65 };
static const guint entry_weights[N_ENTRIES] = { 30, 25, 45 };
static const guint done_weights[N_DONES] = { 15, 15, 30, 15, 25 };

typedef struct
{
  guint    index;
  guint8   thread;
  guint8   op;
  guint8   entry;
  guint8   cancel;
  guint8   done;
  gboolean value_result;     /* g_task_return_value() instead of _pointer() */
  gboolean keep_result;      /* when cancelled: return the result anyway */
  gboolean nested;           /* blocking: gets its result from a nested sync call */
  guint    key;
  guint    spin;

  gint     cancel_issued;    /* atomic: its cancellable is (about to be) cancelled */
  gint     answered;         /* atomic */
  gint     got_result;       /* atomic */
  gint     alive[N_ALIVE];   /* atomic: its objects not yet finalized */
} Call;

typedef struct
{
  guint         index;
  gboolean      has_loop;
  GThread      *thread;          /* for the main thread to join */
  GThread      *self;            /* set by the thread itself */
  GRand        *rand;
  guint         first;           /* its calls: first .. first + n_calls - 1 */
  guint         n_calls;
  guint         next;
  GMainContext *context;         /* loop threads */
  GMainLoop    *loop;
  guint         in_flight;
  gboolean      driver_scheduled;
} Caller;

static Call *calls;
static guint n_calls;
static guint n_records;          /* of calls: n_calls, or 1 in the focused cases */
static Caller callers[N_CALLER_THREADS];
static SmartasyncOperation *ops[N_OPS];
static SmartasyncLock *race_lock;
static gint ops_alive;           /* atomic */
static gint answered_total;      /* atomic */
static gint cancelled_total;     /* atomic */
static gboolean with_reset;      /* a thread resets the lock at random */
static gint reset_total;         /* atomic: callers answered by a reset */
static guint n_resets;
static gint jobs_pending;        /* atomic: completer jobs not yet done */
static GThreadPool *completer;
static GAsyncQueue *cancel_queue;
static guint32 seed;
static guint guard_seconds;

/* Counted per kind, and per call for the report of a failure. */
static void
count_made (Alive kind,
            guint call)
{
  g_atomic_int_inc (&alive[kind]);
  g_atomic_int_inc (&created[kind]);
  g_atomic_int_inc (&calls[call].alive[kind]);
}

static void
count_released (Alive kind,
                guint call)
{
  g_atomic_int_add (&calls[call].alive[kind], -1);
  g_atomic_int_add (&alive[kind], -1);
}

/* Tasks and cancellables are marked once; the mark's destroy notify runs
 * when they are finalized. */
static GQuark alive_mark;

typedef struct
{
  Alive kind;
  guint call;
} Mark;

static void
mark_released (gpointer data)
{
  Mark *mark = data;

  count_released (mark->kind, mark->call);
  g_free (mark);
}

static void
mark_alive (gpointer object,
            Alive    kind,
            guint    call)
{
  Mark *mark;

  if (g_object_get_qdata (object, alive_mark) != NULL)
    return;

  mark = g_new (Mark, 1);
  mark->kind = kind;
  mark->call = call;
  count_made (kind, call);
  g_object_set_qdata_full (object, alive_mark, mark, mark_released);
}

static void
track_task (gpointer task,
            guint    call)
{
  g_assert_true (G_IS_TASK (task));
  mark_alive (task, ALIVE_TASK, call);
}

static void
spin (guint turns)
{
  for (volatile guint i = 0; i < turns; i++)
    ;
}

static void
choose_call (Caller *c,
             Call   *call)
{
  call->index = c->first + c->next++;
  call->thread = c->index;
  call->op = g_rand_int_range (c->rand, 0, N_OPS);
  call->entry = test_pick_weighted (c->rand, entry_weights, N_ENTRIES);
  call->cancel = test_pick_weighted (c->rand, c->has_loop ? loop_cancel_weights : sync_cancel_weights,
                                N_CANCELS);
  call->done = test_pick_weighted (c->rand, done_weights, N_DONES);
  call->value_result = call->entry == ENTRY_LOCK || g_rand_boolean (c->rand);
  call->keep_result = g_rand_boolean (c->rand);
  call->nested = call->op != OP_ASYNC && g_rand_int_range (c->rand, 0, 3) == 0;
  call->key = g_rand_int_range (c->rand, 0, N_LOCK_KEYS);
  call->spin = g_rand_int_range (c->rand, 0, MAX_SPIN);

  /* Only a cancellation completes it: the call's own cancellable must be
   * sure to be cancelled. A lock run sees the run's cancellable, which is
   * cancelled only if every caller leaves. */
  if (call->done == DONE_ON_CANCEL &&
      (call->entry == ENTRY_LOCK ||
       (call->cancel != CANCEL_RANDOM && call->cancel != CANCEL_RIGHT_AFTER)))
    call->done = DONE_THREAD;
}

static GVariant *
call_args (Call *call)
{
  return g_variant_new_uint32 (call->index);
}

static Call *
call_from_args (GVariant *args)
{
  guint index;

  g_assert_nonnull (args);
  index = g_variant_get_uint32 (args);
  g_assert_cmpuint (index, <, n_calls);
  return &calls[index];
}

static char *
key_name (guint key)
{
  return g_strdup_printf ("key-%u", key);
}

/* The canceller thread */

/* A cancellable to cancel (or release), or a task to complete. */
typedef struct
{
  GCancellable *cancellable;
  GTask        *task;
  Call         *call;
} CancelJob;

static CancelJob stop_job;

static GCancellable *
new_cancellable (Call *call)
{
  GCancellable *cancellable = g_cancellable_new ();

  mark_alive (cancellable, ALIVE_CANCELLABLE, call->index);
  return cancellable;
}

static void
cancel_call (GCancellable *cancellable,
             Call         *call)
{
  g_atomic_int_set (&call->cancel_issued, TRUE);
  g_cancellable_cancel (cancellable);
}

/* The canceller takes a reference to @cancellable (the caller drops its own
 * right after the call), or to @task, to complete it later. */
static void
hand_to_canceller (GCancellable *cancellable,
                   GTask        *task,
                   Call         *call)
{
  CancelJob *job = g_new0 (CancelJob, 1);

  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  job->task = task != NULL ? g_object_ref (task) : NULL;
  job->call = call;
  g_async_queue_push (cancel_queue, job);
}

static void complete (GTask *task,
                      Call  *call);

static void
cancel_job_finish (CancelJob *job)
{
  if (job->task != NULL)
    {
      complete (job->task, job->call);
      g_object_unref (job->task);
    }
  else
    {
      if (job->call->cancel == CANCEL_RANDOM)
        cancel_call (job->cancellable, job->call);
      g_object_unref (job->cancellable);
    }
  g_free (job);
}

static gpointer
canceller_main (gpointer data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x5eed);
  g_autoptr(GPtrArray) pending = g_ptr_array_new ();
  gboolean stopping = FALSE;

  while (!stopping || pending->len > 0)
    {
      CancelJob *job = NULL;

      if (!stopping)
        job = pending->len > 0 ? g_async_queue_try_pop (cancel_queue)
                               : g_async_queue_pop (cancel_queue);
      if (job == &stop_job)
        {
          stopping = TRUE;
          job = NULL;
        }
      if (job != NULL)
        g_ptr_array_add (pending, job);

      /* Cancel (or, for one never cancelled, release) a random pending
       * cancellable, or complete a pending task, at a random moment. */
      if (pending->len > 0 &&
          (job == NULL || pending->len > MAX_PENDING_CANCELS || g_rand_int_range (rand, 0, 3) == 0))
        {
          guint i = g_rand_int_range (rand, 0, pending->len);

          spin (g_rand_int_range (rand, 0, MAX_SPIN));
          cancel_job_finish (g_ptr_array_steal_index_fast (pending, i));
        }
    }

  return NULL;
}

/* The implementations */

static GObject *
object_from_value (GValue *value)
{
  GObject *object;

  g_assert_true (G_VALUE_HOLDS_OBJECT (value));
  object = g_value_dup_object (value);
  g_value_unset (value);
  return object;
}

static void
return_object (GTask   *task,
               Call    *call,
               GObject *result)
{
  if (call->value_result)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_OBJECT);
      g_value_take_object (&value, result);
      g_task_return_value (task, &value);
    }
  else
    g_task_return_pointer (task, result, g_object_unref);
}

static void
return_result (GTask *task,
               Call  *call)
{
  return_object (task, call, G_OBJECT (race_object_new (ALIVE_RESULT, call->index, call->key)));
}

/* A well-behaved implementation: cancelled, it returns the cancellation,
 * or, like many, the result it had anyway (the task reports the
 * cancellation and must release it). */
static void
complete (GTask *task,
          Call  *call)
{
  if (call->keep_result || !g_task_return_error_if_cancelled (task))
    return_result (task, call);
}

typedef struct
{
  GTask *task;
  Call  *call;
} Completion;

static Completion *
completion_new (GTask *task,
                Call  *call)
{
  Completion *completion = g_new (Completion, 1);

  completion->task = g_object_ref (task);
  completion->call = call;
  return completion;
}

static void
completion_free (gpointer data)
{
  Completion *completion = data;

  g_object_unref (completion->task);
  g_free (completion);
}

static gboolean
complete_from_idle (gpointer data)
{
  Completion *completion = data;

  complete (completion->task, completion->call);
  return G_SOURCE_REMOVE;
}

static void
completer_run (gpointer data,
               gpointer unused)
{
  Completion *completion = data;

  spin (completion->call->spin);
  complete (completion->task, completion->call);
  completion_free (completion);
  g_atomic_int_add (&jobs_pending, -1);
}

/* Completes the task from the cancellable's handler, on whichever thread
 * cancels, as many GIO operations do. The connection holds the task until
 * the handler ran, then only the record, freed with the cancellable. */
typedef struct
{
  GTask *task;
  Call  *call;
} OnCancel;

static void
complete_on_cancel (GCancellable *cancellable,
                    OnCancel     *on_cancel)
{
  complete (on_cancel->task, on_cancel->call);
  g_clear_object (&on_cancel->task);
}

static void
on_cancel_free (gpointer data)
{
  OnCancel *on_cancel = data;

  g_clear_object (&on_cancel->task);
  g_free (on_cancel);
}

static void
wait_for_cancel (GTask *task,
                 Call  *call)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  OnCancel *on_cancel = g_new0 (OnCancel, 1);

  g_assert_nonnull (cancellable);
  on_cancel->task = g_object_ref (task);
  on_cancel->call = call;
  /* Runs now, and frees the record, if already cancelled. */
  g_cancellable_connect (cancellable, G_CALLBACK (complete_on_cancel), on_cancel, on_cancel_free);
}

static void
race_async_impl (GTask        *task,
                 gpointer      source_object,
                 GVariant     *args,
                 GCancellable *cancellable,
                 gpointer      user_data)
{
  Call *call = call_from_args (args);
  GSource *idle;

  track_task (task, call->index);
  g_assert_true (RACE_IS_OBJECT (source_object));
  g_assert_cmpuint (RACE_OBJECT (source_object)->call, ==, call->index);
  g_assert_cmpint (call->cancel, !=, CANCEL_BEFORE);

  switch (call->done)
    {
    case DONE_NOW:
      complete (task, call);
      break;
    case DONE_IDLE:
      idle = g_idle_source_new ();
      g_source_set_callback (idle, complete_from_idle, completion_new (task, call),
                             completion_free);
      g_source_attach (idle, g_main_context_get_thread_default ());
      g_source_unref (idle);
      break;
    case DONE_THREAD:
      g_atomic_int_inc (&jobs_pending);
      g_thread_pool_push (completer, completion_new (task, call), NULL);
      break;
    case DONE_ON_CANCEL:
      wait_for_cancel (task, call);
      break;
    case DONE_LATE:
      hand_to_canceller (NULL, task, call);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* A blocking implementation calling another operation synchronously, with
 * its own cancellable: the nested wait runs on whatever thread this runs
 * on (a worker, or the caller's thread), and is abandoned if cancelled. */
static void
complete_nested (GTask        *task,
                 gpointer      source_object,
                 GVariant     *args,
                 GCancellable *cancellable,
                 Call         *call)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  GObject *object = NULL;

  if (call->value_result)
    {
      if (smartasync_operation_call_sync (ops[OP_ASYNC], source_object, args, cancellable,
                                          &value, &error))
        object = object_from_value (&value);
    }
  else
    object = smartasync_operation_call_sync_pointer (ops[OP_ASYNC], source_object, args,
                                                     cancellable, &error);

  if (object != NULL)
    return_object (task, call, object);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
race_blocking_impl (GTask        *task,
                    gpointer      source_object,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  Call *call = call_from_args (args);

  track_task (task, call->index);
  g_assert_true (RACE_IS_OBJECT (source_object));
  g_assert_cmpuint (RACE_OBJECT (source_object)->call, ==, call->index);
  g_assert_cmpint (call->cancel, !=, CANCEL_BEFORE);

  spin (call->spin);
  if (call->nested)
    complete_nested (task, source_object, args, cancellable, call);
  else
    complete (task, call);
}

static void
operation_finalized (gpointer data)
{
  g_atomic_int_add (&ops_alive, -1);
}

/* Answers */

/* Checks the answer of @call, given once: its own result (a lock caller:
 * one for its key), or the cancellation, only if it was cancelled. */
static void
record_answer (Call       *call,
               GObject    *result,
               GError     *error)
{
  g_assert_cmpint (g_atomic_int_add (&call->answered, 1), ==, 0);

  if (error != NULL)
    {
      g_assert_null (result);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* Or a lock reset answered it, if it joined a run. */
      if (!g_atomic_int_get (&call->cancel_issued))
        {
          if (!with_reset || call->entry != ENTRY_LOCK ||
              g_strcmp0 (error->message, "Cancelled by smartasync_lock_reset()") != 0)
            g_error ("call %u (thread %u, op %u, entry %u, cancel %u, key %u), never cancelled, "
                     "answered “%s” (seed %u)", call->index, call->thread, call->op, call->entry,
                     call->cancel, call->key, error->message, seed);
          g_atomic_int_inc (&reset_total);
        }
      g_atomic_int_inc (&cancelled_total);
    }
  else
    {
      RaceObject *object;

      g_assert_true (RACE_IS_OBJECT (result));
      object = RACE_OBJECT (result);
      g_assert_cmpint (object->kind, ==, ALIVE_RESULT);
      g_assert_cmpint (call->cancel, !=, CANCEL_BEFORE);
      if (call->entry == ENTRY_LOCK)
        g_assert_cmpuint (object->key, ==, call->key);
      else
        g_assert_cmpuint (object->call, ==, call->index);
      g_atomic_int_set (&call->got_result, TRUE);
    }

  g_atomic_int_inc (&answered_total);
}

static void
finish_call (Call         *call,
             GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  SmartasyncOperation *op = ops[call->op];

  track_task (result, call->index);
  if (call->entry == ENTRY_LOCK)
    {
      if (smartasync_lock_run_finish (race_lock, result, &value, &error))
        object = object_from_value (&value);
    }
  else if (call->value_result)
    {
      if (smartasync_operation_call_finish (op, result, &value, &error))
        object = object_from_value (&value);
    }
  else
    object = smartasync_operation_call_finish_pointer (op, result, &error);

  record_answer (call, object, error);
}

static void loop_call_done (Caller *c);

/* Every callback runs on its caller's thread, with the context it called
 * from as thread-default. */
static void
on_answer (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  Call *call = data;
  Caller *c = &callers[call->thread];

  g_assert_true (g_thread_self () == c->self);
  if (c->has_loop)
    g_assert_true (g_main_context_get_thread_default () == c->context);
  g_assert_true (source_object == (call->entry == ENTRY_LOCK ? G_OBJECT (race_lock)
                                                              : G_OBJECT (ops[call->op])));

  finish_call (call, result);
  if (c->has_loop)
    loop_call_done (c);
}

/* A cancellable as the call's plan wants it, or %NULL. */
static GCancellable *
plan_cancellable (Call *call)
{
  GCancellable *cancellable;

  if (call->cancel == CANCEL_NONE)
    return NULL;

  cancellable = new_cancellable (call);
  if (call->cancel == CANCEL_BEFORE)
    cancel_call (cancellable, call);
  else if (call->cancel == CANCEL_NEVER || call->cancel == CANCEL_RANDOM)
    hand_to_canceller (cancellable, NULL, call);
  return cancellable;
}

/* Loop threads: the caller releases its cancellable and source object
 * right after the call. */
static void
start_loop_call (Caller *c)
{
  Call *call = &calls[c->first + c->next];
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(RaceObject) source = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GTask) task = NULL;

  choose_call (c, call);
  cancellable = plan_cancellable (call);
  source = race_object_new (ALIVE_SOURCE, call->index, call->key);
  c->in_flight++;

  switch (call->entry)
    {
    case ENTRY_CALL:
      smartasync_operation_call_async (ops[call->op], source, call_args (call), cancellable,
                                       on_answer, call);
      break;
    case ENTRY_SMART:
      task = smartasync_operation_call (ops[call->op], source, call_args (call), cancellable,
                                        on_answer, call);
      g_assert_nonnull (task);
      track_task (task, call->index);
      break;
    case ENTRY_LOCK:
      key = key_name (call->key);
      smartasync_lock_run_async (race_lock, key, ops[call->op], source, call_args (call),
                                 cancellable, on_answer, call);
      break;
    default:
      g_assert_not_reached ();
    }

  /* GIO's rule: never answered from inside the call. */
  g_assert_cmpint (g_atomic_int_get (&call->answered), ==, 0);

  if (call->cancel == CANCEL_RIGHT_AFTER)
    cancel_call (cancellable, call);
}

static void
maybe_schedule_driver (Caller *c);

static gboolean
drive_calls (gpointer data)
{
  Caller *c = data;

  g_assert_true (smartasync_in_async_context ());
  for (guint n = 0; n < CALLS_PER_DISPATCH && c->next < c->n_calls && c->in_flight < MAX_IN_FLIGHT; n++)
    start_loop_call (c);

  c->driver_scheduled = FALSE;
  maybe_schedule_driver (c);
  return G_SOURCE_REMOVE;
}

static void
maybe_schedule_driver (Caller *c)
{
  GSource *idle;

  if (c->driver_scheduled || c->next == c->n_calls || c->in_flight >= MAX_IN_FLIGHT)
    return;

  idle = g_idle_source_new ();
  g_source_set_callback (idle, drive_calls, c, NULL);
  g_source_attach (idle, c->context);
  g_source_unref (idle);
  c->driver_scheduled = TRUE;
}

static void
loop_call_done (Caller *c)
{
  g_assert_cmpuint (c->in_flight, >, 0);
  c->in_flight--;
  maybe_schedule_driver (c);
}

/* Runs until the main thread quits the loop, once everything was answered
 * and released: the loop keeps dispatching what the library still owes
 * this context meanwhile. */
static void
run_loop_caller (Caller *c)
{
  g_main_context_push_thread_default (c->context);
  maybe_schedule_driver (c);
  g_main_loop_run (c->loop);

  g_assert_cmpuint (c->next, ==, c->n_calls);
  g_assert_cmpuint (c->in_flight, ==, 0);
  /* Nothing left for this context. */
  g_assert_false (g_main_context_iteration (c->context, FALSE));
  g_main_context_pop_thread_default (c->context);
}

/* Sync threads */

static void
run_sync_call (Caller *c)
{
  Call *call = &calls[c->first + c->next];
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(RaceObject) source = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *key = NULL;
  g_autoptr(GTask) task = NULL;
  SmartasyncOperation *op;

  choose_call (c, call);
  op = ops[call->op];
  cancellable = plan_cancellable (call);
  source = race_object_new (ALIVE_SOURCE, call->index, call->key);

  switch (call->entry)
    {
    case ENTRY_CALL:
      if (call->value_result)
        {
          if (smartasync_operation_call_sync (op, source, call_args (call), cancellable,
                                              &value, &error))
            object = object_from_value (&value);
        }
      else
        object = smartasync_operation_call_sync_pointer (op, source, call_args (call),
                                                         cancellable, &error);
      record_answer (call, object, error);
      break;
    case ENTRY_SMART:
      /* Answered through the callback, before it returns. */
      task = smartasync_operation_call (op, source, call_args (call), cancellable,
                                        on_answer, call);
      g_assert_nonnull (task);
      track_task (task, call->index);
      g_assert_cmpint (g_atomic_int_get (&call->answered), ==, 1);
      break;
    case ENTRY_LOCK:
      key = key_name (call->key);
      if (smartasync_lock_run_sync (race_lock, key, op, source, call_args (call), cancellable,
                                    &value, &error))
        object = object_from_value (&value);
      record_answer (call, object, error);
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_null (g_main_context_get_thread_default ());
}

static gpointer
caller_main (gpointer data)
{
  Caller *c = data;

  c->self = g_thread_self ();
  if (c->has_loop)
    run_loop_caller (c);
  else
    while (c->next < c->n_calls)
      run_sync_call (c);

  return NULL;
}

/* Waiting by counts */

typedef gboolean (*DoneFunc) (void);

static gboolean
all_answered (void)
{
  return (guint) g_atomic_int_get (&answered_total) == n_calls;
}

static gboolean
all_released (void)
{
  for (guint i = 0; i < N_ALIVE; i++)
    if (g_atomic_int_get (&alive[i]) != 0)
      return FALSE;
  return g_atomic_int_get (&jobs_pending) == 0;
}

static gboolean
ops_released (void)
{
  return g_atomic_int_get (&ops_alive) == 0;
}

static void
report_unanswered (void)
{
  guint unanswered = 0;

  for (guint i = 0; i < n_calls; i++)
    if (g_atomic_int_get (&calls[i].answered) == 0 && unanswered++ < 10)
      g_test_message ("unanswered: call %u (thread %u, op %u, entry %u, cancel %u, done %u, "
                      "key %u)", i, calls[i].thread, calls[i].op, calls[i].entry,
                      calls[i].cancel, calls[i].done, calls[i].key);

  g_test_message ("answered %d/%u (%u unanswered)", g_atomic_int_get (&answered_total), n_calls,
                  unanswered);
}

static void
report_counts (const char *when)
{
  for (guint i = 0, n = 0; i < n_records && n < 10; i++)
    for (guint kind = 0; kind < N_ALIVE; kind++)
      if (g_atomic_int_get (&calls[i].alive[kind]) != 0)
        {
          Call *call = &calls[i];

          g_test_message ("alive: %d %s of call %u (thread %u, op %u, entry %u, cancel %u, "
                          "done %u, keep %d, value %d, nested %d, key %u, answered %d, "
                          "cancel issued %d, result %d)", call->alive[kind], alive_names[kind],
                          i, call->thread, call->op, call->entry, call->cancel, call->done,
                          call->keep_result, call->value_result, call->nested, call->key,
                          call->answered, call->cancel_issued, call->got_result);
          n++;
        }

  g_test_message ("%s: completer jobs pending %d", when, g_atomic_int_get (&jobs_pending));
  for (guint i = 0; i < N_ALIVE; i++)
    g_test_message ("%s: %s alive %d (of %u made)", when, alive_names[i],
                    g_atomic_int_get (&alive[i]), g_atomic_int_get (&created[i]));
}

/* Polls the counts that other threads change: a hang guard, not a deadline. */
static void
wait_for (DoneFunc    done,
          const char *what)
{
  gint64 start = g_get_monotonic_time ();
  gint64 guard = start + (gint64) guard_seconds * G_USEC_PER_SEC;

  while (!done ())
    {
      if (g_get_monotonic_time () > guard)
        {
          if (done == all_answered)
            report_unanswered ();
          report_counts (what);
          g_error ("hang guard (seed %u): not %s after %u s", seed, what, guard_seconds);
        }
      g_usleep (1000);
    }

  g_test_message ("%s after %.3f s", what, (g_get_monotonic_time () - start) / 1e6);
}

/* The test */

static void
setup_run (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);

  ops[OP_ASYNC] = smartasync_operation_new_async ("race-async", race_async_impl, NULL,
                                                  operation_finalized);
  ops[OP_BLOCKING] = smartasync_operation_new_blocking ("race-blocking", race_blocking_impl, NULL,
                                                        operation_finalized);
  ops[OP_EXECUTOR] = smartasync_operation_new_blocking ("race-executor", race_blocking_impl, NULL,
                                                        operation_finalized);
  smartasync_operation_set_executor (ops[OP_EXECUTOR], executor);
  g_atomic_int_set (&ops_alive, N_OPS);
  race_lock = smartasync_lock_new ();

  completer = g_thread_pool_new (completer_run, NULL, 2, FALSE, NULL);
  cancel_queue = g_async_queue_new ();
  calls = g_new0 (Call, n_calls);
  n_records = n_calls;
  g_atomic_int_set (&answered_total, 0);
  g_atomic_int_set (&cancelled_total, 0);
  g_atomic_int_set (&reset_total, 0);
  n_resets = 0;
  for (guint i = 0; i < N_ALIVE; i++)
    g_atomic_int_set (&created[i], 0);
}

static void
start_callers (void)
{
  guint per_thread = n_calls / N_CALLER_THREADS;

  for (guint i = 0; i < N_CALLER_THREADS; i++)
    {
      Caller *c = &callers[i];

      *c = (Caller) { 0 };
      c->index = i;
      c->has_loop = i < N_LOOP_THREADS;
      c->rand = g_rand_new_with_seed (seed + 7919 * i);
      c->first = i * per_thread;
      c->n_calls = i == N_CALLER_THREADS - 1 ? n_calls - c->first : per_thread;
      if (c->has_loop)
        {
          c->context = g_main_context_new ();
          c->loop = g_main_loop_new (c->context, FALSE);
        }
    }

  for (guint i = 0; i < N_CALLER_THREADS; i++)
    callers[i].thread = g_thread_new ("race-caller", caller_main, &callers[i]);
}

static void
stop_loop_callers (void)
{
  for (guint i = 0; i < N_LOOP_THREADS; i++)
    g_main_loop_quit (callers[i].loop);

  for (guint i = 0; i < N_LOOP_THREADS; i++)
    {
      Caller *c = &callers[i];

      g_thread_join (g_steal_pointer (&c->thread));
      g_clear_pointer (&c->loop, g_main_loop_unref);
      g_clear_pointer (&c->context, g_main_context_unref);
    }
}

static void
teardown_run (void)
{
  for (guint i = 0; i < N_CALLER_THREADS; i++)
    g_clear_pointer (&callers[i].rand, g_rand_free);

  g_clear_object (&race_lock);
  for (guint i = 0; i < N_OPS; i++)
    g_clear_object (&ops[i]);
  wait_for (ops_released, "every operation finalized");

  g_thread_pool_free (g_steal_pointer (&completer), FALSE, TRUE);
  g_clear_pointer (&cancel_queue, g_async_queue_unref);
  g_clear_pointer (&calls, g_free);
  n_records = 0;
}

static void
report_figures (gint64 start)
{
  guint n_results = 0;
  guint per_entry[N_ENTRIES] = { 0 };

  for (guint i = 0; i < n_calls; i++)
    {
      n_results += calls[i].got_result;
      per_entry[calls[i].entry]++;
    }

  g_test_message ("%u calls (%u call, %u smart, %u lock; %u lock runs, %u joins): %u results, "
                  "%d cancelled; %u results and %u tasks made; %.2f s",
                  n_calls, per_entry[ENTRY_CALL], per_entry[ENTRY_SMART], per_entry[ENTRY_LOCK],
                  smartasync_lock_get_executions (race_lock), smartasync_lock_get_joins (race_lock),
                  n_results, g_atomic_int_get (&cancelled_total),
                  g_atomic_int_get (&created[ALIVE_RESULT]), g_atomic_int_get (&created[ALIVE_TASK]),
                  (g_get_monotonic_time () - start) / 1e6);
}

/* Resets the lock at random moments until every call was answered: the
 * callers that joined a run are answered with the reset's cancellation,
 * racing with their own cancellations and with the runs' deliveries. */
static gpointer
resetter_main (gpointer data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed ^ 0x7e5e7);

  while (!all_answered ())
    {
      spin (g_rand_int_range (rand, 0, 20 * MAX_SPIN));
      smartasync_lock_reset (race_lock);
      n_resets++;
      g_thread_yield ();
    }

  return NULL;
}

static void
run_mixed (void)
{
  gint64 start = g_get_monotonic_time ();
  GThread *canceller, *resetter = NULL;

  g_test_message ("seed %u (SMARTASYNC_RACE_SEED=%u replays the choices), %u calls",
                  seed, seed, n_calls);
  setup_run ();
  canceller = g_thread_new ("race-canceller", canceller_main, NULL);
  if (with_reset)
    resetter = g_thread_new ("race-resetter", resetter_main, NULL);
  start_callers ();

  wait_for (all_answered, "every call answered");

  /* The canceller cancels what it still holds, releases the rest, and
   * exits; the sync threads exit, their private contexts with them. The
   * loops keep running. */
  g_async_queue_push (cancel_queue, &stop_job);
  g_thread_join (canceller);
  if (resetter != NULL)
    g_thread_join (resetter);
  for (guint i = N_LOOP_THREADS; i < N_CALLER_THREADS; i++)
    g_thread_join (g_steal_pointer (&callers[i].thread));

  wait_for (all_released, "every result, task, source object and cancellable released");
  stop_loop_callers ();
  g_assert_true (all_released ());
  g_assert_cmpint (g_atomic_int_get (&answered_total), ==, n_calls);
  for (guint i = 0; i < n_calls; i++)
    g_assert_cmpint (calls[i].answered, ==, 1);

  report_figures (start);
  if (with_reset)
    g_test_message ("%u resets, %d callers answered by one", n_resets,
                    g_atomic_int_get (&reset_total));
  teardown_run ();
}

static void
test_cancel_races (void)
{
  with_reset = FALSE;
  run_mixed ();
}

static void
test_cancel_races_reset (void)
{
  with_reset = TRUE;
  run_mixed ();
  with_reset = FALSE;
}

/* The default path goes through a default executor: every offloaded call
 * and every lock run started from a sync context is queued on one. */
static void
test_cancel_races_default_executor (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (3);

  smartasync_set_default_executor (executor);
  with_reset = FALSE;
  run_mixed ();
  smartasync_set_default_executor (NULL);
}

/* Focused cases: each cancellation race the mixed run found, made
 * deterministic with gates. They count objects as call 0. */

static GTask *parked;          /* atomic: the task of parking_impl() */
static gint nested_returned;   /* atomic */

static void
parking_impl (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  track_task (task, 0);
  g_assert_null (g_atomic_pointer_get (&parked));
  g_atomic_pointer_set (&parked, g_object_ref (task));
}

static GTask *
wait_parked (void)
{
  while (g_atomic_pointer_get (&parked) == NULL)
    g_thread_yield ();
  return g_atomic_pointer_exchange (&parked, NULL);
}

static gboolean
task_parked (void)
{
  return g_atomic_pointer_get (&parked) != NULL;
}

/* The parked task completes with a result, late, from this thread. */
static void
complete_parked (GTask *task)
{
  calls[0].value_result = TRUE;
  return_result (task, &calls[0]);
  g_object_unref (task);
}

static void
focused_setup (void)
{
  g_assert_true (all_released ());
  calls = g_new0 (Call, 1);
  n_records = 1;
}

static void
iterate_until_released (GMainContext *context)
{
  gint64 guard = g_get_monotonic_time () + (gint64) guard_seconds * G_USEC_PER_SEC;

  while (!all_released ())
    {
      if (g_get_monotonic_time () > guard)
        {
          report_counts ("released on the caller's context");
          g_error ("hang guard (seed %u): not released on the caller's context after %u s",
                   seed, guard_seconds);
        }
      if (!g_main_context_iteration (context, FALSE))
        g_usleep (1000);
    }
}

static void
focused_teardown (void)
{
  wait_for (all_released, "every result, task, source object and cancellable released");
  g_clear_pointer (&calls, g_free);
  n_records = 0;
}

static gboolean
source_released (void)
{
  return g_atomic_int_get (&alive[ALIVE_SOURCE]) == 0;
}

typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  RaceObject          *source;
  GCancellable        *cancellable;
} LeavingCaller;

static gpointer
leave_lock_run (gpointer data)
{
  LeavingCaller *caller = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (smartasync_lock_run_sync (caller->lock, "key", caller->op, caller->source,
                                            NULL, caller->cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&caller->source);
  return NULL;
}

/* A lock run started by a sync caller runs on a worker as a sync call; the
 * caller leaves, the run is cancelled, the worker's wait gives up. The
 * implementation completes later: its task and result were kept on the
 * worker's private context until the worker's next wait (never, on an idle
 * pool). */
static void
test_worker_lock_run_left (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("parking", parking_impl,
                                                                      NULL, NULL);
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  LeavingCaller caller;
  GThread *thread;

  focused_setup ();
  caller = (LeavingCaller) { lock, op, race_object_new (ALIVE_SOURCE, 0, 0),
                             new_cancellable (&calls[0]) };
  thread = g_thread_new ("race-leaving", leave_lock_run, &caller);
  wait_for (task_parked, "the run started");
  g_cancellable_cancel (caller.cancellable);
  g_thread_join (thread);

  /* The run holds the source object until the worker's wait returned. */
  wait_for (source_released, "the worker's wait given up");
  complete_parked (wait_parked ());
  g_clear_object (&caller.cancellable);
  focused_teardown ();
}

static void
nesting_impl (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  SmartasyncOperation *inner = user_data;
  GError *error = NULL;

  track_task (task, 0);
  g_assert_null (smartasync_operation_call_sync_pointer (inner, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_atomic_int_set (&nested_returned, TRUE);
  g_task_return_error (task, error);
}

static gboolean
nested_call_returned (void)
{
  return g_atomic_int_get (&nested_returned);
}

static void
on_cancelled_answer (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      data)
{
  g_autoptr(GError) error = NULL;

  track_task (result, 0);
  g_assert_false (g_task_propagate_boolean (G_TASK (result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *(gboolean *) data = TRUE;
}

typedef struct
{
  SmartasyncOperation *op;
  GCancellable        *cancellable;
  gboolean            *answered;
} PendingCall;

static gboolean
start_pending_call (gpointer data)
{
  PendingCall *call = data;

  smartasync_operation_call_async (call->op, NULL, NULL, call->cancellable,
                                   on_cancelled_answer, call->answered);
  return G_SOURCE_REMOVE;
}

/* A blocking implementation offloaded from a loop (GLib's pool, or an
 * executor) calls another operation synchronously with the call's
 * cancellable; the call is cancelled, the nested wait gives up on the
 * worker, and the inner implementation completes later. */
static void
check_worker_nested_call_left (SmartasyncExecutor *executor)
{
  g_autoptr(SmartasyncOperation) inner = smartasync_operation_new_async ("parking", parking_impl,
                                                                         NULL, NULL);
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("nesting", nesting_impl,
                                                                         inner, NULL);
  g_autoptr(GMainContext) context = g_main_context_new ();
  gboolean answered = FALSE;
  PendingCall call = { op, NULL, &answered };

  focused_setup ();
  g_atomic_int_set (&nested_returned, FALSE);
  smartasync_operation_set_executor (op, executor);
  call.cancellable = new_cancellable (&calls[0]);
  g_main_context_push_thread_default (context);
  g_main_context_invoke (context, start_pending_call, &call);
  while (!task_parked ())
    g_main_context_iteration (context, FALSE);
  g_cancellable_cancel (call.cancellable);
  test_iterate_until (context, &answered);

  wait_for (nested_call_returned, "the nested wait given up");
  complete_parked (wait_parked ());
  g_clear_object (&call.cancellable);
  /* The caller was answered at once; what the worker held comes back to
   * the caller's context once the worker is done, and is released there. */
  iterate_until_released (context);
  g_main_context_pop_thread_default (context);
  focused_teardown ();
}

static void
test_worker_nested_call_left_pool (void)
{
  check_worker_nested_call_left (NULL);
}

static void
test_worker_nested_call_left_executor (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);

  check_worker_nested_call_left (executor);
}

static void
on_lock_answer (GObject      *source_object,
                GAsyncResult *result,
                gpointer      data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean *answered = data;

  track_task (result, 0);
  if (smartasync_lock_run_finish (SMARTASYNC_LOCK (source_object), result, &value, &error))
    g_assert_true (RACE_IS_OBJECT (g_value_get_object (&value)));
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *answered = TRUE;
}

/* A lock caller on a context of its own leaves through its cancellable,
 * is answered, and stops iterating that context (a thread that pushed a
 * context for one call, as sync code often does). Nothing the lock left
 * there may keep the caller's cancellable, task and context alive: the
 * handler used to leave an idle on it to disconnect itself. */
static void
test_lock_caller_left_context (void)
{
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_async ("parking", parking_impl,
                                                                      NULL, NULL);
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GMainContext) leaving = g_main_context_new ();
  g_autoptr(GMainContext) staying = g_main_context_new ();
  gboolean left = FALSE, answered = FALSE;

  focused_setup ();
  cancellable = new_cancellable (&calls[0]);

  /* Started from a sync context: the run goes to a worker. */
  g_main_context_push_thread_default (leaving);
  smartasync_lock_run_async (lock, "key", op, NULL, NULL, cancellable, on_lock_answer, &left);
  g_main_context_pop_thread_default (leaving);
  g_main_context_push_thread_default (staying);
  smartasync_lock_run_async (lock, "key", op, NULL, NULL, NULL, on_lock_answer, &answered);
  g_main_context_pop_thread_default (staying);
  wait_for (task_parked, "the run started");

  g_cancellable_cancel (cancellable);
  test_iterate_until (leaving, &left);
  g_clear_pointer (&leaving, g_main_context_unref);
  g_clear_object (&cancellable);

  complete_parked (wait_parked ());
  test_iterate_until (staying, &answered);
  focused_teardown ();
}

/* An implementation that leaves a source on the wait's private context
 * that will not be ready for long (a timeout it never removes) and parks
 * its task. */
static void
parking_leaving_source_impl (GTask        *task,
                             gpointer      source_object,
                             GVariant     *args,
                             GCancellable *cancellable,
                             gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new_seconds (3600);

  g_source_set_callback (timeout, test_set_flag, user_data, NULL);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
  parking_impl (task, source_object, args, cancellable, NULL);
}

static gpointer
cancel_when_parked (gpointer data)
{
  wait_for (task_parked, "the call started");
  g_cancellable_cancel (data);
  return NULL;
}

/* A sync wait cancelled from another thread gives up on its completion;
 * the source its implementation left makes the wait retire the thread's
 * private context. The completion, arriving later, is owed to the retired
 * context: a janitor must dispatch it. The wait used to retire the context
 * before it counted the completion as owed, so the janitor was never
 * started, and the task and its result stayed on a context nobody
 * iterates (a race under load: a completion arriving just as the wait
 * ended made the wait retire the context the same way). */
static void
test_sync_wait_left_retired (void)
{
  gboolean fired = FALSE;
  g_autoptr(SmartasyncOperation) op =
    smartasync_operation_new_async ("parking", parking_leaving_source_impl, &fired, NULL);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;
  GThread *canceller;

  focused_setup ();
  cancellable = new_cancellable (&calls[0]);
  canceller = g_thread_new ("race-canceller", cancel_when_parked, cancellable);
  g_assert_null (smartasync_operation_call_sync_pointer (op, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller);

  complete_parked (wait_parked ());
  g_clear_object (&cancellable);
  focused_teardown ();
  g_assert_false (fired);
}

static guint
env_uint (const char *name,
          guint       fallback)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? (guint) g_ascii_strtoull (value, NULL, 10) : fallback;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  alive_mark = g_quark_from_static_string ("race-alive");
  seed = env_uint ("SMARTASYNC_RACE_SEED", g_random_int ());
  n_calls = env_uint ("SMARTASYNC_RACE_CALLS", g_getenv ("SMARTASYNC_TEST_QUICK") ? 1000 : 10000);
  n_calls = MAX (n_calls, N_CALLER_THREADS);
  guard_seconds = env_uint ("SMARTASYNC_RACE_GUARD_S", 120);
  /* Printed even without --verbose or --tap, to replay a failure. */
  g_printerr ("# cancel races: seed %u, %u calls\n", seed, n_calls);

  g_test_add_func ("/smartasync/cancel-races/worker/lock-run-left", test_worker_lock_run_left);
  g_test_add_func ("/smartasync/cancel-races/worker/nested-call-left/pool",
                   test_worker_nested_call_left_pool);
  g_test_add_func ("/smartasync/cancel-races/worker/nested-call-left/executor",
                   test_worker_nested_call_left_executor);
  g_test_add_func ("/smartasync/cancel-races/lock/caller-left-context",
                   test_lock_caller_left_context);
  g_test_add_func ("/smartasync/cancel-races/sync-wait/left-retired", test_sync_wait_left_retired);
  g_test_add_func ("/smartasync/cancel-races/mixed", test_cancel_races);
  g_test_add_func ("/smartasync/cancel-races/mixed-with-reset", test_cancel_races_reset);
  g_test_add_func ("/smartasync/cancel-races/mixed-default-executor",
                   test_cancel_races_default_executor);

  return g_test_run ();
}
