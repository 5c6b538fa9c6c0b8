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

struct _SmartasyncThreadState
{
  GMainContext *private_context;  /* created on demand, or adopted */
  GSource      *starter;          /* dispatches starts, on private_context */
  SmartasyncOrphans *orphans;     /* of private_context, when the library made it */
  SmartasyncStart *starts;        /* posted, not yet run; innermost first */
  guint         wait_depth;       /* nested waits running on this thread */
  gint          tracked_pending;  /* atomic: library tasks pending on private_context */
  GArray       *modes;            /* SmartasyncMode stack, NULL when empty */
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

G_END_DECLS
