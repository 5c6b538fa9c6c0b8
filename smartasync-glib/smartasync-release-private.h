/* smartasync-release-private.h: the library's last references, released on the caller's context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void _smartasync_source_attach_unref (GSource      *source,
                                      GMainContext *context);

void _smartasync_release_on_context (GMainContext   *context,
                                     gpointer        data,
                                     GDestroyNotify  release);

void _smartasync_task_unref_on_context (GTask *task);

G_END_DECLS
