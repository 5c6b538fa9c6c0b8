/* smartasync-glib.h: one implementation, callable from sync and async callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define SMARTASYNC_INSIDE

#include <gio/gio.h>

#include "smartasync-version.h"
#include "smartasync-version-macros.h"
#include "smartasync-version-info.h"
#include "smartasync-enum-types.h"
#include "smartasync-error.h"
#include "smartasync-context.h"
#include "smartasync-executor.h"
#include "smartasync-waiter.h"
#include "smartasync-operation.h"
#include "smartasync-lock.h"
#include "smartasync-await.h"
#include "smartasync-batch.h"

#undef SMARTASYNC_INSIDE
