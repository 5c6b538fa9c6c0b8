/* smartasync-executor.c: a bounded pool of worker threads for blocking work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncExecutor:
 *
 * A bounded pool of worker threads that runs offloaded blocking work, with
 * its own bound, apart from the library's own pool and from GLib's #GTask
 * pool (shared with every GIO operation of the process).
 *
 * Set it on an operation ([method@Smartasync.Operation.set_executor]) or as
 * the process-wide default ([func@Smartasync.set_default_executor]); without
 * one, blocking work runs on the library's own pool, an executor of at
 * least 10 threads. Whatever a worker holds for a task (the task, and with
 * it its source object, task data and result) is released on the context
 * the task completes on, never on the worker.
 *
 * Idle workers spin briefly before they block (see
 * [property@Smartasync.Executor:spin-us]), so that work arriving in quick
 * succession is picked up in microseconds instead of the tens of
 * microseconds a thread wake-up costs; the spin adapts and an idle executor
 * burns no CPU. A sleeping worker is woken only for work that no spinning
 * worker takes, so the thread that queues work pays no wake-up for it then.
 * Threads are started on demand, when more work is queued than workers are
 * idle, and stop when the executor is finalized.
 *
 * A worker thread is a sync context, so blocking work that calls another
 * operation runs it inline on the same worker: nested offloads never queue
 * behind themselves, and even a pool of one thread cannot deadlock.
 *
 * ## Cancellation
 *
 * Work whose cancellable is cancelled before a worker picks it up completes
 * at once with %G_IO_ERROR_CANCELLED, on the context its task was created
 * on, without waiting for a worker to free up, and never runs. Once
 * running, the implementation sees the cancellable and is expected to
 * honour it.
 *
 * ## Threads
 *
 * An executor may be used from any thread. Dropping the last reference lets
 * queued work finish in the background; it never waits, so it is safe from a
 * worker thread itself.
 *
 * ## Example
 *
 * At most two threads for an operation's blocking work, instead of GLib's
 * shared pool.
 *
 * ```c
 * g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (2);
 *
 * smartasync_operation_set_executor (op, executor);
 * ```
 *
 * (From `doc/examples/classes.c`, which the test suite builds and runs.)
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-debug-private.h"
#include "smartasync-error.h"
#include "smartasync-executor-private.h"
#include "smartasync-release-private.h"

/* How long an idle worker spins before it blocks, at most, by default. A
 * futex wake-up costs 30–60 µs on small VMs; work that arrives within the
 * spin is picked up in about a microsecond. */
#define DEFAULT_SPIN_US 50

typedef struct
{
  gatomicrefcount  ref_count;
  GMutex           lock;
  GCond            cond;
  GQueue           queue;        /* under lock: Work, or the pool itself as a stop token */
  guint            n_waiting;    /* under lock: workers blocked on cond */
  guint            max_threads;
  const char      *thread_name;  /* static */
  guint            max_spin_us;
  gint             n_processors;
  gint             n_threads;    /* atomic */
  gint             n_idle;       /* atomic: workers looking for work */
  gint             n_queued;     /* atomic: work pushed and not yet taken */
  gint             n_spinning;   /* atomic: 1 while a worker spins */
  gint             spin_us;      /* atomic: the adaptive spin budget */
  gint             wake_us;      /* atomic: what waking a sleeping worker takes, recently */
  gint64           signalled_at; /* under lock: when a sleeping worker was last woken */
  gpointer         last_pusher;  /* atomic: the thread that queued work last */
  gint             n_same_pusher;  /* atomic: its pushes since another thread's */
} Pool;

struct _SmartasyncExecutor
{
  GObject  parent_instance;

  Pool    *pool;
  guint    max_threads;
  guint    spin_us;
};

enum {
  PROP_0,
  PROP_MAX_THREADS,
  PROP_SPIN_US,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SmartasyncExecutor, smartasync_executor, G_TYPE_OBJECT)

enum {
  WORK_QUEUED,
  WORK_RUNNING,
  WORK_CANCELLED,
};

