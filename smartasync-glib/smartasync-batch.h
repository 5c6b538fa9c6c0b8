/* smartasync-batch.h: many concurrent calls from sync code, waited for together
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

#define SMARTASYNC_TYPE_BATCH (smartasync_batch_get_type ())

SMARTASYNC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmartasyncBatch, smartasync_batch, SMARTASYNC, BATCH, GObject)

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncBatch *smartasync_batch_new        (void);
SMARTASYNC_AVAILABLE_IN_ALL
guint            smartasync_batch_add        (SmartasyncBatch      *self,
                                              SmartasyncOperation  *operation,
                                              gpointer              source_object,
                                              GVariant             *args);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean         smartasync_batch_wait       (SmartasyncBatch      *self,
                                              GCancellable         *cancellable,
                                              GError              **error);
SMARTASYNC_AVAILABLE_IN_ALL
guint            smartasync_batch_get_size   (SmartasyncBatch      *self);
SMARTASYNC_AVAILABLE_IN_ALL
GAsyncResult    *smartasync_batch_get_result (SmartasyncBatch      *self,
                                              guint                 index);
SMARTASYNC_AVAILABLE_IN_ALL
void             smartasync_batch_cancel     (SmartasyncBatch      *self);
SMARTASYNC_AVAILABLE_IN_ALL
void             smartasync_batch_close      (SmartasyncBatch      *self);

G_END_DECLS
