/* smartasync-offload-private.h: where blocking work runs, decided in one place
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-executor-private.h"
#include "smartasync-operation.h"

G_BEGIN_DECLS

SmartasyncExecutor *_smartasync_offload_dup_executor (SmartasyncOperation *operation);
void                _smartasync_offload_reset        (void);

G_END_DECLS
