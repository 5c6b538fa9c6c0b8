/* bench-scaling.c: offload throughput and latency, memory and cost versus concurrency
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Four questions, each against hand-written GLib code measured in the same
 * run (bench-bridge has the per-path costs, bench-lock the lock's waiters):
 *
 * 1. Offload throughput. T calling threads (1, 2, 4, 8), each running its
 *    own GMainLoop on its own context, keep K blocking calls in flight each:
 *    every callback issues the next call. Reported in operations per second
 *    for raw g_task_run_in_thread(), for smartasync_operation_call_async()
 *    with the default offload (which is g_task_run_in_thread()), and with a
 *    SmartasyncExecutor of MAX (nproc, 2) threads, with its adaptive spin
 *    (spin-us 50, the default) and without (spin-us 0).
 *
 * 2. Offload round-trip latency: one chain from a running loop, each
 *    callback issuing the next call, each round trip timed on its own (the
 *    median, and the percentiles of all of them), with the CPU time the
 *    process used during the chain (getrusage: every thread, the workers'
 *    spin included) and during IDLE_US of idleness after it. The floor is a
 *    helper thread that busy-waits for the task and returns it: what is left
 *    is one wake-up of the calling loop, which no executor can avoid.
 *
 * 3. Per-call cost versus concurrency: from an idle of a running loop, start
 *    N calls whose implementation holds its task (N = 1, 10, …, 100 000;
 *    1 000 at most in --quick); a later idle completes them all. The time of
 *    both phases, divided by N, is the cost of one call at that concurrency.
 *    Small N are repeated so that a round makes at least SCALING_MIN_CALLS
 *    calls. The series are raw GTasks, call_async, and waiters of one
 *    SmartasyncLock key.
 *
 * 4. Memory per pending operation: the heap in use (mallinfo2: uordblks +
 *    hblkhd) and the resident set (VmRSS) just before and just after the N
 *    calls of question 3 were started, divided by N, for N >= 1 000. Each
 *    sample is taken in a fresh child process (this program, run with the
 *    internal option --memory-child SERIES:N) after one warm-up call: in a
 *    process that already ran the other measures, GLib 2.74's GSlice hands
 *    out cached chunks and the heap does not grow at all. GSlice takes its
 *    memory in slabs, so these are slab bytes, as a program would use them.
 *
 * Every row is the median of BENCH_ROUNDS rounds, interleaved across rows,
 * so that drift of a noisy machine hits a row and its baselines alike.
 *
 *   bench-scaling             the full tables
 *   bench-scaling --quick     a smoke run: small N, every measurement made
 *   bench-scaling --json FILE also writes everything as JSON, which
 *                             tools/plot-performance.py turns into a plot
 *
 * SMARTASYNC_TEST_QUICK=1 in the environment implies --quick. No timing is
 * asserted; the exit status is non-zero only when a call returned a wrong
 * result or the JSON file could not be written. Offloads measure thread
 * hand-offs, so they mostly measure the scheduler: on a loaded machine they
 * vary by 2-3x from run to run, and their ratios are only meaningful within
 * one run. */

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "test-util.h"

#define K_IN_FLIGHT 16
#define THROUGHPUT_OPS 20000      /* per measurement, shared by the calling threads */
#define LATENCY_OPS 4000          /* round trips per round */
#define LATENCY_SLICES 16         /* ... in slices, the paths taking turns */
#define IDLE_US 300000
#define SCALING_MIN_CALLS 50000   /* calls per round and level */
#define MAX_PENDING 100000
#define QUICK_MAX_PENDING 1000
#define GROWTH_REFERENCE 100      /* growth is reported against this N */
#define MEMORY_MIN_PENDING 1000
#define OFFLOAD_TARGET_NS 20000.0

static const guint thread_counts[] = { 1, 2, 4, 8 };

/* The floor is a reference for latency only: a helper thread that busy-waits
 * for the task and returns it, so that one wake-up of the calling loop is
 * all that is left of the round trip. No executor can do better. */
typedef enum
{
  OFF_FLOOR,
  OFF_RAW,
  OFF_DEFAULT,
  OFF_EXECUTOR,
  OFF_EXECUTOR_NOSPIN,
  N_OFFLOADS
} Offload;

#define FIRST_THROUGHPUT OFF_RAW

typedef enum
{
  SC_RAW,
  SC_CALL,
  SC_LOCK,
  N_SERIES
} Series;

static const char *const series_names[N_SERIES] = {
  [SC_RAW] = "raw GTask",
  [SC_CALL] = "call_async",
  [SC_LOCK] = "lock waiters, one key",
};

typedef struct
{
  SmartasyncOperation *ops[N_OFFLOADS];   /* NULL for OFF_FLOOR and OFF_RAW */
  SmartasyncExecutor  *executor;
  SmartasyncExecutor  *executor_nospin;
  char                *offload_names[N_OFFLOADS];
  guint                executor_threads;
  SmartasyncOperation *op_held;           /* keeps its task in @held */
  SmartasyncLock      *lock;
  GPtrArray           *held;              /* preallocated for MAX_PENDING */
  GVariant            *args;              /* the int32 21 */
  guint                throughput_ops;
  guint                latency_ops;
  guint                max_pending;
  guint                scaling_min_calls;
  GTask               *floor_slot;        /* atomic: the task for the floor's thread */
  gint                 floor_stop;        /* atomic */
  guint                failures;          /* calls that returned a wrong result */
} Fixture;

static void fixture_init  (Fixture  *fx,
                           gboolean  quick,
                           guint     max_pending);
static void fixture_clear (Fixture  *fx);

