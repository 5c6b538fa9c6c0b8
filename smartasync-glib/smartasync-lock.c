/* smartasync-lock.c: singleflight — concurrent callers share one execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncLock:
 *
 * A singleflight: while an operation runs through the lock, every further
 * caller asking for the same key joins that run instead of starting another.
 * Exactly one execution happens; every caller gets the result (its own copy
 * or reference) or the error (its own copy), each on its own thread-default
 * main context, even when the callers sit on different threads with
 * different main loops. The GLib counterpart of the Python SmartAsync's
 * `SmartLock.run_once`, with its pitfalls fixed:
 *
 * - **Keys.** A key selects an independent flight: requests for different
 *   resources run in parallel, requests for the same one coalesce. The
 *   %NULL key is a flight of its own.
 * - **Not a cache.** When the run completes the key is idle again, and the
 *   next caller starts a new execution.
 * - **Per-waiter cancellation.** A caller whose #GCancellable is cancelled
 *   gets %G_IO_ERROR_CANCELLED at once and leaves; the run goes on for the
 *   others. Only when every caller has left is the run itself cancelled.
 * - **Nobody waits forever.** If the run fails or is cancelled, every caller
 *   gets the error.
 * - **Reset.** [method@Smartasync.Lock.reset] frees every key, so that the
 *   next caller starts afresh, and completes the callers that joined a run
 *   with %G_IO_ERROR_CANCELLED; the caller that started a run keeps it and
 *   gets its result, as in the Python original.
 *
 * ## Results
 *
 * The shared result travels as a #GValue, so that each caller can get its
 * own copy: implementations run through a lock return their result with
 * g_task_return_value() (bindings always do), or declare the type of what
 * they return with any other g_task_return_*()
 * ([property@Smartasync.Operation:result-type]: each caller then gets its
 * own copy of a boxed type or string, its own reference to an object), and
 * callers read it with [method@Smartasync.Lock.run_finish] or
 * [method@Smartasync.Lock.run_sync].
 *
 * ## Where the run happens
 *
 * The caller that starts a flight decides where it runs. From an async
 * context, the operation starts on that caller's thread-default context, as
 * [method@Smartasync.Operation.call_async] does, and that context must keep
 * running until the run completes (it does in an application or a daemon).
 * From a sync context, the run goes to a worker thread, where it runs as a
 * synchronous call, so that it does not depend on a waiting thread that may
 * leave. Sync callers (threads without a loop) use
 * [method@Smartasync.Lock.run_sync]: they block until the shared run
 * completes, whoever started it.
 *
 * ## Threads
 *
 * A lock may be used from any number of threads at once. Its mutex is never
 * held while user code runs; waiters are detached from a flight before any
 * of them is completed, so callbacks may call the lock again.
 *
 * ## Example
 *
 * One lock for the resource; a caller asking for the same key while a run
 * is in flight joins it.
 *
 * ```c
 * g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
 *
 * if (smartasync_lock_run_sync (lock, "report:2026-11", op, NULL,
 *                               g_variant_new_int32 (21), NULL, &value, &error))
 *   g_print ("report = %d, %u execution(s)\n", g_value_get_int (&value),
 *            smartasync_lock_get_executions (lock));
 * ```
 *
 * (From `doc/examples/classes.c`, which the test suite builds and runs.)
 *
 * Since: 0.1
 */

#include "config.h"

#include <string.h>

#include "smartasync-error.h"
#include "smartasync-lock.h"
#include "smartasync-offload-private.h"
#include "smartasync-operation-private.h"
#include "smartasync-wait-private.h"

typedef struct _Flight Flight;

typedef struct
{
  gatomicrefcount  ref_count;
  GTask           *task;         /* the caller's, on the caller's context */
  GCancellable    *cancellable;  /* the caller's, or NULL */
  gpointer         handler;      /* atomic: the cancelled handler's id, until disconnected */
  Flight          *flight;
  gint             finished;     /* atomic: the caller is answered once */
  gboolean         detached;     /* under the lock's mutex: taken off by a reset */
} Waiter;

/* The callers of a flight, detached from it as a whole to be answered.
 * A caller without a cancellable cannot leave: its task alone is kept,
 * which saves a record, its references and its claim per caller. */
