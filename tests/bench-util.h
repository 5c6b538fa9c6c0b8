/* bench-util.h: timing, result tables and JSON output shared by the benchmarks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every benchmark program measures rows in BENCH_ROUNDS rounds, interleaved
 * across rows so that a slow spell of a noisy machine hits a row and its
 * baselines alike, and reports the median of the rounds with its ratio to
 * baselines measured in the same run (ratio = value ÷ baseline value).
 *
 * A BenchTable holds the rows of one kind of value (ns per call, ops/s,
 * bytes per operation), prints them as the classic four-column table
 * (name | value | baseline | ratio) or as a pivot (one line per x, one
 * column per series), and writes them as a JSON array. The command line of
 * every program is the same: --quick (also SMARTASYNC_TEST_QUICK=1) for a
 * smoke run, --json FILE to write everything. */

#pragma once

#include <smartasync-glib.h>

G_BEGIN_DECLS

#define BENCH_ROUNDS 7
#define BENCH_MAX_BASELINES 4
#define BENCH_QUICK_DIVISOR 100

/* Clocks and statistics */

gint64   bench_now_ns          (void);
gint64   bench_cpu_ns          (void);   /* getrusage (RUSAGE_SELF): user + system */
double   bench_median          (const double *values,
                                guint         n);
double   bench_percentile      (const double *values,
                                guint         n,
                                double        p);

static inline void
bench_check (guint    *failures,
             gboolean  ok)
{
  if (G_UNLIKELY (!ok))
    (*failures)++;
}

/* A GTaskThreadFunc: returns twice the int32 #GVariant task data as an int. */
void     bench_double_thread_func (GTask        *task,
                                   gpointer      source_object,
                                   gpointer      task_data,
                                   GCancellable *cancellable);

/* The command line: --quick and --json FILE. FALSE (with a message) on a
 * bad option. */
gboolean bench_parse_options   (int          *argc,
                                char       ***argv,
                                const char   *program,
                                const char   *summary,
                                gboolean     *quick,
                                char        **json_path);

/* "smartasync-glib 0.1.0 <what>: GLib …, nproc …, CPU …, load …" */
void     bench_print_title     (const char   *what);
void     bench_print_rule      (int           width);
/* "<what>: 1234 ns; target 750 ns: met" */
gboolean bench_print_target    (const char   *what,
                                double        value,
                                double        target,
                                const char   *unit);

/* Tables */

typedef struct _BenchTable BenchTable;

BenchTable *bench_table_new         (const char       *value_header,
                                     int               value_width,
                                     int               precision,
                                     const char       *json_key);
void        bench_table_free        (BenchTable       *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchTable, bench_table_free)

/* Rows are numbered from 1 in the order they are added; 0 means "none" in
 * a list of baselines. */
guint       bench_table_add         (BenchTable       *table,
                                     const char       *section,
                                     const char       *name,
                                     const guint      *baselines);
guint       bench_table_get_n_rows  (const BenchTable *table);
/* Optional, for JSON and pivots: the unit of the value ("call", …), the
 * calls of a round, and a series and x for bench_table_print_pivot(). */
void        bench_table_set_unit    (BenchTable       *table,
                                     guint             row,
                                     const char       *unit);
void        bench_table_set_calls   (BenchTable       *table,
                                     guint             row,
                                     guint             calls);
void        bench_table_set_series  (BenchTable       *table,
                                     guint             row,
                                     const char       *series,
                                     const char       *x_key,
                                     gint64            x);

void        bench_table_set_round   (BenchTable       *table,
                                     guint             row,
                                     guint             round,
                                     double            value);
/* Computes the medians of the rounds set so far. */
void        bench_table_finish      (BenchTable       *table);
double      bench_table_get_median  (const BenchTable *table,
                                     guint             row);
double      bench_table_ratio       (const BenchTable *table,
                                     guint             row,
                                     guint             baseline);

void        bench_table_print       (const BenchTable *table);
void        bench_table_print_pivot (const BenchTable *table,
                                     const char       *x_header,
                                     const char       *baseline_series);

/* JSON: a document is built in a GString. Every bench_json_*() appends one
 * member of the top-level object; bench_json_write() closes and writes it. */
GString    *bench_json_begin        (gboolean          quick);
void        bench_json_number       (GString          *out,
                                     const char       *key,
                                     double            value);
void        bench_json_uint         (GString          *out,
                                     const char       *key,
                                     guint64           value);
void        bench_json_table        (GString          *out,
                                     const char       *key,
                                     const BenchTable *table);
void        bench_json_target       (GString          *out,
                                     const char       *key,
                                     double            value,
                                     double            target);
void        bench_json_append_string (GString         *out,
                                      const char      *s);
void        bench_json_append_number (GString         *out,
                                      double           value);

/* Writes the JSON (when @json_path is set), reports failures, and returns
 * the exit status: 0, or 1 when calls returned wrong results or the file
 * could not be written. Frees @json. */
int         bench_finish            (const char       *program,
                                     const char       *json_path,
                                     GString          *json,
                                     guint             failures);

G_END_DECLS
