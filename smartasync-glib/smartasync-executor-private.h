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

void     _smartasync_executor_set_thread_name (SmartasyncExecutor *self,
                                              const char         *thread_name);

G_END_DECLS