typedef struct
{
  GPtrArray *tasks;    /* GTask, of callers without a cancellable */
  GPtrArray *waiters;  /* Waiter, of callers with one */
} Callers;

struct _Flight
{
  gatomicrefcount  ref_count;
  SmartasyncLock  *lock;
  char            *key;
  GCancellable    *cancellable;  /* the run's own */
  Callers         *callers;      /* under lock->mutex; NULL once detached */
  guint            n_active;
  gpointer         leader;       /* the caller that started it: its Waiter or
                                  * GTask, owned by callers */
};

/* The run's value, shared by the tasks of every caller: each finish copies
 * it out, instead of each task holding a copy. */
typedef struct
{
  gatomicrefcount  ref_count;
  GValue           value;
} Outcome;

struct _SmartasyncLock
{
  GObject     parent_instance;

  GMutex      mutex;
  GHashTable *flights;           /* key -> Flight, for non-NULL keys */
  Flight     *unkeyed;
  guint       executions;        /* atomic */
  guint       joins;             /* atomic */
};

enum {
  PROP_0,
  PROP_EXECUTIONS,
  PROP_JOINS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SmartasyncLock, smartasync_lock, G_TYPE_OBJECT)

/* Flights and waiters */

static void
callers_free (Callers *callers)
{
  g_ptr_array_unref (callers->tasks);
  g_ptr_array_unref (callers->waiters);
  g_free (callers);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Callers, callers_free)

/* Takes @value, leaving it unset: the worker that produced it keeps no
 * reference to what the callers' tasks share. */
static Outcome *
outcome_new_take (GValue *value)
{
  Outcome *outcome = g_new0 (Outcome, 1);

  g_atomic_ref_count_init (&outcome->ref_count);
  outcome->value = *value;
  memset (value, 0, sizeof *value);
  return outcome;
}

static Outcome *
outcome_ref (Outcome *outcome)
{
  g_atomic_ref_count_inc (&outcome->ref_count);
  return outcome;
}

static void
outcome_unref (gpointer data)
{
  Outcome *outcome = data;

  if (!g_atomic_ref_count_dec (&outcome->ref_count))
    return;

  g_value_unset (&outcome->value);
  g_free (outcome);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Outcome, outcome_unref)

static Flight *
flight_ref (Flight *flight)
{
  g_atomic_ref_count_inc (&flight->ref_count);
  return flight;
}

static void
flight_unref (Flight *flight)
{
  if (!g_atomic_ref_count_dec (&flight->ref_count))
    return;

  g_clear_pointer (&flight->callers, callers_free);
  g_object_unref (flight->cancellable);
  g_object_unref (flight->lock);
  g_free (flight->key);
  g_free (flight);
}

static Waiter *
waiter_ref (Waiter *waiter)
{
  g_atomic_ref_count_inc (&waiter->ref_count);
  return waiter;
}

static void
waiter_unref (gpointer data)
{
  Waiter *waiter = data;

  if (!g_atomic_ref_count_dec (&waiter->ref_count))
    return;

  g_clear_pointer (&waiter->flight, flight_unref);
  g_clear_object (&waiter->cancellable);
  g_object_unref (waiter->task);
  g_free (waiter);
}

static Callers *
callers_new (void)
{
  Callers *callers = g_new (Callers, 1);

  callers->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  callers->waiters = g_ptr_array_new_with_free_func (waiter_unref);
  return callers;
}

static Flight *
flight_new (SmartasyncLock *lock,
            const char     *key)
{
  Flight *flight = g_new0 (Flight, 1);

  g_atomic_ref_count_init (&flight->ref_count);
  flight->lock = g_object_ref (lock);
  flight->key = g_strdup (key);
  flight->cancellable = g_cancellable_new ();
  flight->callers = callers_new ();
  return flight;
}

/* Called with the mutex held. */
static Flight *
lookup_flight (SmartasyncLock *self,
               const char     *key)
{
  return key != NULL ? g_hash_table_lookup (self->flights, key) : self->unkeyed;
}

/* Called with the mutex held; the table owns a reference. */
static void
insert_flight (SmartasyncLock *self,
               Flight         *flight)
{
  if (flight->key != NULL)
    g_hash_table_insert (self->flights, flight->key, flight_ref (flight));
  else
    self->unkeyed = flight_ref (flight);
}

/* Called with the mutex held: makes the key idle again, unless a newer
 * flight already took it. */
