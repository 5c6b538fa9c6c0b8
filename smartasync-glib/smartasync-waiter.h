/* smartasync-waiter.h: wait synchronously for any GIO asynchronous operation
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

#define SMARTASYNC_TYPE_WAITER (smartasync_waiter_get_type ())

SMARTASYNC_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (SmartasyncWaiter, smartasync_waiter, SMARTASYNC, WAITER, GObject)

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncWaiter *smartasync_waiter_new      (void);
SMARTASYNC_AVAILABLE_IN_ALL
void              smartasync_waiter_complete (SmartasyncWaiter  *self,
                                              GObject           *source_object,
                                              GAsyncResult      *result);
SMARTASYNC_AVAILABLE_IN_ALL
void              smartasync_waiter_callback (GObject           *source_object,
                                              GAsyncResult      *result,
                                              gpointer           waiter);
SMARTASYNC_AVAILABLE_IN_ALL
GAsyncResult     *smartasync_waiter_wait     (SmartasyncWaiter  *self,
                                              GCancellable      *cancellable,
                                              GError           **error);

/**
 * SMARTASYNC_WAIT:
 * @error: (out): a `GError **` for errors of the wait itself (cancellation,
 *   %SMARTASYNC_ERROR_WOULD_BLOCK)
 * @cancellable: a #GCancellable that abandons the wait, or %NULL
 * @async_call: the `_async` function to call
 * @...: its arguments up to, not including, the callback and its user data
 *
 * Calls an existing GIO `_async` function and waits for it on the calling
 * thread's private main context, in one expression. It evaluates to the
 * operation's #GAsyncResult (transfer full), to pass to the matching `_finish`,
 * or %NULL with @error set if the wait itself failed.
 *
 * @cancellable abandons the wait only; to cancel the operation itself, pass
 * the same cancellable among its own arguments too. The macro needs at least
 * one argument before the callback, and GNU C statement expressions (GCC and
 * Clang); elsewhere, write the three calls of [class@Smartasync.Waiter].
 *
 * |[<!-- language="C" -->
 * g_autoptr(GAsyncResult) res =
 *   SMARTASYNC_WAIT (&error, NULL, g_file_load_contents_async, file, NULL);
 * if (res != NULL)
 *   g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);
 * ]|
 *
 * Since: 0.1
 */
#define SMARTASYNC_WAIT(error, cancellable, async_call, ...) \
  ({ \
    SmartasyncWaiter *_smartasync_w = smartasync_waiter_new (); \
    GAsyncResult *_smartasync_r; \
    async_call (__VA_ARGS__, smartasync_waiter_callback, _smartasync_w); \
    _smartasync_r = smartasync_waiter_wait (_smartasync_w, (cancellable), (error)); \
    g_object_unref (_smartasync_w); \
    _smartasync_r; \
  })

G_END_DECLS
