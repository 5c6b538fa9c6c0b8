/* smartasync-release.c: the library's last references, released on the caller's context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*< private >
 * A call's task holds the caller's objects: its source object, its task
 * data (the arguments) and its result. Whoever drops the last reference to
 * the task finalizes them, and a worker thread that ran the call must never
 * be that one: a GTK widget, or any object that is not thread-safe, would
 * be finalized on a thread it does not belong to. GLib's own pool makes no
 * such promise: its worker drops its reference after the task's completion
 * is queued, racing with the caller's callback. So a worker hands what it
 * holds back to the context the call completes on, and the release runs
 * there, after the completion.
 */

#include "config.h"

#include "smartasync-release-private.h"

/*< private >
 * _smartasync_source_attach_unref:
 * @source: (transfer full): a source
 * @context: where to attach it
 *
 * Attaches @source and drops the caller's reference to it, from any thread.
 * The source may be dispatched before this returns, and what it releases
 * may hold the last reference to @context; a source must not outlive its
 * context, so @context is kept alive until the source is let go.
 */
void
_smartasync_source_attach_unref (GSource      *source,
                                 GMainContext *context)
{
  g_main_context_ref (context);
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
}

typedef struct
{
  gpointer        data;      /* until released */
  GDestroyNotify  release;
} Release;

/* From the dispatch, where the released code sees a dispatching context
 * (a destroy notify runs after the dispatch ended). */
static gboolean
release_dispatched (gpointer user_data)
{
  Release *release = user_data;

  release->release (g_steal_pointer (&release->data));
  return G_SOURCE_REMOVE;
}

/* Also when the source is destroyed undispatched. */
static void
release_free (gpointer user_data)
{
  Release *release = user_data;

  if (release->data != NULL)
    release->release (release->data);
  g_free (release);
}

/*< private >
 * _smartasync_release_on_context:
 * @context: the context whose thread releases @data
 * @data: what to release
 * @release: called with @data on @context's thread
 *
 * Releases @data now if this thread owns @context, else from a dispatch of
 * @context. Sources of the same priority run in the order they were
 * attached, so a release queued after a completion runs after it.
 */
void
_smartasync_release_on_context (GMainContext   *context,
                                gpointer        data,
                                GDestroyNotify  release)
{
  Release *pending;
  GSource *idle;

  if (g_main_context_is_owner (context))
    {
      release (data);
      return;
    }

  pending = g_new (Release, 1);
  pending->data = data;
  pending->release = release;
  idle = g_idle_source_new ();
  /* Not at idle priority: a busy loop would keep the objects alive. */
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_static_name (idle, "[smartasync] release on the caller's context");
  g_source_set_callback (idle, release_dispatched, pending, release_free);
  _smartasync_source_attach_unref (idle, context);
}

/*< private >
 * _smartasync_task_unref_on_context:
 * @task: (transfer full): a task
 *
 * Drops a reference to @task such that, if it is the last one, the task is
 * finalized on the thread of the context it completes on.
 */
void
_smartasync_task_unref_on_context (GTask *task)
{
  _smartasync_release_on_context (g_task_get_context (task), task, g_object_unref);
}
