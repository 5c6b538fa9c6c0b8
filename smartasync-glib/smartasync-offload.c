/* smartasync-offload.c: where blocking work runs, decided in one place
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*< private >
 * Where blocking work runs, decided here for offloaded calls of operations
 * and for lock runs alike: on the operation's executor, else on the
 * process-wide default executor, else on the library's own pool, created
 * on first use and dropped by smartasync_reset().
 *
 * Not on GLib's #GTask pool, as GIO's own blocking operations are: its
 * worker drops its reference to the task after queuing the completion, so
 * the caller's objects are finalized on the worker in some runs, and a lock
 * run, a plain function with no task of its own, cannot use it at all. The
 * library's pool releases everything on the caller's context, and an
 * offloaded call still returns at once when cancelled, as GLib's pool lets
 * GIO's operations do (see smartasync-operation.c).
 */

#include "config.h"

#include "smartasync-offload-private.h"

/* At least as many threads as GLib's pool starts with, which ported code
 * that blocks on several offloaded calls at once may rely on; they start
 * on demand, and lock runs are synchronous calls that may themselves wait
 * on other runs. */
#define LIBRARY_POOL_THREADS MAX (10, 2 * g_get_num_processors ())

static GMutex library_pool_lock;
static SmartasyncExecutor *library_pool;

/*< private >
 * _smartasync_offload_dup_executor:
 * @operation: (nullable): the operation whose blocking work is offloaded
 *
 * Returns: (transfer full): the executor that runs @operation's blocking work
 */
SmartasyncExecutor *
_smartasync_offload_dup_executor (SmartasyncOperation *operation)
{
  SmartasyncExecutor *executor = NULL;

  if (operation != NULL)
    executor = smartasync_operation_dup_executor (operation);
  if (executor == NULL)
    executor = smartasync_dup_default_executor ();
  if (executor != NULL)
    return executor;

  g_mutex_lock (&library_pool_lock);
  if (library_pool == NULL)
    {
      library_pool = smartasync_executor_new (LIBRARY_POOL_THREADS);
      /* Thread names longer than 15 bytes are not applied on Linux. */
      _smartasync_executor_set_thread_name (library_pool, "smartasync-pool");
    }
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
