/* bench-bridge.c: per-call cost of the bridge against hand-written GLib code
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every row runs BENCH_ROUNDS rounds of N calls and reports the median cost of one
 * call, in nanoseconds, with its ratio to baselines measured in the same run
 * (ratio = ns/call ÷ baseline ns/call: above 1 is slower than the baseline).
 * Rounds are interleaved across rows, so that drift of a noisy machine hits
 * a row and its baselines alike.
 *
 *   bench-bridge             the full table
 *   bench-bridge --quick     a smoke run: small N, every measurement made
 *   bench-bridge --json FILE also writes the rows as JSON
 *
 * SMARTASYNC_TEST_QUICK=1 in the environment implies --quick. No timing is
 * asserted; the exit status is non-zero only when a call returned a wrong
 * result or the JSON file could not be written.
 *
 * The offload rows (sections 5 and 6) measure two thread hand-offs per call,
 * so they mostly measure the scheduler: on a loaded machine they vary by 2-3x
 * from run to run, and their ratios are only meaningful within one run. */

#define _POSIX_C_SOURCE 200809L  /* clock_gettime() under -std=c11 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "test-util.h"

#define QUICK_MIN_CALLS 20
#define SYNC_WAIT_TARGET_NS 750.0

typedef struct
{
  SmartasyncOperation *op_async;     /* completes its task at once */
  SmartasyncOperation *op_blocking;  /* returns 2 * args */
  SmartasyncOperation *op_executor;  /* the same, on a SmartasyncExecutor */
  SmartasyncExecutor  *executor;
  GMainContext        *reused_context;
  GMainContext        *no_poll_context; /* skips zero-timeout polls, as the library does */
  GMainContext        *floor_context;   /* the same, with a source that completes tasks */
  GSource             *completer;       /* on floor_context */
  GVariant            *args;         /* the int32 21 */
  guint                failures;     /* calls that returned a wrong result */
  guint                sink;         /* keeps results alive */
} Fixture;

typedef struct _Case Case;
typedef struct _Chain Chain;

/* Runs @n calls and returns the time they took, in nanoseconds. */
typedef gint64 (*RunFunc) (const Case *c,
                           Fixture    *fx,
                           guint       n);

/* Issues the next call of a chain; its callback calls chain_step(). */
typedef void (*IssueFunc) (Chain *chain);

typedef enum
{
  CASE_NONE,
  CASE_EMPTY,
  CASE_CURRENT_SOURCE,
  CASE_DETECT_PLAIN,
  CASE_CURRENT_SOURCE_LOOP,
  CASE_DETECT_LOOP,
  CASE_NEW_CONTEXT,
  CASE_REUSED_CONTEXT,
  CASE_REUSED_NO_POLL,
  CASE_GTASK_FLOOR,
  CASE_SYNC_ASYNC,
  CASE_SCOPED_SYNC_ASYNC,
  CASE_DIRECT,
  CASE_THREAD_SYNC,
  CASE_SYNC_BLOCKING,
  CASE_RAW_TASK_CHAIN,
  CASE_ASYNC_ASYNC,
  CASE_RAW_THREAD_CHAIN,
  CASE_OFFLOAD,
  CASE_OFFLOAD_EXECUTOR,
  CASE_SMART_SYNC_ASYNC,
  CASE_SMART_SYNC_BLOCKING,
  CASE_SMART_ASYNC_ASYNC,
  CASE_SMART_ASYNC_BLOCKING,
  CASE_WAIT_MACRO,
  CASE_WAITER,
  N_CASES
} CaseId;

struct _Case
{
  const char *section;
  const char *name;
  RunFunc     run;
  IssueFunc   issue;        /* for run_chain() */
  gboolean    in_loop;      /* run from an idle of a running loop */
  guint       calls;        /* per round, in a full run */
  guint       baselines[BENCH_MAX_BASELINES];   /* CaseIds */
};


/* Implementations and plain functions */