/* 1. and 2. Flows of offloads: each callback issues the next call */

typedef struct
{
  Fixture    *fx;
  Offload     path;
  guint       target;      /* calls in all */
  guint       in_flight;   /* kept in flight at once */
  guint       issued;
  guint       done;
  guint       failures;
  double     *samples;     /* round-trip times, when in_flight is 1 */
  gint64      issued_at;
  gint64      start;
  gint64      end;
  GMainLoop  *loop;
} Flow;

static void offload_issue (Flow *flow);

static void
offload_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  Flow *flow = data;
  gssize value;

  if (flow->path == OFF_RAW || flow->path == OFF_FLOOR)
    value = g_task_propagate_int (G_TASK (result), NULL);
  else
    value = smartasync_operation_call_finish_int (flow->fx->ops[flow->path], result, NULL);
  if (flow->samples != NULL)
    flow->samples[flow->done] = (double) (bench_now_ns () - flow->issued_at);
  bench_check (&flow->failures, value == 42);

  if (++flow->done == flow->target)
    {
      flow->end = bench_now_ns ();
      g_main_loop_quit (flow->loop);
    }
  else if (flow->issued < flow->target)
    offload_issue (flow);
}

static void
offload_issue (Flow *flow)
{
  Fixture *fx = flow->fx;

  flow->issued++;
  if (flow->samples != NULL)
    flow->issued_at = bench_now_ns ();

  if (flow->path == OFF_RAW || flow->path == OFF_FLOOR)
    {
      GTask *task = g_task_new (NULL, NULL, offload_done, flow);

      g_task_set_task_data (task, fx->args, NULL);
      if (flow->path == OFF_FLOOR)
        g_atomic_pointer_set (&fx->floor_slot, task);  /* the floor's thread unrefs it */
      else
        {
          g_task_run_in_thread (task, bench_double_thread_func);
          g_object_unref (task);
        }
    }
  else
    smartasync_operation_call_async (fx->ops[flow->path], NULL, fx->args, NULL,
                                     offload_done, flow);
}

static gboolean
flow_start (gpointer data)
{
  Flow *flow = data;

  flow->start = bench_now_ns ();
  while (flow->issued < MIN (flow->in_flight, flow->target))
    offload_issue (flow);
  return G_SOURCE_REMOVE;
}

/* Runs the flow on its own context, pushed as thread-default: the calling
 * thread is an async context and callbacks come back to it. */
static void
flow_setup (Flow *flow)
{
  GMainContext *context = g_main_context_new ();
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (context);
  flow->loop = g_main_loop_new (context, FALSE);
  g_source_set_callback (idle, flow_start, flow, NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  g_main_context_unref (context);
}

static void
flow_teardown (Flow *flow)
{
  g_main_context_pop_thread_default (g_main_loop_get_context (flow->loop));
  g_clear_pointer (&flow->loop, g_main_loop_unref);
}

static void
flow_init (Flow    *flow,
           Fixture *fx,
           Offload  path,
           guint    target,
           guint    in_flight)
{
  memset (flow, 0, sizeof *flow);
  flow->fx = fx;
  flow->path = path;
  flow->target = target;
  flow->in_flight = in_flight;
}

/* 1. Throughput: T threads start together at a gate */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  guint    ready;
  gboolean open;
} Gate;

typedef struct
{
  Flow     flow;
  Gate    *gate;
  GThread *thread;
} Caller;

static gpointer
caller_main (gpointer data)
{
  Caller *caller = data;
  Gate *gate = caller->gate;

  flow_setup (&caller->flow);
  g_mutex_lock (&gate->mutex);
  gate->ready++;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);

  g_main_loop_run (caller->flow.loop);
  flow_teardown (&caller->flow);
  return NULL;
}

/* Returns operations per second, all threads together. */
static double
measure_throughput (Fixture *fx,
                    Offload  path,
                    guint    n_threads,
                    guint    total)
{
  g_autofree Caller *callers = g_new0 (Caller, n_threads);
  Gate gate = { 0 };
  gint64 start, end = 0;
  guint per_thread = MAX (total / n_threads, 1);

  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);
  for (guint i = 0; i < n_threads; i++)
    {
      flow_init (&callers[i].flow, fx, path, per_thread, K_IN_FLIGHT);
      callers[i].gate = &gate;
      callers[i].thread = g_thread_new ("bench-caller", caller_main, &callers[i]);
    }

  g_mutex_lock (&gate.mutex);
  while (gate.ready < n_threads)
    g_cond_wait (&gate.cond, &gate.mutex);
  start = bench_now_ns ();
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);

  for (guint i = 0; i < n_threads; i++)
    {
      g_thread_join (callers[i].thread);
      end = MAX (end, callers[i].flow.end);
      fx->failures += callers[i].flow.failures;
    }
  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);

  return end > start ? 1e9 * per_thread * n_threads / (double) (end - start) : 0;
}

/* 2. Latency: one chain on this thread */

static gpointer
floor_main (gpointer data)
{
  Fixture *fx = data;

  while (!g_atomic_int_get (&fx->floor_stop))
    {
      GTask *task = g_atomic_pointer_exchange (&fx->floor_slot, NULL);

      if (task == NULL)
        continue;
      bench_double_thread_func (task, NULL, g_task_get_task_data (task), NULL);
      g_object_unref (task);
    }
  return NULL;
}

typedef struct
{
  gint64 cpu_ns;
  gint64 wall_ns;
} ChainCost;

/* Runs @n_ops round trips of @path, writing their times to @samples when
 * not %NULL, and adds the CPU the process used and the time it took to
 * @cost. */
