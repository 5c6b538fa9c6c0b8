/* bench-util.c: timing, result tables and JSON output shared by the benchmarks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _POSIX_C_SOURCE 200809L  /* clock_gettime() under -std=c11 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench-util.h"

#define NAME_W 40
#define BASE_W 40

/* Clocks and statistics */

gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

gint64
bench_cpu_ns (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0;
  return ((gint64) usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_GINT64_CONSTANT (1000000000) +
         ((gint64) usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Linear interpolation between the two nearest ranks: the median of an odd
 * number of values is the middle one. */
double
bench_percentile (const double *values,
                  guint         n,
                  double        p)
{
  g_autofree double *sorted = NULL;
  double rank, frac;
  guint lo;

  if (n == 0)
    return 0;

  sorted = g_memdup2 (values, n * sizeof (double));
  qsort (sorted, n, sizeof (double), compare_doubles);
  rank = CLAMP (p, 0.0, 1.0) * (n - 1);
  lo = (guint) rank;
  frac = rank - lo;
  if (lo + 1 >= n)
    return sorted[n - 1];
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double
bench_median (const double *values,
              guint         n)
{
  return bench_percentile (values, n, 0.5);
}

/* Workloads */

void
bench_double_thread_func (GTask        *task,
                          gpointer      source_object,
                          gpointer      task_data,
                          GCancellable *cancellable)
{
  g_task_return_int (task, 2 * g_variant_get_int32 (task_data));
}

/* Command line */

gboolean
bench_parse_options (int          *argc,
                     char       ***argv,
                     const char   *program,
                     const char   *summary,
                     gboolean     *quick,
                     char        **json_path)
{
  GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, quick, "Small N: a smoke run", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, json_path, "Also write the rows as JSON", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (summary);
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("%s: %s\n", program, error->message);
      return FALSE;
    }

  if (g_strcmp0 (g_getenv ("SMARTASYNC_TEST_QUICK"), "1") == 0)
    *quick = TRUE;
  return TRUE;
}

/* The machine */

static char *
cpu_model (void)
{
  g_autofree char *cpuinfo = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return g_strdup ("unknown CPU");

  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');

      if (colon != NULL && g_str_has_prefix (lines[i], "model name"))
        return g_strstrip (g_strdup (colon + 1));
    }
  return g_strdup ("unknown CPU");
}

/* The load average when the title was printed, for the JSON. */
static double start_load[3] = { -1, -1, -1 };

static void
load_average (double load[3])
{
  g_autofree char *text = NULL;

  load[0] = load[1] = load[2] = -1;
  if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    {
      char *end = text;

      for (guint i = 0; i < 3; i++)
        load[i] = g_ascii_strtod (end, &end);
    }
}

void
bench_print_title (const char *what)
{
  g_autofree char *model = cpu_model ();
  double *load = start_load;

  load_average (load);
  printf ("smartasync-glib %s %s: GLib %u.%u.%u (built against %d.%d.%d), nproc %u\n",
          SMARTASYNC_VERSION_S, what, glib_major_version, glib_minor_version,
          glib_micro_version, GLIB_MAJOR_VERSION, GLIB_MINOR_VERSION, GLIB_MICRO_VERSION,
          g_get_num_processors ());
  printf ("machine: %s, load average %.2f %.2f %.2f at start\n",
          model, load[0], load[1], load[2]);
}

void
bench_print_rule (int width)
{
  for (int i = 0; i < width; i++)
    putchar ('-');
  putchar ('\n');
}

gboolean
bench_print_target (const char *what,
                    double      value,
                    double      target,
                    const char *unit)
{
  gboolean met = value <= target;

  printf ("%s: %.0f %s; target %.0f %s: %s\n", what, value, unit, target, unit,
          met ? "met" : "NOT met");
  return met;
}

/* Tables */

typedef struct
{
  const char *section;
  const char *name;
  guint       baselines[BENCH_MAX_BASELINES];
  const char *unit;
  guint       calls;
  const char *series;
  const char *x_key;
  gint64      x;
  guint       n_rounds;
  double      rounds[BENCH_ROUNDS];
  double      median;
} Row;

struct _BenchTable
{
  const char *value_header;
  int         value_width;
  int         precision;
  const char *json_key;
  GArray     *rows;       /* of Row; index 0 is "none" */
};

BenchTable *
bench_table_new (const char *value_header,
                 int         value_width,
                 int         precision,
                 const char *json_key)
{
  BenchTable *table = g_new0 (BenchTable, 1);
  Row none = { 0 };

  table->value_header = value_header;
  table->value_width = value_width;
  table->precision = precision;
  table->json_key = json_key;
  table->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_append_val (table->rows, none);
  return table;
}

void
bench_table_free (BenchTable *table)
{
  g_array_unref (table->rows);
  g_free (table);
}

static Row *
row_at (const BenchTable *table,
        guint             row)
{
  g_assert (row > 0 && row < table->rows->len);
  return &g_array_index (table->rows, Row, row);
}

guint
bench_table_add (BenchTable  *table,
                 const char  *section,
                 const char  *name,
                 const guint *baselines)
{
  Row row = { 0 };

  row.section = section;
  row.name = name;
  for (guint b = 0; baselines != NULL && b < BENCH_MAX_BASELINES && baselines[b] != 0; b++)
    row.baselines[b] = baselines[b];
  g_array_append_val (table->rows, row);
  return table->rows->len - 1;
}

guint
bench_table_get_n_rows (const BenchTable *table)
{
  return table->rows->len - 1;
}

void
bench_table_set_unit (BenchTable *table,
                      guint       row,
                      const char *unit)
{
  row_at (table, row)->unit = unit;
}

void
bench_table_set_calls (BenchTable *table,
                       guint       row,
                       guint       calls)
{
  row_at (table, row)->calls = calls;
}

void
bench_table_set_series (BenchTable *table,
                        guint       row,
                        const char *series,
                        const char *x_key,
                        gint64      x)
{
  Row *r = row_at (table, row);

  r->series = series;
  r->x_key = x_key;
  r->x = x;
}

void
bench_table_set_round (BenchTable *table,
                       guint       row,
                       guint       round,
                       double      value)
{
  Row *r = row_at (table, row);

  g_assert (round < BENCH_ROUNDS);
  r->rounds[round] = value;
  r->n_rounds = MAX (r->n_rounds, round + 1);
}

void
bench_table_finish (BenchTable *table)
{
  for (guint id = 1; id < table->rows->len; id++)
    {
      Row *r = row_at (table, id);

      r->median = bench_median (r->rounds, r->n_rounds);
    }
}

double
bench_table_get_median (const BenchTable *table,
                        guint             row)
{
  return row_at (table, row)->median;
}

double
bench_table_ratio (const BenchTable *table,
                   guint             row,
                   guint             baseline)
{
  double base = row_at (table, baseline)->median;

  return base > 0 ? row_at (table, row)->median / base : 0;
}

/* Two decimals, or two significant digits for tiny ratios (a batch against
 * calls made one by one). */
static char *
format_ratio (double value)
{
  return g_strdup_printf (value >= 0.1 || value == 0 ? "%.2fx" : "%.2gx", value);
}

void
bench_table_print (const BenchTable *table)
{
  int width = NAME_W + table->value_width + BASE_W + 15;
  const char *section = NULL;

  printf ("%-*s | %*s | %-*s | %s\n", NAME_W, "name", table->value_width,
          table->value_header, BASE_W, "baseline", "ratio");
  for (guint id = 1; id < table->rows->len; id++)
    {
      const Row *r = row_at (table, id);
      g_autofree char *first = NULL;

      if (g_strcmp0 (section, r->section) != 0)
        {
          section = r->section;
          bench_print_rule (width);
          printf ("%s\n", section);
        }

      printf ("%-*s | %*.*f | ", NAME_W, r->name, table->value_width, table->precision,
              r->median);
      if (r->baselines[0] == 0)
        {
          printf ("%-*s | %s\n", BASE_W, "(baseline)", "-");
          continue;
        }

      first = format_ratio (bench_table_ratio (table, id, r->baselines[0]));
      printf ("%-*s | %s\n", BASE_W, row_at (table, r->baselines[0])->name, first);
      for (guint b = 1; b < BENCH_MAX_BASELINES && r->baselines[b] != 0; b++)
        {
          g_autofree char *more = format_ratio (bench_table_ratio (table, id, r->baselines[b]));

          printf ("%-*s | %*s | %-*s | %s\n", NAME_W, "", table->value_width, "", BASE_W,
                  row_at (table, r->baselines[b])->name, more);
        }
    }
  bench_print_rule (width);
}

static guint
find_row (const BenchTable *table,
          const char       *series,
          gint64            x)
{
  for (guint id = 1; id < table->rows->len; id++)
    {
      const Row *r = row_at (table, id);

      if (r->x == x && g_strcmp0 (r->series, series) == 0)
        return id;
    }
  return 0;
}

/* One line per x, one column per series: "value" for the baseline series,
 * "value (ratio)" for the others. */
void
bench_table_print_pivot (const BenchTable *table,
                         const char       *x_header,
                         const char       *baseline_series)
{
  g_autoptr(GPtrArray) series = g_ptr_array_new ();
  g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) widths = g_array_new (FALSE, FALSE, sizeof (int));
  int x_width = MAX ((int) strlen (x_header), 7);
  int width = x_width;

  for (guint id = 1; id < table->rows->len; id++)
    {
      const Row *r = row_at (table, id);
      gboolean seen_x = FALSE;

      if (r->series == NULL)
        continue;
      if (!g_ptr_array_find_with_equal_func (series, r->series, g_str_equal, NULL))
        g_ptr_array_add (series, (gpointer) r->series);
      for (guint i = 0; i < xs->len && !seen_x; i++)
        seen_x = g_array_index (xs, gint64, i) == r->x;
      if (!seen_x)
        g_array_append_val (xs, r->x);
    }

  for (guint s = 0; s < series->len; s++)
    {
      int w = MAX ((int) g_utf8_strlen (series->pdata[s], -1), table->value_width + 10);

      g_array_append_val (widths, w);
      width += w + 3;
    }

  printf ("%*s", x_width, x_header);
  for (guint s = 0; s < series->len; s++)
    printf (" | %*s", g_array_index (widths, int, s) +
            (int) (strlen (series->pdata[s]) - g_utf8_strlen (series->pdata[s], -1)),
            (const char *) series->pdata[s]);
  printf ("\n");
  bench_print_rule (width);

  for (guint i = 0; i < xs->len; i++)
    {
      gint64 x = g_array_index (xs, gint64, i);
      guint base = find_row (table, baseline_series, x);

      printf ("%*" G_GINT64_FORMAT, x_width, x);
      for (guint s = 0; s < series->len; s++)
        {
          guint id = find_row (table, series->pdata[s], x);
          g_autofree char *cell = NULL;

          if (id == 0)
            cell = g_strdup ("-");
          else if (base == 0 || base == id)
            cell = g_strdup_printf ("%.*f", table->precision, row_at (table, id)->median);
          else
            {
              g_autofree char *r = format_ratio (bench_table_ratio (table, id, base));

              cell = g_strdup_printf ("%.*f (%s)", table->precision,
                                      row_at (table, id)->median, r);
            }
          printf (" | %*s", g_array_index (widths, int, s), cell);
        }
      printf ("\n");
    }
  bench_print_rule (width);
}

/* JSON */

void
bench_json_append_string (GString    *out,
                          const char *s)
{
  g_string_append_c (out, '"');
  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
}

void
bench_json_append_number (GString *out,
                          double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.3f", value));
}

static void
append_json_load (GString      *out,
                  const char   *key,
                  const double *load)
{
  g_string_append_printf (out, "  \"%s\": [", key);
  for (guint i = 0; i < 3; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      bench_json_append_number (out, load[i]);
    }
  g_string_append (out, "],\n");
}

GString *
bench_json_begin (gboolean quick)
{
  GString *out = g_string_new ("{\n");
  g_autofree char *model = cpu_model ();
  double load[3];

  load_average (load);
  g_string_append_printf (out, "  \"glib_version\": \"%u.%u.%u\",\n",
                          glib_major_version, glib_minor_version, glib_micro_version);
  g_string_append_printf (out, "  \"smartasync_version\": \"%s\",\n", SMARTASYNC_VERSION_S);
  g_string_append_printf (out, "  \"nproc\": %u,\n  \"quick\": %s,\n  \"rounds\": %d,\n",
                          g_get_num_processors (), quick ? "true" : "false", BENCH_ROUNDS);
  g_string_append (out, "  \"cpu_model\": ");
  bench_json_append_string (out, model);
  g_string_append (out, ",\n");
  append_json_load (out, "loadavg_start", start_load);
  append_json_load (out, "loadavg_end", load);
  return out;
}

void
bench_json_number (GString    *out,
                   const char *key,
                   double      value)
{
  g_string_append_printf (out, "  \"%s\": ", key);
  bench_json_append_number (out, value);
  g_string_append (out, ",\n");
}

void
bench_json_uint (GString    *out,
                 const char *key,
                 guint64     value)
{
  g_string_append_printf (out, "  \"%s\": %" G_GUINT64_FORMAT ",\n", key, value);
}

void
bench_json_target (GString    *out,
                   const char *key,
                   double      value,
                   double      target)
{
  g_string_append_printf (out, "  \"%s\": {\"value\": ", key);
  bench_json_append_number (out, value);
  g_string_append (out, ", \"target\": ");
  bench_json_append_number (out, target);
  g_string_append_printf (out, ", \"met\": %s},\n", value <= target ? "true" : "false");
}

static void
append_json_row (GString          *out,
                 const BenchTable *table,
                 guint             id)
{
  const Row *r = row_at (table, id);

  g_string_append (out, "    {\"section\": ");
  bench_json_append_string (out, r->section);
  g_string_append (out, ", \"name\": ");
  bench_json_append_string (out, r->name);
  if (r->unit != NULL)
    g_string_append_printf (out, ", \"unit\": \"%s\"", r->unit);
  if (r->calls > 0)
    g_string_append_printf (out, ", \"calls_per_round\": %u", r->calls);
  if (r->series != NULL)
    {
      g_string_append (out, ", \"series\": ");
      bench_json_append_string (out, r->series);
      g_string_append_printf (out, ", \"%s\": %" G_GINT64_FORMAT, r->x_key, r->x);
    }
  g_string_append_printf (out, ", \"%s\": ", table->json_key);
  bench_json_append_number (out, r->median);
  g_string_append_printf (out, ", \"rounds_%s\": [", table->json_key);
  for (guint i = 0; i < r->n_rounds; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      bench_json_append_number (out, r->rounds[i]);
    }
  g_string_append (out, "], \"baselines\": [");
  for (guint b = 0; b < BENCH_MAX_BASELINES && r->baselines[b] != 0; b++)
    {
      const Row *base = row_at (table, r->baselines[b]);

      g_string_append (out, b > 0 ? ", {\"name\": " : "{\"name\": ");
      bench_json_append_string (out, base->name);
      g_string_append_printf (out, ", \"%s\": ", table->json_key);
      bench_json_append_number (out, base->median);
      g_string_append (out, ", \"ratio\": ");
      bench_json_append_number (out, bench_table_ratio (table, id, r->baselines[b]));
      g_string_append_c (out, '}');
    }
  g_string_append (out, id + 1 < table->rows->len ? "]},\n" : "]}\n");
}

void
bench_json_table (GString          *out,
                  const char       *key,
                  const BenchTable *table)
{
  g_string_append_printf (out, "  \"%s\": [\n", key);
  for (guint id = 1; id < table->rows->len; id++)
    append_json_row (out, table, id);
  g_string_append (out, "  ],\n");
}

int
bench_finish (const char *program,
              const char *json_path,
              GString    *json,
              guint       failures)
{
  g_autoptr(GError) error = NULL;
  gboolean written = TRUE;

  /* Every member ends with ",\n": the last one closes the object. */
  if (g_str_has_suffix (json->str, ",\n"))
    g_string_truncate (json, json->len - 2);
  g_string_append (json, "\n}\n");

  if (json_path != NULL)
    written = g_file_set_contents (json_path, json->str, json->len, &error);
  if (!written)
    g_printerr ("%s: could not write %s: %s\n", program, json_path, error->message);
  if (failures > 0)
    g_printerr ("%s: %u calls returned a wrong result\n", program, failures);

  g_string_free (json, TRUE);
  return (failures > 0 || !written) ? 1 : 0;
}