static void
immediate_impl (GTask        *task,
                gpointer      source_object,
                GVariant     *args,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

/* A GIO-style _async function that completes at once (on the next
 * iteration of the thread-default context), and its _finish. */
static void
immediate_async (GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, immediate_async);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
immediate_finish (GAsyncResult  *result,
                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static G_GNUC_NO_INLINE guint
empty_call (void)
{
  __asm__ __volatile__ ("" ::: "memory");
  return 1;
}

static G_GNUC_NO_INLINE gssize
direct_double (GVariant *args)
{
  return 2 * g_variant_get_int32 (args);
}

/* 1. Detection */

static gint64
run_empty (const Case *c,
           Fixture    *fx,
           guint       n)
{
  gint64 start = bench_now_ns ();
  guint acc = 0;

  for (guint i = 0; i < n; i++)
    acc += empty_call ();
  fx->sink += acc;
  return bench_now_ns () - start;
}

static gint64
run_current_source (const Case *c,
                    Fixture    *fx,
                    guint       n)
{
  gint64 start = bench_now_ns ();
  guint acc = 0;

  for (guint i = 0; i < n; i++)
    acc += g_main_current_source () != NULL;
  bench_check (&fx->failures, acc == (c->in_loop ? n : 0));
  return bench_now_ns () - start;
}

static gint64
run_detect (const Case *c,
            Fixture    *fx,
            guint       n)
{
  gint64 start = bench_now_ns ();
  guint acc = 0;

  for (guint i = 0; i < n; i++)
    acc += smartasync_in_async_context ();
  bench_check (&fx->failures, acc == (c->in_loop ? n : 0));
  return bench_now_ns () - start;
}

/* 2. Sync context, async implementation */

typedef struct
{
  gboolean done;
  gboolean value;
} Done;

static void
set_done (GObject      *source_object,
          GAsyncResult *result,
          gpointer      data)
{
  Done *done = data;

  done->value = g_task_propagate_boolean (G_TASK (result), NULL);
  done->done = TRUE;
}

/* The hand-written recipe: push, start, iterate until done, pop. */
static gboolean
wait_on_context (GMainContext *context)
{
  Done done = { FALSE, FALSE };
  GTask *task;

  g_main_context_push_thread_default (context);
  task = g_task_new (NULL, NULL, set_done, &done);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  while (!done.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return done.value;
}

static gint64
run_new_context (const Case *c,
                 Fixture    *fx,
                 guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      GMainContext *context = g_main_context_new ();

      bench_check (&fx->failures, wait_on_context (context));
      g_main_context_unref (context);
    }
  return bench_now_ns () - start;
}

static gint64
run_reused_context (const Case *c,
                    Fixture    *fx,
                    guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures, wait_on_context (fx->reused_context));
  return bench_now_ns () - start;
}

/* GLib's recipe on a reused context whose poll function skips the
 * zero-timeout poll() when nothing but the context's own wake-up fd could be
 * polled: what an iteration costs at best. */
static gint
skip_zero_timeout_poll (GPollFD *fds,
                        guint    nfds,
                        gint     timeout)
{
  if (timeout == 0 && nfds == 1)
    {
      fds[0].revents = 0;
      return 0;
    }
  return g_poll (fds, nfds, timeout);
}

static gint64
run_reused_no_poll (const Case *c,
                    Fixture    *fx,
                    guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures, wait_on_context (fx->no_poll_context));
  return bench_now_ns () - start;
}

/* The floor of any sync wait built on GTask and a GMainContext: push the
 * context, create the task, one iteration whose dispatch completes it (so
 * its callback runs on the spot), pop, free. Nothing else: no detection, no
 * wait record, no look for leftovers. */
typedef struct
{
  GSource  source;
  GTask   *task;   /* to complete at the next dispatch */
} Completer;

static gboolean
completer_prepare (GSource *source,
                   gint    *timeout)
{
  *timeout = -1;
  return ((Completer *) source)->task != NULL;
}

static gboolean
completer_check (GSource *source)
{
  return ((Completer *) source)->task != NULL;
}

static gboolean
completer_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  g_task_return_boolean (g_steal_pointer (&((Completer *) source)->task), TRUE);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs completer_funcs = {
  .prepare = completer_prepare,
  .check = completer_check,
  .dispatch = completer_dispatch,
};

static gint64
run_gtask_floor (const Case *c,
                 Fixture    *fx,
                 guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      Done done = { FALSE, FALSE };
      GTask *task;

      g_main_context_push_thread_default (fx->floor_context);
      task = g_task_new (NULL, NULL, set_done, &done);
      ((Completer *) fx->completer)->task = task;
      while (!done.done)
        g_main_context_iteration (fx->floor_context, TRUE);
      g_main_context_pop_thread_default (fx->floor_context);
      g_object_unref (task);
      bench_check (&fx->failures, done.value);
    }
  return bench_now_ns () - start;
}

