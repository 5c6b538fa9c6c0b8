/* smartasync-operation-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-operation.h"
#include "smartasync-task-private.h"

G_BEGIN_DECLS

/* What a call needs once it leaves its caller's stack: offloaded work, a
 * lock's run. */
typedef struct
{
  SmartasyncOperation *operation;
  GObject             *source_object;
  GVariant            *args;
} SmartasyncCall;

void     _smartasync_call_init                (SmartasyncCall      *call,
                                               SmartasyncOperation *operation,
                                               gpointer             source_object,
                                               GVariant            *args);
void     _smartasync_call_clear               (SmartasyncCall      *call);

G_END_DECLS