static void
remove_flight (SmartasyncLock *self,
               Flight         *flight)
{
  if (lookup_flight (self, flight->key) != flight)
    return;

  if (flight->key != NULL)
    g_hash_table_remove (self->flights, flight->key);
  else
    g_clear_pointer (&self->unkeyed, flight_unref);
}

/* Whoever takes the id disconnects: delivery, the cancelled handler itself,
 * or join_leavable() when the flight ended while it connected. */
static void
waiter_disconnect (Waiter *waiter)
{
  gulong handler = GPOINTER_TO_SIZE (g_atomic_pointer_exchange (&waiter->handler, NULL));

  if (handler != 0)
    g_cancellable_disconnect (waiter->cancellable, handler);
}

/* Answers a caller exactly once, whichever of delivery, cancellation and
 * reset comes first. Never called from the caller's cancelled handler with
 * @disconnect set: g_cancellable_disconnect() would wait for the handler. */
static gboolean
waiter_claim (Waiter   *waiter,
              gboolean  disconnect)
{
  if (!g_atomic_int_compare_and_exchange (&waiter->finished, FALSE, TRUE))
    return FALSE;

  if (disconnect)
    waiter_disconnect (waiter);
  return TRUE;
}

/* Answers with *@shared, taking the reference when it is the last caller
 * to answer: the one delivering then holds no reference to the shared
 * result, which goes with the callers' tasks. */
static void
answer (GTask         *task,
        Outcome      **shared,
        gboolean       last,
        const GError  *error)
{
  if (*shared == NULL)
    g_task_return_error (task, g_error_copy (error));
  else if (last)
    g_task_return_pointer (task, g_steal_pointer (shared), outcome_unref);
  else
    g_task_return_pointer (task, outcome_ref (*shared), outcome_unref);
}

/* Only the one who detached @callers from their flight delivers to them,
 * the run's value (taken), or else its error. */
static void
deliver (Callers      *callers,
         GValue       *value,
         const GError *error)
{
  g_autoptr(Outcome) outcome = error == NULL && value != NULL ? outcome_new_take (value) : NULL;
  g_autoptr(GPtrArray) claimed = g_ptr_array_new ();

  for (guint i = 0; i < callers->waiters->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (callers->waiters, i);

      if (waiter_claim (waiter, TRUE))
        g_ptr_array_add (claimed, waiter->task);
    }
  g_ptr_array_extend (claimed, callers->tasks, NULL, NULL);

  for (guint i = 0; i < claimed->len; i++)
    answer (g_ptr_array_index (claimed, i), &outcome, i + 1 == claimed->len, error);
}

static void
flight_complete (Flight       *flight,
                 GValue       *value,
                 const GError *error)
{
  SmartasyncLock *self = flight->lock;
  g_autoptr(Callers) callers = NULL;

  g_mutex_lock (&self->mutex);
  remove_flight (self, flight);
  callers = g_steal_pointer (&flight->callers);
  g_mutex_unlock (&self->mutex);

  if (callers != NULL)
    deliver (callers, value, error);
}

/* Inside the cancelled handler, g_cancellable_disconnect() would wait for
 * the handler itself to return; GSignal lets a handler disconnect itself.
 * Done there and then, not from an idle on the caller's context, which the
 * caller may have stopped iterating (a sync caller whose wait returned at
 * the cancellation, then exited): the connection owns a reference to the
 * waiter, which owns one to the cancellable, so every caller that left
 * would stay alive with its lock. An id not stored yet is disconnected by
 * join_leavable(). */
static void
waiter_disconnect_in_handler (Waiter *waiter)
{
  gulong handler = GPOINTER_TO_SIZE (g_atomic_pointer_exchange (&waiter->handler, NULL));

  if (handler != 0)
    g_signal_handler_disconnect (waiter->cancellable, handler);
}

static void
waiter_cancelled (GCancellable *cancellable,
                  Waiter       *waiter)
{
  Flight *flight = waiter->flight;
  SmartasyncLock *self = flight->lock;
  gboolean everybody_left = FALSE;

  if (!waiter_claim (waiter, FALSE))
    return;

  /* The waiter stays in the list (delivery skips answered waiters): removing
   * it would make N cancellations cost O(N²). One that a reset took off
   * the flight meanwhile is no longer counted in it. */
  g_mutex_lock (&self->mutex);
  if (flight->callers != NULL && !waiter->detached)
    {
      everybody_left = --flight->n_active == 0;
      if (everybody_left)
        remove_flight (self, flight);
    }
  g_mutex_unlock (&self->mutex);

  if (everybody_left)
    g_cancellable_cancel (flight->cancellable);

  g_task_return_error_if_cancelled (waiter->task);
  waiter_disconnect_in_handler (waiter);
}