static void
measure_chain (Fixture   *fx,
               Offload    path,
               guint      n_ops,
               double    *samples,
               ChainCost *cost)
{
  Flow flow;
  gint64 cpu;
  GThread *floor_thread = NULL;

  flow_init (&flow, fx, path, n_ops, 1);
  flow.samples = samples;
  flow_setup (&flow);
  if (path == OFF_FLOOR)
    {
      g_atomic_int_set (&fx->floor_stop, FALSE);
      floor_thread = g_thread_new ("bench-floor", floor_main, fx);
    }
  cpu = bench_cpu_ns ();
  g_main_loop_run (flow.loop);
  cpu = bench_cpu_ns () - cpu;
  if (floor_thread != NULL)
    {
      g_atomic_int_set (&fx->floor_stop, TRUE);
      g_thread_join (floor_thread);
    }
  flow_teardown (&flow);
  fx->failures += flow.failures;

  if (cost != NULL)
    {
      cost->cpu_ns += cpu;
      cost->wall_ns += flow.end - flow.start;
    }
}

/* 3. and 4. N pending calls, started from one idle, completed from the next */

static void
held_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  Fixture *fx = user_data;

  g_ptr_array_add (fx->held, g_object_ref (task));
}

/* Bytes the heap hands out: the arenas plus mmapped chunks. */
static gint64
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return (gint64) (info.uordblks + info.hblkhd);
}

static gint64
resident_set (void)
{
  g_autofree char *statm = NULL;
  char *end;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    return 0;
  g_ascii_strtoull (statm, &end, 10);                  /* size */
  return (gint64) g_ascii_strtoull (end, NULL, 10) * 4096;  /* resident pages */
}

typedef struct
{
  Fixture    *fx;
  Series      series;
  guint       n;
  guint       reps;        /* batches of n calls in the round */
  guint       rep;
  guint       done;
  gboolean    measure_memory;
  gint64      t0;
  gint64      start_ns;    /* starting the calls, all batches */
  gint64      complete_ns; /* completing them, to the last callback */
  gint64      heap_before;
  gint64      heap_after;
  gint64      rss_before;
  gint64      rss_after;
  GMainLoop  *loop;
} Batch;

static gboolean batch_start (gpointer data);

static void
batch_callback_done (Batch    *batch,
                     gboolean  ok)
{
  bench_check (&batch->fx->failures, ok);
  if (++batch->done < batch->n)
    return;

  batch->complete_ns += bench_now_ns () - batch->t0;
  batch->done = 0;
  if (++batch->rep < batch->reps)
    g_idle_add (batch_start, batch);
  else
    g_main_loop_quit (batch->loop);
}

static gboolean
value_is_42 (gboolean  ok,
             GValue   *value)
{
  ok = ok && G_VALUE_HOLDS_INT (value) && g_value_get_int (value) == 42;
  if (G_IS_VALUE (value))
    g_value_unset (value);
  return ok;
}

static void
raw_done (GObject      *source_object,
          GAsyncResult *result,
          gpointer      data)
{
  GValue value = G_VALUE_INIT;

  batch_callback_done (data, value_is_42 (g_task_propagate_value (G_TASK (result), &value,
                                                                  NULL), &value));
}

static void
call_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  Batch *batch = data;
  GValue value = G_VALUE_INIT;

  batch_callback_done (batch, value_is_42 (smartasync_operation_call_finish (batch->fx->op_held,
                                                                             result, &value,
                                                                             NULL), &value));
}

static void
lock_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  Batch *batch = data;
  GValue value = G_VALUE_INIT;

  batch_callback_done (batch, value_is_42 (smartasync_lock_run_finish (batch->fx->lock, result,
                                                                       &value, NULL), &value));
}

/* Completes every held task, as a backend's replies would. */
static gboolean
batch_complete (gpointer data)
{
  Batch *batch = data;
  GPtrArray *held = batch->fx->held;
  GValue value = G_VALUE_INIT;
  guint n = held->len;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  batch->t0 = bench_now_ns ();
  for (guint i = 0; i < n; i++)
    {
      g_task_return_value (held->pdata[i], &value);
      g_object_unref (held->pdata[i]);
    }
  g_ptr_array_remove_range (held, 0, n);
  return G_SOURCE_REMOVE;
}

static gboolean
batch_start (gpointer data)
{
  Batch *batch = data;
  Fixture *fx = batch->fx;
  gboolean memory = batch->measure_memory && batch->rep == 0;

  if (memory)
    {
      batch->rss_before = resident_set ();
      batch->heap_before = heap_in_use ();
    }

  batch->t0 = bench_now_ns ();
  for (guint i = 0; i < batch->n; i++)
    switch (batch->series)
      {
      case SC_RAW:
        g_ptr_array_add (fx->held, g_task_new (NULL, NULL, raw_done, batch));
        break;
      case SC_CALL:
        smartasync_operation_call_async (fx->op_held, NULL, NULL, NULL, call_done, batch);
        break;
      case SC_LOCK:
      default:
        smartasync_lock_run_async (fx->lock, "scaling", fx->op_held, NULL, NULL, NULL,
                                   lock_done, batch);
        break;
      }
  batch->start_ns += bench_now_ns () - batch->t0;

  /* Outside the timing: mallinfo2() walks the heap's free lists. */
  if (memory)
    {
      batch->heap_after = heap_in_use ();
      batch->rss_after = resident_set ();
    }

  g_idle_add (batch_complete, batch);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  double ns_per_call;
  double start_ns_per_call;
  double heap_per_op;
  double rss_per_op;
} BatchResult;

