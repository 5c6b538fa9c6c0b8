/* smartasync-wait-private.h: the synchronous wait behind every blocking entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "smartasync-context-private.h"

G_BEGIN_DECLS

typedef struct _SmartasyncWait SmartasyncWait;

typedef void     (*SmartasyncWaitStartFunc) (GTask    *task,
                                             gpointer  data);
/* Whether what a wait waits for has arrived (a batch's calls, say). */
typedef gboolean (*SmartasyncWaitDoneFunc)  (gpointer  data);

/*< private >
 * SmartasyncWaitFlags:
 * @SMARTASYNC_WAIT_DEFAULT: refuse to block a running loop of this thread
 * @SMARTASYNC_WAIT_BLOCK_RUNNING_LOOP: the caller's opt-in: wait even from
 *   code a running loop dispatches, as hand-written nested loops do
 * @SMARTASYNC_WAIT_PASS_THROUGH: the started function is blocking: it runs
 *   directly, with the caller's thread-default context, and only its task
 *   is bound to the private context
 */
typedef enum
{
  SMARTASYNC_WAIT_DEFAULT            = 0,
  SMARTASYNC_WAIT_BLOCK_RUNNING_LOOP = 1 << 0,
  SMARTASYNC_WAIT_PASS_THROUGH       = 1 << 1,
} SmartasyncWaitFlags;

struct _SmartasyncWait
{
  gatomicrefcount        ref_count;
  SmartasyncThreadState *state;              /* of the creating thread */
  GMainContext          *context;            /* pushed private context, NULL if refused */
  GMainContext          *below;              /* the thread-default context under it */
  GTask                 *task;               /* held until the wait blocks */
  SmartasyncStart        start;
  SmartasyncWaitStartFunc start_func;
  gpointer               start_data;
  GAsyncResult          *result;
  const char            *name;               /* not owned: read only during the wait */
  GSource               *stall_timer;
  guint                  stall_report_ms;    /* 0: never */
  SmartasyncOrphans     *orphans;            /* atomic: set when the wait gave up */
  gint                   tracked_at_start;
  gint                   completed;          /* atomic */
  gint                   dropped;            /* atomic: the watched task died uncompleted */
  gint                   context_held;       /* atomic: the wait holds a reference to context */
  guint                  outer_scope;        /* when the wait is a scope */
  guint                  flags : 2;
  guint                  scoped : 1;         /* runs in a scope: the scope pushed context */
  guint                  is_scope : 1;
  guint                  waited : 1;
  guint                  ended : 1;
  guint                  watching_task : 1;
};

SmartasyncWait *_smartasync_wait_new               (const char              *name,
                                                    SmartasyncWaitFlags      flags,
                                                    GError                 **error);
gboolean        _smartasync_wait_init              (SmartasyncWait          *self,
                                                    const char              *name,
                                                    SmartasyncWaitFlags      flags,
                                                    GError                 **error);
void            _smartasync_wait_set_stall_report  (SmartasyncWait          *self,
                                                    guint                    timeout_ms);
void            _smartasync_wait_open_scope        (SmartasyncWait          *self);
void            _smartasync_wait_clear             (SmartasyncWait          *self);
void            _smartasync_wait_unref             (SmartasyncWait          *self);
gboolean        _smartasync_wait_complete          (SmartasyncWait          *self,
                                                    GAsyncResult            *result);
void            _smartasync_wait_callback          (GObject                 *source_object,
                                                    GAsyncResult            *result,
                                                    gpointer                 wait);
void            _smartasync_wait_start             (SmartasyncWait          *self,
                                                    GTask                   *task,
                                                    SmartasyncWaitStartFunc  func,
                                                    gpointer                 data);
gboolean        _smartasync_wait_run               (SmartasyncWait          *self,
                                                    GCancellable            *cancellable,
                                                    GError                 **error);
void            _smartasync_wait_run_until         (SmartasyncWait          *self,
                                                    GCancellable            *cancellable,
                                                    SmartasyncWaitDoneFunc   done,
                                                    gpointer                 data);
void            _smartasync_wait_end               (SmartasyncWait          *self,
                                                    GCancellable            *cancellable);
GAsyncResult   *_smartasync_wait_get_result        (SmartasyncWait          *self);
GAsyncResult   *_smartasync_wait_steal_result      (SmartasyncWait          *self);
gboolean        _smartasync_set_would_block_error  (const char              *name,
                                                    GError                 **error);
GError         *_smartasync_dropped_task_error     (const char              *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmartasyncWait, _smartasync_wait_unref)

G_END_DECLS