typedef struct
{
  GTask           *task;   /* NULL for a plain function */
  GTaskThreadFunc  task_func;
  GFunc            func;
  gpointer         data;
  GDestroyNotify   notify;       /* for data, once func returned or its thread exited */
  GCancellable    *cancellable;  /* the task's, while connected */
  gulong           handler;
  gint             state;        /* atomic: WORK_* */
} Work;

/* Queued work whose cancellable is cancelled is answered at once, on the
 * task's context, and never runs: whoever moves it out of WORK_QUEUED
 * first, this handler or the worker that takes it, decides. */
static void
work_cancelled (GCancellable *cancellable,
                Work         *work)
{
  if (g_atomic_int_compare_and_exchange (&work->state, WORK_QUEUED, WORK_CANCELLED))
    g_task_return_error_if_cancelled (work->task);
}

static void
work_watch_cancellable (Work *work)
{
  GCancellable *cancellable = g_task_get_cancellable (work->task);

  if (cancellable == NULL)
    return;

  /* Runs the handler now if already cancelled. */
  work->cancellable = g_object_ref (cancellable);
  work->handler = g_cancellable_connect (cancellable, G_CALLBACK (work_cancelled), work, NULL);
}

/* Waits for a handler running on another thread: the work is freed next. */
static void
work_unwatch_cancellable (Work *work)
{
  if (work->cancellable == NULL)
    return;

  g_cancellable_disconnect (work->cancellable, work->handler);
  g_clear_object (&work->cancellable);
}

/* A worker never drops the last reference to a task: the task's context
 * does, after the completion (see smartasync-release.c). */
static void
work_free (Work *work)
{
  work_unwatch_cancellable (work);
  if (work->task != NULL)
    _smartasync_task_unref_on_context (work->task);
  if (work->notify != NULL)
    work->notify (work->data);
  g_free (work);
}

/* Work items carry everything they need: the executor may be finalized
 * while they are queued. Frees @work. */
static void
run_work (Work *work)
{
  if (work->task == NULL)
    work->func (work->data, NULL);
  else if (g_atomic_int_compare_and_exchange (&work->state, WORK_QUEUED, WORK_RUNNING))
    {
      work_unwatch_cancellable (work);
      if (!g_task_return_error_if_cancelled (work->task))
        work->task_func (work->task,
                         g_task_get_source_object (work->task),
                         g_task_get_task_data (work->task),
                         g_task_get_cancellable (work->task));
    }

  work_free (work);
}

static Pool *
pool_ref (Pool *pool)
{
  g_atomic_ref_count_inc (&pool->ref_count);
  return pool;
}

static void
pool_unref (Pool *pool)
{
  if (!g_atomic_ref_count_dec (&pool->ref_count))
    return;

  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->cond);
  g_free (pool);
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

/* GAsyncQueue signals its condition with the lock held and whether or not a
 * spinner is about to take the work: the woken worker then blocks again on
 * the lock, and every push from a loop costs a futex wake-up. On a small VM
 * each of those is a cross-CPU wake-up of tens of microseconds. This queue
 * signals after unlocking, only when a worker sleeps, and not when the
 * spinner will take the work. */
static gpointer
pool_try_take (Pool *pool)
{
  gpointer item;

  g_mutex_lock (&pool->lock);
  item = g_queue_pop_head (&pool->queue);
  g_mutex_unlock (&pool->lock);
  return item;
}

/* Blocks for work. A worker woken for it measures how long its wake-up
 * took, which is what a spin can save. */
static gpointer
pool_take (Pool *pool)
{
  gpointer item;
  gint64 signalled_at = 0;

  g_mutex_lock (&pool->lock);
  while ((item = g_queue_pop_head (&pool->queue)) == NULL)
    {
      pool->n_waiting++;
      g_cond_wait (&pool->cond, &pool->lock);
      pool->n_waiting--;
      signalled_at = pool->signalled_at;
    }
  g_mutex_unlock (&pool->lock);

  if (signalled_at != 0)
    {
      gint64 woke = MIN (g_get_monotonic_time () - signalled_at, G_MAXINT / 4);
      gint average = g_atomic_int_get (&pool->wake_us);

      /* Racy by design: it only steers the spin. */
      g_atomic_int_set (&pool->wake_us, (3 * average + (gint) MAX (woke, 0)) / 4);
    }
  return item;
}