static BatchResult
measure_batches (Fixture  *fx,
                 Series    series,
                 guint     n,
                 gboolean  memory)
{
  Batch batch = { fx, series, n, MAX (fx->scaling_min_calls / n, 1), 0, 0, memory };
  double calls;
  BatchResult result;

  batch.loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (batch_start, &batch);
  g_main_loop_run (batch.loop);
  g_main_loop_unref (batch.loop);

  calls = (double) batch.reps * n;
  result.ns_per_call = (double) (batch.start_ns + batch.complete_ns) / calls;
  result.start_ns_per_call = (double) batch.start_ns / calls;
  result.heap_per_op = (double) (batch.heap_after - batch.heap_before) / n;
  result.rss_per_op = (double) (batch.rss_after - batch.rss_before) / n;
  return result;
}

/* The child's side of a memory sample: one warm-up call (types, per-thread
 * state, the allocators' first slabs), then N pending calls. */
static int
memory_child (const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 2);
  BatchResult result;
  Fixture fx;
  Series series;
  guint n;

  if (g_strv_length (parts) != 2)
    return 2;
  series = (Series) g_ascii_strtoull (parts[0], NULL, 10);
  n = (guint) g_ascii_strtoull (parts[1], NULL, 10);
  if (series >= N_SERIES || n == 0)
    return 2;

  fixture_init (&fx, TRUE, n);
  fx.scaling_min_calls = 1;
  measure_batches (&fx, series, 1, FALSE);
  result = measure_batches (&fx, series, n, TRUE);
  printf ("%.3f %.3f\n", result.heap_per_op, result.rss_per_op);
  fixture_clear (&fx);

  return fx.failures > 0 ? 1 : 0;
}

/* Runs a memory sample in a fresh process; FALSE if it failed. */
static gboolean
measure_memory (Fixture     *fx,
                Series       series,
                guint        n,
                BatchResult *result)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *spec = g_strdup_printf ("%d:%u", series, n);
  g_autofree char *out = NULL;
  const char *argv[] = { self, "--memory-child", spec, NULL };
  int status = 0;

  if (self == NULL ||
      !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL) ||
      sscanf (out, "%lf %lf", &result->heap_per_op, &result->rss_per_op) != 2)
    {
      g_printerr ("bench-scaling: the memory sample %s failed\n", spec);
      fx->failures++;
      return FALSE;
    }
  return TRUE;
}

/* The tables */

#define S_THROUGHPUT "1. offload throughput: T calling threads, each with its own loop"
#define S_LATENCY    "2. offload round trip from a running loop (one chain)"
#define S_CPU        "2b. CPU time per offload during the chain (every thread)"
#define S_SCALING    "3. cost per call with N calls pending (started from one idle, " \
                     "completed from the next)"
#define S_MEMORY     "4. heap per pending operation"

typedef struct
{
  BenchTable *throughput;
  BenchTable *latency;
  BenchTable *cpu;
  BenchTable *scaling;
  BenchTable *scaling_start;
  BenchTable *memory;
  BenchTable *rss;
  guint       throughput_rows[G_N_ELEMENTS (thread_counts)][N_OFFLOADS];
  guint       latency_rows[N_OFFLOADS];
  guint       cpu_rows[N_OFFLOADS];
  guint       n_levels;
  guint       levels[8];
  guint       memory_rows[8][N_SERIES];   /* also the rss rows */
  double     *samples[N_OFFLOADS];       /* every round trip of every round */
  double      idle_cpu_ms[N_OFFLOADS];
  double      cores_busy[N_OFFLOADS][BENCH_ROUNDS];
  char       *names[64];                 /* row names, owned */
  guint       n_names;
} Report;

static const char *
owned_name (Report *report,
            char   *name)
{
  g_assert (report->n_names < G_N_ELEMENTS (report->names));
  report->names[report->n_names++] = name;
  return name;
}

/* Offload paths are compared with raw g_task_run_in_thread() and with the
 * default offload; the executor without spin with the one with. */
static void
offload_baselines (const guint *rows,
                   Offload      path,
                   guint       *baselines)
{
  memset (baselines, 0, BENCH_MAX_BASELINES * sizeof (guint));
  switch (path)
    {
    case OFF_DEFAULT:
      baselines[0] = rows[OFF_RAW];
      break;
    case OFF_EXECUTOR:
      baselines[0] = rows[OFF_DEFAULT];
      baselines[1] = rows[OFF_FLOOR] != 0 ? rows[OFF_FLOOR] : rows[OFF_RAW];
      break;
    case OFF_EXECUTOR_NOSPIN:
      baselines[0] = rows[OFF_EXECUTOR];
      baselines[1] = rows[OFF_DEFAULT];
      break;
    case OFF_FLOOR:
    case OFF_RAW:
    default:
      break;
    }
}

/* One row per offload path from @first; throughput rows are named after
 * their T. */
static void
add_offload_rows (Report        *report,
                  const Fixture *fx,
                  BenchTable    *table,
                  const char    *section,
                  const char    *x_key,
                  guint          x,
                  Offload        first,
                  guint         *rows)
{
  for (Offload p = first; p < N_OFFLOADS; p++)
    {
      guint baselines[BENCH_MAX_BASELINES];
      const char *name = fx->offload_names[p];

      if (g_str_equal (x_key, "threads"))
        name = owned_name (report, g_strdup_printf ("T=%u: %s", x, fx->offload_names[p]));
      offload_baselines (rows, p, baselines);
      rows[p] = bench_table_add (table, section, name, baselines);
      bench_table_set_series (table, rows[p], fx->offload_names[p], x_key, x);
    }
}

