/* smartasync-context-private.h: per-thread state shared by the bridge's parts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smartasync-context.h"

G_BEGIN_DECLS

typedef struct _SmartasyncThreadState SmartasyncThreadState;
typedef struct _SmartasyncStart SmartasyncStart;
typedef struct _SmartasyncOrphans SmartasyncOrphans;

/* Work that a wait runs from a dispatch of the private context. */
struct _SmartasyncStart
{
  SmartasyncStart  *next;
  void            (*run) (SmartasyncStart *start);
  gboolean          pending;
};

SmartasyncThreadState *_smartasync_thread_state              (void);
gboolean               _smartasync_thread_state_is_current   (SmartasyncThreadState *state);
GMainContext          *_smartasync_thread_state_get_context  (SmartasyncThreadState *state);
void                   _smartasync_thread_state_post_start   (SmartasyncThreadState *state,
                                                              SmartasyncStart       *start);
SmartasyncOrphans     *_smartasync_thread_state_add_orphan   (SmartasyncThreadState *state);
void                   _smartasync_orphans_settle            (SmartasyncOrphans     *orphans);
gboolean               _smartasync_sync_wait_would_block     (SmartasyncThreadState *state);
gboolean               _smartasync_context_is_private        (GMainContext          *context);

/* Waits running on a thread, and the library tasks they must drain. */
GMainContext          *_smartasync_thread_state_enter_wait   (SmartasyncThreadState *state,
                                                              gint                  *tracked);
GMainContext          *_smartasync_thread_state_get_scope_context (SmartasyncThreadState *state);
gpointer               _smartasync_thread_state_take_spare   (SmartasyncThreadState *state,
                                                              gsize                  size);
void                   _smartasync_thread_state_put_spare    (SmartasyncThreadState *state,
                                                              gpointer               block);
guint                  _smartasync_thread_state_open_scope   (SmartasyncThreadState *state);
void                   _smartasync_thread_state_close_scope  (SmartasyncThreadState *state,
                                                              guint                  outer);
void                   _smartasync_thread_state_leave_wait   (SmartasyncThreadState *state);
guint                  _smartasync_thread_state_get_wait_depth (SmartasyncThreadState *state);
gint                   _smartasync_thread_state_get_tracked  (SmartasyncThreadState *state);
void                   _smartasync_thread_state_track        (SmartasyncThreadState *state);
void                   _smartasync_thread_state_untrack      (SmartasyncThreadState *state);
gboolean               _smartasync_thread_state_retire_context (SmartasyncThreadState *state,
                                                               GMainContext          *context);
gboolean               _smartasync_thread_state_reset        (void);
void                   _smartasync_thread_state_release_owed (void);

G_END_DECLS
