/* smartasync-error.h: the SMARTASYNC_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (SMARTASYNC_INSIDE) && !defined (SMARTASYNC_COMPILATION)
# error "Only <smartasync-glib.h> can be included directly."
#endif

#include <glib.h>

#include "smartasync-version-macros.h"

G_BEGIN_DECLS

/**
 * SMARTASYNC_ERROR:
 *
 * The error domain of errors raised by the bridge itself (as opposed to errors
 * raised by the operations it runs, which pass through unchanged).
 *
 * Since: 0.1
 */
#define SMARTASYNC_ERROR (smartasync_error_quark ())

/**
 * SmartasyncError:
 * @SMARTASYNC_ERROR_FAILED: a generic failure of the bridge.
 * @SMARTASYNC_ERROR_WOULD_BLOCK: a synchronous wait was requested from code that a
 *   running main loop of this thread is dispatching. Waiting there would freeze the
 *   loop and deadlock any operation that needs it; the message names the operation
 *   and the asynchronous call to use instead.
 * @SMARTASYNC_ERROR_NOT_COMPLETED: a blocking implementation returned without
 *   completing the #GTask it was given.
 * @SMARTASYNC_ERROR_OFFLOAD_FAILED: blocking work could not be handed to a worker
 *   thread (for example the executor could not start a thread).
 *
 * Error codes in the %SMARTASYNC_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum
{
  SMARTASYNC_ERROR_FAILED,
  SMARTASYNC_ERROR_WOULD_BLOCK,
  SMARTASYNC_ERROR_NOT_COMPLETED,
  SMARTASYNC_ERROR_OFFLOAD_FAILED,
} SmartasyncError;

SMARTASYNC_AVAILABLE_IN_ALL
GQuark smartasync_error_quark (void);

G_END_DECLS
