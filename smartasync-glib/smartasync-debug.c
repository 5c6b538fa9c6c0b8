/* smartasync-debug.c: structured debug logging of dispatch decisions and waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-context.h"
#include "smartasync-debug-private.h"

static gint debug_enabled = -1;

gboolean
_smartasync_debug_enabled (void)
{
  gint enabled = g_atomic_int_get (&debug_enabled);

  if (G_UNLIKELY (enabled < 0))
    {
      enabled = !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
      g_atomic_int_set (&debug_enabled, enabled);
    }

  return enabled;
}

void
_smartasync_debug_log (const char *operation,
                       const char *path,
                       const char *format,
                       ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    "SMARTASYNC_OPERATION", operation ? operation : "",
                    "SMARTASYNC_PATH", path,
                    "MESSAGE", "%s%s%s",
                    operation ? operation : "",
                    operation ? ": " : "",
                    message);
}

/**
 * smartasync_set_debug:
 * @enabled: whether to log dispatch decisions
 *
 * Turns the logging of dispatch decisions on or off at run time. By default
 * it is on when `G_MESSAGES_DEBUG` names the `Smartasync` log domain (or is
 * `all`). Each decision is a structured debug message of the `Smartasync`
 * domain with the fields `SMARTASYNC_OPERATION` and `SMARTASYNC_PATH`; the
 * default log writer still prints it only when `G_MESSAGES_DEBUG` allows.
 *
 * Since: 0.1
 */
void
smartasync_set_debug (gboolean enabled)
{
  g_atomic_int_set (&debug_enabled, !!enabled);
}

/**
 * smartasync_get_debug:
 *
 * Tells whether dispatch decisions are logged; see
 * [func@Smartasync.set_debug].
 *
 * Returns: whether dispatch decisions are logged
 *
 * Since: 0.1
 */
gboolean
smartasync_get_debug (void)
{
  return _smartasync_debug_enabled ();
}