static gint64
run_sync_async (const Case *c,
                Fixture    *fx,
                guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures,
                 smartasync_operation_call_sync_boolean (fx->op_async, NULL, NULL, NULL, NULL));
  return bench_now_ns () - start;
}

/* The loop-reuse pattern: many synchronous calls in one scope (a batch),
 * which keeps the private context pushed across them. */
static gint64
run_scoped_sync_async (const Case *c,
                       Fixture    *fx,
                       guint       n)
{
  SmartasyncBatch *scope = smartasync_batch_new ();
  gint64 start = bench_now_ns ();
  gint64 elapsed;

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures,
                 smartasync_operation_call_sync_boolean (fx->op_async, NULL, NULL, NULL, NULL));
  elapsed = bench_now_ns () - start;
  smartasync_batch_close (scope);
  g_object_unref (scope);
  return elapsed;
}

/* 3. Sync context, blocking implementation */

static gint64
run_direct (const Case *c,
            Fixture    *fx,
            guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures, direct_double (fx->args) == 42);
  return bench_now_ns () - start;
}

static gint64
run_thread_sync (const Case *c,
                 Fixture    *fx,
                 guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, NULL, NULL);

      g_task_set_task_data (task, fx->args, NULL);
      g_task_run_in_thread_sync (task, bench_double_thread_func);
      bench_check (&fx->failures, g_task_propagate_int (task, NULL) == 42);
      g_object_unref (task);
    }
  return bench_now_ns () - start;
}

static gint64
run_sync_blocking (const Case *c,
                   Fixture    *fx,
                   guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    bench_check (&fx->failures,
                 smartasync_operation_call_sync_int (fx->op_blocking, NULL, fx->args,
                                                     NULL, NULL) == 42);
  return bench_now_ns () - start;
}

/* 4. and 5. Chains in a running loop: each callback issues the next call */

struct _Chain
{
  Fixture             *fx;
  IssueFunc            issue;
  SmartasyncOperation *op;      /* the operation of the call in flight */
  guint                n;
  guint                done;
  gint64               start;
  gint64               end;
  GMainLoop           *loop;
};

static void
chain_step (Chain    *chain,
            gboolean  ok)
{
  bench_check (&chain->fx->failures, ok);
  if (++chain->done < chain->n)
    {
      chain->issue (chain);
      return;
    }

  chain->end = bench_now_ns ();
  g_main_loop_quit (chain->loop);
}

static gboolean
chain_start (gpointer data)
{
  Chain *chain = data;

  chain->start = bench_now_ns ();
  chain->issue (chain);
  return G_SOURCE_REMOVE;
}

static gint64
run_chain (const Case *c,
           Fixture    *fx,
           guint       n)
{
  Chain chain = { fx, c->issue, NULL, n, 0, 0, 0, g_main_loop_new (NULL, FALSE) };

  g_idle_add (chain_start, &chain);
  g_main_loop_run (chain.loop);
  g_main_loop_unref (chain.loop);

  return chain.end - chain.start;
}

static void
raw_task_done (GObject      *source_object,
               GAsyncResult *result,
               gpointer      data)
{
  chain_step (data, g_task_propagate_boolean (G_TASK (result), NULL));
}

