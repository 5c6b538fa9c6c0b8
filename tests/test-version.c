/* test-version.c: run-time version functions against the compile-time macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <smartasync-glib.h>

/* The library the test runs against is the one it was built with, so the
 * run-time numbers must equal the header macros. */
static void
test_version_numbers (void)
{
  g_assert_cmpuint (smartasync_get_major_version (), ==, SMARTASYNC_MAJOR_VERSION);
  g_assert_cmpuint (smartasync_get_minor_version (), ==, SMARTASYNC_MINOR_VERSION);
  g_assert_cmpuint (smartasync_get_micro_version (), ==, SMARTASYNC_MICRO_VERSION);
}

static void
test_version_string (void)
{
  g_autofree char *expected = g_strdup_printf ("%u.%u.%u",
                                               smartasync_get_major_version (),
                                               smartasync_get_minor_version (),
                                               smartasync_get_micro_version ());

  g_assert_cmpstr (SMARTASYNC_VERSION_S, ==, expected);
}

static void
test_check_version_macro (void)
{
  g_assert_true (SMARTASYNC_CHECK_VERSION (SMARTASYNC_MAJOR_VERSION,
                                           SMARTASYNC_MINOR_VERSION,
                                           SMARTASYNC_MICRO_VERSION));
  g_assert_true (SMARTASYNC_CHECK_VERSION (0, 0, 0));
  g_assert_true (SMARTASYNC_CHECK_VERSION (SMARTASYNC_MAJOR_VERSION, 0, 0));
  g_assert_false (SMARTASYNC_CHECK_VERSION (SMARTASYNC_MAJOR_VERSION + 1, 0, 0));
  g_assert_false (SMARTASYNC_CHECK_VERSION (SMARTASYNC_MAJOR_VERSION,
                                            SMARTASYNC_MINOR_VERSION + 1,
                                            0));
  g_assert_false (SMARTASYNC_CHECK_VERSION (SMARTASYNC_MAJOR_VERSION,
                                            SMARTASYNC_MINOR_VERSION,
                                            SMARTASYNC_MICRO_VERSION + 1));
}

static void
test_check_version_runtime (void)
{
  guint major = SMARTASYNC_MAJOR_VERSION;
  guint minor = SMARTASYNC_MINOR_VERSION;
  guint micro = SMARTASYNC_MICRO_VERSION;

  /* Exactly this version, and anything older in the same major series. */
  g_assert_null (smartasync_check_version (major, minor, micro));
  g_assert_null (smartasync_check_version (major, 0, 0));
  if (micro > 0)
    g_assert_null (smartasync_check_version (major, minor, micro - 1));
  if (minor > 0)
    g_assert_null (smartasync_check_version (major, minor - 1, micro + 100));

  /* Anything newer, or another major series, is a mismatch described by a
   * static string. */
  g_assert_nonnull (smartasync_check_version (major, minor, micro + 1));
  g_assert_nonnull (smartasync_check_version (major, minor + 1, 0));
  g_assert_nonnull (smartasync_check_version (major + 1, 0, 0));
  if (major > 0)
    g_assert_nonnull (smartasync_check_version (major - 1, minor, micro));

  g_assert_true (strstr (smartasync_check_version (major + 1, 0, 0), "major") != NULL);
  g_assert_true (strstr (smartasync_check_version (major, minor + 1, 0), "minor") != NULL);
  g_assert_true (strstr (smartasync_check_version (major, minor, micro + 1), "micro") != NULL);
}

/* Within one major series the run-time check agrees with the compile-time
 * macro, since the library is the one the headers describe. */
static void
test_check_version_agrees (void)
{
  /* int, as the macros are: an unsigned variable would make the macro's
   * comparisons with a 0 version "always false" (-Wtype-limits). */
  int major = SMARTASYNC_MAJOR_VERSION;

  for (int minor = 0; minor <= SMARTASYNC_MINOR_VERSION + 2; minor++)
    for (int micro = 0; micro <= SMARTASYNC_MICRO_VERSION + 2; micro++)
      {
        gboolean compile_time = SMARTASYNC_CHECK_VERSION (major, minor, micro);
        gboolean run_time = smartasync_check_version (major, minor, micro) == NULL;

        g_assert_cmpint (compile_time, ==, run_time);
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/version/numbers", test_version_numbers);
  g_test_add_func ("/smartasync/version/string", test_version_string);
  g_test_add_func ("/smartasync/version/check-macro", test_check_version_macro);
  g_test_add_func ("/smartasync/version/check-runtime", test_check_version_runtime);
  g_test_add_func ("/smartasync/version/check-agrees", test_check_version_agrees);

  return g_test_run ();
}
