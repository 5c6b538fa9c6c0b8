/* smartasync-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-error.h"

/**
 * smartasync_error_quark:
 *
 * The quark of the %SMARTASYNC_ERROR domain.
 *
 * Returns: the error domain quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (smartasync-error-quark, smartasync_error)