static void
issue_raw_task (Chain *chain)
{
  GTask *task = g_task_new (NULL, NULL, raw_task_done, chain);

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
op_boolean_done (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      data)
{
  Chain *chain = data;

  chain_step (chain, smartasync_operation_call_finish_boolean (chain->op, result, NULL));
}

static void
issue_op_async (Chain *chain)
{
  chain->op = chain->fx->op_async;
  smartasync_operation_call_async (chain->op, NULL, NULL, NULL, op_boolean_done, chain);
}

static void
raw_thread_done (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      data)
{
  chain_step (data, g_task_propagate_int (G_TASK (result), NULL) == 42);
}

static void
issue_raw_thread (Chain *chain)
{
  GTask *task = g_task_new (NULL, NULL, raw_thread_done, chain);

  g_task_set_task_data (task, chain->fx->args, NULL);
  g_task_run_in_thread (task, bench_double_thread_func);
  g_object_unref (task);
}

static void
op_int_done (GObject      *source_object,
             GAsyncResult *result,
             gpointer      data)
{
  Chain *chain = data;

  chain_step (chain, smartasync_operation_call_finish_int (chain->op, result, NULL) == 42);
}

static void
issue_offload (Chain *chain)
{
  chain->op = chain->fx->op_blocking;
  smartasync_operation_call_async (chain->op, NULL, chain->fx->args, NULL, op_int_done, chain);
}

static void
issue_offload_executor (Chain *chain)
{
  chain->op = chain->fx->op_executor;
  smartasync_operation_call_async (chain->op, NULL, chain->fx->args, NULL, op_int_done, chain);
}

/* 6. The smart call */

static gint64
run_smart_sync_async (const Case *c,
                      Fixture    *fx,
                      guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      GTask *task = smartasync_operation_call (fx->op_async, NULL, NULL, NULL, NULL, NULL);

      bench_check (&fx->failures,
                   smartasync_operation_call_finish_boolean (fx->op_async,
                                                             G_ASYNC_RESULT (task), NULL));
      g_object_unref (task);
    }
  return bench_now_ns () - start;
}

static gint64
run_smart_sync_blocking (const Case *c,
                         Fixture    *fx,
                         guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      GTask *task = smartasync_operation_call (fx->op_blocking, NULL, fx->args,
                                               NULL, NULL, NULL);

      bench_check (&fx->failures,
                   smartasync_operation_call_finish_int (fx->op_blocking,
                                                         G_ASYNC_RESULT (task), NULL) == 42);
      g_object_unref (task);
    }
  return bench_now_ns () - start;
}

static void
issue_smart_async (Chain *chain)
{
  chain->op = chain->fx->op_async;
  g_object_unref (smartasync_operation_call (chain->op, NULL, NULL, NULL,
                                             op_boolean_done, chain));
}

static void
issue_smart_offload (Chain *chain)
{
  chain->op = chain->fx->op_blocking;
  g_object_unref (smartasync_operation_call (chain->op, NULL, chain->fx->args, NULL,
                                             op_int_done, chain));
}

/* 7. Raw waiters */

static gint64
run_wait_macro (const Case *c,
                Fixture    *fx,
                guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      GAsyncResult *result = SMARTASYNC_WAIT (NULL, NULL, immediate_async, NULL);

      bench_check (&fx->failures, result != NULL && immediate_finish (result, NULL));
      g_clear_object (&result);
    }
  return bench_now_ns () - start;
}

static gint64
run_waiter (const Case *c,
            Fixture    *fx,
            guint       n)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < n; i++)
    {
      SmartasyncWaiter *waiter = smartasync_waiter_new ();
      GAsyncResult *result;

      immediate_async (NULL, smartasync_waiter_callback, waiter);
      result = smartasync_waiter_wait (waiter, NULL, NULL);
      bench_check (&fx->failures, result != NULL && immediate_finish (result, NULL));
      g_clear_object (&result);
      g_object_unref (waiter);
    }
  return bench_now_ns () - start;
}

/* The table */

#define S_DETECT   "1. detection"
#define S_SYNC_A   "2. sync context, async implementation"
#define S_SYNC_B   "3. sync context, blocking implementation"
#define S_ASYNC_A  "4. async context, async implementation (chain in a loop)"
#define S_ASYNC_B  "5. async context, blocking implementation (offload chain)"
#define S_SMART    "6. smart call: smartasync_operation_call"
#define S_WAITER   "7. raw waiter around an immediate _async function"

