/* smartasync-version.c: run-time version information
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-version.h"
#include "smartasync-version-info.h"

/**
 * smartasync_get_major_version:
 *
 * Returns the major version of the smartasync-glib library the program is
 * running against.
 *
 * This is the run-time counterpart of %SMARTASYNC_MAJOR_VERSION, which is the
 * version of the headers the program was compiled against: the two differ when
 * the program runs against a newer (or older) installed library than the one
 * it was built with.
 *
 * Returns: the major version of the library
 *
 * Since: 0.1
 */
guint
smartasync_get_major_version (void)
{
  return SMARTASYNC_MAJOR_VERSION;
}

/**
 * smartasync_get_minor_version:
 *
 * Returns the minor version of the smartasync-glib library the program is
 * running against; see [func@Smartasync.get_major_version].
 *
 * Returns: the minor version of the library
 *
 * Since: 0.1
 */
guint
smartasync_get_minor_version (void)
{
  return SMARTASYNC_MINOR_VERSION;
}

/**
 * smartasync_get_micro_version:
 *
 * Returns the micro version of the smartasync-glib library the program is
 * running against; see [func@Smartasync.get_major_version].
 *
 * Returns: the micro version of the library
 *
 * Since: 0.1
 */
guint
smartasync_get_micro_version (void)
{
  return SMARTASYNC_MICRO_VERSION;
}

/**
 * smartasync_check_version:
 * @major: the required major version
 * @minor: the required minor version
 * @micro: the required micro version
 *
 * Checks that the smartasync-glib library in use is compatible with the
 * given version.
 *
 * Compatible means: the same major version (a new major version breaks the
 * API), and a minor.micro version equal to or newer than the one required.
 * This is the run-time counterpart of the `SMARTASYNC_CHECK_VERSION()` macro
 * (which also accepts a newer major version), and behaves like
 * `gtk_check_version()`: a typical use is
 *
 * |[<!-- language="C" -->
 * const char *mismatch = smartasync_check_version (SMARTASYNC_MAJOR_VERSION,
 *                                                  SMARTASYNC_MINOR_VERSION,
 *                                                  SMARTASYNC_MICRO_VERSION);
 * if (mismatch != NULL)
 *   g_error ("smartasync-glib version mismatch: %s", mismatch);
 * ]|
 *
 * Returns: (nullable): %NULL if the library is compatible with the given
 *   version, or a string describing the mismatch. The string is owned by the
 *   library and must not be modified or freed.
 *
 * Since: 0.1
 */
const char *
smartasync_check_version (guint major,
                          guint minor,
                          guint micro)
{
  if (major != SMARTASYNC_MAJOR_VERSION)
    return major > SMARTASYNC_MAJOR_VERSION
      ? "smartasync-glib version too old (major mismatch)"
      : "smartasync-glib version too new (major mismatch)";
  if (minor > SMARTASYNC_MINOR_VERSION)
    return "smartasync-glib version too old (minor mismatch)";
  if (minor == SMARTASYNC_MINOR_VERSION && micro > SMARTASYNC_MICRO_VERSION)
    return "smartasync-glib version too old (micro mismatch)";
  return NULL;
}
