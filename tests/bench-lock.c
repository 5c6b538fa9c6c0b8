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
 *    GTasks: created in one idle, completed from the next, each freed once
 *    it has called back (as the lock frees the task of each waiter).
 *
 * 2. What does a SmartasyncBatch gain over N synchronous calls made one by
 *    one, from plain code with no loop? With an implementation that takes
 *    real time (a 1 ms timeout), the calls of a batch overlap; with one that
 *    completes at once, the comparison shows the batch's own overhead. The
 *    baseline is the hand-written equivalent of a batch: N raw GTasks on a
 *    pushed context, iterated until all have called back.
 *
 * Every row is the median of BENCH_ROUNDS rounds, interleaved across rows,
 * so that drift of a noisy machine hits a row and its baselines alike;
 * ratio = ns ÷ baseline ns (above 1 is slower than the baseline).
 *
 *   bench-lock             the full table
 *   bench-lock --quick     a smoke run: small N, every measurement made
 *   bench-lock --json FILE also writes the rows as JSON
 *
 * SMARTASYNC_TEST_QUICK=1 in the environment implies --quick. No timing is
 * asserted; the exit status is non-zero only when a call returned a wrong
 * result or the JSON file could not be written. */

#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "test-util.h"

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
  GPtrArray      *tasks;          /* raw GTasks (owned), until completed */
  GCancellable  **cancellables;   /* one per waiter, or NULL */
  gint64          start;
  gint64          end;
  GMainLoop      *loop;
} Round;

static void
round_callback_done (Round    *round,
                     gboolean  ok)
{
  bench_check (&round->fx->failures, ok);
  if (++round->done < round->n)
    return;

  round->end = bench_now_ns ();
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

/* Each task is freed as soon as it has called back, as the lock frees the
 * task of each of its waiters: freeing them all after the last callback
 * would leave their finalization out of the baseline's timing. */
static gboolean
complete_raw_tasks (gpointer data)
{
  Round *round = data;

  for (guint i = 0; i < round->tasks->len; i++)
    {
      g_task_return_boolean (g_ptr_array_index (round->tasks, i), TRUE);
      g_object_unref (g_ptr_array_index (round->tasks, i));
    }
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

  round->start = bench_now_ns ();
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

  round.tasks = g_ptr_array_new_full (raw ? n : 0, NULL);
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
    bench_check (&fx->failures, smartasync_lock_get_executions (fx->lock) == executions + 1 &&
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
  return total / MAX (fx->single_runs, 1);
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
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < fx->n_batch; i++)
    bench_check (&fx->failures,
                 smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, NULL));
  return bench_now_ns () - start;
}

static gint64
run_batch (Fixture             *fx,
           SmartasyncOperation *op)
{
  gint64 start = bench_now_ns ();
  SmartasyncBatch *batch = smartasync_batch_new ();

  for (guint i = 0; i < fx->n_batch; i++)
    smartasync_batch_add (batch, op, NULL, NULL);
  bench_check (&fx->failures, smartasync_batch_wait (batch, NULL, NULL));
  for (guint i = 0; i < fx->n_batch; i++)
    bench_check (&fx->failures,
                 smartasync_operation_call_finish_boolean (op, smartasync_batch_get_result (batch, i),
                                                           NULL));
  smartasync_batch_close (batch);
  g_object_unref (batch);
  return bench_now_ns () - start;
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

  bench_check (&raw->fx->failures, g_task_propagate_boolean (G_TASK (result), NULL));
  raw->done++;
}

/* A batch written by hand: push a context, start every task on it, iterate
 * it until all have called back, pop. */
static gint64
run_raw_batch (Fixture        *fx,
               SmartasyncFunc  impl)
{
  gint64 start = bench_now_ns ();
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
  return bench_now_ns () - start;
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
  guint       baselines[BENCH_MAX_BASELINES];   /* RowIds */
} Row;

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

static void
run_all (Fixture    *fx,
         BenchTable *table)
{
  static const char *const units[] = { "run", "extra_waiter", "call" };
  gint64 times[N_MEASURES];

  for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
    {
      guint row = bench_table_add (table, rows[id].section, rows[id].name, rows[id].baselines);

      g_assert (row == id);
      bench_table_set_unit (table, id, units[rows[id].unit]);
    }

  /* Warm up: every path once, caches and the private context created. */
  for (MeasureId m = 0; m < N_MEASURES; m++)
    measures[m] (fx);

  /* A round takes every measure once, so that the rows derived from two
   * measures (extra waiters) pair measures taken at the same time. */
  for (guint r = 0; r < BENCH_ROUNDS; r++)
    {
      for (MeasureId m = 0; m < N_MEASURES; m++)
        times[m] = measures[m] (fx);
      for (RowId id = ROW_NONE + 1; id < N_ROWS; id++)
        bench_table_set_round (table, id, r, row_value (fx, &rows[id], times));
    }

  bench_table_finish (table);
}

/* Output */

static void
print_verdict (const BenchTable *table)
{
  double extra = bench_table_get_median (table, ROW_LOCK_EXTRA);
  double batch = bench_table_get_median (table, ROW_TIMER_BATCH);

  printf ("\nPer extra waiter: %.0f ns (%.0f ns with a GCancellable each); "
          "floor %.0f ns: %s; target %.0f ns: %s\n",
          extra, bench_table_get_median (table, ROW_LOCK_EXTRA_CANCELLABLE),
          EXTRA_WAITER_FLOOR_NS, extra < EXTRA_WAITER_FLOOR_NS ? "met" : "NOT met",
          EXTRA_WAITER_TARGET_NS, extra <= EXTRA_WAITER_TARGET_NS ? "met" : "NOT met");
  printf ("Batch of 1 ms calls: %.1fx as fast as one by one\n",
          batch > 0 ? bench_table_get_median (table, ROW_TIMER_SYNC) / batch : 0);
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
  fx->n_waiters = quick ? N_WAITERS / BENCH_QUICK_DIVISOR : N_WAITERS;
  fx->n_batch = quick ? N_BATCH / BENCH_QUICK_DIVISOR : N_BATCH;
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

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE;
  g_autofree char *json_path = NULL;
  g_autoptr(BenchTable) table = bench_table_new ("ns (median)", 12, 1, "ns");
  GString *json;
  Fixture fx;

  if (!bench_parse_options (&argc, &argv, "bench-lock",
                            "- SmartasyncLock and SmartasyncBatch benchmark",
                            &quick, &json_path))
    return 2;

  fixture_init (&fx, quick);
  bench_print_title ("lock and batch benchmark");
  printf ("%s run: N = %u waiters (single-waiter runs averaged over %u), N = %u batched calls;\n"
          "ns is the median of %d rounds; ratio = ns / baseline ns (>1 is slower)\n\n",
          quick ? "quick" : "full", fx.n_waiters, fx.single_runs, fx.n_batch, BENCH_ROUNDS);
  fflush (stdout);
  run_all (&fx, table);
  bench_table_print (table);
  print_verdict (table);

  json = bench_json_begin (quick);
  bench_json_uint (json, "n_waiters", fx.n_waiters);
  bench_json_uint (json, "n_batch", fx.n_batch);
  bench_json_number (json, "extra_waiter_ns", bench_table_get_median (table, ROW_LOCK_EXTRA));
  bench_json_target (json, "target_extra_waiter_ns",
                     bench_table_get_median (table, ROW_LOCK_EXTRA), EXTRA_WAITER_TARGET_NS);
  bench_json_table (json, "rows", table);

  fixture_clear (&fx);
  smartasync_reset ();

  return bench_finish ("bench-lock", json_path, json, fx.failures);
}