static const Case cases[N_CASES] = {
  [CASE_EMPTY] = { S_DETECT, "empty non-inlined call", run_empty, NULL,
                   FALSE, 4000000, { 0 } },
  [CASE_CURRENT_SOURCE] = { S_DETECT, "g_main_current_source, no loop",
                            run_current_source, NULL, FALSE, 4000000,
                            { CASE_EMPTY } },
  [CASE_DETECT_PLAIN] = { S_DETECT, "in_async_context, no loop", run_detect, NULL,
                          FALSE, 4000000, { CASE_EMPTY, CASE_CURRENT_SOURCE } },
  [CASE_CURRENT_SOURCE_LOOP] = { S_DETECT, "g_main_current_source, in loop",
                                 run_current_source, NULL, TRUE, 4000000,
                                 { CASE_EMPTY } },
  [CASE_DETECT_LOOP] = { S_DETECT, "in_async_context, in loop", run_detect, NULL,
                         TRUE, 4000000, { CASE_EMPTY, CASE_CURRENT_SOURCE_LOOP } },

  [CASE_NEW_CONTEXT] = { S_SYNC_A, "boilerplate, new GMainContext per call",
                         run_new_context, NULL, FALSE, 20000, { 0 } },
  [CASE_REUSED_CONTEXT] = { S_SYNC_A, "boilerplate, reused GMainContext",
                            run_reused_context, NULL, FALSE, 100000, { 0 } },
  [CASE_REUSED_NO_POLL] = { S_SYNC_A, "boilerplate, reused, poll skipped",
                            run_reused_no_poll, NULL, FALSE, 100000, { CASE_REUSED_CONTEXT } },
  [CASE_GTASK_FLOOR] = { S_SYNC_A, "floor: GTask done in a dispatch",
                         run_gtask_floor, NULL, FALSE, 100000, { CASE_REUSED_NO_POLL } },
  [CASE_SYNC_ASYNC] = { S_SYNC_A, "call_sync_boolean", run_sync_async, NULL,
                        FALSE, 100000,
                        { CASE_NEW_CONTEXT, CASE_REUSED_CONTEXT, CASE_REUSED_NO_POLL,
                          CASE_GTASK_FLOOR } },
  [CASE_SCOPED_SYNC_ASYNC] = { S_SYNC_A, "call_sync_boolean in a scope (batch)",
                               run_scoped_sync_async, NULL, FALSE, 100000,
                               { CASE_GTASK_FLOOR, CASE_SYNC_ASYNC } },

  [CASE_DIRECT] = { S_SYNC_B, "direct C call", run_direct, NULL,
                    FALSE, 4000000, { 0 } },
  [CASE_THREAD_SYNC] = { S_SYNC_B, "g_task_run_in_thread_sync", run_thread_sync, NULL,
                         FALSE, 10000, { 0 } },
  [CASE_SYNC_BLOCKING] = { S_SYNC_B, "call_sync_int", run_sync_blocking, NULL,
                           FALSE, 100000, { CASE_DIRECT, CASE_THREAD_SYNC } },

  [CASE_RAW_TASK_CHAIN] = { S_ASYNC_A, "raw GTask chain", run_chain, issue_raw_task,
                            FALSE, 100000, { 0 } },
  [CASE_ASYNC_ASYNC] = { S_ASYNC_A, "call_async chain", run_chain, issue_op_async,
                         FALSE, 100000, { CASE_RAW_TASK_CHAIN } },

  [CASE_RAW_THREAD_CHAIN] = { S_ASYNC_B, "raw g_task_run_in_thread chain", run_chain,
                              issue_raw_thread, FALSE, 10000, { 0 } },
  [CASE_OFFLOAD] = { S_ASYNC_B, "call_async chain, default offload", run_chain,
                     issue_offload, FALSE, 10000, { CASE_RAW_THREAD_CHAIN } },
  [CASE_OFFLOAD_EXECUTOR] = { S_ASYNC_B, "call_async chain, executor (2 threads)",
                              run_chain, issue_offload_executor, FALSE, 10000,
                              { CASE_RAW_THREAD_CHAIN, CASE_OFFLOAD } },

  [CASE_SMART_SYNC_ASYNC] = { S_SMART, "call, sync ctx, async impl",
                              run_smart_sync_async, NULL, FALSE, 100000,
                              { CASE_SYNC_ASYNC, CASE_REUSED_CONTEXT } },
  [CASE_SMART_SYNC_BLOCKING] = { S_SMART, "call, sync ctx, blocking impl",
                                 run_smart_sync_blocking, NULL, FALSE, 100000,
                                 { CASE_SYNC_BLOCKING, CASE_DIRECT } },
  [CASE_SMART_ASYNC_ASYNC] = { S_SMART, "call, async ctx, async impl (chain)",
                               run_chain, issue_smart_async, FALSE, 100000,
                               { CASE_ASYNC_ASYNC, CASE_RAW_TASK_CHAIN } },
  [CASE_SMART_ASYNC_BLOCKING] = { S_SMART, "call, async ctx, blocking impl (chain)",
                                  run_chain, issue_smart_offload, FALSE, 10000,
                                  { CASE_OFFLOAD, CASE_RAW_THREAD_CHAIN } },

  [CASE_WAIT_MACRO] = { S_WAITER, "SMARTASYNC_WAIT", run_wait_macro, NULL,
                        FALSE, 100000, { CASE_REUSED_CONTEXT, CASE_NEW_CONTEXT } },
  [CASE_WAITER] = { S_WAITER, "waiter_new + callback + wait", run_waiter, NULL,
                    FALSE, 100000, { CASE_REUSED_CONTEXT, CASE_NEW_CONTEXT } },
};

