/* test-release.c: where the library releases a call's objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When the caller has dropped its references, the last ones are the
 * library's, and the thread that drops them finalizes the caller's objects.
 * That is always the caller's context, never a worker: each test makes the
 * worker's reference the last one (the implementation answers, then waits
 * until the caller's callback ran and dropped everything) and checks on
 * which thread the source object and the task are finalized.
 */

#include <smartasync-glib.h>

#include "test-util.h"

typedef struct
{
  GMutex        mutex;
  GCond         cond;
  gboolean      open;
} Gate;

static void
gate_open (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

/* Blocks until the gate is open; a hang guard only. */
static void
gate_pass (Gate *gate)
{
  gint64 give_up = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&gate->mutex);
  while (!gate->open)
    if (!g_cond_wait_until (&gate->cond, &gate->mutex, give_up))
      g_error ("hang guard: a gate stayed closed for 120 s");
  g_mutex_unlock (&gate->mutex);
}

/* Where an object was finalized. */
typedef struct
{
  GMainContext *context;   /* woken when it happens */
  GThread      *thread;    /* atomic */
} Finalized;

static void
record_finalized (gpointer  data,
                  GObject  *where_the_object_was)
{
  Finalized *finalized = data;

  g_atomic_pointer_set (&finalized->thread, g_thread_self ());
  g_main_context_wakeup (finalized->context);
}

static void
watch_finalize (gpointer   object,
                Finalized *finalized)
{
  finalized->context = g_main_context_get_thread_default ();
  g_object_weak_ref (object, record_finalized, finalized);
}

static void
iterate_until_finalized (Finalized *finalized)
{
  gint64 give_up = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  while (g_atomic_pointer_get (&finalized->thread) == NULL)
    {
      if (g_get_monotonic_time () > give_up)
        g_error ("hang guard: an object was still alive after 120 s");
      g_main_context_iteration (finalized->context, TRUE);
    }
}

/* One call: the implementation answers (or not), then waits at the gate,
 * which the caller's callback opens once it dropped its references. */
typedef enum
{
  ANSWER,           /* g_task_return_boolean(), then the gate */
  HONOUR_CANCEL,    /* the gate, then g_task_return_error_if_cancelled() */
  NEVER_COMPLETE,   /* the gate, then return without completing the task */
} Behaviour;

typedef struct
{
  Behaviour     behaviour;
  Gate          gate;
  Finalized     task_finalized;
  gint          started;       /* atomic */
  GTask        *task;          /* atomic: the implementation's */
  guint         answers;
  GError       *error;
  gboolean      answered;
} Call;

static void
held_blocking (GTask        *task,
               gpointer      source_object,
               GVariant     *args,
               GCancellable *cancellable,
               gpointer      user_data)
{
  Call *call = user_data;

  g_object_weak_ref (G_OBJECT (task), record_finalized, &call->task_finalized);
  g_atomic_pointer_set (&call->task, task);
  g_atomic_int_set (&call->started, TRUE);
  g_main_context_wakeup (call->task_finalized.context);
  if (call->behaviour == ANSWER)
    g_task_return_boolean (task, TRUE);
  gate_pass (&call->gate);
  if (call->behaviour == HONOUR_CANCEL)
    g_task_return_error_if_cancelled (task);
}

static gboolean
open_gate_idle (gpointer data)
{
  gate_open (data);
  return G_SOURCE_REMOVE;
}

/* From the callback: once the completion that runs it has let go of the
 * task too, in a later dispatch. */
static void
open_gate_after_completion (Gate *gate)
{
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, open_gate_idle, gate, NULL);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

static void
call_answered (GObject      *source_object,
               GAsyncResult *result,
               gpointer      data)
{
  Call *call = data;

  call->answers++;
  call->answered = TRUE;
  g_clear_error (&call->error);
  smartasync_operation_call_finish (SMARTASYNC_OPERATION (source_object), result, NULL,
                                    &call->error);
  /* Everything the caller held is gone: the library's references are the
   * last ones. */
  if (call->behaviour != ANSWER)
    open_gate_after_completion (&call->gate);
}

static void
call_init (Call      *call,
           Behaviour  behaviour)
{
  *call = (Call) { .behaviour = behaviour };
  g_mutex_init (&call->gate.mutex);
  g_cond_init (&call->gate.cond);
  call->task_finalized.context = g_main_context_get_thread_default ();
}

static void
call_clear (Call *call)
{
  g_mutex_clear (&call->gate.mutex);
  g_cond_clear (&call->gate.cond);
  g_clear_error (&call->error);
}

