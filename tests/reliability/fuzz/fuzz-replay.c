/* fuzz-replay.c: runs the API fuzzer's harness without libFuzzer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* fuzz-api-replay [FILE|DIRECTORY]... [--random N] [--seed S] [--max-len L]
 *
 * Feeds fuzz-api.c's LLVMFuzzerTestOneInput() every file given (directories
 * are read one level deep, in name order: the corpus), then N pseudo-random
 * inputs of up to L bytes from seed S. The same inputs in the same order on
 * every run, with any compiler and under valgrind: the deterministic
 * fallback of the libFuzzer build. SMARTASYNC_TEST_QUICK (the valgrind setup)
 * caps N at 40. Prints TAP: one test per input file, one for the random
 * series. */

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

extern guint64 fuzz_api_calls, fuzz_api_threads;

static guint tap_count;

static void
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      g_printerr ("%s\n", error->message);
      exit (1);
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
  g_print ("ok %u %s (%" G_GSIZE_FORMAT " bytes)\n", ++tap_count, path, length);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
run_path (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      run_file (path);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      g_printerr ("cannot open %s\n", path);
      exit (1);
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    run_file (g_ptr_array_index (names, i));
}

int
main (int   argc,
      char *argv[])
{
  guint n_random = 0;
  guint32 seed = 1;
  guint max_len = 256;
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  gint64 start = g_get_monotonic_time ();

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--random") && i + 1 < argc)
        n_random = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
      else if (g_str_equal (argv[i], "--seed") && i + 1 < argc)
        seed = (guint32) g_ascii_strtoull (argv[++i], NULL, 10);
      else if (g_str_equal (argv[i], "--max-len") && i + 1 < argc)
        {
          max_len = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
          max_len = MAX (max_len, 1);
        }
      else
        g_ptr_array_add (paths, argv[i]);
    }
  if (g_getenv ("SMARTASYNC_TEST_QUICK") != NULL)
    n_random = MIN (n_random, 40);

  LLVMFuzzerInitialize (&argc, &argv);
  g_print ("TAP version 13\n");

  for (guint i = 0; i < paths->len; i++)
    run_path (g_ptr_array_index (paths, i));

  if (n_random > 0)
    {
      GRand *rand = g_rand_new_with_seed (seed);
      guint8 *buffer = g_malloc (max_len);

      for (guint n = 0; n < n_random; n++)
        {
          guint len = g_rand_int_range (rand, 1, max_len + 1);

          for (guint b = 0; b < len; b++)
            buffer[b] = (guint8) g_rand_int_range (rand, 0, 256);
          LLVMFuzzerTestOneInput (buffer, len);
        }
      g_print ("ok %u %u random inputs (seed %u, up to %u bytes)\n", ++tap_count, n_random,
               seed, max_len);
      g_free (buffer);
      g_rand_free (rand);
    }

  g_print ("1..%u\n# %" G_GUINT64_FORMAT " calls, %" G_GUINT64_FORMAT " threads, %.2f s\n",
           tap_count, fuzz_api_calls, fuzz_api_threads, (g_get_monotonic_time () - start) / 1e6);
  return 0;
}