/* Running */

typedef struct
{
  const Case *c;
  Fixture    *fx;
  guint       n;
  gint64      elapsed;
} LoopRound;

static gboolean
loop_round_idle (gpointer data)
{
  LoopRound *round = data;

  round->elapsed = round->c->run (round->c, round->fx, round->n);
  return G_SOURCE_REMOVE;
}

static gint64
run_case (const Case *c,
          Fixture    *fx,
          guint       n)
{
  LoopRound round = { c, fx, n, 0 };

  if (!c->in_loop)
    return c->run (c, fx, n);

  test_run_in_loop (loop_round_idle, &round);
  return round.elapsed;
}

static void
run_all (Fixture    *fx,
         gboolean    quick,
         BenchTable *table)
{
  guint calls[N_CASES];

  for (CaseId id = CASE_NONE + 1; id < N_CASES; id++)
    {
      guint row = bench_table_add (table, cases[id].section, cases[id].name,
                                   cases[id].baselines);

      g_assert (row == id);
      calls[id] = MAX (quick ? cases[id].calls / BENCH_QUICK_DIVISOR : cases[id].calls,
                       QUICK_MIN_CALLS);
      bench_table_set_calls (table, id, calls[id]);
      run_case (&cases[id], fx, MAX (calls[id] / 10, 1));  /* warm up */
    }

  /* Interleaved rounds: a slow spell of the machine hits every row. */
  for (guint r = 0; r < BENCH_ROUNDS; r++)
    for (CaseId id = CASE_NONE + 1; id < N_CASES; id++)
      bench_table_set_round (table, id, r,
                             (double) run_case (&cases[id], fx, calls[id]) / calls[id]);

  bench_table_finish (table);
}

/* The sync wait against its floor, in CPU time of this thread: on a loaded
 * machine (other jobs, two cores), time spent preempted lands on whichever
 * row happened to run, and the wall-clock ratios of one run can move by
 * 20 %. The rows run on one thread, so their thread CPU time is what they
 * cost. Interleaved rounds, medians. */
typedef struct
{
  double floor;
  double sync;
  double scoped;
} CpuRatios;

static gint64
thread_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static double
cpu_per_call (CaseId   id,
              Fixture *fx,
              guint    n)
{
  gint64 start = thread_cpu_ns ();

  cases[id].run (&cases[id], fx, n);
  return (double) (thread_cpu_ns () - start) / n;
}

static CpuRatios
measure_cpu (Fixture  *fx,
             gboolean  quick)
{
  static const CaseId ids[] = { CASE_GTASK_FLOOR, CASE_SYNC_ASYNC, CASE_SCOPED_SYNC_ASYNC };
  double rounds[G_N_ELEMENTS (ids)][BENCH_ROUNDS];
  guint n = quick ? QUICK_MIN_CALLS : 100000;
  CpuRatios medians;

  for (guint r = 0; r < BENCH_ROUNDS; r++)
    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      rounds[i][r] = cpu_per_call (ids[i], fx, n);

  medians.floor = bench_median (rounds[0], BENCH_ROUNDS);
  medians.sync = bench_median (rounds[1], BENCH_ROUNDS);
  medians.scoped = bench_median (rounds[2], BENCH_ROUNDS);
  return medians;
}

/* Setup */

static void
fixture_init (Fixture *fx)
{
  memset (fx, 0, sizeof *fx);
  fx->op_async = smartasync_operation_new_async ("bench-immediate", immediate_impl,
                                                 NULL, NULL);
  fx->op_blocking = smartasync_operation_new_blocking ("bench-double", test_double_blocking,
                                                       NULL, NULL);
  fx->op_executor = smartasync_operation_new_blocking ("bench-double-executor",
                                                       test_double_blocking, NULL, NULL);
  fx->executor = smartasync_executor_new (2);
  smartasync_operation_set_executor (fx->op_executor, fx->executor);
  fx->reused_context = g_main_context_new ();
  fx->no_poll_context = g_main_context_new ();
  g_main_context_set_poll_func (fx->no_poll_context, skip_zero_timeout_poll);
  fx->floor_context = g_main_context_new ();
  g_main_context_set_poll_func (fx->floor_context, skip_zero_timeout_poll);
  fx->completer = g_source_new (&completer_funcs, sizeof (Completer));
  g_source_attach (fx->completer, fx->floor_context);
  fx->args = g_variant_ref_sink (g_variant_new_int32 (21));
}

