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

/**
 * SmartasyncWaiterFlags:
 * @SMARTASYNC_WAITER_FLAGS_NONE: refuse to block a running loop of this
 *   thread (%SMARTASYNC_ERROR_WOULD_BLOCK)
 * @SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP: wait even from code a running
 *   loop of this thread dispatches, blocking that loop, as hand-written
 *   nested loops do: for `_sync` functions that must keep that behaviour
 *
 * How a [class@Smartasync.Waiter] waits.
 *
 * Since: 0.1
 */
typedef enum /*< flags >*/
{
  SMARTASYNC_WAITER_FLAGS_NONE               = 0,
  SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP = 1 << 0,
} SmartasyncWaiterFlags;

SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncWaiter *smartasync_waiter_new      (void);
SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncWaiter *smartasync_waiter_new_full (const char             *name,
                                              SmartasyncWaiterFlags   flags,
                                              GError                **error);
SMARTASYNC_AVAILABLE_IN_ALL
void              smartasync_waiter_set_stall_report (SmartasyncWaiter *self,
                                                      guint             timeout_ms);
SMARTASYNC_AVAILABLE_IN_ALL
const char       *smartasync_waiter_get_name (SmartasyncWaiter  *self);
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
 * From code a running loop of this thread dispatches, the wait is refused
 * with %SMARTASYNC_ERROR_WOULD_BLOCK and @async_call is **not** called. A
 * hand-written nested loop blocked the running loop instead: to keep that
 * behaviour, use [func@Smartasync.WAIT_FULL] with
 * %SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP. The wait's debug messages
 * and errors name @async_call.
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
  SMARTASYNC_WAIT_FULL (SMARTASYNC_WAITER_FLAGS_NONE, error, cancellable, async_call, __VA_ARGS__)

/**
 * SMARTASYNC_WAIT_FULL:
 * @flags: #SmartasyncWaiterFlags
 * @error: (out): as for [func@Smartasync.WAIT]
 * @cancellable: as for [func@Smartasync.WAIT]
 * @async_call: as for [func@Smartasync.WAIT]
 * @...: as for [func@Smartasync.WAIT]
 *
 * [func@Smartasync.WAIT] with flags: pass
 * %SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP in a ported `_sync` function
 * that must keep blocking a running loop, as the hand-written code did.
 *
 * |[<!-- language="C" -->
 * res = SMARTASYNC_WAIT_FULL (SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP, error,
 *                             cancellable, my_store_async, self, item, cancellable);
 * ]|
 *
 * Since: 0.1
 */
#define SMARTASYNC_WAIT_FULL(flags, error, cancellable, async_call, ...) \
  ({ \
    GError **_smartasync_e = (error); \
    SmartasyncWaiter *_smartasync_w = \
      smartasync_waiter_new_full (#async_call, (flags), _smartasync_e); \
    GAsyncResult *_smartasync_r = NULL; \
    if (_smartasync_w != NULL) \
      { \
        async_call (__VA_ARGS__, smartasync_waiter_callback, _smartasync_w); \
        _smartasync_r = smartasync_waiter_wait (_smartasync_w, (cancellable), _smartasync_e); \
        g_object_unref (_smartasync_w); \
      } \
    _smartasync_r; \
  })

G_END_DECLS
