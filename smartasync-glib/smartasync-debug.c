/* smartasync-debug.c: structured debug logging of dispatch decisions and waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* pthread_getattr_np(), for _smartasync_forget_dead_stack_frames(). */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif

#include "config.h"

#include "smartasync-context.h"
#include "smartasync-debug-private.h"

#if defined(__SANITIZE_ADDRESS__)
# define SMARTASYNC_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define SMARTASYNC_ASAN 1
# endif
#endif

#ifdef SMARTASYNC_ASAN
# include <pthread.h>
# include <sanitizer/asan_interface.h>
#endif

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

/* How deep below the caller's frame the frames a thread exit left can lie. */
#define DEAD_FRAMES_BYTES (256 * 1024)

/*< private >
 * _smartasync_forget_dead_stack_frames:
 *
 * For thread-exit handlers, under AddressSanitizer only: g_thread_exit()
 * unwinds the frames it leaves without telling AddressSanitizer, so their
 * red zones stay poisoned, and the handlers' own frames (GLib's, which are
 * not instrumented, among them) later reuse that stack: an instrumented
 * write to a live local of theirs was reported as a stack overflow, in a
 * frame that no longer existed. Everything below the caller's frame is
 * dead, so it is unpoisoned, as AddressSanitizer does for longjmp().
 */
void
_smartasync_forget_dead_stack_frames (void)
{
#ifdef SMARTASYNC_ASAN
  char *frame = __builtin_frame_address (0);
  pthread_attr_t attr;
  void *low;
  size_t size;

  if (pthread_getattr_np (pthread_self (), &attr) != 0)
    return;
  if (pthread_attr_getstack (&attr, &low, &size) == 0 && (char *) low < frame)
    {
      char *from = MAX ((char *) low, frame - DEAD_FRAMES_BYTES);

      __asan_unpoison_memory_region (from, (size_t) (frame - from));
    }
  pthread_attr_destroy (&attr);
#endif
}
