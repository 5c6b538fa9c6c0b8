/* smartasync-waiter-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-waiter.h"

G_BEGIN_DECLS

SmartasyncWaiter *_smartasync_waiter_new_named  (const char        *name);
gboolean          _smartasync_waiter_iterate    (SmartasyncWaiter  *self,
                                                 GCancellable      *cancellable,
                                                 gboolean           blocking_done,
                                                 GError           **error);
GAsyncResult     *_smartasync_waiter_get_result (SmartasyncWaiter  *self);
void              _smartasync_waiter_watch_task (SmartasyncWaiter  *self,
                                                 GTask             *task);
gboolean          _smartasync_set_would_block_error (const char    *name,
                                                     GError       **error);

G_END_DECLS