/* Running the flight */

typedef struct
{
  Flight         *flight;
  SmartasyncCall  call;
} Run;

static void
run_free (gpointer data)
{
  Run *run = data;

  flight_unref (run->flight);
  _smartasync_call_clear (&run->call);
  g_free (run);
}

static void
run_done_async (GObject      *source_object,
                GAsyncResult *result,
                gpointer      data)
{
  Run *run = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  _smartasync_task_propagate_value (G_TASK (result), &value, &error);
  flight_complete (run->flight, &value, error);
  run_free (run);
}

/* The implementation ended the worker thread (g_thread_exit()) before the
 * run completed: every caller still waiting gets an error, and the run is
 * freed. */
static void
run_thread_exited (gpointer data)
{
  Run *run = data;
  g_autoptr(GError) error =
    g_error_new (SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED,
                 "The thread running “%s” exited before the run completed",
                 smartasync_operation_get_name (run->call.operation));

  flight_complete (run->flight, NULL, error);
  run_free (run);
}

/* The run a worker thread is in, for its exit. */
static GPrivate worker_run = G_PRIVATE_INIT (run_thread_exited);

static void
run_in_worker (gpointer data,
               gpointer unused)
{
  Run *run = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_private_set (&worker_run, run);
  smartasync_operation_call_sync (run->call.operation, run->call.source_object, run->call.args,
                                  run->flight->cancellable, &value, &error);
  g_private_set (&worker_run, NULL);
  /* Before the callers are answered: the caller that started the run still
   * holds its source object and arguments until then, so the worker never
   * drops the last reference to them. */
  _smartasync_call_clear (&run->call);
  flight_complete (run->flight, &value, error);
  run_free (run);
}

static void
flight_start (Flight              *flight,
              SmartasyncOperation *operation,
              gpointer             source_object,
              GVariant            *args)
{
  Run *run = g_new0 (Run, 1);

  run->flight = flight_ref (flight);
  _smartasync_call_init (&run->call, operation, source_object, args);

  /* An implementation that drops its task is answered by the operation
   * with SMARTASYNC_ERROR_NOT_COMPLETED, which every caller gets. */
  if (smartasync_in_async_context ())
    smartasync_operation_call_async (operation, source_object, args, flight->cancellable,
                                     run_done_async, run);
  else
    {
      /* A plain function, not a task: GTask would queue the run's own
       * completion on this thread's context, a sync caller's private one,
       * which may have stopped waiting long ago. */
      g_autoptr(SmartasyncExecutor) executor = _smartasync_offload_dup_executor (operation);
      g_autoptr(GError) error = NULL;

      if (!_smartasync_executor_run (executor, run_in_worker, run, NULL, &error))
        {
          flight_complete (flight, NULL, error);
          run_free (run);
        }
    }
}

/* GObject */

static void
smartasync_lock_finalize (GObject *object)
{
  SmartasyncLock *self = SMARTASYNC_LOCK (object);

  /* Every flight holds a reference on the lock: none is left here. */
  g_hash_table_unref (self->flights);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (smartasync_lock_parent_class)->finalize (object);
}