/* Scaling rows are added level by level, series by series. */
static guint
scaling_row (guint  level,
             Series s)
{
  return 1 + level * N_SERIES + s;
}

static void
add_scaling_rows (Report        *report,
                  const Fixture *fx)
{
  guint reference = G_MAXUINT;

  for (guint n = 1; n <= fx->max_pending; n *= 10)
    {
      if (n == GROWTH_REFERENCE)
        reference = report->n_levels;
      report->levels[report->n_levels++] = n;
    }

  for (guint l = 0; l < report->n_levels; l++)
    for (Series s = 0; s < N_SERIES; s++)
      {
        guint baselines[BENCH_MAX_BASELINES] = { 0 }, b = 0, row;
        const char *name = owned_name (report, g_strdup_printf ("N=%u: %s", report->levels[l],
                                                                series_names[s]));

        /* Against raw GTasks at the same N, and against the same series at
         * N = GROWTH_REFERENCE: how the cost grows. */
        if (s != SC_RAW)
          baselines[b++] = scaling_row (l, SC_RAW);
        if (reference != G_MAXUINT && reference != l)
          baselines[b++] = scaling_row (reference, s);

        row = bench_table_add (report->scaling, S_SCALING, name, baselines);
        g_assert (row == scaling_row (l, s));
        bench_table_set_series (report->scaling, row, series_names[s], "pending",
                                report->levels[l]);
        row = bench_table_add (report->scaling_start, S_SCALING, name, NULL);
        g_assert (row == scaling_row (l, s));
        bench_table_set_series (report->scaling_start, row, series_names[s], "pending",
                                report->levels[l]);

        if (report->levels[l] < MIN (MEMORY_MIN_PENDING, fx->max_pending))
          continue;
        baselines[0] = s != SC_RAW ? report->memory_rows[l][SC_RAW] : 0;
        baselines[1] = 0;
        report->memory_rows[l][s] = bench_table_add (report->memory, S_MEMORY, name, baselines);
        bench_table_set_series (report->memory, report->memory_rows[l][s], series_names[s],
                                "pending", report->levels[l]);
        row = bench_table_add (report->rss, S_MEMORY, name, baselines);
        g_assert (row == report->memory_rows[l][s]);
        bench_table_set_series (report->rss, row, series_names[s], "pending",
                                report->levels[l]);
      }
}

static void
report_init (Report  *report,
             Fixture *fx)
{
  memset (report, 0, sizeof *report);
  report->throughput = bench_table_new ("ops/s (median)", 12, 0, "ops_per_s");
  report->latency = bench_table_new ("ns (median)", 12, 0, "ns");
  report->cpu = bench_table_new ("CPU ns/op", 12, 0, "cpu_ns_per_op");
  report->scaling = bench_table_new ("ns/call (median)", 12, 1, "ns_per_call");
  report->scaling_start = bench_table_new ("ns/call (median)", 12, 1, "start_ns_per_call");
  report->memory = bench_table_new ("bytes/op", 12, 0, "heap_bytes_per_op");
  report->rss = bench_table_new ("bytes/op", 12, 0, "rss_bytes_per_op");

  for (guint t = 0; t < G_N_ELEMENTS (thread_counts); t++)
    add_offload_rows (report, fx, report->throughput, S_THROUGHPUT, "threads", thread_counts[t],
                      FIRST_THROUGHPUT, report->throughput_rows[t]);
  add_offload_rows (report, fx, report->latency, S_LATENCY, "in_flight", 1, 0,
                    report->latency_rows);
  add_offload_rows (report, fx, report->cpu, S_CPU, "in_flight", 1, 0, report->cpu_rows);
  add_scaling_rows (report, fx);

  for (Offload p = 0; p < N_OFFLOADS; p++)
    report->samples[p] = g_new (double, (gsize) fx->latency_ops * BENCH_ROUNDS);
}

static void
report_clear (Report *report)
{
  g_clear_pointer (&report->throughput, bench_table_free);
  g_clear_pointer (&report->latency, bench_table_free);
  g_clear_pointer (&report->cpu, bench_table_free);
  g_clear_pointer (&report->scaling, bench_table_free);
  g_clear_pointer (&report->scaling_start, bench_table_free);
  g_clear_pointer (&report->memory, bench_table_free);
  g_clear_pointer (&report->rss, bench_table_free);
  for (Offload p = 0; p < N_OFFLOADS; p++)
    g_free (report->samples[p]);
  for (guint i = 0; i < report->n_names; i++)
    g_free (report->names[i]);
}

/* Running */

static double *
round_samples (const Fixture *fx,
               Report        *report,
               Offload        p,
               guint          r)
{
  return report->samples[p] + (gsize) r * fx->latency_ops;
}

/* A round's chains run in LATENCY_SLICES slices, the paths taking turns: a
 * small VM's thread wake-ups change speed from one fraction of a second to
 * the next (the host's scheduling), and every path must see the same mix. */
