/* smartasync-executor.c: a bounded pool of worker threads for blocking work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncExecutor:
 *
 * A bounded pool of worker threads that runs offloaded blocking work, for
 * callers that outgrow GLib's shared #GTask pool (small, grown slowly, and
 * shared with every GIO operation of the process).
 *
 * Set it on an operation ([method@Smartasync.Operation.set_executor]) or as
 * the process-wide default ([func@Smartasync.Executor.set_default]); without
 * one, blocking work goes through g_task_run_in_thread(), exactly as GIO's
 * own blocking operations do.
 *
 * A worker thread is a sync context, so blocking work that calls another
 * operation runs it inline on the same worker: nested offloads never queue
 * behind themselves, and even a pool of one thread cannot deadlock.
 *
 * ## Cancellation
 *
 * Work whose cancellable is cancelled before a worker picks it up completes
 * with %G_IO_ERROR_CANCELLED without running. Once running, the
 * implementation sees the cancellable and is expected to honour it.
 *
 * ## Threads
 *
 * An executor may be used from any thread. Dropping the last reference lets
 * queued work finish in the background; it never waits, so it is safe from a
 * worker thread itself.
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-error.h"
#include "smartasync-executor.h"

struct _SmartasyncExecutor
{
  GObject      parent_instance;

  GThreadPool *pool;
  guint        max_threads;
};

enum {
  PROP_0,
  PROP_MAX_THREADS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SmartasyncExecutor, smartasync_executor, G_TYPE_OBJECT)

typedef struct
{
  GTask           *task;
  GTaskThreadFunc  func;
} Work;

/* Work items carry everything they need: the executor may be finalized
 * while they are queued. */
static void
run_work (gpointer data,
          gpointer unused)
{
  Work *work = data;

  if (!g_task_return_error_if_cancelled (work->task))
    work->func (work->task,
                g_task_get_source_object (work->task),
                g_task_get_task_data (work->task),
                g_task_get_cancellable (work->task));

  g_object_unref (work->task);
  g_free (work);
}

static void
smartasync_executor_constructed (GObject *object)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);

  G_OBJECT_CLASS (smartasync_executor_parent_class)->constructed (object);

  /* Non-exclusive: threads are created on demand and return to GLib's idle
   * pool, so an unused executor costs nothing. */
  self->pool = g_thread_pool_new (run_work, NULL, self->max_threads, FALSE, NULL);
}

static void
smartasync_executor_finalize (GObject *object)
{
  SmartasyncExecutor *self = SMARTASYNC_EXECUTOR (object);

  g_thread_pool_free (self->pool, FALSE, FALSE);

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
 * completes with %G_IO_ERROR_CANCELLED and @task_func does not run.
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

  work = g_new (Work, 1);
  work->task = g_object_ref (task);
  work->func = task_func;

  if (!g_thread_pool_push (self->pool, work, &error))
    {
      g_task_return_new_error (task, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED,
                               "Could not start a worker thread: %s", error->message);
      g_object_unref (work->task);
      g_free (work);
    }
}

static GMutex default_lock;
static SmartasyncExecutor *default_executor;

/**
 * smartasync_executor_get_default:
 *
 * Gets the executor that offloaded blocking work uses when its operation has
 * none set.
 *
 * Returns: (transfer full) (nullable): the default executor, or %NULL when
 *   blocking work goes through g_task_run_in_thread()
 *
 * Since: 0.1
 */
SmartasyncExecutor *
smartasync_executor_get_default (void)
{
  SmartasyncExecutor *executor;

  g_mutex_lock (&default_lock);
  executor = default_executor ? g_object_ref (default_executor) : NULL;
  g_mutex_unlock (&default_lock);

  return executor;
}

/**
 * smartasync_executor_set_default:
 * @executor: (nullable): the new default executor, or %NULL to use
 *   g_task_run_in_thread()
 *
 * Sets the process-wide default executor for offloaded blocking work.
 *
 * Since: 0.1
 */
void
smartasync_executor_set_default (SmartasyncExecutor *executor)
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