static void
smartasync_lock_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SmartasyncLock *self = SMARTASYNC_LOCK (object);

  switch (prop_id)
    {
    case PROP_EXECUTIONS:
      g_value_set_uint (value, smartasync_lock_get_executions (self));
      break;
    case PROP_JOINS:
      g_value_set_uint (value, smartasync_lock_get_joins (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_lock_class_init (SmartasyncLockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = smartasync_lock_finalize;
  object_class->get_property = smartasync_lock_get_property;

  /**
   * SmartasyncLock:executions:
   *
   * How many runs the lock has started. A statistic that every call may
   * change, from any thread: it is not notified, read it when needed.
   *
   * Since: 0.1
   */
  properties[PROP_EXECUTIONS] =
    g_param_spec_uint ("executions", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncLock:joins:
   *
   * How many callers joined a run that was already in flight. Not notified,
   * like [property@Smartasync.Lock:executions].
   *
   * Since: 0.1
   */
  properties[PROP_JOINS] =
    g_param_spec_uint ("joins", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smartasync_lock_init (SmartasyncLock *self)
{
  g_mutex_init (&self->mutex);
  self->flights = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) flight_unref);
}

/**
 * smartasync_lock_new:
 *
 * Creates a lock with no flight.
 *
 * Returns: (transfer full): a new lock
 *
 * Since: 0.1
 */
SmartasyncLock *
smartasync_lock_new (void)
{
  return g_object_new (SMARTASYNC_TYPE_LOCK, NULL);
}

/* Adds the caller to the flight for @key, creating it if there is none: its
 * @waiter if it has a cancellable, its @task otherwise. Returns the flight
 * to start, or %NULL when the caller joined one. */
static Flight *
join_or_create (SmartasyncLock *self,
                const char     *key,
                GTask          *task,
                Waiter         *waiter)
{
  Flight *flight, *created = NULL;

  g_mutex_lock (&self->mutex);
  flight = lookup_flight (self, key);
  if (flight == NULL)
    {
      flight = created = flight_new (self, key);
      insert_flight (self, flight);
      g_atomic_int_inc (&self->executions);
    }
  else
    g_atomic_int_inc (&self->joins);

  if (waiter != NULL)
    {
      waiter->flight = flight_ref (flight);
      g_ptr_array_add (flight->callers->waiters, waiter_ref (waiter));
    }
  else
    g_ptr_array_add (flight->callers->tasks, g_object_ref (task));
  if (created != NULL)
    created->leader = waiter != NULL ? (gpointer) waiter : (gpointer) task;
  flight->n_active++;
  g_mutex_unlock (&self->mutex);

  return created;
}

/* Joins with a record that @cancellable can take out of the flight. */
static Flight *
join_leavable (SmartasyncLock *self,
               const char     *key,
               GTask          *task,
               GCancellable   *cancellable)
{
  Waiter *waiter = g_new0 (Waiter, 1);
  Flight *created;
  gulong handler;

  g_atomic_ref_count_init (&waiter->ref_count);
  waiter->task = g_object_ref (task);
  waiter->cancellable = g_object_ref (cancellable);
  created = join_or_create (self, key, NULL, waiter);

  /* Connected after joining: if already cancelled, the handler runs now and
   * leaves the flight. The connection owns a reference. If the flight was
   * answered meanwhile (on another thread), delivery found no handler to
   * disconnect: do it here. */
  handler = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled),
                                   waiter_ref (waiter), waiter_unref);
  g_atomic_pointer_set (&waiter->handler, GSIZE_TO_POINTER (handler));
  if (g_atomic_int_get (&waiter->finished))
    waiter_disconnect (waiter);

  waiter_unref (waiter);
  return created;
}

/**
 * smartasync_lock_run_async:
 * @self: a lock
 * @key: (nullable): the flight to join or start; %NULL is a flight of its own
 * @operation: the operation to run; it returns its result with
 *   g_task_return_value(), or declares its result type
 *   ([property@Smartasync.Operation:result-type])
 * @source_object: (nullable) (type GObject.Object): the source object passed
 *   to the implementation when this call starts the run
 * @args: (nullable): the arguments passed to the implementation when this
 *   call starts the run; a floating reference is sunk
 * @cancellable: (nullable): lets this caller leave; the run is cancelled
 *   only when every caller has left
 * @callback: (scope async) (closure user_data): called on the caller's
 *   thread-default main context with the shared result
 * @user_data: data for @callback
 *
 * Runs @operation for @key, or joins the run already in flight for @key.
 * Callers that join share the run that was started first, with its
 * arguments: give different requests different keys.
 *
 * Since: 0.1
 */
void
smartasync_lock_run_async (SmartasyncLock      *self,
                           const char          *key,
                           SmartasyncOperation *operation,
                           gpointer             source_object,
                           GVariant            *args,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GTask) task = NULL;
  Flight *created;

  g_return_if_fail (SMARTASYNC_IS_LOCK (self));
  g_return_if_fail (SMARTASYNC_IS_OPERATION (operation));
  g_return_if_fail (source_object == NULL || G_IS_OBJECT (source_object));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  sunk = args ? g_variant_ref_sink (args) : NULL;
  task = g_task_new (self, cancellable, callback, user_data);
  /* Not the macro: it would name every waiter's task (an allocation each). */
  (g_task_set_source_tag) (task, smartasync_lock_run_async);
  if (g_task_return_error_if_cancelled (task))
    return;

  if (cancellable == NULL)
    created = join_or_create (self, key, task, NULL);
  else
    created = join_leavable (self, key, task, cancellable);

  if (created != NULL)
    {
      flight_start (created, operation, source_object, sunk);
      flight_unref (created);
    }
}

/**
 * smartasync_lock_run_finish:
 * @self: a lock
 * @result: the #GAsyncResult given to the callback
 * @value: (out caller-allocates) (optional): this caller's copy of the
 *   shared result
 * @error: return location for an error
 *
 * Finishes a call of [method@Smartasync.Lock.run_async].
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_lock_run_finish (SmartasyncLock  *self,
                            GAsyncResult    *result,
                            GValue          *value,
                            GError         **error)
{
  Outcome *outcome;

  g_return_val_if_fail (SMARTASYNC_IS_LOCK (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  _smartasync_value_prepare_out (value);
  g_return_val_if_fail (value == NULL || G_VALUE_TYPE (value) == G_TYPE_INVALID, FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == smartasync_lock_run_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  outcome = g_task_propagate_pointer (G_TASK (result), error);
  if (outcome == NULL)
    return _smartasync_value_clear_out (value);

  if (value != NULL)
    {
      g_value_init (value, G_VALUE_TYPE (&outcome->value));
      g_value_copy (&outcome->value, value);
    }
  outcome_unref (outcome);
  return TRUE;
}

/**
 * smartasync_lock_run_sync:
 * @self: a lock
 * @key: (nullable): the flight to join or start
 * @operation: the operation to run; it returns its result with
 *   g_task_return_value(), or declares its result type
 *   ([property@Smartasync.Operation:result-type])
 * @source_object: (nullable) (type GObject.Object): the source object passed
 *   to the implementation when this call starts the run
 * @args: (nullable): the arguments passed to the implementation when this
 *   call starts the run; a floating reference is sunk
 * @cancellable: (nullable): lets this caller leave
 * @value: (out caller-allocates) (optional): this caller's copy of the result
 * @error: return location for an error
 *
 * Like [method@Smartasync.Lock.run_async], but blocks the calling thread
 * until the shared run completes, waiting on the thread's private context.
 * A run started here goes to a worker thread. Joins runs started by async
 * callers and vice versa. Refused with %SMARTASYNC_ERROR_WOULD_BLOCK from
 * code a running loop of this thread dispatches.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_lock_run_sync (SmartasyncLock      *self,
                          const char          *key,
                          SmartasyncOperation *operation,
                          gpointer             source_object,
                          GVariant            *args,
                          GCancellable        *cancellable,
                          GValue              *value,
                          GError             **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(SmartasyncWait) waiter = NULL;
  const char *name;

  g_return_val_if_fail (SMARTASYNC_IS_LOCK (self), FALSE);
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (operation), FALSE);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  _smartasync_value_prepare_out (value);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  sunk = args ? g_variant_ref_sink (args) : NULL;
  name = smartasync_operation_get_name (operation);
  waiter = _smartasync_wait_new (name, SMARTASYNC_WAIT_DEFAULT, error);
  if (waiter == NULL)
    return _smartasync_value_clear_out (value);

  smartasync_lock_run_async (self, key, operation, source_object, sunk, cancellable,
                             _smartasync_wait_callback, waiter);
  if (!_smartasync_wait_run (waiter, cancellable, error))
    return _smartasync_value_clear_out (value);

  return smartasync_lock_run_finish (self, _smartasync_wait_get_result (waiter), value, error);
}

/* Called with the mutex held, on a flight taken off its key: detaches every
 * caller but the leader, who keeps waiting for the run (the flight keeps it
 * as its only caller). Returns the callers detached. */
static Callers *
detach_all_but_leader (Flight *flight)
{
  Callers *others = g_steal_pointer (&flight->callers);
  Callers *kept;
  guint i;

  if (others == NULL)
    return NULL;

  kept = callers_new ();
  if (g_ptr_array_find (others->tasks, flight->leader, &i))
    g_ptr_array_add (kept->tasks, g_ptr_array_steal_index (others->tasks, i));
  else if (g_ptr_array_find (others->waiters, flight->leader, &i) &&
           !g_atomic_int_get (&((Waiter *) flight->leader)->finished))
    g_ptr_array_add (kept->waiters, g_ptr_array_steal_index (others->waiters, i));

  /* Those that left already were counted out; the others are, here. */
  for (i = 0; i < others->waiters->len; i++)
    ((Waiter *) g_ptr_array_index (others->waiters, i))->detached = TRUE;
  flight->n_active = kept->tasks->len + kept->waiters->len;
  if (flight->n_active > 0)
    flight->callers = kept;
  else
    callers_free (kept);
  return others;
}

/**
 * smartasync_lock_reset:
 * @self: a lock
 *
 * Frees every key: the next caller of any key starts a new run. Every
 * caller that joined a run in flight is completed at once with
 * %G_IO_ERROR_CANCELLED; the caller that started a run keeps waiting for it
 * and gets its result, as in the Python SmartAsync's `SmartLock.reset()`,
 * which cancels the joiners' futures and not the first caller's work. A run
 * whose starting caller has already left (through its cancellable) is
 * cancelled. Harmless on an idle lock.
 *
 * Since: 0.1
 */
void
smartasync_lock_reset (SmartasyncLock *self)
{
  g_autoptr(GPtrArray) flights = g_ptr_array_new_with_free_func ((GDestroyNotify) flight_unref);
  g_autoptr(GError) error =
    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled by smartasync_lock_reset()");
  GHashTableIter iter;
  gpointer flight;

  g_return_if_fail (SMARTASYNC_IS_LOCK (self));

  g_mutex_lock (&self->mutex);
  g_hash_table_iter_init (&iter, self->flights);
  while (g_hash_table_iter_next (&iter, NULL, &flight))
    {
      g_ptr_array_add (flights, flight);
      g_hash_table_iter_steal (&iter);
    }
  if (self->unkeyed != NULL)
    g_ptr_array_add (flights, g_steal_pointer (&self->unkeyed));
  g_mutex_unlock (&self->mutex);

  for (guint i = 0; i < flights->len; i++)
    {
      Flight *f = g_ptr_array_index (flights, i);
      g_autoptr(Callers) others = NULL;
      gboolean leader_left;

      g_mutex_lock (&self->mutex);
      others = detach_all_but_leader (f);
      leader_left = f->callers == NULL;
      g_mutex_unlock (&self->mutex);

      if (others != NULL)
        deliver (others, NULL, error);
      if (leader_left)
        g_cancellable_cancel (f->cancellable);
    }
}

/**
 * smartasync_lock_get_executions:
 * @self: a lock
 *
 * Gets how many runs the lock has started since it was created, for tests
 * and statistics. Together with [method@Smartasync.Lock.get_joins] it tells
 * how much work the lock saved.
 *
 * Returns: how many runs the lock has started
 *
 * Since: 0.1
 */
guint
smartasync_lock_get_executions (SmartasyncLock *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_LOCK (self), 0);

  return (guint) g_atomic_int_get (&self->executions);
}

/**
 * smartasync_lock_get_joins:
 * @self: a lock
 *
 * Gets how many callers, since the lock was created, joined a run that was
 * already in flight instead of starting one.
 *
 * Returns: how many callers joined a run already in flight
 *
 * Since: 0.1
 */
guint
smartasync_lock_get_joins (SmartasyncLock *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_LOCK (self), 0);

  return (guint) g_atomic_int_get (&self->joins);
}

/**
 * smartasync_lock_is_running:
 * @self: a lock
 * @key: (nullable): a flight key
 *
 * Tells whether a run is in flight for @key. When other threads use the
 * lock, the answer may be out of date as soon as it is returned.
 *
 * Returns: whether a run is in flight for @key
 *
 * Since: 0.1
 */
gboolean
smartasync_lock_is_running (SmartasyncLock *self,
                            const char     *key)
{
  gboolean running;

  g_return_val_if_fail (SMARTASYNC_IS_LOCK (self), FALSE);

  g_mutex_lock (&self->mutex);
  running = lookup_flight (self, key) != NULL;
  g_mutex_unlock (&self->mutex);

  return running;
}
