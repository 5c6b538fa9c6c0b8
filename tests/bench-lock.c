/* bench-lock.c: cost of SmartasyncLock waiters and of SmartasyncBatch scopes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Two questions, each against hand-written GLib code measured in the same run:
 *
 * 1. What does one more caller of a SmartasyncLock cost? In a running loop,
 *    one idle starts N smartasync_lock_run_async() calls on one key; the
 *    implementation holds its task until a later idle completes it, so that
 *    every caller joins the one run. The time from the first call to the last
 *    callback, minus that of a run with a single caller, divided by N - 1, is
 *    the cost of an extra waiter. The baseline does the same with N raw
 *    GTasks: created in one idle, completed from the next.
 *
 * 2. What does a SmartasyncBatch gain over N synchronous calls made one by
 *    one, from plain code with no loop? With an implementation that takes
 *    real time (a 1 ms timeout), the calls of a batch overlap; with one that
 *    completes at once, the comparison shows the batch's own overhead. The
 *    baseline is the hand-written equivalent of a batch: N raw GTasks on a
 *    pushed context, iterated until all have called back.
 *
 * Every row is the median of ROUNDS rounds, interleaved across rows, so that
 * drift of a noisy machine hits a row and its baselines alike; ratio = ns ÷
 * baseline ns (above 1 is slower than the baseline).
 *
 *   bench-lock             the full table
 *   bench-lock --quick     a smoke run: small N, every measurement made
 *   bench-lock --json FILE also writes the rows as JSON
 *
 * SMARTASYNC_TEST_QUICK=1 in the environment implies --quick. No timing is
 * asserted; the exit status is non-zero only when a call returned a wrong
 * result or the JSON file could not be written. */

#define _POSIX_C_SOURCE 200809L  /* clock_gettime() under -std=c11 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test-util.h"

#define ROUNDS 7
#define MAX_BASELINES 2
#define QUICK_DIVISOR 100
#define N_WAITERS 10000
#define N_BATCH 1000
#define SINGLE_RUNS 200          /* runs of one waiter averaged per round */
#define EXTRA_WAITER_FLOOR_NS 2000.0
#define EXTRA_WAITER_TARGET_NS 500.0

typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op_held;       /* keeps its task in @held */
  SmartasyncOperation *op_timer;      /* completes after 1 ms */
  SmartasyncOperation *op_immediate;  /* completes at once */
  GTask               *held;
  GMainContext        *raw_context;   /* for the hand-written batches */
  guint                n_waiters;
  guint                n_batch;
  guint                single_runs;
  guint                failures;      /* calls that returned a wrong result */
} Fixture;

static inline gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static inline void
check (Fixture  *fx,
       gboolean  ok)
{
  if (G_UNLIKELY (!ok))
    fx->failures++;
}

/* Implementations */

/* Holds its task for complete_held(): the run stays in flight until every
 * caller of the round has joined it. */
static void
held_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  Fixture *fx = user_data;

  g_assert (fx->held == NULL);
  fx->held = g_object_ref (task);
}

static gboolean
complete_held (gpointer data)
{
  Fixture *fx = data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  g_task_return_value (fx->held, &value);
  g_clear_object (&fx->held);
  return G_SOURCE_REMOVE;
}

