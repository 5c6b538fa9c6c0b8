/* smartasync-debug-private.h: structured debug logging of dispatch decisions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean _smartasync_debug_enabled (void);
void     _smartasync_forget_dead_stack_frames (void);
void     _smartasync_debug_log     (const char *operation,
                                    const char *path,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (3, 4);

/* Arguments are only evaluated when logging is on: a disabled log costs a
 * call and an atomic read. */
#define SMARTASYNC_DEBUG(operation, path, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (_smartasync_debug_enabled ())) \
      _smartasync_debug_log ((operation), (path), __VA_ARGS__); \
  } G_STMT_END

G_END_DECLS