static void
measure_latency_round (Fixture *fx,
                       Report  *report,
                       guint    r)
{
  ChainCost costs[N_OFFLOADS] = { { 0, 0 } };

  for (guint slice = 0; slice < LATENCY_SLICES; slice++)
    {
      guint first = fx->latency_ops * slice / LATENCY_SLICES;
      guint n_ops = fx->latency_ops * (slice + 1) / LATENCY_SLICES - first;

      for (Offload p = 0; p < N_OFFLOADS && n_ops > 0; p++)
        measure_chain (fx, p, n_ops, round_samples (fx, report, p, r) + first, &costs[p]);
    }

  for (Offload p = 0; p < N_OFFLOADS; p++)
    {
      bench_table_set_round (report->latency, report->latency_rows[p], r,
                             bench_median (round_samples (fx, report, p, r), fx->latency_ops));
      bench_table_set_round (report->cpu, report->cpu_rows[p], r,
                             (double) costs[p].cpu_ns / fx->latency_ops);
      report->cores_busy[p][r] = costs[p].wall_ns > 0
        ? (double) costs[p].cpu_ns / costs[p].wall_ns : 0;
    }
}

static void
run_round (Fixture *fx,
           Report  *report,
           guint    r)
{
  for (guint t = 0; t < G_N_ELEMENTS (thread_counts); t++)
    for (Offload p = FIRST_THROUGHPUT; p < N_OFFLOADS; p++)
      bench_table_set_round (report->throughput, report->throughput_rows[t][p], r,
                             measure_throughput (fx, p, thread_counts[t], fx->throughput_ops));

  measure_latency_round (fx, report, r);

  for (guint l = 0; l < report->n_levels; l++)
    for (Series s = 0; s < N_SERIES; s++)
      {
        BatchResult batch = measure_batches (fx, s, report->levels[l], FALSE);
        guint row = scaling_row (l, s);

        bench_table_set_round (report->scaling, row, r, batch.ns_per_call);
        bench_table_set_round (report->scaling_start, row, r, batch.start_ns_per_call);

        row = report->memory_rows[l][s];
        if (row != 0 && measure_memory (fx, s, report->levels[l], &batch))
          {
            bench_table_set_round (report->memory, row, r, batch.heap_per_op);
            bench_table_set_round (report->rss, row, r, batch.rss_per_op);
          }
      }
}

/* After a chain, the process sleeps: what do idle workers burn? */
static void
measure_idle (Fixture *fx,
              Report  *report)
{
  for (Offload p = 0; p < N_OFFLOADS; p++)
    {
      gint64 cpu;

      measure_chain (fx, p, fx->latency_ops, NULL, NULL);
      cpu = bench_cpu_ns ();
      g_usleep (IDLE_US);
      report->idle_cpu_ms[p] = (double) (bench_cpu_ns () - cpu) / 1e6;
    }
}

static void
run_all (Fixture *fx,
         Report  *report)
{
  /* Warm up: every path once, threads of the pools started. */
  for (Offload p = 0; p < N_OFFLOADS; p++)
    {
      if (p >= FIRST_THROUGHPUT)
        measure_throughput (fx, p, 2, fx->throughput_ops / 10);
      measure_chain (fx, p, fx->latency_ops, NULL, NULL);
    }
  for (Series s = 0; s < N_SERIES; s++)
    measure_batches (fx, s, fx->max_pending, FALSE);

  for (guint r = 0; r < BENCH_ROUNDS; r++)
    run_round (fx, report, r);
  measure_idle (fx, report);

  bench_table_finish (report->throughput);
  bench_table_finish (report->latency);
  bench_table_finish (report->cpu);
  bench_table_finish (report->scaling);
  bench_table_finish (report->scaling_start);
  bench_table_finish (report->memory);
  bench_table_finish (report->rss);
}

/* Output */

static double
percentile (const Fixture *fx,
            const Report  *report,
            Offload        p,
            double         q)
{
  return bench_percentile (report->samples[p], fx->latency_ops * BENCH_ROUNDS, q);
}

static void
print_latency_distribution (const Fixture *fx,
                            const Report  *report)
{
  const int width = 40 + 5 * 11 + 13 + 15;

  printf ("\nRound trips of all rounds, in µs, and the CPU the process used (all threads)\n");
  printf ("%-40s | %8s | %8s | %8s | %8s | %8s | %10s | %12s\n", "path", "p10", "median",
          "p90", "p99", "CPU/op", "cores busy", "idle CPU, ms");
  bench_print_rule (width);
  for (Offload p = 0; p < N_OFFLOADS; p++)
    printf ("%-40s | %8.1f | %8.1f | %8.1f | %8.1f | %8.1f | %10.2f | %12.1f\n",
            fx->offload_names[p],
            percentile (fx, report, p, 0.10) / 1e3, percentile (fx, report, p, 0.50) / 1e3,
            percentile (fx, report, p, 0.90) / 1e3, percentile (fx, report, p, 0.99) / 1e3,
            bench_table_get_median (report->cpu, report->cpu_rows[p]) / 1e3,
            bench_median (report->cores_busy[p], BENCH_ROUNDS), report->idle_cpu_ms[p]);
  bench_print_rule (width);
  printf ("idle CPU: used by the whole process during %d ms of sleep after a chain\n",
          IDLE_US / 1000);
}

static double
growth (const Report *report,
        Series        s)
{
  for (guint l = 0; l < report->n_levels; l++)
    if (report->levels[l] == GROWTH_REFERENCE)
      return bench_table_ratio (report->scaling, scaling_row (report->n_levels - 1, s),
                                scaling_row (l, s));
  return 0;
}

/* Issue 14's floors for the executor, as ratios within this run (libdex is
 * no Debian 12 package: doc/performance.md compares it by hand). */
typedef struct
{
  double p90_over_median;      /* <= 2 */
  double cpu_over_pool;        /* <= 1: GLib's pool, g_task_run_in_thread() */
  double two_over_one_thread;  /* >= 1.8 */
  double median_over_pool;
} Goals;

