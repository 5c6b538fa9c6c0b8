/* test-util.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#include <string.h>

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

const GType *
test_declared_types (void)
{
  static GType types[19];

  if (types[0] == G_TYPE_INVALID)
    {
      GType all[] = { G_TYPE_BOOLEAN, G_TYPE_CHAR, G_TYPE_UCHAR, G_TYPE_INT, G_TYPE_UINT,
                      G_TYPE_LONG, G_TYPE_ULONG, G_TYPE_INT64, G_TYPE_UINT64,
                      G_TYPE_FILE_TYPE, G_TYPE_APPLICATION_FLAGS, G_TYPE_STRING, G_TYPE_BYTES,
                      G_TYPE_STRV, G_TYPE_SIMPLE_ACTION, G_TYPE_FILE, G_TYPE_VARIANT,
                      G_TYPE_PARAM, G_TYPE_INVALID };

      memcpy (types, all, sizeof all);
    }
  return types;
}

void
test_return_declared (GTask        *task,
                      gpointer      source_object,
                      GVariant     *args,
                      GCancellable *cancellable,
                      gpointer      user_data)
{
  GType type = smartasync_operation_get_result_type (g_task_get_source_object (task));
  const char *strv[] = { "42", NULL };

  if (user_data != NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", (const char *) user_data);
  else if (type == G_TYPE_BOOLEAN)
    g_task_return_boolean (task, TRUE);
  else if (G_TYPE_IS_FUNDAMENTAL (type) && g_value_type_transformable (type, G_TYPE_INT64))
    g_task_return_int (task, 42);
  else if (type == G_TYPE_FILE_TYPE)
    g_task_return_int (task, G_FILE_TYPE_DIRECTORY);
  else if (type == G_TYPE_APPLICATION_FLAGS)
    g_task_return_int (task, G_APPLICATION_IS_SERVICE | G_APPLICATION_NON_UNIQUE);
  else if (type == G_TYPE_STRING)
    g_task_return_pointer (task, g_strdup ("42"), g_free);
  else if (type == G_TYPE_BYTES)
    g_task_return_pointer (task, g_bytes_new ("42", 2), (GDestroyNotify) g_bytes_unref);
  else if (type == G_TYPE_STRV)
    g_task_return_pointer (task, g_strdupv ((char **) strv), (GDestroyNotify) g_strfreev);
  else if (type == G_TYPE_SIMPLE_ACTION)
    g_task_return_pointer (task, g_simple_action_new ("42", NULL), g_object_unref);
  else if (type == G_TYPE_FILE)
    g_task_return_pointer (task, g_file_new_for_path ("/42"), g_object_unref);
  else if (type == G_TYPE_VARIANT)
    g_task_return_pointer (task, g_variant_ref_sink (g_variant_new_int32 (42)),
                           (GDestroyNotify) g_variant_unref);
  else if (type == G_TYPE_PARAM)
    g_task_return_pointer (task, g_param_spec_ref_sink (g_param_spec_int ("n42", NULL, NULL, 0, 42, 42,
                                                                          G_PARAM_READABLE)),
                           (GDestroyNotify) g_param_spec_unref);
  else
    g_assert_not_reached ();
}

void
test_for_each_declared (void (*check) (SmartasyncOperation *op))
{
  const GType *types = test_declared_types ();

  for (guint i = 0; types[i] != G_TYPE_INVALID; i++)
    {
      g_autoptr(SmartasyncOperation) blocking =
        smartasync_operation_new_blocking ("declared", test_return_declared, NULL, NULL);
      g_autoptr(SmartasyncOperation) async =
        smartasync_operation_new_async ("declared", test_return_declared, NULL, NULL);

      g_test_message ("result type %s", g_type_name (types[i]));
      smartasync_operation_set_result_type (blocking, types[i]);
      smartasync_operation_set_result_type (async, types[i]);
      check (blocking);
      check (async);
    }

  for (SmartasyncKind kind = SMARTASYNC_KIND_ASYNC; kind <= SMARTASYNC_KIND_BLOCKING; kind++)
    {
      g_autoptr(SmartasyncOperation) failing =
        (kind == SMARTASYNC_KIND_ASYNC ? smartasync_operation_new_async
                                       : smartasync_operation_new_blocking)
          ("declared-failing", test_return_declared, (gpointer) "declared failure", NULL);

      smartasync_operation_set_result_type (failing, G_TYPE_STRING);
      check (failing);
    }
}

void
test_return_action (GTask        *task,
                    gpointer      source_object,
                    GVariant     *args,
                    GCancellable *cancellable,
                    gpointer      user_data)
{
  g_task_return_pointer (task, g_simple_action_new ("not-a-file", NULL), g_object_unref);
}

void
test_assert_declared (GType         type,
                      const GValue *value)
{
  g_autofree char *path = NULL;

  g_assert_true (G_VALUE_HOLDS (value, type));
  if (type == G_TYPE_BOOLEAN)
    g_assert_true (g_value_get_boolean (value));
  else if (G_TYPE_IS_FUNDAMENTAL (type) && g_value_type_transformable (type, G_TYPE_INT64))
    {
      g_auto(GValue) n = G_VALUE_INIT;

      g_value_init (&n, G_TYPE_INT64);
      g_assert_true (g_value_transform (value, &n));
      g_assert_cmpint (g_value_get_int64 (&n), ==, 42);
    }
  else if (type == G_TYPE_FILE_TYPE)
    g_assert_cmpint (g_value_get_enum (value), ==, G_FILE_TYPE_DIRECTORY);
  else if (type == G_TYPE_APPLICATION_FLAGS)
    g_assert_cmpuint (g_value_get_flags (value), ==, G_APPLICATION_IS_SERVICE | G_APPLICATION_NON_UNIQUE);
  else if (type == G_TYPE_STRING)
    g_assert_cmpstr (g_value_get_string (value), ==, "42");
  else if (type == G_TYPE_BYTES)
    g_assert_cmpmem (g_bytes_get_data (g_value_get_boxed (value), NULL),
                     g_bytes_get_size (g_value_get_boxed (value)), "42", 2);
  else if (type == G_TYPE_STRV)
    {
      const char *const *strv = g_value_get_boxed (value);

      g_assert_cmpuint (g_strv_length ((char **) strv), ==, 1);
      g_assert_cmpstr (strv[0], ==, "42");
    }
  else if (type == G_TYPE_SIMPLE_ACTION)
    g_assert_cmpstr (g_action_get_name (g_value_get_object (value)), ==, "42");
  else if (type == G_TYPE_FILE)
    {
      path = g_file_get_path (g_value_get_object (value));
      g_assert_cmpstr (path, ==, "/42");
    }
  else if (type == G_TYPE_VARIANT)
    g_assert_cmpint (g_variant_get_int32 (g_value_get_variant (value)), ==, 42);
  else if (type == G_TYPE_PARAM)
    g_assert_cmpstr (g_param_spec_get_name (g_value_get_param (value)), ==, "n42");
  else
    g_assert_not_reached ();
}

void
test_assert_declared_outcome (SmartasyncOperation *op,
                              gboolean             ok,
                              const GValue        *value,
                              const GError        *error)
{
  if (g_str_equal (smartasync_operation_get_name (op), "declared-failing"))
    {
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_cmpstr (error->message, ==, "declared failure");
      return;
    }

  g_assert_true (ok);
  g_assert_no_error (error);
  test_assert_declared (smartasync_operation_get_result_type (op), value);
}

guint
test_pick_weighted (GRand       *rand,
                    const guint *weights,
                    guint        n)
{
  guint total = 0;
  guint pick;

  for (guint i = 0; i < n; i++)
    total += weights[i];

  pick = g_rand_int_range (rand, 0, total);
  for (guint i = 0; i < n; i++)
    {
      if (pick < weights[i])
        return i;
      pick -= weights[i];
    }

  g_assert_not_reached ();
}