static SmartasyncOperation *
held_operation_new (Call               *call,
                    SmartasyncExecutor *executor)
{
  SmartasyncOperation *op = smartasync_operation_new_blocking ("held", held_blocking, call, NULL);

  smartasync_operation_set_thread_safe (op, TRUE);
  smartasync_operation_set_executor (op, executor);
  return op;
}

/* The caller's context is a loop's: a new context, pushed on this thread. */
static GMainContext *
push_caller_context (void)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  return context;
}

static void
pop_caller_context (GMainContext *context)
{
  /* Nothing of the call is left behind. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

/* Starts an offloaded call with a source object of its own, then drops
 * every reference the caller held. */
static void
start_held_call (Call               *call,
                 Behaviour           behaviour,
                 SmartasyncExecutor *executor,
                 GCancellable       *cancellable,
                 Finalized          *source_finalized)
{
  SmartasyncOperation *op;
  GObject *source;

  call_init (call, behaviour);
  op = held_operation_new (call, executor);
  source = g_object_new (G_TYPE_OBJECT, NULL);
  watch_finalize (source, source_finalized);

  smartasync_operation_call_async (op, source, g_variant_new_int32 (1), cancellable,
                                   call_answered, call);
  g_object_unref (source);
  g_object_unref (op);
}

/* The call was answered once, and its source object and task were
 * finalized on this thread, the caller's. */
static void
assert_released_here (Call      *call,
                      Finalized *source_finalized)
{
  iterate_until_finalized (source_finalized);
  iterate_until_finalized (&call->task_finalized);
  g_assert_cmpuint (call->answers, ==, 1);
  g_assert_true (source_finalized->thread == g_thread_self ());
  g_assert_true (call->task_finalized.thread == g_thread_self ());
}

static void
wait_started (GMainContext *context,
              Call         *call)
{
  while (!g_atomic_int_get (&call->started))
    g_main_context_iteration (context, TRUE);
}

static void
check_answered_then_released (SmartasyncExecutor *executor)
{
  GMainContext *context = push_caller_context ();
  Finalized source_finalized = { 0 };
  Call call;

  start_held_call (&call, ANSWER, executor, NULL, &source_finalized);

  /* Once the task's completion was dispatched (which answers the caller,
   * unless the library waits for the worker), the worker may let go. */
  while (!g_atomic_int_get (&call.started) ||
         !g_task_get_completed (g_atomic_pointer_get (&call.task)))
    g_main_context_iteration (context, TRUE);
  gate_open (&call.gate);

  assert_released_here (&call, &source_finalized);
  g_assert_no_error (call.error);

  call_clear (&call);
  pop_caller_context (context);
}

/* Offloaded to the library's pool, where nothing is configured. */
static void
test_offload_default (void)
{
  check_answered_then_released (NULL);
}

static void
test_offload_executor (void)
{
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);

  check_answered_then_released (executor);
}

/* Cancelled while its worker runs: the caller is answered at once, as on
 * GLib's pool, and what the worker holds is released on the caller's
 * context once it is done. */
static void
test_offload_cancelled_while_running (void)
{
  GMainContext *context = push_caller_context ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Finalized source_finalized = { 0 };
  Call call;

  start_held_call (&call, HONOUR_CANCEL, NULL, cancellable, &source_finalized);
  wait_started (context, &call);
  g_cancellable_cancel (cancellable);
  /* Answered while the implementation still waits at the gate, which only
   * the answer opens. */
  test_iterate_until (context, &call.answered);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_released_here (&call, &source_finalized);

  call_clear (&call);
  pop_caller_context (context);
}

/* The implementation returns without completing its task: the task is
 * finalized on the caller's context, where the caller gets NOT_COMPLETED.
 * The test opens the gate: there is no answer before the implementation
 * returns. */
static void
test_offload_dropped (void)
{
  GMainContext *context = push_caller_context ();
  Finalized source_finalized = { 0 };
  Call call;

  start_held_call (&call, NEVER_COMPLETE, NULL, NULL, &source_finalized);
  wait_started (context, &call);
  gate_open (&call.gate);

  test_iterate_until (context, &call.answered);
  g_assert_error (call.error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_NOT_COMPLETED);
  assert_released_here (&call, &source_finalized);

  call_clear (&call);
  pop_caller_context (context);
}

/* smartasync_executor_run_in_thread() with the caller's own task: its task
 * data is released on the caller's context too. */
static void
returning_thread_func (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  Call *call = g_object_get_data (G_OBJECT (task), "call");

  g_task_return_boolean (task, TRUE);
  gate_pass (&call->gate);
}

