/* smartasync-executor.h: a bounded pool of worker threads for blocking work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (SMARTASYNC_INSIDE) && !defined (SMARTASYNC_COMPILATION)
# error "Only <smartasync-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smartasync-version-macros.h"

G_BEGIN_DECLS

#define SMARTASYNC_TYPE_EXECUTOR (smartasync_executor_get_type ())

SMARTASYNC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmartasyncExecutor, smartasync_executor, SMARTASYNC, EXECUTOR, GObject)

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncExecutor *smartasync_executor_new             (guint               max_threads);
SMARTASYNC_AVAILABLE_IN_ALL
guint               smartasync_executor_get_max_threads (SmartasyncExecutor *self);
SMARTASYNC_AVAILABLE_IN_ALL
void                smartasync_executor_run_in_thread   (SmartasyncExecutor *self,
                                                         GTask              *task,
                                                         GTaskThreadFunc     task_func);

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncExecutor *smartasync_dup_default_executor     (void);
SMARTASYNC_AVAILABLE_IN_ALL
void                smartasync_set_default_executor     (SmartasyncExecutor *executor);

G_END_DECLS
