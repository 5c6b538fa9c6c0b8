/* smartasync-version-info.h: run-time version information
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

SMARTASYNC_AVAILABLE_IN_ALL
guint        smartasync_get_major_version (void);
SMARTASYNC_AVAILABLE_IN_ALL
guint        smartasync_get_minor_version (void);
SMARTASYNC_AVAILABLE_IN_ALL
guint        smartasync_get_micro_version (void);
SMARTASYNC_AVAILABLE_IN_ALL
const char  *smartasync_check_version     (guint major,
                                           guint minor,
                                           guint micro);

G_END_DECLS
