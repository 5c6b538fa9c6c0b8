/* smartasync-version-macros.h: availability and deprecation annotations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (SMARTASYNC_INSIDE) && !defined (SMARTASYNC_COMPILATION)
# error "Only <smartasync-glib.h> can be included directly."
#endif

#include <glib.h>

#include "smartasync-version.h"

#ifndef _SMARTASYNC_EXTERN
# define _SMARTASYNC_EXTERN __attribute__((visibility ("default"))) extern
#endif

/**
 * SMARTASYNC_VERSION_CUR_STABLE:
 *
 * The current stable version of smartasync-glib (major and minor), encoded
 * with G_ENCODE_VERSION(), for comparisons with
 * %SMARTASYNC_VERSION_MIN_REQUIRED and %SMARTASYNC_VERSION_MAX_ALLOWED.
 *
 * Since: 0.1
 */
#define SMARTASYNC_VERSION_CUR_STABLE \
  (G_ENCODE_VERSION (SMARTASYNC_MAJOR_VERSION, SMARTASYNC_MINOR_VERSION))

/**
 * SMARTASYNC_VERSION_0_1:
 *
 * The version 0.1 of smartasync-glib, encoded with G_ENCODE_VERSION(), for
 * %SMARTASYNC_VERSION_MIN_REQUIRED and %SMARTASYNC_VERSION_MAX_ALLOWED.
 *
 * Since: 0.1
 */
#define SMARTASYNC_VERSION_0_1 (G_ENCODE_VERSION (0, 1))

/**
 * SMARTASYNC_VERSION_MIN_REQUIRED:
 *
 * The oldest version of the smartasync-glib API the program is written
 * for, as one of the `SMARTASYNC_VERSION_x_y` values. Define it before
 * including `smartasync-glib.h` to get warnings for API deprecated in
 * later versions only when they are newer than this one. Defaults to
 * %SMARTASYNC_VERSION_CUR_STABLE.
 *
 * Since: 0.1
 */
#ifndef SMARTASYNC_VERSION_MIN_REQUIRED
# define SMARTASYNC_VERSION_MIN_REQUIRED (SMARTASYNC_VERSION_CUR_STABLE)
#endif

/**
 * SMARTASYNC_VERSION_MAX_ALLOWED:
 *
 * The newest version of the smartasync-glib API the program may use, as
 * one of the `SMARTASYNC_VERSION_x_y` values. Define it before including
 * `smartasync-glib.h` to get warnings for API added after that version.
 * Defaults to %SMARTASYNC_VERSION_CUR_STABLE.
 *
 * Since: 0.1
 */
#ifndef SMARTASYNC_VERSION_MAX_ALLOWED
# define SMARTASYNC_VERSION_MAX_ALLOWED (SMARTASYNC_VERSION_CUR_STABLE)
#endif

#if SMARTASYNC_VERSION_MAX_ALLOWED < SMARTASYNC_VERSION_MIN_REQUIRED
# error "SMARTASYNC_VERSION_MAX_ALLOWED must be >= SMARTASYNC_VERSION_MIN_REQUIRED"
#endif

/**
 * SMARTASYNC_DISABLE_DEPRECATION_WARNINGS:
 *
 * Define it before including `smartasync-glib.h` to silence the compiler
 * warnings about deprecated smartasync-glib API.
 *
 * Since: 0.1
 */

/**
 * SMARTASYNC_DEPRECATED:
 *
 * Marks a declaration as deprecated, with no replacement.
 *
 * Since: 0.1
 */

/**
 * SMARTASYNC_DEPRECATED_FOR:
 * @f: the name of the function to use instead
 *
 * Marks a declaration as deprecated in favour of @f.
 *
 * Since: 0.1
 */

/**
 * SMARTASYNC_UNAVAILABLE:
 * @maj: the major version that introduced the declaration
 * @min: the minor version that introduced the declaration
 *
 * Marks a declaration as added in version @maj.@min, after
 * %SMARTASYNC_VERSION_MAX_ALLOWED: using it makes the compiler warn.
 *
 * Since: 0.1
 */
#ifdef SMARTASYNC_DISABLE_DEPRECATION_WARNINGS
# define SMARTASYNC_DEPRECATED _SMARTASYNC_EXTERN
# define SMARTASYNC_DEPRECATED_FOR(f) _SMARTASYNC_EXTERN
# define SMARTASYNC_UNAVAILABLE(maj,min) _SMARTASYNC_EXTERN
#else
# define SMARTASYNC_DEPRECATED G_DEPRECATED _SMARTASYNC_EXTERN
# define SMARTASYNC_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _SMARTASYNC_EXTERN
# define SMARTASYNC_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) _SMARTASYNC_EXTERN
#endif

/**
 * SMARTASYNC_AVAILABLE_IN_ALL:
 *
 * Marks a declaration as available in every version of smartasync-glib,
 * and exported from the library.
 *
 * Since: 0.1
 */
#define SMARTASYNC_AVAILABLE_IN_ALL _SMARTASYNC_EXTERN

/**
 * SMARTASYNC_DEPRECATED_IN_0_1:
 *
 * Marks a declaration as deprecated since version 0.1. The compiler warns
 * about its use when %SMARTASYNC_VERSION_MIN_REQUIRED is 0.1 or newer.
 *
 * Since: 0.1
 */

/**
 * SMARTASYNC_DEPRECATED_IN_0_1_FOR:
 * @f: the name of the function to use instead
 *
 * Marks a declaration as deprecated since version 0.1, in favour of @f.
 *
 * Since: 0.1
 */
#if SMARTASYNC_VERSION_MIN_REQUIRED >= SMARTASYNC_VERSION_0_1
# define SMARTASYNC_DEPRECATED_IN_0_1 SMARTASYNC_DEPRECATED
# define SMARTASYNC_DEPRECATED_IN_0_1_FOR(f) SMARTASYNC_DEPRECATED_FOR (f)
#else
# define SMARTASYNC_DEPRECATED_IN_0_1 _SMARTASYNC_EXTERN
# define SMARTASYNC_DEPRECATED_IN_0_1_FOR(f) _SMARTASYNC_EXTERN
#endif

/**
 * SMARTASYNC_AVAILABLE_IN_0_1:
 *
 * Marks a declaration as added in version 0.1. The compiler warns about
 * its use when %SMARTASYNC_VERSION_MAX_ALLOWED is older than 0.1.
 *
 * Since: 0.1
 */
#if SMARTASYNC_VERSION_MAX_ALLOWED < SMARTASYNC_VERSION_0_1
# define SMARTASYNC_AVAILABLE_IN_0_1 SMARTASYNC_UNAVAILABLE (0, 1)
#else
# define SMARTASYNC_AVAILABLE_IN_0_1 _SMARTASYNC_EXTERN
#endif