/* A spinner stops spinning (n_spinning 0) before it takes work from the
 * queue, under the lock. So work that finds it still spinning, here under
 * the lock, is taken by it; anything more wakes a sleeper. */
static void
pool_put (Pool     *pool,
          gpointer  item,
          gboolean  for_spinner)
{
  gboolean wake;

  g_mutex_lock (&pool->lock);
  g_queue_push_tail (&pool->queue, item);
  wake = pool->n_waiting > 0 &&
         !(for_spinner && pool->queue.length == 1 && g_atomic_int_get (&pool->n_spinning));
  if (wake)
    pool->signalled_at = g_get_monotonic_time ();
  g_mutex_unlock (&pool->lock);

  if (wake)
    g_cond_signal (&pool->cond);
}

/* Pushes of one thread in a row after which the threads queueing work
 * count as one again. Calling threads with calls in flight push in turns of
 * up to as many calls as each has completions to dispatch in an iteration. */
#define SAME_PUSHER_RUN 256

/* Notes which threads queue work, for core_free_for_spinning(). Racy by
 * design: it only steers the spin. */
static void
pool_note_pusher (Pool *pool)
{
  gpointer self = g_thread_self ();
  gpointer last = g_atomic_pointer_get (&pool->last_pusher);

  if (last == self)
    {
      if (g_atomic_int_get (&pool->n_same_pusher) < SAME_PUSHER_RUN)
        g_atomic_int_inc (&pool->n_same_pusher);
      return;
    }
  g_atomic_pointer_set (&pool->last_pusher, self);
  if (last != NULL)
    g_atomic_int_set (&pool->n_same_pusher, 0);
}

/* A spinner only pays while a core is free for it: the workers running work
 * and the threads that queue the next (loops waiting for results) each need
 * one. With every core taken, it would slow them down for a work item it
 * would not see any sooner. The threads queueing work count as two while
 * the last SAME_PUSHER_RUN pushes were not all from one thread. */
static gboolean
core_free_for_spinning (Pool *pool)
{
  gint busy = g_atomic_int_get (&pool->n_threads) - g_atomic_int_get (&pool->n_idle);
  gint pushers = g_atomic_int_get (&pool->n_same_pusher) < SAME_PUSHER_RUN ? 2 : 1;

  return busy + pushers < pool->n_processors;
}

/* A spin loop turn takes about a microsecond; a spinner that sees much more
 * pass between two turns was preempted: the core was not free after all. */
#define PREEMPTED_US 20

/* Spins for the adaptive budget, then blocks. A spin pays only when work
 * arrives sooner than waking a sleeping worker would have delivered it
 * (wake_us, measured), so the spin never lasts longer than that, and work
 * caught later counts as a miss. The budget doubles after a spin that paid
 * and halves after one that did not, so a busy pool answers in microseconds
 * and an idle one stops burning CPU after one short spin. A chain of calls
 * that each wait for a wake-up of the calling loop lets the budget fall to
 * zero, and should: the next call comes no sooner than a wake-up, and a
 * spinning worker slows that wake-up down on a loaded machine (where its
 * spin would last to the end of the budget and still "catch" the work).
 * A spinner that finds itself preempted stops at once. One worker spins at
 * a time, the others block: one spinner picks work up at once, and more
 * would only take cores that other threads (a loop waking up to the work's
 * result) need. */
static gpointer
pool_pop (Pool *pool)
{
  gint budget = g_atomic_int_get (&pool->spin_us);
  gint pays = g_atomic_int_get (&pool->wake_us);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + MIN (budget, pays);
  gint64 now = start;

  if (!core_free_for_spinning (pool) ||
      !g_atomic_int_compare_and_exchange (&pool->n_spinning, 0, 1))
    return pool_take (pool);

  do
    {
      gint64 before = now;

      /* The counter first: a spinner that took the queue's lock on every
       * turn would make the thread pushing work wait for it. */
      if (g_atomic_int_get (&pool->n_queued) > 0)
        {
          gpointer item;

          g_atomic_int_set (&pool->n_spinning, 0);
          item = pool_try_take (pool);
          if (item != NULL)
            {
              gboolean paid = g_get_monotonic_time () - start <= pays;

              g_atomic_int_set (&pool->spin_us, paid ? MIN (2 * budget + 1, (gint) pool->max_spin_us)
                                                     : budget / 2);
              return item;
            }
          /* Another worker took it; spin on, unless one spins already. */
          if (!g_atomic_int_compare_and_exchange (&pool->n_spinning, 0, 1))
            return pool_take (pool);
        }
      for (guint i = 0; i < 64; i++)
        cpu_relax ();
      now = g_get_monotonic_time ();
      if (now - before > PREEMPTED_US)
        break;
    }
  while (budget > 0 && now < deadline);

  g_atomic_int_set (&pool->n_spinning, 0);
  g_atomic_int_set (&pool->spin_us, budget / 2);
  return pool_take (pool);
}