static gboolean
timer_fired (gpointer task)
{
  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
timer_impl (GTask        *task,
            gpointer      source_object,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new (1);

  g_source_set_callback (timeout, timer_fired, g_object_ref (task), g_object_unref);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
}

static void
immediate_impl (GTask        *task,
                gpointer      source_object,
                GVariant     *args,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

/* Measures. Each returns the time of one round, in nanoseconds: a total, or
 * for the single-waiter ones the average of fx->single_runs runs. */

typedef enum
{
  M_RAW_1,
  M_RAW_N,
  M_LOCK_1,
  M_LOCK_N,
  M_LOCK_N_CANCELLABLE,
  M_TIMER_SYNC,
  M_TIMER_RAW,
  M_TIMER_BATCH,
  M_IMMEDIATE_SYNC,
  M_IMMEDIATE_RAW,
  M_IMMEDIATE_BATCH,
  N_MEASURES
} MeasureId;

/* 1. Waiters in a running loop */

typedef struct
{
  Fixture        *fx;
  guint           n;
  guint           done;
  gboolean        raw;
  GPtrArray      *tasks;          /* raw GTasks, until completed */
  GCancellable  **cancellables;   /* one per waiter, or NULL */
  gint64          start;
  gint64          end;
  GMainLoop      *loop;
} Round;

static void
round_callback_done (Round    *round,
                     gboolean  ok)
{
  check (round->fx, ok);
  if (++round->done < round->n)
    return;

  round->end = now_ns ();
  g_main_loop_quit (round->loop);
}

static void
raw_task_done (GObject      *source_object,
               GAsyncResult *result,
               gpointer      data)
{
  round_callback_done (data, g_task_propagate_boolean (G_TASK (result), NULL));
}

static void
lock_waiter_done (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      data)
{
  Round *round = data;
  g_auto(GValue) value = G_VALUE_INIT;

  round_callback_done (round,
                       smartasync_lock_run_finish (round->fx->lock, result, &value, NULL) &&
                       g_value_get_int (&value) == 42);
}

static gboolean
complete_raw_tasks (gpointer data)
{
  Round *round = data;

  for (guint i = 0; i < round->tasks->len; i++)
    g_task_return_boolean (g_ptr_array_index (round->tasks, i), TRUE);
  g_ptr_array_set_size (round->tasks, 0);
  return G_SOURCE_REMOVE;
}

/* Everything is queued in this idle; the completion comes from the next one,
 * as it would from a backend's reply. */
static gboolean
round_start (gpointer data)
{
  Round *round = data;
  Fixture *fx = round->fx;

  round->start = now_ns ();
  if (round->raw)
    {
      for (guint i = 0; i < round->n; i++)
        g_ptr_array_add (round->tasks, g_task_new (NULL, NULL, raw_task_done, round));
      g_idle_add (complete_raw_tasks, round);
    }
  else
    {
      for (guint i = 0; i < round->n; i++)
        smartasync_lock_run_async (fx->lock, "resource", fx->op_held, NULL, NULL,
                                   round->cancellables ? round->cancellables[i] : NULL,
                                   lock_waiter_done, round);
      g_idle_add (complete_held, fx);
    }
  return G_SOURCE_REMOVE;
}

static gint64
run_round (Fixture  *fx,
           guint     n,
           gboolean  raw,
           gboolean  cancellables)
{
  Round round = { fx, n, 0, raw, NULL, NULL, 0, 0, g_main_loop_new (NULL, FALSE) };
  guint executions = smartasync_lock_get_executions (fx->lock);
  guint joins = smartasync_lock_get_joins (fx->lock);

  round.tasks = g_ptr_array_new_full (raw ? n : 0, g_object_unref);
  if (cancellables)
    {
      /* Created outside the timing: the caller owns them anyway. */
      round.cancellables = g_new (GCancellable *, n);
      for (guint i = 0; i < n; i++)
        round.cancellables[i] = g_cancellable_new ();
    }

  g_idle_add (round_start, &round);
  g_main_loop_run (round.loop);

  if (!raw)
    check (fx, smartasync_lock_get_executions (fx->lock) == executions + 1 &&
               smartasync_lock_get_joins (fx->lock) == joins + n - 1);
  for (guint i = 0; cancellables && i < n; i++)
    g_object_unref (round.cancellables[i]);
  g_free (round.cancellables);
  g_ptr_array_unref (round.tasks);
  g_main_loop_unref (round.loop);

  return round.end - round.start;
}

static gint64
run_single (Fixture  *fx,
            gboolean  raw)
{
  gint64 total = 0;

  for (guint i = 0; i < fx->single_runs; i++)
    total += run_round (fx, 1, raw, FALSE);
  return total / fx->single_runs;
}

static gint64
measure_raw_1 (Fixture *fx)
{
  return run_single (fx, TRUE);
}

static gint64
measure_raw_n (Fixture *fx)
{
  return run_round (fx, fx->n_waiters, TRUE, FALSE);
}

static gint64
measure_lock_1 (Fixture *fx)
{
  return run_single (fx, FALSE);
}

static gint64
measure_lock_n (Fixture *fx)
{
  return run_round (fx, fx->n_waiters, FALSE, FALSE);
}

static gint64
measure_lock_n_cancellable (Fixture *fx)
{
  return run_round (fx, fx->n_waiters, FALSE, TRUE);
}

/* 2. and 3. Many calls from sync code */

static gint64
run_one_by_one (Fixture             *fx,
                SmartasyncOperation *op)
{
  gint64 start = now_ns ();

  for (guint i = 0; i < fx->n_batch; i++)
    check (fx, smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, NULL));
  return now_ns () - start;
}

static gint64
run_batch (Fixture             *fx,
           SmartasyncOperation *op)
{
  gint64 start = now_ns ();
  SmartasyncBatch *batch = smartasync_batch_new ();

  for (guint i = 0; i < fx->n_batch; i++)
    smartasync_batch_add (batch, op, NULL, NULL);
  check (fx, smartasync_batch_wait (batch, NULL, NULL));
  for (guint i = 0; i < fx->n_batch; i++)
    check (fx, smartasync_operation_call_finish_boolean (op, smartasync_batch_get_result (batch, i),
                                                         NULL));
  smartasync_batch_close (batch);
  g_object_unref (batch);
  return now_ns () - start;
}

typedef struct
{
  Fixture *fx;
  guint    done;
} RawBatch;

static void
raw_batch_done (GObject      *source_object,
                GAsyncResult *result,
                gpointer      data)
{
  RawBatch *raw = data;

  check (raw->fx, g_task_propagate_boolean (G_TASK (result), NULL));
  raw->done++;
}

/* A batch written by hand: push a context, start every task on it, iterate
 * it until all have called back, pop. */
static gint64
run_raw_batch (Fixture        *fx,
               SmartasyncFunc  impl)
{
  gint64 start = now_ns ();
  RawBatch raw = { fx, 0 };

  g_main_context_push_thread_default (fx->raw_context);
  for (guint i = 0; i < fx->n_batch; i++)
    {
      GTask *task = g_task_new (NULL, NULL, raw_batch_done, &raw);

      impl (task, NULL, NULL, NULL, NULL);
      g_object_unref (task);
    }
  while (raw.done < fx->n_batch)
    g_main_context_iteration (fx->raw_context, TRUE);
  g_main_context_pop_thread_default (fx->raw_context);
  return now_ns () - start;
}

static gint64
measure_timer_sync (Fixture *fx)
{
  return run_one_by_one (fx, fx->op_timer);
}

static gint64
measure_timer_raw (Fixture *fx)
{
  return run_raw_batch (fx, timer_impl);
}

static gint64
measure_timer_batch (Fixture *fx)
{
  return run_batch (fx, fx->op_timer);
}

static gint64
measure_immediate_sync (Fixture *fx)
{
  return run_one_by_one (fx, fx->op_immediate);
}

static gint64
measure_immediate_raw (Fixture *fx)
{
  return run_raw_batch (fx, immediate_impl);
}

static gint64
measure_immediate_batch (Fixture *fx)
{
  return run_batch (fx, fx->op_immediate);
}

static gint64 (* const measures[N_MEASURES]) (Fixture *fx) = {
  [M_RAW_1] = measure_raw_1,
  [M_RAW_N] = measure_raw_n,
  [M_LOCK_1] = measure_lock_1,
  [M_LOCK_N] = measure_lock_n,
  [M_LOCK_N_CANCELLABLE] = measure_lock_n_cancellable,
  [M_TIMER_SYNC] = measure_timer_sync,
  [M_TIMER_RAW] = measure_timer_raw,
  [M_TIMER_BATCH] = measure_timer_batch,
  [M_IMMEDIATE_SYNC] = measure_immediate_sync,
  [M_IMMEDIATE_RAW] = measure_immediate_raw,
  [M_IMMEDIATE_BATCH] = measure_immediate_batch,
};

/* Rows: a measure, minus another one, per unit */

typedef enum
{
  ROW_NONE,
  ROW_RAW_ONE,
  ROW_LOCK_ONE,
  ROW_RAW_EXTRA,
  ROW_LOCK_EXTRA,
  ROW_LOCK_EXTRA_CANCELLABLE,
  ROW_TIMER_SYNC,
  ROW_TIMER_RAW,
  ROW_TIMER_BATCH,
  ROW_IMMEDIATE_SYNC,
  ROW_IMMEDIATE_RAW,
  ROW_IMMEDIATE_BATCH,
  N_ROWS
} RowId;

typedef enum
{
  PER_RUN,          /* the measure as is */
  PER_EXTRA_WAITER, /* (measure - minus) / (n_waiters - 1) */
  PER_CALL,         /* measure / n_batch */
} Unit;

typedef struct
{
  const char *section;
  const char *name;
  MeasureId   measure;
  MeasureId   minus;
  Unit        unit;
  RowId       baselines[MAX_BASELINES];
} Row;

typedef struct
{
  double rounds[ROUNDS];
  double median;
} Result;

#define S_LOCK   "1. SmartasyncLock: N waiters on one key, in a running loop"
#define S_TIMER  "2. N calls from sync code, implementation completing after 1 ms"
#define S_IMMED  "3. N calls from sync code, implementation completing at once"

static const Row rows[N_ROWS] = {
  [ROW_RAW_ONE] = { S_LOCK, "raw GTask, 1 task: whole run", M_RAW_1, N_MEASURES,
                    PER_RUN, { 0 } },
  [ROW_LOCK_ONE] = { S_LOCK, "lock, 1 waiter: whole run", M_LOCK_1, N_MEASURES,
                     PER_RUN, { ROW_RAW_ONE } },
  [ROW_RAW_EXTRA] = { S_LOCK, "raw GTasks: per extra task", M_RAW_N, M_RAW_1,
                      PER_EXTRA_WAITER, { 0 } },
  [ROW_LOCK_EXTRA] = { S_LOCK, "lock: per extra waiter", M_LOCK_N, M_LOCK_1,
                       PER_EXTRA_WAITER, { ROW_RAW_EXTRA } },
  [ROW_LOCK_EXTRA_CANCELLABLE] = { S_LOCK, "lock: per extra waiter, + GCancellable",
                                   M_LOCK_N_CANCELLABLE, M_LOCK_1, PER_EXTRA_WAITER,
                                   { ROW_LOCK_EXTRA, ROW_RAW_EXTRA } },

  [ROW_TIMER_SYNC] = { S_TIMER, "call_sync one by one: per call", M_TIMER_SYNC, N_MEASURES,
                       PER_CALL, { 0 } },
  [ROW_TIMER_RAW] = { S_TIMER, "raw GTasks, pushed context: per call", M_TIMER_RAW,
                      N_MEASURES, PER_CALL, { 0 } },
  [ROW_TIMER_BATCH] = { S_TIMER, "SmartasyncBatch: per call", M_TIMER_BATCH, N_MEASURES,
                        PER_CALL, { ROW_TIMER_SYNC, ROW_TIMER_RAW } },

  [ROW_IMMEDIATE_SYNC] = { S_IMMED, "call_sync one by one: per call", M_IMMEDIATE_SYNC,
                           N_MEASURES, PER_CALL, { 0 } },
  [ROW_IMMEDIATE_RAW] = { S_IMMED, "raw GTasks, pushed context: per call", M_IMMEDIATE_RAW,
                          N_MEASURES, PER_CALL, { 0 } },
  [ROW_IMMEDIATE_BATCH] = { S_IMMED, "SmartasyncBatch: per call", M_IMMEDIATE_BATCH,
                            N_MEASURES, PER_CALL, { ROW_IMMEDIATE_SYNC, ROW_IMMEDIATE_RAW } },
};

static double
row_value (const Fixture *fx,
           const Row     *row,
           const gint64  *times)
{
  double t = (double) times[row->measure];

  switch (row->unit)
    {
    case PER_EXTRA_WAITER:
      return (t - (double) times[row->minus]) / (fx->n_waiters - 1);
    case PER_CALL:
      return t / fx->n_batch;
    case PER_RUN:
    default:
      return t;
    }
}

/* Running */

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (const double *values)
{
  double sorted[ROUNDS];

  memcpy (sorted, values, sizeof sorted);
  qsort (sorted, ROUNDS, sizeof (double), compare_doubles);
  return sorted[ROUNDS / 2];
}

static void
run_all (Fixture *fx,
         Result  *results)
{
  gint64 times[N_MEASURES];

  /* Warm up: every path once, caches and the private context created. */
  for (MeasureId m = 0; m < N_MEASURES; m++)
    measures[m] (fx);

  /* A round takes every measure once, so that the rows derived from two
   * measures (extra waiters) pair measures taken at the same time. */
  for (guint r = 0; r < ROUNDS; r++)
    {
      for (MeasureId m = 0; m < N_MEASURES; m++)
        times[m] = measures[m] (fx);
      for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
        results[id].rounds[r] = row_value (fx, &rows[id], times);
    }

  for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
    results[id].median = median (results[id].rounds);
}

/* Output */

#define NAME_W 40
#define NS_W 12
#define BASE_W 40

static double
ratio (const Result *results,
       RowId         id,
       RowId         baseline)
{
  double base = results[baseline].median;

  return base > 0 ? results[id].median / base : 0;
}

static void
print_header (const Fixture *fx,
              gboolean       quick)
{
  printf ("smartasync-glib %s lock and batch benchmark: GLib %u.%u.%u, nproc %u\n",
          SMARTASYNC_VERSION_S, glib_major_version, glib_minor_version, glib_micro_version,
          g_get_num_processors ());
  printf ("%s run: N = %u waiters (single-waiter runs averaged over %u), N = %u batched calls;\n"
          "ns is the median of %d rounds; ratio = ns / baseline ns (>1 is slower)\n\n",
          quick ? "quick" : "full", fx->n_waiters, fx->single_runs, fx->n_batch, ROUNDS);
  printf ("%-*s | %*s | %-*s | %s\n", NAME_W, "name", NS_W, "ns (median)",
          BASE_W, "baseline", "ratio");
}

static void
print_rule (void)
{
  char rule[NAME_W + NS_W + BASE_W + 16];

  memset (rule, '-', sizeof rule - 1);
  rule[sizeof rule - 1] = '\0';
  printf ("%s\n", rule);
}

/* Two decimals, or two significant digits for the tiny ratios of a batch
 * against calls made one by one. */
static void
print_ratio (double value)
{
  printf (value >= 0.1 || value == 0 ? "%.2fx\n" : "%.2gx\n", value);
}

static void
print_row (const Result *results,
           RowId         id)
{
  const Row *row = &rows[id];

  printf ("%-*s | %*.1f | ", NAME_W, row->name, NS_W, results[id].median);
  if (row->baselines[0] == ROW_NONE)
    {
      printf ("%-*s | %s\n", BASE_W, "(baseline)", "-");
      return;
    }

  printf ("%-*s | ", BASE_W, rows[row->baselines[0]].name);
  print_ratio (ratio (results, id, row->baselines[0]));
  for (guint b = 1; b < MAX_BASELINES && row->baselines[b] != ROW_NONE; b++)
    {
      printf ("%-*s | %*s | %-*s | ", NAME_W, "", NS_W, "", BASE_W, rows[row->baselines[b]].name);
      print_ratio (ratio (results, id, row->baselines[b]));
    }
}

static void
print_table (const Result *results)
{
  const char *section = NULL;

  for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
    {
      if (g_strcmp0 (section, rows[id].section) != 0)
        {
          section = rows[id].section;
          print_rule ();
          printf ("%s\n", section);
        }
      print_row (results, id);
    }
  print_rule ();
}

static void
print_verdict (const Result *results)
{
  double extra = results[ROW_LOCK_EXTRA].median;

  printf ("\nPer extra waiter: %.0f ns (%.0f ns with a GCancellable each); "
          "floor %.0f ns: %s; target %.0f ns: %s\n",
          extra, results[ROW_LOCK_EXTRA_CANCELLABLE].median,
          EXTRA_WAITER_FLOOR_NS, extra < EXTRA_WAITER_FLOOR_NS ? "met" : "NOT met",
          EXTRA_WAITER_TARGET_NS, extra <= EXTRA_WAITER_TARGET_NS ? "met" : "NOT met");
  printf ("Batch of 1 ms calls: %.1fx as fast as one by one\n",
          results[ROW_TIMER_BATCH].median > 0
          ? results[ROW_TIMER_SYNC].median / results[ROW_TIMER_BATCH].median : 0);
}

static void
append_json_string (GString    *out,
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

static void
append_json_number (GString *out,
                    double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.3f", value));
}

static void
append_json_row (GString      *out,
                 const Result *results,
                 RowId         id)
{
  static const char *const units[] = { "run", "extra_waiter", "call" };

  g_string_append (out, "    {\"section\": ");
  append_json_string (out, rows[id].section);
  g_string_append (out, ", \"name\": ");
  append_json_string (out, rows[id].name);
  g_string_append_printf (out, ", \"unit\": \"%s\", \"ns\": ", units[rows[id].unit]);
  append_json_number (out, results[id].median);
  g_string_append (out, ", \"rounds_ns\": [");
  for (guint r = 0; r < ROUNDS; r++)
    {
      if (r > 0)
        g_string_append (out, ", ");
      append_json_number (out, results[id].rounds[r]);
    }
  g_string_append (out, "], \"baselines\": [");
  for (guint b = 0; b < MAX_BASELINES && rows[id].baselines[b] != ROW_NONE; b++)
    {
      RowId base = rows[id].baselines[b];

      g_string_append (out, b > 0 ? ", {\"name\": " : "{\"name\": ");
      append_json_string (out, rows[base].name);
      g_string_append (out, ", \"ratio\": ");
      append_json_number (out, ratio (results, id, base));
      g_string_append_c (out, '}');
    }
  g_string_append (out, id + 1 < N_ROWS ? "]},\n" : "]}\n");
}

static gboolean
write_json (const char     *path,
            const Fixture  *fx,
            gboolean        quick,
            const Result   *results,
            GError        **error)
{
  g_autoptr(GString) out = g_string_new ("{\n");

  g_string_append_printf (out, "  \"glib_version\": \"%u.%u.%u\",\n",
                          glib_major_version, glib_minor_version, glib_micro_version);
  g_string_append_printf (out, "  \"smartasync_version\": \"%s\",\n", SMARTASYNC_VERSION_S);
  g_string_append_printf (out, "  \"nproc\": %u,\n  \"quick\": %s,\n  \"rounds\": %d,\n",
                          g_get_num_processors (), quick ? "true" : "false", ROUNDS);
  g_string_append_printf (out, "  \"n_waiters\": %u,\n  \"n_batch\": %u,\n",
                          fx->n_waiters, fx->n_batch);
  g_string_append (out, "  \"extra_waiter_ns\": ");
  append_json_number (out, results[ROW_LOCK_EXTRA].median);
  g_string_append (out, ",\n  \"rows\": [\n");
  for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
    append_json_row (out, results, id);
  g_string_append (out, "  ]\n}\n");

  return g_file_set_contents (path, out->str, out->len, error);
}

/* Setup */

static void
fixture_init (Fixture  *fx,
              gboolean  quick)
{
  memset (fx, 0, sizeof *fx);
  fx->lock = smartasync_lock_new ();
  fx->op_held = smartasync_operation_new_async ("bench-held", held_impl, fx, NULL);
  fx->op_timer = smartasync_operation_new_async ("bench-timer", timer_impl, NULL, NULL);
  fx->op_immediate = smartasync_operation_new_async ("bench-immediate", immediate_impl,
                                                     NULL, NULL);
  fx->raw_context = g_main_context_new ();
  fx->n_waiters = quick ? N_WAITERS / QUICK_DIVISOR : N_WAITERS;
  fx->n_batch = quick ? N_BATCH / QUICK_DIVISOR : N_BATCH;
  fx->single_runs = quick ? SINGLE_RUNS / 20 : SINGLE_RUNS;
}

static void
fixture_clear (Fixture *fx)
{
  g_clear_object (&fx->lock);
  g_clear_object (&fx->op_held);
  g_clear_object (&fx->op_timer);
  g_clear_object (&fx->op_immediate);
  g_clear_pointer (&fx->raw_context, g_main_context_unref);
}

static gboolean
parse_options (int        *argc,
               char     ***argv,
               gboolean   *quick,
               char      **json_path)
{
  GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, quick, "Small N: a smoke run", NULL },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, json_path, "Also write the rows as JSON", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("- SmartasyncLock and SmartasyncBatch benchmark");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("bench-lock: %s\n", error->message);
      return FALSE;
    }

  if (g_strcmp0 (g_getenv ("SMARTASYNC_TEST_QUICK"), "1") == 0)
    *quick = TRUE;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE;
  g_autofree char *json_path = NULL;
  g_autoptr(GError) error = NULL;
  Result results[N_ROWS] = { { { 0 } } };
  Fixture fx;

  if (!parse_options (&argc, &argv, &quick, &json_path))
    return 2;

  fixture_init (&fx, quick);
  print_header (&fx, quick);
  fflush (stdout);
  run_all (&fx, results);
  print_table (results);
  print_verdict (results);

  if (json_path != NULL && !write_json (json_path, &fx, quick, results, &error))
    g_printerr ("bench-lock: could not write %s: %s\n", json_path, error->message);
  if (fx.failures > 0)
    g_printerr ("bench-lock: %u calls returned a wrong result\n", fx.failures);

  fixture_clear (&fx);
  smartasync_reset ();

  return (fx.failures > 0 || error != NULL) ? 1 : 0;
}
