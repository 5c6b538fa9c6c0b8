/* testing.c: testing code that uses smartasync-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/testing.md quotes: a GLib test program (run it with
 * --tap, as meson does) that tests a small piece of application code in
 * both kinds of context from one process, checks which path each call took
 * from the structured debug log, checks that a synchronous call from a
 * running loop is refused, and checks the G_MESSAGES_DEBUG output.
 */

#include <smartasync-glib.h>

/* The code under test --------------------------------------------------- */

static void
count_words_impl (GTask        *task,
                  gpointer      source_object,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  g_auto(GStrv) words = g_strsplit (g_variant_get_string (args, NULL), " ", -1);

  g_task_return_int (task, g_strv_length (words));
}

static SmartasyncOperation *
count_words_operation (void)
{
  return smartasync_operation_new_blocking ("count-words", count_words_impl, NULL, NULL);
}

/* The tests -------------------------------------------------------------- */

typedef struct
{
  SmartasyncOperation *count_words;
  gssize               count;
  gboolean             called_back;
} Fixture;

/* Every test starts from a clean per-thread state: no mode left pushed by
 * a failed test, no private context, no default executor. */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  smartasync_reset ();
  fixture->count_words = count_words_operation ();
  fixture->count = -1;
  fixture->called_back = FALSE;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->count_words);
  smartasync_reset ();
}

static void
on_counted (GObject      *operation,
            GAsyncResult *result,
            gpointer      user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GError) error = NULL;

  fixture->count = smartasync_operation_call_finish_int (SMARTASYNC_OPERATION (operation),
                                                         result, &error);
  g_assert_no_error (error);
  fixture->called_back = TRUE;
}

/* Both paths of a smart call, without writing a main loop into the test. */
static void
test_sync_path (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GTask) task = NULL;

  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  task = smartasync_operation_call (fixture->count_words, NULL,
                                    g_variant_new_string ("one two three"),
                                    NULL, on_counted, fixture);
  smartasync_pop_mode ();

  g_assert_true (g_task_get_completed (task));
  g_assert_true (fixture->called_back);
  g_assert_cmpint (fixture->count, ==, 3);
}

static void
test_async_path (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GTask) task = NULL;

  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  task = smartasync_operation_call (fixture->count_words, NULL,
                                    g_variant_new_string ("one two three four"),
                                    NULL, on_counted, fixture);
  smartasync_pop_mode ();

  g_assert_false (g_task_get_completed (task));
  g_assert_false (fixture->called_back);

  /* The callback runs on this thread's default context: iterate it. */
  while (!fixture->called_back)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (fixture->count, ==, 4);
}

/* Which path did a call take? The debug log says, in structured fields. */
static GPtrArray *paths;   /* "operation:path" strings, while recording */

static GLogWriterOutput
record_paths (GLogLevelFlags   level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  const char *operation = NULL, *path = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "SMARTASYNC_OPERATION") == 0)
        operation = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "SMARTASYNC_PATH") == 0)
        path = fields[i].value;
    }
  if (paths != NULL && operation != NULL && path != NULL && *operation != '\0')
    g_ptr_array_add (paths, g_strdup_printf ("%s:%s", operation, path));

  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
test_paths_from_the_log (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GTask) direct = NULL;
  g_autoptr(GTask) offloaded = NULL;

  paths = g_ptr_array_new_with_free_func (g_free);
  smartasync_set_debug (TRUE);

  direct = smartasync_operation_call (fixture->count_words, NULL,
                                      g_variant_new_string ("a b"), NULL, NULL, NULL);

  smartasync_push_mode (SMARTASYNC_MODE_ASYNC);
  offloaded = smartasync_operation_call (fixture->count_words, NULL,
                                         g_variant_new_string ("a b c"), NULL, on_counted, fixture);
  smartasync_pop_mode ();
  while (!fixture->called_back)
    g_main_context_iteration (NULL, TRUE);

  smartasync_set_debug (FALSE);
  g_assert_cmpuint (paths->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (paths, 0), ==, "count-words:direct");
  g_assert_cmpstr (g_ptr_array_index (paths, 1), ==, "count-words:offload");
  g_clear_pointer (&paths, g_ptr_array_unref);
}

/* A synchronous call from code that a running loop dispatches is refused. */
static gboolean
call_sync_from_loop (gpointer user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GError) error = NULL;

  fixture->count = smartasync_operation_call_sync_int (fixture->count_words, NULL,
                                                       g_variant_new_string ("x"), NULL, &error);
  g_assert_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);
  fixture->called_back = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_sync_call_refused_in_loop (Fixture       *fixture,
                                gconstpointer  data)
{
  g_idle_add (call_sync_from_loop, fixture);
  while (!fixture->called_back)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (fixture->count, ==, -1);
}

/* G_MESSAGES_DEBUG=Smartasync prints every decision. */
static void
test_debug_output (Fixture       *fixture,
                   gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (smartasync_operation_call_sync_int (fixture->count_words, NULL,
                                                           g_variant_new_string ("p q"),
                                                           NULL, NULL), ==, 2);
      return;
    }

  g_setenv ("G_MESSAGES_DEBUG", "Smartasync", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*count-words: sync context, blocking implementation: direct call*");
}

int
main (int   argc,
      char *argv[])
{
  g_log_set_writer_func (record_paths, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/doc/testing/sync-path", Fixture, NULL,
              fixture_set_up, test_sync_path, fixture_tear_down);
  g_test_add ("/doc/testing/async-path", Fixture, NULL,
              fixture_set_up, test_async_path, fixture_tear_down);
  g_test_add ("/doc/testing/paths-from-the-log", Fixture, NULL,
              fixture_set_up, test_paths_from_the_log, fixture_tear_down);
  g_test_add ("/doc/testing/sync-call-refused-in-loop", Fixture, NULL,
              fixture_set_up, test_sync_call_refused_in_loop, fixture_tear_down);
  g_test_add ("/doc/testing/debug-output", Fixture, NULL,
              fixture_set_up, test_debug_output, fixture_tear_down);

  return g_test_run ();
}
