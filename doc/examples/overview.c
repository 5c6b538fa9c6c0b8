/* overview.c: one operation, called from a sync context and from a loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/overview.md quotes. It wraps g_file_load_bytes_async()
 * once, then calls it with the same smart call and the same callback from
 * main() (no loop running: the call has completed when it returns) and from
 * an idle of a running GMainLoop (the call returns a pending task and the
 * callback runs later on the loop). Exits non-zero if either path does not
 * behave as the guide says.
 */

#include <unistd.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

/* The implementation: plain GIO code that completes the task it is given. */
static void
load_done (GObject      *file,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GBytes *bytes = g_file_load_bytes_finish (G_FILE (file), result, NULL, &error);

  if (bytes != NULL)
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

static void
load_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (args, NULL));

  g_file_load_bytes_async (file, cancellable, load_done, g_object_ref (task));
}

typedef struct
{
  GMainLoop *loop;
  guint      callbacks;
  gsize      size;
} State;

/* One callback for both kinds of callers. */
static void
on_loaded (GObject      *operation,
           GAsyncResult *result,
           gpointer      user_data)
{
  State *state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes =
    smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (operation), result, &error);

  if (bytes == NULL)
    g_printerr ("load failed: %s\n", error->message);
  else
    state->size = g_bytes_get_size (bytes);
  state->callbacks++;

  if (state->loop != NULL)
    g_main_loop_quit (state->loop);
}

static SmartasyncOperation *load_op;
static char *path;

static gboolean
load_from_the_loop (gpointer user_data)
{
  State *state = user_data;
  g_autoptr(GTask) task = NULL;

  g_assert_true (smartasync_in_async_context ());

  task = smartasync_operation_call (load_op, NULL, g_variant_new_string (path),
                                    NULL, on_loaded, state);
  g_assert_false (g_task_get_completed (task));   /* pending: on_loaded runs later */
  g_assert_cmpuint (state->callbacks, ==, 1);     /* only the first call's so far */

  return G_SOURCE_REMOVE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  State state = { NULL, 0, 0 };
  int fd;

  fd = g_file_open_tmp ("smartasync-overview-XXXXXX", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, "one implementation, every caller\n", -1, &error);
  g_assert_no_error (error);

  load_op = smartasync_operation_new_async ("load-file", load_impl, NULL, NULL);

  /* 1. main(), before any loop runs: a sync context. */
  g_assert_false (smartasync_in_async_context ());

  task = smartasync_operation_call (load_op, NULL, g_variant_new_string (path),
                                    NULL, on_loaded, &state);
  g_assert_true (g_task_get_completed (task));    /* done: on_loaded has run */
  g_assert_cmpuint (state.callbacks, ==, 1);
  g_print ("sync context: %" G_GSIZE_FORMAT " bytes, before the call returned\n", state.size);

  /* 2. The same call from code that a running loop dispatches. */
  state.loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (load_from_the_loop, &state);
  g_main_loop_run (state.loop);
  g_assert_cmpuint (state.callbacks, ==, 2);
  g_assert_cmpuint (state.size, ==, 33);
  g_print ("async context: %" G_GSIZE_FORMAT " bytes, in a later iteration of the loop\n",
           state.size);

  g_main_loop_unref (state.loop);
  g_object_unref (load_op);
  g_unlink (path);
  g_free (path);
  return 0;
}
