/* migrating.c: hand-written GLib boilerplate, before and after
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/migrating.md quotes. Each "before" is the usual
 * hand-written code, each "after" its smartasync-glib replacement; main()
 * runs both and exits non-zero if they disagree.
 */

#include <unistd.h>

#include <glib/gstdio.h>
#include <smartasync-glib.h>

/* 1. Waiting for an _async function from synchronous code ---------------- */

/* Before: a new context per call, pushed, iterated until a flag flips. */
static void
on_loaded_before (GObject      *file,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static char *
load_before (GFile   *file,
             GError **error)
{
  GMainContext *context = g_main_context_new ();
  GAsyncResult *result = NULL;
  char *contents = NULL;

  g_main_context_push_thread_default (context);
  g_file_load_contents_async (file, NULL, on_loaded_before, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  g_file_load_contents_finish (file, result, &contents, NULL, NULL, error);
  g_object_unref (result);
  g_main_context_unref (context);
  return contents;
}

/* After: the thread's private context, created once and reused; refused
 * with an error, instead of freezing it, when a running loop dispatched
 * the caller. */
static char *
load_after (GFile   *file,
            GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  char *contents = NULL;

  result = SMARTASYNC_WAIT (error, NULL, g_file_load_contents_async, file, NULL);
  if (result != NULL)
    g_file_load_contents_finish (file, result, &contents, NULL, NULL, error);
  return contents;
}

static char *
load_kept (GFile   *file,
           GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  char *contents = NULL;

  /* Blocks a running loop, as the hand-written nested loop did. */
  result = SMARTASYNC_WAIT_FULL (SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP, error, NULL,
                                 g_file_load_contents_async, file, NULL);
  if (result != NULL)
    g_file_load_contents_finish (file, result, &contents, NULL, NULL, error);
  return contents;
}

/* From code a running loop dispatches: the plain port is refused before it
 * starts anything, the opt-in blocks the loop like the hand-written code. */
typedef struct
{
  GFile     *file;
  char      *kept;
  char      *before;
  GError    *refused;
  GMainLoop *loop;
} InLoop;

static gboolean
load_in_loop (gpointer data)
{
  InLoop *in_loop = data;
  char *refused;

  in_loop->before = load_before (in_loop->file, NULL);
  refused = load_after (in_loop->file, &in_loop->refused);
  g_assert_null (refused);
  in_loop->kept = load_kept (in_loop->file, NULL);
  g_main_loop_quit (in_loop->loop);
  return G_SOURCE_REMOVE;
}

/* 2. A blocking function, offered as a sync call and as an _async pair ---- */

static char *
slow_reverse (const char *text)
{
  g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  return g_utf8_strreverse (text, -1);
}

/* Before: a GTaskThreadFunc, and two entry points around it. */
static void
reverse_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  g_task_return_pointer (task, slow_reverse (task_data), g_free);
}

static void
reverse_async_before (const char          *text,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, reverse_async_before);
  g_task_set_task_data (task, g_strdup (text), g_free);
  g_task_run_in_thread (task, reverse_thread);
}

static char *
reverse_finish_before (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static char *
reverse_sync_before (const char    *text,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, NULL, NULL);

  g_task_set_task_data (task, g_strdup (text), g_free);
  g_task_run_in_thread_sync (task, reverse_thread);   /* a pool thread, even here */
  return g_task_propagate_pointer (task, error);
}

/* After: one blocking operation. Its synchronous call runs the function on
 * the calling thread; its asynchronous call offloads it. */
static void
reverse_impl (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  g_task_return_pointer (task, slow_reverse (g_variant_get_string (args, NULL)), g_free);
}

static SmartasyncOperation *reverse_op;

static char *
reverse_sync_after (const char    *text,
                    GCancellable  *cancellable,
                    GError       **error)
{
  return smartasync_operation_call_sync_pointer (reverse_op, NULL, g_variant_new_string (text),
                                                 cancellable, error);
}

static void
reverse_async_after (const char          *text,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  smartasync_operation_call_async (reverse_op, NULL, g_variant_new_string (text),
                                   cancellable, callback, user_data);
}

static char *
reverse_finish_after (GAsyncResult  *result,
                      GError       **error)
{
  return smartasync_operation_call_finish_pointer (reverse_op, result, error);
}

/* main ------------------------------------------------------------------- */

typedef struct
{
  char *before;
  char *after;
} Both;

static void
on_reversed_before (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ((Both *) user_data)->before = reverse_finish_before (result, NULL);
}

static void
on_reversed_after (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ((Both *) user_data)->after = reverse_finish_after (result, NULL);
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *loaded_before = NULL;
  g_autofree char *loaded_after = NULL;
  g_autofree char *sync_before = NULL;
  g_autofree char *sync_after = NULL;
  Both async = { NULL, NULL };
  InLoop in_loop = { NULL, };
  gboolean ok;
  int fd;

  fd = g_file_open_tmp ("smartasync-migrating-XXXXXX", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, "before and after\n", -1, &error);
  g_assert_no_error (error);
  file = g_file_new_for_path (path);

  loaded_before = load_before (file, &error);
  g_assert_no_error (error);
  loaded_after = load_after (file, &error);
  g_assert_no_error (error);

  in_loop.file = file;
  in_loop.loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (load_in_loop, &in_loop);
  g_main_loop_run (in_loop.loop);
  g_main_loop_unref (in_loop.loop);
  g_print ("in a running loop: hand-written %s, plain port %s, opt-in %s\n",
           in_loop.before ? "blocks" : "fails",
           g_error_matches (in_loop.refused, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK)
           ? "refused" : "?", in_loop.kept ? "blocks" : "fails");

  reverse_op = smartasync_operation_new_blocking ("reverse", reverse_impl, NULL, NULL);
  sync_before = reverse_sync_before ("stressed", NULL, NULL);
  sync_after = reverse_sync_after ("stressed", NULL, NULL);
  reverse_async_before ("drawer", NULL, on_reversed_before, &async);
  reverse_async_after ("drawer", NULL, on_reversed_after, &async);
  while (async.before == NULL || async.after == NULL)
    g_main_context_iteration (NULL, TRUE);

  ok = g_strcmp0 (loaded_before, loaded_after) == 0 &&
       g_strcmp0 (in_loop.before, in_loop.kept) == 0 &&
       g_error_matches (in_loop.refused, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK) &&
       g_strcmp0 (sync_before, "desserts") == 0 && g_strcmp0 (sync_after, "desserts") == 0 &&
       g_strcmp0 (async.before, "reward") == 0 && g_strcmp0 (async.after, "reward") == 0;
  g_print ("before and after agree: %s\n", ok ? "yes" : "no");

  g_free (async.before);
  g_free (async.after);
  g_free (in_loop.before);
  g_free (in_loop.kept);
  g_clear_error (&in_loop.refused);
  g_object_unref (reverse_op);
  g_unlink (path);
  return ok ? 0 : 1;
}
