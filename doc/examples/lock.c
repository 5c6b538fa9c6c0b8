/* lock.c: SmartasyncLock, one execution for many concurrent callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/lock.md quotes. Five callers of a loop ask for the
 * same report while it is being built and share one run; another key runs
 * on its own; a caller that cancels leaves without stopping the others; four
 * threads with no loop share one run with run_sync(); reset() releases
 * the callers that joined, and the caller that started the run keeps it. Exits non-zero if any count or result differs from the guide.
 */

#include <locale.h>

#include <smartasync-glib.h>

/* An expensive operation: builds a report in 50 ms. Results that go through
 * a lock travel as a GValue, so it returns with g_task_return_value(). */
static gint builds, building;   /* runs started, and still running: for the checks */

static gboolean
report_ready (gpointer user_data)
{
  GTask *task = user_data;
  GVariant *args = g_task_get_task_data (task);
  g_auto(GValue) value = G_VALUE_INIT;

  g_atomic_int_add (&building, -1);
  if (g_task_return_error_if_cancelled (task))   /* everybody left */
    return G_SOURCE_REMOVE;

  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_strdup_printf ("report for %s", g_variant_get_string (args, NULL)));
  g_task_return_value (task, &value);
  return G_SOURCE_REMOVE;
}

static void
build_report (GTask        *task,
              gpointer      source_object,
              GVariant     *args,
              GCancellable *cancellable,
              gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new (50);

  g_atomic_int_inc (&builds);
  g_atomic_int_inc (&building);
  g_task_set_task_data (task, g_variant_ref (args), (GDestroyNotify) g_variant_unref);
  g_source_set_callback (timeout, report_ready, g_object_ref (task), g_object_unref);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
}

typedef struct
{
  GMainLoop      *loop;
  SmartasyncLock *lock;
  guint           pending;
  guint           answered;
  guint           cancelled;
  char           *last;
} Callers;

static void
on_report (GObject      *lock,
           GAsyncResult *result,
           gpointer      user_data)
{
  Callers *callers = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  if (smartasync_lock_run_finish (SMARTASYNC_LOCK (lock), result, &value, &error))
    {
      callers->answered++;
      g_free (callers->last);
      callers->last = g_value_dup_string (&value);   /* each caller has its own copy */
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    callers->cancelled++;

  if (--callers->pending == 0)
    g_main_loop_quit (callers->loop);
}

static SmartasyncOperation *report_op;

static void
ask (Callers      *callers,
     const char   *key,
     GCancellable *cancellable)
{
  smartasync_lock_run_async (callers->lock, key, report_op, NULL, g_variant_new_string (key),
                             cancellable, on_report, callers);
  callers->pending++;
}

/* Five callers, one key: one run. */
static gboolean
five_callers (gpointer user_data)
{
  Callers *callers = user_data;

  for (guint i = 0; i < 5; i++)
    ask (callers, "2026-11", NULL);
  return G_SOURCE_REMOVE;
}

/* Two keys: two runs, side by side. */
static gboolean
two_keys (gpointer user_data)
{
  Callers *callers = user_data;

  ask (callers, "2026-11", NULL);
  ask (callers, "2026-12", NULL);
  ask (callers, "2026-12", NULL);
  return G_SOURCE_REMOVE;
}

/* One caller leaves; the run goes on for the others. */
static gboolean
one_leaves (gpointer user_data)
{
  Callers *callers = user_data;
  g_autoptr(GCancellable) impatient = g_cancellable_new ();

  ask (callers, "2026-11", NULL);
  ask (callers, "2026-11", impatient);
  ask (callers, "2026-11", NULL);
  g_cancellable_cancel (impatient);
  return G_SOURCE_REMOVE;
}

/* reset() answers the callers that joined with G_IO_ERROR_CANCELLED; the
 * caller that started the run keeps it and gets its result. */
static gboolean
joiners_released (gpointer user_data)
{
  Callers *callers = user_data;

  ask (callers, "2026-11", NULL);
  ask (callers, "2026-11", NULL);
  smartasync_lock_reset (callers->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
run (Callers     *callers,
     GSourceFunc  scenario,
     guint        expected_builds,
     guint        expected_answered,
     guint        expected_cancelled)
{
  callers->answered = callers->cancelled = 0;
  g_atomic_int_set (&builds, 0);
  g_idle_add (scenario, callers);
  g_main_loop_run (callers->loop);

  /* A run that nobody waits for any more still finishes: let it. */
  while (g_atomic_int_get (&building) > 0)
    g_main_context_iteration (NULL, TRUE);

  return g_atomic_int_get (&builds) == (gint) expected_builds &&
         callers->answered == expected_answered &&
         callers->cancelled == expected_cancelled;
}

/* Threads with no loop share a run through run_sync(). */
static gpointer
thread_caller (gpointer lock)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  if (!smartasync_lock_run_sync (lock, "2027-01", report_op, NULL,
                                 g_variant_new_string ("2027-01"), NULL, &value, &error))
    return NULL;
  return g_value_dup_string (&value);
}

static gboolean
threads_share_a_run (SmartasyncLock *lock)
{
  GThread *threads[4];
  guint joins_before = smartasync_lock_get_joins (lock);
  gboolean ok = TRUE;

  g_atomic_int_set (&builds, 0);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("caller", thread_caller, lock);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autofree char *report = g_thread_join (threads[i]);

      ok &= g_strcmp0 (report, "report for 2027-01") == 0;
    }

  /* The threads start at slightly different times: those that came after
   * a run ended started another one. Every thread got a report, and every
   * caller either started a run or joined one. */
  g_print ("4 threads: %d runs, %u joins\n", g_atomic_int_get (&builds),
           smartasync_lock_get_joins (lock) - joins_before);
  return ok && g_atomic_int_get (&builds) + (smartasync_lock_get_joins (lock) - joins_before) == 4;
}

int
main (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  Callers callers = { g_main_loop_new (NULL, FALSE), lock, 0, 0, 0, NULL };
  gboolean ok = TRUE;

  setlocale (LC_ALL, "");
  report_op = smartasync_operation_new_async ("build-report", build_report, NULL, NULL);

  ok &= run (&callers, five_callers, 1, 5, 0);
  g_print ("5 callers, 1 key: %u run, %u joins, everyone got \"%s\"\n",
           smartasync_lock_get_executions (lock), smartasync_lock_get_joins (lock), callers.last);
  ok &= smartasync_lock_get_executions (lock) == 1 && smartasync_lock_get_joins (lock) == 4;

  ok &= run (&callers, two_keys, 2, 3, 0);
  ok &= run (&callers, one_leaves, 1, 2, 1);
  ok &= run (&callers, joiners_released, 1, 1, 1);
  ok &= !smartasync_lock_is_running (lock, "2026-11");

  ok &= threads_share_a_run (lock);

  g_free (callers.last);
  g_main_loop_unref (callers.loop);
  g_object_unref (report_op);
  return ok ? 0 : 1;
}