static void
fixture_clear (Fixture *fx)
{
  g_clear_object (&fx->op_async);
  g_clear_object (&fx->op_blocking);
  g_clear_object (&fx->op_executor);
  g_clear_object (&fx->executor);
  g_clear_pointer (&fx->reused_context, g_main_context_unref);
  g_clear_pointer (&fx->no_poll_context, g_main_context_unref);
  g_source_destroy (fx->completer);
  g_clear_pointer (&fx->completer, g_source_unref);
  g_clear_pointer (&fx->floor_context, g_main_context_unref);
  g_clear_pointer (&fx->args, g_variant_unref);
}

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE;
  g_autofree char *json_path = NULL;
  g_autoptr(BenchTable) table = bench_table_new ("ns/call (median)", 16, 1, "ns_per_call");
  GString *json;
  Fixture fx;
  CpuRatios cpu;

  if (!bench_parse_options (&argc, &argv, "bench-bridge", "- smartasync-glib benchmark",
                            &quick, &json_path))
    return 2;

  fixture_init (&fx);
  bench_print_title ("benchmark");
  printf ("%s run: ns/call is the median of %d rounds of N calls; "
          "ratio = ns/call / baseline ns/call (>1 is slower)\n\n",
          quick ? "quick" : "full", BENCH_ROUNDS);
  fflush (stdout);
  run_all (&fx, quick, table);
  bench_table_print (table);

  printf ("\n");
  bench_print_target ("Sync wait, call_sync_boolean",
                      bench_table_get_median (table, CASE_SYNC_ASYNC),
                      SYNC_WAIT_TARGET_NS, "ns/call");
  printf ("Sync wait, call_sync_boolean: %.2fx GLib's recipe with the poll skipped "
          "(the recipe the target was set from: 0.7 us where the target was set), "
          "%.2fx the floor of a GTask done in a dispatch (%.0f ns/call here)\n",
          bench_table_ratio (table, CASE_SYNC_ASYNC, CASE_REUSED_NO_POLL),
          bench_table_ratio (table, CASE_SYNC_ASYNC, CASE_GTASK_FLOOR),
          bench_table_get_median (table, CASE_GTASK_FLOOR));
  printf ("Sync wait in a scope (a batch keeping the private context pushed): %.2fx the "
          "floor, which pushes and pops its context per call\n",
          bench_table_ratio (table, CASE_SCOPED_SYNC_ASYNC, CASE_GTASK_FLOOR));
  cpu = measure_cpu (&fx, quick);
  printf ("In CPU time of this thread (robust to a loaded machine): floor %.0f ns/call, "
          "call_sync_boolean %.0f ns/call (%.2fx the floor), in a scope %.0f ns/call "
          "(%.2fx the floor)\n", cpu.floor, cpu.sync, cpu.sync / cpu.floor,
          cpu.scoped, cpu.scoped / cpu.floor);

  json = bench_json_begin (quick);
  bench_json_target (json, "target_sync_wait_ns",
                     bench_table_get_median (table, CASE_SYNC_ASYNC), SYNC_WAIT_TARGET_NS);
  bench_json_number (json, "sync_wait_over_floor",
                     bench_table_ratio (table, CASE_SYNC_ASYNC, CASE_GTASK_FLOOR));
  bench_json_number (json, "scoped_sync_wait_over_floor",
                     bench_table_ratio (table, CASE_SCOPED_SYNC_ASYNC, CASE_GTASK_FLOOR));
  bench_json_number (json, "cpu_sync_wait_over_floor", cpu.sync / cpu.floor);
  bench_json_number (json, "cpu_scoped_sync_wait_over_floor", cpu.scoped / cpu.floor);
  bench_json_table (json, "rows", table);

  fixture_clear (&fx);
  smartasync_reset ();

  return bench_finish ("bench-bridge", json_path, json, fx.failures);
}
