/* smartasync-offload.c: where blocking work runs, decided in one place
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*< private >
 * Where blocking work runs, decided here for offloaded calls of operations
 * and for lock runs alike: on the operation's executor, else on the
 * process-wide default executor. With neither, an operation's offloaded
 * call goes through g_task_run_in_thread(), as GIO's own blocking
 * operations do (the task returns as soon as it is cancelled); a lock run,
 * which is a plain function with no task of its own (GTask would queue its
 * completion on a sync caller's private context, which may have stopped
 * waiting), goes to the library's own pool, created on first use and
 * dropped by smartasync_reset().
 */

#include "config.h"

#include "smartasync-offload-private.h"

/* The lock's own pool had MAX (4, 2 × processors) threads, never freed;
 * threads start on demand, and lock runs are synchronous calls that may
 * themselves wait on other runs. */
#define LIBRARY_POOL_THREADS MAX (4, 2 * g_get_num_processors ())

static GMutex library_pool_lock;
static SmartasyncExecutor *library_pool;

/*< private >
 * _smartasync_offload_dup_executor:
 * @operation: (nullable): the operation whose blocking work is offloaded
 * @needs_executor: whether GLib's pool will not do (a plain function, not
 *   a task): then the library's pool stands in for it
 *
 * Returns: (transfer full) (nullable): the executor that runs @operation's
 *   blocking work, or %NULL for GLib's pool
 */
SmartasyncExecutor *
_smartasync_offload_dup_executor (SmartasyncOperation *operation,
                                  gboolean             needs_executor)
{
  SmartasyncExecutor *executor = NULL;

  if (operation != NULL)
    executor = smartasync_operation_dup_executor (operation);
  if (executor == NULL)
    executor = smartasync_dup_default_executor ();
  if (executor != NULL || !needs_executor)
    return executor;

  g_mutex_lock (&library_pool_lock);
  if (library_pool == NULL)
    library_pool = smartasync_executor_new (LIBRARY_POOL_THREADS);
  executor = g_object_ref (library_pool);
  g_mutex_unlock (&library_pool_lock);

  return executor;
}

/*< private >
 * _smartasync_offload_reset:
 *
 * Drops the library's pool; work queued on it finishes in the background.
 */
void
_smartasync_offload_reset (void)
{
  SmartasyncExecutor *old;

  g_mutex_lock (&library_pool_lock);
  old = g_steal_pointer (&library_pool);
  g_mutex_unlock (&library_pool_lock);

  g_clear_object (&old);
}
