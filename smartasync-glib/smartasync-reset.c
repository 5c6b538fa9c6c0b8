/* smartasync-reset.c: the library-wide reset, above every layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-executor.h"
#include "smartasync-offload-private.h"

/**
 * smartasync_reset:
 *
 * Returns the calling thread to its initial state, for tests: drops the
 * modes pushed on it and its private context. It also forgets the
 * process-wide default executor ([func@Smartasync.set_default_executor])
 * and the library's pool for lock runs, the only global state.
 * Other threads keep their private contexts until they exit.
 *
 * Must not be called while a wait is running on this thread.
 *
 * Since: 0.1
 */
void
smartasync_reset (void)
{
  if (_smartasync_thread_state_reset ())
    {
      smartasync_set_default_executor (NULL);
      _smartasync_offload_reset ();
    }
}
