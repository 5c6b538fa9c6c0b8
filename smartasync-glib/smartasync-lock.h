/* smartasync-lock.h: singleflight — concurrent callers share one execution
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (SMARTASYNC_INSIDE) && !defined (SMARTASYNC_COMPILATION)
# error "Only <smartasync-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smartasync-operation.h"
#include "smartasync-version-macros.h"

G_BEGIN_DECLS

#define SMARTASYNC_TYPE_LOCK (smartasync_lock_get_type ())

SMARTASYNC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmartasyncLock, smartasync_lock, SMARTASYNC, LOCK, GObject)

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncLock *smartasync_lock_new            (void);

SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_lock_run_async      (SmartasyncLock       *self,
                                                const char           *key,
                                                SmartasyncOperation  *operation,
                                                gpointer              source_object,
                                                GVariant             *args,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean        smartasync_lock_run_finish     (SmartasyncLock       *self,
                                                GAsyncResult         *result,
                                                GValue               *value,
                                                GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean        smartasync_lock_run_sync       (SmartasyncLock       *self,
                                                const char           *key,
                                                SmartasyncOperation  *operation,
                                                gpointer              source_object,
                                                GVariant             *args,
                                                GCancellable         *cancellable,
                                                GValue               *value,
                                                GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_lock_reset          (SmartasyncLock       *self);

SMARTASYNC_AVAILABLE_IN_ALL
guint           smartasync_lock_get_executions (SmartasyncLock       *self);
SMARTASYNC_AVAILABLE_IN_ALL
guint           smartasync_lock_get_joins      (SmartasyncLock       *self);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean        smartasync_lock_is_running     (SmartasyncLock       *self,
                                                const char           *key);

G_END_DECLS