static void
task_answered (GObject      *source_object,
               GAsyncResult *result,
               gpointer      data)
{
  Call *call = data;

  call->answers++;
  call->answered = g_task_propagate_boolean (G_TASK (result), &call->error);
  open_gate_after_completion (&call->gate);
}

static void
test_executor_task (void)
{
  GMainContext *context = push_caller_context ();
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  Finalized data_finalized = { 0 };
  Call call;
  GObject *data = g_object_new (G_TYPE_OBJECT, NULL);
  GTask *task;

  call_init (&call, ANSWER);
  watch_finalize (data, &data_finalized);
  task = g_task_new (NULL, NULL, task_answered, &call);
  g_object_set_data (G_OBJECT (task), "call", &call);
  g_task_set_task_data (task, data, g_object_unref);
  watch_finalize (task, &call.task_finalized);

  smartasync_executor_run_in_thread (executor, task, returning_thread_func);
  g_object_unref (task);

  iterate_until_finalized (&data_finalized);
  iterate_until_finalized (&call.task_finalized);
  g_assert_true (call.answered);
  g_assert_cmpuint (call.answers, ==, 1);
  g_assert_true (data_finalized.thread == g_thread_self ());
  g_assert_true (call.task_finalized.thread == g_thread_self ());

  call_clear (&call);
  pop_caller_context (context);
}

/* A lock run started by a sync caller runs on a worker: the worker lets go
 * of the caller's source object before it answers, so the caller's own
 * reference is the last one. */
static void
answer_at_once (GTask        *task,
                gpointer      source_object,
                GVariant     *args,
                GCancellable *cancellable,
                gpointer      user_data)
{
  g_task_return_boolean (task, TRUE);
}

/* The caller is answered when the worker let go of the call, from a
 * dispatch of the library's: with the call's context as thread-default,
 * as GTask runs a callback, even where it is iterated without being pushed. */
typedef struct
{
  gboolean      answered;
  GMainContext *thread_default;
} Seen;

static void
note_thread_default (GObject      *source_object,
                     GAsyncResult *result,
                     gpointer      data)
{
  Seen *seen = data;

  seen->thread_default = g_main_context_get_thread_default ();
  seen->answered = TRUE;
}

static void
test_offload_callback_context (void)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("answers", answer_at_once,
                                                                         NULL, NULL);
  Seen seen = { FALSE, NULL };

  smartasync_operation_set_thread_safe (op, TRUE);
  g_main_context_push_thread_default (context);
  smartasync_operation_call_async (op, NULL, NULL, NULL, note_thread_default, &seen);
  g_main_context_pop_thread_default (context);

  test_iterate_until (context, &seen.answered);
  g_assert_true (seen.thread_default == context);

  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_unref (context);
}

typedef struct
{
  SmartasyncLock      *lock;
  SmartasyncOperation *op;
  Finalized            source_finalized;
  GThread             *caller;
} LockCaller;

static gpointer
run_lock_from_thread (gpointer data)
{
  LockCaller *caller = data;
  GObject *source = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GError) error = NULL;

  caller->caller = g_thread_self ();
  g_object_weak_ref (source, record_finalized, &caller->source_finalized);
  g_assert_true (smartasync_lock_run_sync (caller->lock, "key", caller->op, source, NULL,
                                           NULL, NULL, &error));
  g_assert_no_error (error);
  g_object_unref (source);
  return NULL;
}

static void
test_lock_sync_run (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = smartasync_operation_new_blocking ("answers", answer_at_once,
                                                                         NULL, NULL);
  LockCaller caller = { lock, op, { g_main_context_default (), NULL }, NULL };

  smartasync_operation_set_result_type (op, G_TYPE_BOOLEAN);
  for (guint i = 0; i < 20; i++)
    {
      caller.source_finalized.thread = NULL;
      g_thread_join (g_thread_new ("lock-caller", run_lock_from_thread, &caller));
      g_assert_true (caller.source_finalized.thread == caller.caller);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/release/offload/default", test_offload_default);
  g_test_add_func ("/release/offload/executor", test_offload_executor);
  g_test_add_func ("/release/offload/cancelled-while-running",
                   test_offload_cancelled_while_running);
  g_test_add_func ("/release/offload/dropped", test_offload_dropped);
  g_test_add_func ("/release/offload/callback-context", test_offload_callback_context);
  g_test_add_func ("/release/executor/caller-task", test_executor_task);
  g_test_add_func ("/release/lock/sync-run", test_lock_sync_run);

  return g_test_run ();
}
