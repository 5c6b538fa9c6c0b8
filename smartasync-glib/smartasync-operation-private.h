/* smartasync-operation-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-operation.h"

G_BEGIN_DECLS

void _smartasync_operation_run_in_worker (SmartasyncOperation *self,
                                          GTask               *task,
                                          GTaskThreadFunc      func,
                                          gboolean             return_on_cancel);

gboolean _smartasync_task_propagate_value    (GTask               *task,
                                          GValue              *value,
                                          GError             **error);

gboolean _smartasync_value_clear_out         (GValue              *value);

G_END_DECLS
