/* smartasync-wait-private.h: the synchronous wait behind every blocking entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "smartasync-context-private.h"

G_BEGIN_DECLS

typedef struct _SmartasyncWait SmartasyncWait;

typedef void (*SmartasyncWaitStartFunc) (GTask    *task,
                                         gpointer  data);

struct _SmartasyncWait
{
  gatomicrefcount        ref_count;
  SmartasyncThreadState *state;              /* of the creating thread */
  GMainContext          *context;            /* pushed private context, NULL if refused */
  GTask                 *task;               /* held until the wait blocks */
  SmartasyncStart        start;
  SmartasyncWaitStartFunc start_func;
  gpointer               start_data;
  GAsyncResult          *result;
  const char            *name;               /* not owned: read only during the wait */
  const char            *outer_waiting_for;
  SmartasyncOrphans     *orphans;            /* atomic: set when the wait gave up */
  gint                   tracked_at_start;
  gint                   completed;          /* atomic */
  gint                   dropped;            /* atomic: the watched task died uncompleted */
  guint                  waited : 1;
  guint                  watching_task : 1;
};

SmartasyncWait *_smartasync_wait_new               (const char      *name);
SmartasyncWait *_smartasync_wait_new_or_refuse     (const char      *name,
                                                    GError         **error);
void            _smartasync_wait_init              (SmartasyncWait  *self,
                                                    const char      *name);
void            _smartasync_wait_clear             (SmartasyncWait  *self);
void            _smartasync_wait_unref             (SmartasyncWait  *self);
gboolean        _smartasync_wait_complete          (SmartasyncWait  *self,
                                                    GAsyncResult    *result);
void            _smartasync_wait_callback          (GObject         *source_object,
                                                    GAsyncResult    *result,
                                                    gpointer         wait);
gboolean        _smartasync_wait_iterate           (SmartasyncWait  *self,
                                                    GCancellable    *cancellable,
                                                    gboolean         blocking_done,
                                                    GError         **error);
void            _smartasync_wait_start             (SmartasyncWait  *self,
                                                    GTask           *task,
                                                    SmartasyncWaitStartFunc func,
                                                    gpointer         data);
GAsyncResult   *_smartasync_wait_get_result        (SmartasyncWait  *self);
GAsyncResult   *_smartasync_wait_steal_result      (SmartasyncWait  *self);
void            _smartasync_wait_hold_task         (SmartasyncWait  *self,
                                                    GTask           *task);
gboolean        _smartasync_set_would_block_error  (const char      *name,
                                                    GError         **error);
GError         *_smartasync_dropped_task_error     (const char      *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmartasyncWait, _smartasync_wait_unref)

G_END_DECLS