/* What a worker holds, released by whichever comes first: its return, or
 * the exit of its thread from inside the work (g_thread_exit()). */
typedef struct
{
  Pool *pool;
  Work *work;    /* being run */
} Worker;

static void
worker_free (gpointer data)
{
  Worker *worker = data;

  if (worker->work != NULL)
    {
      /* Its thread exited from inside the work (g_thread_exit()). */
      _smartasync_forget_dead_stack_frames ();
      work_free (worker->work);
    }
  g_atomic_int_add (&worker->pool->n_threads, -1);
  pool_unref (worker->pool);
  g_free (worker);
}

static GPrivate current_worker = G_PRIVATE_INIT (worker_free);

static gpointer
worker_main (gpointer data)
{
  Worker *worker = g_new0 (Worker, 1);
  Pool *pool = data;

  worker->pool = pool;
  g_private_set (&current_worker, worker);
  for (;;)
    {
      gpointer item;

      g_atomic_int_inc (&pool->n_idle);
      item = pool_pop (pool);
      g_atomic_int_add (&pool->n_idle, -1);

      if (item == (gpointer) pool)
        break;
      g_atomic_int_add (&pool->n_queued, -1);
      worker->work = item;
      run_work (item);
      worker->work = NULL;
      /* Nothing waits on this thread until its next work. */
      _smartasync_thread_state_release_owed ();
    }

  g_private_set (&current_worker, NULL);
  worker_free (worker);
  return NULL;
}

/* Starts a worker when more work is queued than workers are idle, unless the
 * pool is full. Returns %FALSE only when the pool has no thread at all and
 * none could be started. */
static gboolean
pool_ensure_worker (Pool    *pool,
                    GError **error)
{
  gint n = g_atomic_int_get (&pool->n_threads);
  GThread *thread;

  if (g_atomic_int_get (&pool->n_queued) <= g_atomic_int_get (&pool->n_idle) ||
      n >= (gint) pool->max_threads ||
      !g_atomic_int_compare_and_exchange (&pool->n_threads, n, n + 1))
    return TRUE;

  /* Thread names longer than 15 bytes are not applied on Linux. */
  thread = g_thread_try_new (pool->thread_name, worker_main, pool_ref (pool), error);
  if (thread == NULL)
    {
      /* Take back the worker's reference; the executor still holds one. */
      g_atomic_ref_count_dec (&pool->ref_count);
      g_atomic_int_add (&pool->n_threads, -1);
      return g_atomic_int_get (&pool->n_threads) > 0;
    }

  g_thread_unref (thread);
  return TRUE;
}

/* Takes @work, unless no worker could be started (then it stays the
 * caller's). */
static gboolean
pool_push (Pool     *pool,
           Work     *work,
           GError  **error)
{
  g_autoptr(GError) thread_error = NULL;

  pool_note_pusher (pool);
  g_atomic_int_inc (&pool->n_queued);
  if (!pool_ensure_worker (pool, &thread_error))
    {
      g_atomic_int_add (&pool->n_queued, -1);
      g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED,
                   "Could not start a worker thread: %s", thread_error->message);
      return FALSE;
    }

  pool_put (pool, work, TRUE);
  return TRUE;
}