static Goals
executor_goals (const Fixture *fx,
                const Report  *report)
{
  Goals goals;

  goals.p90_over_median = percentile (fx, report, OFF_EXECUTOR, 0.90) /
                          percentile (fx, report, OFF_EXECUTOR, 0.50);
  goals.cpu_over_pool = bench_table_ratio (report->cpu, report->cpu_rows[OFF_EXECUTOR],
                                           report->cpu_rows[OFF_RAW]);
  /* thread_counts[0] is 1 calling thread, thread_counts[1] 2. */
  goals.two_over_one_thread = bench_table_ratio (report->throughput,
                                                 report->throughput_rows[1][OFF_EXECUTOR],
                                                 report->throughput_rows[0][OFF_EXECUTOR]);
  goals.median_over_pool = bench_table_ratio (report->latency,
                                              report->latency_rows[OFF_EXECUTOR],
                                              report->latency_rows[OFF_RAW]);
  return goals;
}

static void
print_goals (const Fixture *fx,
             const Report  *report)
{
  Goals goals = executor_goals (fx, report);

  printf ("Executor, ratios within this run (issue 14's floors):\n");
  printf ("  round trip p90 / median: %.2fx (<= 2x: %s)\n", goals.p90_over_median,
          goals.p90_over_median <= 2.0 ? "met" : "NOT met");
  printf ("  CPU per round trip / GLib's pool's (g_task_run_in_thread): %.2fx (<= 1x: %s)\n",
          goals.cpu_over_pool, goals.cpu_over_pool <= 1.0 ? "met" : "NOT met");
  printf ("  throughput, 2 calling threads / 1: %.2fx (>= 1.8x: %s)\n",
          goals.two_over_one_thread, goals.two_over_one_thread >= 1.8 ? "met" : "NOT met");
  printf ("  median round trip / GLib's pool's: %.2fx\n", goals.median_over_pool);
}

static void
print_report (const Fixture *fx,
              const Report  *report)
{
  printf ("\n%s, K = %d calls in flight each; ops/s, ratio = ops/s / raw ops/s (>1 is faster)\n",
          S_THROUGHPUT, K_IN_FLIGHT);
  bench_table_print_pivot (report->throughput, "threads", fx->offload_names[OFF_RAW]);

  printf ("\nratio = ns / baseline ns (>1 is slower)\n");
  bench_table_print (report->latency);
  print_latency_distribution (fx, report);

  printf ("\n%s;\nns/call, ratio = ns / raw GTask ns at the same N (>1 is slower)\n", S_SCALING);
  bench_table_print_pivot (report->scaling, "N", series_names[SC_RAW]);
  printf ("growth from N=%d to N=%u:", GROWTH_REFERENCE, report->levels[report->n_levels - 1]);
  for (Series s = 0; s < N_SERIES; s++)
    printf (" %s %.2fx%s", series_names[s], growth (report, s), s + 1 < N_SERIES ? "," : "\n");
  printf ("of which starting the calls, ns/call:\n");
  bench_table_print_pivot (report->scaling_start, "N", series_names[SC_RAW]);

  printf ("\n%s, in a fresh process: heap in use (mallinfo2) before and after N calls\n"
          "were started, bytes per call; ratio = bytes / raw GTask bytes\n", S_MEMORY);
  bench_table_print_pivot (report->memory, "N", series_names[SC_RAW]);
  printf ("the same, resident set (VmRSS), bytes per call:\n");
  bench_table_print_pivot (report->rss, "N", series_names[SC_RAW]);

  printf ("\n");
  bench_print_target ("Offload round trip, median, executor",
                      bench_table_get_median (report->latency, report->latency_rows[OFF_EXECUTOR]),
                      OFFLOAD_TARGET_NS, "ns");
  bench_print_target ("Offload round trip, median, default offload",
                      bench_table_get_median (report->latency, report->latency_rows[OFF_DEFAULT]),
                      OFFLOAD_TARGET_NS, "ns");
  print_goals (fx, report);
}

static void
append_json (GString       *json,
             const Fixture *fx,
             const Report  *report)
{
  bench_json_uint (json, "in_flight_per_thread", K_IN_FLIGHT);
  bench_json_uint (json, "throughput_ops", fx->throughput_ops);
  bench_json_uint (json, "latency_ops_per_round", fx->latency_ops);
  bench_json_uint (json, "executor_threads", fx->executor_threads);
  bench_json_uint (json, "idle_us", IDLE_US);
  bench_json_uint (json, "scaling_min_calls", fx->scaling_min_calls);
  bench_json_target (json, "target_offload_ns",
                     bench_table_get_median (report->latency, report->latency_rows[OFF_EXECUTOR]),
                     OFFLOAD_TARGET_NS);

  {
    Goals goals = executor_goals (fx, report);

    bench_json_number (json, "executor_p90_over_median", goals.p90_over_median);
    bench_json_number (json, "executor_cpu_over_pool", goals.cpu_over_pool);
    bench_json_number (json, "executor_two_over_one_thread", goals.two_over_one_thread);
    bench_json_number (json, "executor_median_over_pool", goals.median_over_pool);
  }

  g_string_append (json, "  \"latency_distribution\": [\n");
  for (Offload p = 0; p < N_OFFLOADS; p++)
    {
      static const double qs[] = { 0.10, 0.50, 0.90, 0.99 };
      static const char *const keys[] = { "p10_ns", "p50_ns", "p90_ns", "p99_ns" };

      g_string_append (json, "    {\"series\": ");
      bench_json_append_string (json, fx->offload_names[p]);
      for (guint q = 0; q < G_N_ELEMENTS (qs); q++)
        {
          g_string_append_printf (json, ", \"%s\": ", keys[q]);
          bench_json_append_number (json, percentile (fx, report, p, qs[q]));
        }
      g_string_append (json, ", \"cpu_ns_per_op\": ");
      bench_json_append_number (json, bench_table_get_median (report->cpu, report->cpu_rows[p]));
      g_string_append (json, ", \"cores_busy\": ");
      bench_json_append_number (json, bench_median (report->cores_busy[p], BENCH_ROUNDS));
      g_string_append (json, ", \"idle_cpu_ms\": ");
      bench_json_append_number (json, report->idle_cpu_ms[p]);
      g_string_append (json, p + 1 < N_OFFLOADS ? "},\n" : "}\n");
    }
  g_string_append (json, "  ],\n");

  bench_json_table (json, "throughput", report->throughput);
  bench_json_table (json, "latency", report->latency);
  bench_json_table (json, "cpu", report->cpu);
  bench_json_table (json, "scaling", report->scaling);
  bench_json_table (json, "scaling_start", report->scaling_start);
  bench_json_table (json, "memory", report->memory);
  bench_json_table (json, "memory_rss", report->rss);
}

