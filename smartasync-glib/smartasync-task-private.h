/* smartasync-task-private.h: GTask and GValue result helpers shared by every entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean _smartasync_task_propagate_value (GTask   *task,
                                           GValue  *value,
                                           GError **error);

gboolean _smartasync_task_propagate_ignoring_result (GTask   *task,
                                                     GError **error);

gboolean _smartasync_value_clear_out      (GValue  *value);
void     _smartasync_value_prepare_out    (GValue  *value);

G_END_DECLS
