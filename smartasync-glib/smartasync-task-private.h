/* smartasync-task-private.h: GTask and GValue result helpers shared by every entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Which g_task_return_*() an implementation calls, from the result type it
 * declares (SmartasyncOperation:result-type). */
typedef enum
{
  SMARTASYNC_RESULT_VALUE,        /* g_task_return_value(): nothing declared */
  SMARTASYNC_RESULT_BOOLEAN,
  SMARTASYNC_RESULT_INT,
  SMARTASYNC_RESULT_POINTER,
  SMARTASYNC_RESULT_UNSUPPORTED,  /* no g_task_return_*() gives that type */
} SmartasyncResultKind;

SmartasyncResultKind _smartasync_result_kind (GType result_type);

gboolean _smartasync_task_check_kind (GTask                 *task,
                                      SmartasyncResultKind   kind,
                                      GError               **error);
gpointer _smartasync_task_propagate_pointer (GTask   *task,
                                             GError **error);
gboolean _smartasync_task_propagate_boolean (GTask   *task,
                                             GError **error);
gssize   _smartasync_task_propagate_int     (GTask   *task,
                                             GError **error);

gboolean _smartasync_task_propagate_value (GTask   *task,
                                           GValue  *value,
                                           GError **error);

gboolean _smartasync_task_propagate_ignoring_result (GTask   *task,
                                                     GError **error);

gboolean _smartasync_value_clear_out      (GValue  *value);
void     _smartasync_value_prepare_out    (GValue  *value);

G_END_DECLS
