/* smartasync-executor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-executor.h"

G_BEGIN_DECLS

gboolean _smartasync_executor_run (SmartasyncExecutor  *self,
                                   GFunc                func,
                                   gpointer             data,
                                   GDestroyNotify       notify,
                                   GError             **error);

G_END_DECLS
