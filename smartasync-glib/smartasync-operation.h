/* smartasync-operation.h: one implementation, callable from sync and async callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (SMARTASYNC_INSIDE) && !defined (SMARTASYNC_COMPILATION)
# error "Only <smartasync-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "smartasync-executor.h"
#include "smartasync-version-macros.h"

G_BEGIN_DECLS

/**
 * SmartasyncKind:
 * @SMARTASYNC_KIND_ASYNC: the implementation starts work and returns at once;
 *   it completes its #GTask later, from a callback on the thread-default main
 *   context or from any thread.
 * @SMARTASYNC_KIND_BLOCKING: the implementation runs to completion and has
 *   completed its #GTask when it returns.
 *
 * What kind of implementation a [class@Smartasync.Operation] wraps.
 *
 * Since: 0.1
 */
typedef enum
{
  SMARTASYNC_KIND_ASYNC,
  SMARTASYNC_KIND_BLOCKING,
} SmartasyncKind;

/**
 * SmartasyncFunc:
 * @task: the task to complete, with g_task_return_pointer(),
 *   g_task_return_boolean(), g_task_return_int(), g_task_return_value() or
 *   g_task_return_error() (bindings use g_task_return_value())
 * @source_object: (nullable) (type GObject.Object): the source object given to the call
 * @args: (nullable): the arguments given to the call
 * @cancellable: (nullable): the call's cancellable
 * @user_data: (closure): the data given when the operation was created
 *
 * An implementation wrapped by a [class@Smartasync.Operation]. It has the shape
 * of a #GTaskThreadFunc, with the call's arguments as an immutable #GVariant
 * (thread-safe, and ready to take D-Bus method parameters as they come).
 *
 * An asynchronous implementation (%SMARTASYNC_KIND_ASYNC) runs on the calling
 * thread and may complete @task later: @task is not owned by the
 * implementation, so it takes a reference (g_object_ref()) to keep it until
 * then, as any GIO `_async` function does. A blocking one
 * (%SMARTASYNC_KIND_BLOCKING) must complete @task before it returns; it may
 * run on a worker thread.
 *
 * |[<!-- language="C" -->
 * static void
 * load_async (GTask *task, gpointer source, GVariant *args,
 *             GCancellable *cancellable, gpointer user_data)
 * {
 *   g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (args, NULL));
 *
 *   g_file_load_bytes_async (file, cancellable, on_loaded, g_object_ref (task));
 * }
 * ]|
 *
 * Since: 0.1
 */
typedef void (*SmartasyncFunc) (GTask        *task,
                                gpointer      source_object,
                                GVariant     *args,
                                GCancellable *cancellable,
                                gpointer      user_data);

#define SMARTASYNC_TYPE_OPERATION (smartasync_operation_get_type ())

SMARTASYNC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmartasyncOperation, smartasync_operation, SMARTASYNC, OPERATION, GObject)

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncOperation *smartasync_operation_new_async      (const char           *name,
                                                          SmartasyncFunc        func,
                                                          gpointer              user_data,
                                                          GDestroyNotify        destroy);
SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncOperation *smartasync_operation_new_blocking   (const char           *name,
                                                          SmartasyncFunc        func,
                                                          gpointer              user_data,
                                                          GDestroyNotify        destroy);

SMARTASYNC_AVAILABLE_IN_ALL
const char          *smartasync_operation_get_name       (SmartasyncOperation  *self);
SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncKind       smartasync_operation_get_kind       (SmartasyncOperation  *self);
SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncExecutor  *smartasync_operation_dup_executor   (SmartasyncOperation  *self);
SMARTASYNC_AVAILABLE_IN_ALL
void                 smartasync_operation_set_executor   (SmartasyncOperation  *self,
                                                          SmartasyncExecutor   *executor);

SMARTASYNC_AVAILABLE_IN_ALL
gboolean             smartasync_operation_get_thread_safe (SmartasyncOperation  *self);
SMARTASYNC_AVAILABLE_IN_ALL
void                 smartasync_operation_set_thread_safe (SmartasyncOperation  *self,
                                                           gboolean              thread_safe);

SMARTASYNC_AVAILABLE_IN_ALL
GType                smartasync_operation_get_result_type (SmartasyncOperation  *self);
SMARTASYNC_AVAILABLE_IN_ALL
void                 smartasync_operation_set_result_type (SmartasyncOperation  *self,
                                                           GType                 result_type);

SMARTASYNC_AVAILABLE_IN_ALL
void                 smartasync_operation_call_async     (SmartasyncOperation  *self,
                                                          gpointer              source_object,
                                                          GVariant             *args,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean             smartasync_operation_call_finish    (SmartasyncOperation  *self,
                                                          GAsyncResult         *result,
                                                          GValue               *value,
                                                          GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gpointer             smartasync_operation_call_finish_pointer (SmartasyncOperation  *self,
                                                               GAsyncResult         *result,
                                                               GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean             smartasync_operation_call_finish_boolean (SmartasyncOperation  *self,
                                                               GAsyncResult         *result,
                                                               GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gssize               smartasync_operation_call_finish_int     (SmartasyncOperation  *self,
                                                               GAsyncResult         *result,
                                                               GError              **error);

SMARTASYNC_AVAILABLE_IN_ALL
gboolean             smartasync_operation_call_sync      (SmartasyncOperation  *self,
                                                          gpointer              source_object,
                                                          GVariant             *args,
                                                          GCancellable         *cancellable,
                                                          GValue               *value,
                                                          GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gpointer             smartasync_operation_call_sync_pointer (SmartasyncOperation  *self,
                                                             gpointer              source_object,
                                                             GVariant             *args,
                                                             GCancellable         *cancellable,
                                                             GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean             smartasync_operation_call_sync_boolean (SmartasyncOperation  *self,
                                                             gpointer              source_object,
                                                             GVariant             *args,
                                                             GCancellable         *cancellable,
                                                             GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
gssize               smartasync_operation_call_sync_int     (SmartasyncOperation  *self,
                                                             gpointer              source_object,
                                                             GVariant             *args,
                                                             GCancellable         *cancellable,
                                                             GError              **error);

SMARTASYNC_AVAILABLE_IN_ALL
GTask               *smartasync_operation_call           (SmartasyncOperation  *self,
                                                          gpointer              source_object,
                                                          GVariant             *args,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);

G_END_DECLS
