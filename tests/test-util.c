/* test-util.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static gboolean
upper_complete (gpointer data)
{
  GTask *task = data;
  GVariant *args = g_task_get_task_data (task);

  g_task_return_pointer (task, g_ascii_strup (g_variant_get_string (args, NULL), -1), g_free);
  return G_SOURCE_REMOVE;
}

void
test_upper_async (GTask        *task,
                  gpointer      source_object,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  GSource *idle;

  if (args == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "upper needs a string");
      return;
    }

  g_task_set_task_data (task, g_variant_ref (args), (GDestroyNotify) g_variant_unref);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, upper_complete, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

void
test_double_blocking (GTask        *task,
                      gpointer      source_object,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  if (user_data != NULL)
    *(GThread **) user_data = g_thread_self ();

  g_task_return_int (task, 2 * g_variant_get_int32 (args));
}

void
test_iterate_until (GMainContext *context,
                    gboolean     *flag)
{
  while (!*flag)
    g_main_context_iteration (context, TRUE);
}

typedef struct
{
  GSourceFunc func;
  gpointer    data;
  GMainLoop  *loop;
} LoopRun;

static gboolean
loop_run_idle (gpointer data)
{
  LoopRun *run = data;

  run->func (run->data);
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

void
test_run_in_loop (GSourceFunc func,
                  gpointer    data)
{
  LoopRun run = { func, data, g_main_loop_new (NULL, FALSE) };

  g_idle_add (loop_run_idle, &run);
  g_main_loop_run (run.loop);
  g_main_loop_unref (run.loop);
}

GPtrArray *
test_list_threads_named (const char *prefix)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  GPtrArray *tids = g_ptr_array_new_with_free_func (g_free);
  const char *tid;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, prefix))
        g_ptr_array_add (tids, g_strdup (tid));
    }
  return tids;
}

gboolean
test_set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
test_wait_for_flag (gint       *flag,
                    const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (!g_atomic_int_get (flag))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("hang guard: still waiting for %s after 120 s", what);
      g_usleep (1000);
    }
}
