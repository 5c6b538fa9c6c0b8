/* smartasync-context.h: per-thread context detection, mode override and private context
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
 * SmartasyncMode:
 * @SMARTASYNC_MODE_AUTO: decide from the running main loop (see
 *   [func@Smartasync.in_async_context]).
 * @SMARTASYNC_MODE_SYNC: behave as if no main loop were running: smart calls
 *   block and return their result, and synchronous waits are allowed even while a
 *   loop of this thread is dispatching (the caller asserts that the operation does
 *   not need that loop).
 * @SMARTASYNC_MODE_ASYNC: behave as if a main loop were running: smart calls
 *   return pending tasks whose callbacks run on the thread-default main context.
 *
 * How the calling thread's context is classified.
 *
 * Since: 0.1
 */
typedef enum
{
  SMARTASYNC_MODE_AUTO,
  SMARTASYNC_MODE_SYNC,
  SMARTASYNC_MODE_ASYNC,
} SmartasyncMode;

SMARTASYNC_AVAILABLE_IN_ALL
gboolean        smartasync_in_async_context      (void);
SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_push_mode             (SmartasyncMode  mode);
SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_pop_mode              (void);
SMARTASYNC_AVAILABLE_IN_ALL
SmartasyncMode  smartasync_get_mode              (void);
SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_clear_modes           (void);

SMARTASYNC_AVAILABLE_IN_ALL
GMainContext   *smartasync_get_private_context    (void);
SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_set_private_context    (GMainContext   *context);

SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_reset                 (void);

SMARTASYNC_AVAILABLE_IN_ALL
void            smartasync_set_debug             (gboolean        enabled);
SMARTASYNC_AVAILABLE_IN_ALL
gboolean        smartasync_get_debug             (void);

/**
 * SmartasyncModeScope: (skip)
 *
 * A C-only scope guard for [func@Smartasync.push_mode]: declare it with
 * `g_autoptr` and the mode is popped when the variable goes out of scope.
 *
 * |[<!-- language="C" -->
 * {
 *   g_autoptr(SmartasyncModeScope) G_GNUC_UNUSED scope =
 *     smartasync_mode_scope_new (SMARTASYNC_MODE_SYNC);
 *
 *   result = my_smart_call (...);   // blocks, whatever the loop does
 * }                                 // mode popped here
 * ]|
 *
 * Since: 0.1
 */
typedef struct _SmartasyncModeScope SmartasyncModeScope;

/**
 * smartasync_mode_scope_new: (skip)
 * @mode: the mode to push for the scope
 *
 * Pushes @mode and returns a token that pops it when freed with
 * smartasync_mode_scope_free() (usually through `g_autoptr`).
 *
 * Returns: (nullable): a scope token, %NULL if @mode is invalid
 *
 * Since: 0.1
 */
static inline SmartasyncModeScope *
smartasync_mode_scope_new (SmartasyncMode mode)
{
  smartasync_push_mode (mode);
  /* An invalid mode pushes nothing (and warns): its scope must pop nothing. */
  if ((guint) mode > SMARTASYNC_MODE_ASYNC)
    return NULL;
  return (SmartasyncModeScope *) GUINT_TO_POINTER (1);
}

/**
 * smartasync_mode_scope_free: (skip)
 * @scope: a token from smartasync_mode_scope_new()
 *
 * Pops the mode pushed by smartasync_mode_scope_new().
 *
 * Since: 0.1
 */
static inline void
smartasync_mode_scope_free (SmartasyncModeScope *scope)
{
  if (scope != NULL)
    smartasync_pop_mode ();
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmartasyncModeScope, smartasync_mode_scope_free)

G_END_DECLS