/* Setup */

static void
fixture_init (Fixture  *fx,
              gboolean  quick,
              guint     max_pending)
{
  memset (fx, 0, sizeof *fx);
  fx->executor_threads = MAX (g_get_num_processors (), 2);
  fx->executor = smartasync_executor_new (fx->executor_threads);
  fx->executor_nospin = g_object_new (SMARTASYNC_TYPE_EXECUTOR,
                                      "max-threads", fx->executor_threads,
                                      "spin-us", 0,
                                      NULL);
  fx->ops[OFF_DEFAULT] = smartasync_operation_new_blocking ("bench-double", test_double_blocking,
                                                            NULL, NULL);
  fx->ops[OFF_EXECUTOR] = smartasync_operation_new_blocking ("bench-double-executor",
                                                             test_double_blocking, NULL, NULL);
  fx->ops[OFF_EXECUTOR_NOSPIN] = smartasync_operation_new_blocking ("bench-double-nospin",
                                                                    test_double_blocking,
                                                                    NULL, NULL);
  smartasync_operation_set_executor (fx->ops[OFF_EXECUTOR], fx->executor);
  smartasync_operation_set_executor (fx->ops[OFF_EXECUTOR_NOSPIN], fx->executor_nospin);

  fx->offload_names[OFF_FLOOR] = g_strdup ("floor: a spinning thread returns it");
  fx->offload_names[OFF_RAW] = g_strdup ("raw g_task_run_in_thread");
  fx->offload_names[OFF_DEFAULT] = g_strdup ("call_async, default offload");
  fx->offload_names[OFF_EXECUTOR] = g_strdup ("call_async, executor");
  fx->offload_names[OFF_EXECUTOR_NOSPIN] = g_strdup ("call_async, executor, spin-us 0");

  fx->op_held = smartasync_operation_new_async ("bench-held", held_impl, fx, NULL);
  fx->lock = smartasync_lock_new ();
  fx->args = g_variant_ref_sink (g_variant_new_int32 (21));

  fx->throughput_ops = quick ? THROUGHPUT_OPS / BENCH_QUICK_DIVISOR : THROUGHPUT_OPS;
  fx->latency_ops = quick ? LATENCY_OPS / BENCH_QUICK_DIVISOR : LATENCY_OPS;
  fx->max_pending = max_pending;
  fx->scaling_min_calls = quick ? SCALING_MIN_CALLS / BENCH_QUICK_DIVISOR : SCALING_MIN_CALLS;
  /* Outside every measure: the array never grows while calls are timed. */
  fx->held = g_ptr_array_sized_new (fx->max_pending);
}

static void
fixture_clear (Fixture *fx)
{
  for (Offload p = 0; p < N_OFFLOADS; p++)
    {
      g_clear_object (&fx->ops[p]);
      g_clear_pointer (&fx->offload_names[p], g_free);
    }
  g_clear_object (&fx->executor);
  g_clear_object (&fx->executor_nospin);
  g_clear_object (&fx->op_held);
  g_clear_object (&fx->lock);
  g_clear_pointer (&fx->held, g_ptr_array_unref);
  g_clear_pointer (&fx->args, g_variant_unref);
}

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE;
  g_autofree char *json_path = NULL;
  GString *json;
  Fixture fx;
  Report report;

  /* Internal: one memory sample, in a fresh process (see measure_memory). */
  if (argc == 3 && g_str_equal (argv[1], "--memory-child"))
    return memory_child (argv[2]);

  if (!bench_parse_options (&argc, &argv, "bench-scaling",
                            "- offload throughput and latency, memory and cost versus concurrency",
                            &quick, &json_path))
    return 2;

  fixture_init (&fx, quick, quick ? QUICK_MAX_PENDING : MAX_PENDING);
  report_init (&report, &fx);
  bench_print_title ("scaling benchmark");
  printf ("%s run: medians of %d rounds; throughput %u offloads per measurement, "
          "latency %u round trips per round,\nN up to %u pending calls; executors of %u threads\n",
          quick ? "quick" : "full", BENCH_ROUNDS, fx.throughput_ops, fx.latency_ops,
          fx.max_pending, fx.executor_threads);
  fflush (stdout);
  run_all (&fx, &report);
  print_report (&fx, &report);

  json = bench_json_begin (quick);
  append_json (json, &fx, &report);

  report_clear (&report);
  fixture_clear (&fx);
  smartasync_reset ();

  return bench_finish ("bench-scaling", json_path, json, fx.failures);
}
