/* smartasync-await.h: values that may be ready now or pending
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

/**
 * SmartasyncContinuationFunc:
 * @value: the resolved value
 * @result: (out caller-allocates): where to store the function's result
 * @user_data: (closure): the data given with the function
 * @error: return location for an error
 *
 * A function applied to a resolved value by [func@Smartasync.continuation].
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
typedef gboolean (*SmartasyncContinuationFunc) (const GValue  *value,
                                                GValue        *result,
                                                gpointer       user_data,
                                                GError       **error);

SMARTASYNC_AVAILABLE_IN_ALL
gboolean smartasync_is_pending    (const GValue               *value);

SMARTASYNC_AVAILABLE_IN_ALL
void     smartasync_await_async   (const GValue               *value,
                                   GCancellable               *cancellable,
                                   GAsyncReadyCallback         callback,
                                   gpointer                    user_data);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean smartasync_await_finish  (GAsyncResult               *result,
                                   GValue                     *value,
                                   GError                    **error);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean smartasync_await_sync    (const GValue               *value,
                                   GCancellable               *cancellable,
                                   GValue                     *resolved,
                                   GError                    **error);

SMARTASYNC_AVAILABLE_IN_ALL
gboolean smartasync_continuation  (const GValue               *value,
                                   SmartasyncContinuationFunc  func,
                                   gpointer                    user_data,
                                   GDestroyNotify              destroy,
                                   GValue                     *result,
                                   GError                    **error);

G_END_DECLS