static void
smartasync_executor_constructed (GObject *object)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);
  Pool *pool = g_new0 (Pool, 1);

  G_OBJECT_CLASS (smartasync_executor_parent_class)->constructed (object);

  g_atomic_ref_count_init (&pool->ref_count);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->cond);
  g_queue_init (&pool->queue);
  pool->max_threads = self->max_threads;
  pool->thread_name = "smartasync-work";
  pool->max_spin_us = self->spin_us;
  pool->n_processors = (gint) g_get_num_processors ();
  pool->spin_us = self->spin_us;
  pool->wake_us = self->spin_us;
  pool->n_same_pusher = SAME_PUSHER_RUN;
  self->pool = pool;
}

/* Never waits: the last reference may be dropped on a worker. Each worker
 * finishes the work queued before its stop token, then exits. */
static void
smartasync_executor_finalize (GObject *object)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);
  gint n = g_atomic_int_get (&self->pool->n_threads);

  for (gint i = 0; i < n; i++)
    pool_put (self->pool, self->pool, FALSE);
  pool_unref (self->pool);

  G_OBJECT_CLASS (smartasync_executor_parent_class)->finalize (object);
}

static void
smartasync_executor_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_THREADS:
      g_value_set_uint (value, self->max_threads);
      break;
    case PROP_SPIN_US:
      g_value_set_uint (value, self->spin_us);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_executor_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_THREADS:
      self->max_threads = g_value_get_uint (value);
      break;
    case PROP_SPIN_US:
      self->spin_us = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_executor_class_init (SmartasyncExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = smartasync_executor_constructed;
  object_class->finalize = smartasync_executor_finalize;
  object_class->get_property = smartasync_executor_get_property;
  object_class->set_property = smartasync_executor_set_property;

  /**
   * SmartasyncExecutor:max-threads:
   *
   * The most worker threads the executor runs at once.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_THREADS] =
    g_param_spec_uint ("max-threads", NULL, NULL,
                       1, 1024, 4,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncExecutor:spin-us:
   *
   * The most microseconds an idle worker spins looking for work before it
   * blocks. The spin adapts between 0 and this bound: it grows while work
   * keeps arriving during spins sooner than waking a sleeping worker would
   * deliver it, and shrinks when it does not, so an idle executor burns no
   * CPU. It never lasts longer than such a wake-up takes (the executor
   * measures it), and stops when the worker is preempted. One worker spins
   * at a time, and only while a processor is left for it besides the busy
   * workers and the threads that queue work (never on a single processor,
   * nor on two with two calling threads). 0 disables spinning.
   *
   * Since: 0.1
   */
  properties[PROP_SPIN_US] =
    g_param_spec_uint ("spin-us", NULL, NULL,
                       0, 10000, DEFAULT_SPIN_US,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smartasync_executor_init (SmartasyncExecutor *self)
{
}

/**
 * smartasync_executor_new:
 * @max_threads: the most worker threads to run at once, between 1 and 1024
 *
 * Creates an executor that runs at most @max_threads pieces of blocking work
 * at once; further work waits in a queue.
 *
 * Returns: (transfer full): a new executor
 *
 * Since: 0.1
 */
SmartasyncExecutor *
smartasync_executor_new (guint max_threads)
{
  g_return_val_if_fail (max_threads >= 1 && max_threads <= 1024, NULL);

  return g_object_new (SMARTASYNC_TYPE_EXECUTOR, "max-threads", max_threads, NULL);
}

/**
 * smartasync_executor_get_max_threads:
 * @self: an executor
 *
 * Gets the [property@Smartasync.Executor:max-threads] the executor was
 * created with.
 *
 * Returns: the most worker threads the executor runs at once
 *
 * Since: 0.1
 */
guint
smartasync_executor_get_max_threads (SmartasyncExecutor *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_EXECUTOR (self), 0);

  return self->max_threads;
}

/**
 * smartasync_executor_run_in_thread:
 * @self: an executor
 * @task: a #GTask
 * @task_func: (scope async): the blocking function to run; it completes @task
 *
 * Runs @task_func on one of the executor's threads, as g_task_run_in_thread()
 * does on GLib's pool: the task's callback runs on the context @task was
 * created on. If the task is cancelled before a thread picks it up, it
 * completes at once with %G_IO_ERROR_CANCELLED and @task_func never runs.
 * Unlike GLib's pool, the executor does not complete a task that @task_func
 * returned without completing; a [class@Smartasync.Operation] answers its
 * caller with %SMARTASYNC_ERROR_NOT_COMPLETED in that case.
 *
 * Also unlike GLib's pool, the executor's reference to @task is dropped on
 * the context @task completes on, after its completion: if it is the last
 * one, the task, its source object, its task data and its result are
 * finalized there, never on the worker thread.
 *
 * Since: 0.1
 */
void
smartasync_executor_run_in_thread (SmartasyncExecutor *self,
                                   GTask              *task,
                                   GTaskThreadFunc     task_func)
{
  g_autoptr(GError) error = NULL;
  Work *work;

  g_return_if_fail (SMARTASYNC_IS_EXECUTOR (self));
  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (task_func != NULL);

  work = g_new0 (Work, 1);
  work->task = g_object_ref (task);
  work->task_func = task_func;
  /* Before it is queued: a worker may take it and free it at once. */
  work_watch_cancellable (work);
  if (!pool_push (self->pool, work, &error))
    {
      if (g_atomic_int_compare_and_exchange (&work->state, WORK_QUEUED, WORK_RUNNING))
        g_task_return_error (task, g_steal_pointer (&error));
      work_free (work);
    }
}

/*< private >
 * _smartasync_executor_set_thread_name:
 * @self: an executor that has started no thread yet
 * @thread_name: (transfer none): a static string of at most 15 bytes
 *
 * Names the executor's threads, so that a thread list tells the library's
 * own pool from the executors applications make.
 */
void
_smartasync_executor_set_thread_name (SmartasyncExecutor *self,
                                      const char         *thread_name)
{
  self->pool->thread_name = thread_name;
}

/*< private >
 * _smartasync_executor_run:
 * @self: an executor
 * @func: what to run on a worker, called with @data and %NULL
 * @data: for @func
 * @notify: (nullable): called with @data on the worker once @func returned,
 *   or once its thread exited from inside @func (g_thread_exit())
 * @error: return location for an error
 *
 * Runs a plain function on one of the executor's threads, with no #GTask
 * and so no completion queued on the calling thread's context.
 *
 * Returns: %FALSE with @error set if no worker could be started; neither
 *   @func nor @notify then runs
 */
gboolean
_smartasync_executor_run (SmartasyncExecutor  *self,
                          GFunc                func,
                          gpointer             data,
                          GDestroyNotify       notify,
                          GError             **error)
{
  Work *work = g_new0 (Work, 1);

  work->func = func;
  work->data = data;
  work->notify = notify;
  if (pool_push (self->pool, work, error))
    return TRUE;

  /* Still ours: a worker takes work only once it is queued. */
  work->notify = NULL;
  work_free (work);
  return FALSE;
}

static GMutex default_lock;
static SmartasyncExecutor *default_executor;

/**
 * smartasync_dup_default_executor:
 *
 * Gets the executor that offloaded blocking work uses when its operation has
 * none set.
 *
 * Returns: (transfer full) (nullable): the default executor, or %NULL when
 *   blocking work runs on the library's own pool
 *
 * Since: 0.1
 */
SmartasyncExecutor *
smartasync_dup_default_executor (void)
{
  SmartasyncExecutor *executor;

  g_mutex_lock (&default_lock);
  executor = default_executor ? g_object_ref (default_executor) : NULL;
  g_mutex_unlock (&default_lock);

  return executor;
}

/**
 * smartasync_set_default_executor:
 * @executor: (nullable): the new default executor, or %NULL to use the
 *   library's own pool
 *
 * Sets the process-wide default executor for offloaded blocking work.
 *
 * Since: 0.1
 */
void
smartasync_set_default_executor (SmartasyncExecutor *executor)
{
  SmartasyncExecutor *old;

  g_return_if_fail (executor == NULL || SMARTASYNC_IS_EXECUTOR (executor));

  g_mutex_lock (&default_lock);
  old = g_steal_pointer (&default_executor);
  default_executor = executor ? g_object_ref (executor) : NULL;
  g_mutex_unlock (&default_lock);

  /* Outside the lock: finalizing may run arbitrary code. */
  g_clear_object (&old);
}
