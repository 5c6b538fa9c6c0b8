/* threading.c: which thread runs the implementation, which the callback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/threading.md quotes. It runs the four paths of the
 * dispatch matrix and records, for each, the thread the implementation ran
 * on and the thread the callback ran on; then shows why thread-local state
 * does not reach offloaded work, and a lock shared by two threads that each
 * run their own loop. Exits non-zero if a thread differs from the guide.
 */

#include <smartasync-glib.h>

static GThread *main_thread;

typedef struct
{
  GThread  *impl_thread;
  GThread  *callback_thread;
  gboolean  done;
} Where;

static void
record_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  Where *where = GSIZE_TO_POINTER (g_variant_get_uint64 (args));

  where->impl_thread = g_thread_self ();
  g_task_return_boolean (task, TRUE);
}

static void
record_callback (GObject      *operation,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Where *where = user_data;

  where->callback_thread = g_thread_self ();
  where->done = TRUE;
}

/* Passes the record's address: fine within one process, for a demonstration. */
static GVariant *
where_arg (Where *where)
{
  return g_variant_new_uint64 (GPOINTER_TO_SIZE (where));
}

typedef struct
{
  SmartasyncOperation *op;
  Where               *where;
  GMainLoop           *loop;
} FromLoop;

static gboolean
call_from_loop (gpointer user_data)
{
  FromLoop *from = user_data;

  g_object_unref (smartasync_operation_call (from->op, NULL, where_arg (from->where), NULL,
                                             record_callback, from->where));
  return G_SOURCE_REMOVE;
}

static gboolean
check (const char *path,
       Where      *where,
       gboolean    impl_on_caller)
{
  gboolean ok = where->done && where->callback_thread == main_thread &&
                (where->impl_thread == main_thread) == impl_on_caller;

  g_print ("%-32s implementation on %-14s callback on %s\n", path,
           where->impl_thread == main_thread ? "the caller," : "a worker,",
           where->callback_thread == main_thread ? "the caller" : "another thread");
  return ok;
}

static gboolean
four_paths (void)
{
  g_autoptr(SmartasyncOperation) async_op =
    smartasync_operation_new_async ("record-async", record_impl, NULL, NULL);
  g_autoptr(SmartasyncOperation) blocking_op =
    smartasync_operation_new_blocking ("record-blocking", record_impl, NULL, NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Where where[4] = { { 0 } };
  FromLoop from[2] = { { async_op, &where[2], loop }, { blocking_op, &where[3], loop } };
  gboolean ok = TRUE;

  /* Sync context: both run here, and the callback has run on return. */
  g_object_unref (smartasync_operation_call (async_op, NULL, where_arg (&where[0]), NULL,
                                             record_callback, &where[0]));
  g_object_unref (smartasync_operation_call (blocking_op, NULL, where_arg (&where[1]), NULL,
                                             record_callback, &where[1]));

  /* Async context: from a loop of this thread. */
  g_idle_add (call_from_loop, &from[0]);
  g_idle_add (call_from_loop, &from[1]);
  while (!where[2].done || !where[3].done)
    g_main_context_iteration (NULL, TRUE);

  ok &= check ("sync context, async impl", &where[0], TRUE);
  ok &= check ("sync context, blocking impl", &where[1], TRUE);
  ok &= check ("async context, async impl", &where[2], TRUE);
  ok &= check ("async context, blocking impl", &where[3], FALSE);
  return ok;
}

/* Thread-local state does not follow offloaded work to its worker. */
static GPrivate current_user;

static void
greet_impl (GTask        *task,
            gpointer      source_object,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  const char *from_thread = g_private_get (&current_user);   /* NULL on a worker */
  const char *from_args = g_variant_get_string (args, NULL);  /* always there */

  g_task_return_pointer (task, g_strdup_printf ("%s/%s", from_thread ? from_thread : "(none)",
                                                from_args), g_free);
}

typedef struct
{
  SmartasyncOperation *op;
  char                *greeting;
} Greet;

static void
on_greeted (GObject      *operation,
            GAsyncResult *result,
            gpointer      user_data)
{
  Greet *greet = user_data;

  greet->greeting = smartasync_operation_call_finish_pointer (greet->op, result, NULL);
}

static gboolean
greet_from_loop (gpointer user_data)
{
  Greet *greet = user_data;

  smartasync_operation_call_async (greet->op, NULL, g_variant_new_string ("alice"), NULL,
                                   on_greeted, greet);
  return G_SOURCE_REMOVE;
}

static gboolean
thread_local_state (void)
{
  g_autoptr(SmartasyncOperation) greet_op =
    smartasync_operation_new_blocking ("greet", greet_impl, NULL, NULL);
  g_autofree char *here = NULL;
  g_autofree char *offloaded = NULL;
  Greet greet = { greet_op, NULL };

  g_private_set (&current_user, "alice");

  here = smartasync_operation_call_sync_pointer (greet_op, NULL, g_variant_new_string ("alice"),
                                                 NULL, NULL);
  g_idle_add (greet_from_loop, &greet);
  while (greet.greeting == NULL)
    g_main_context_iteration (NULL, TRUE);

  offloaded = greet.greeting;

  g_print ("thread-local user: sync call sees %s, offloaded call sees %s\n", here, offloaded);
  g_private_set (&current_user, NULL);

  return g_strcmp0 (here, "alice/alice") == 0 && g_strcmp0 (offloaded, "(none)/alice") == 0;
}

/* One lock, two threads, each with its own loop: each caller's callback
 * runs on its own thread. */
static SmartasyncLock *shared_lock;
static SmartasyncOperation *slow_op;

static gboolean
slow_done (gpointer user_data)
{
  GTask *task = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  g_task_return_value (task, &value);
  return G_SOURCE_REMOVE;
}

static void
slow_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GSource *timeout = g_timeout_source_new (100);

  g_source_set_callback (timeout, slow_done, g_object_ref (task), g_object_unref);
  g_source_attach (timeout, g_main_context_get_thread_default ());
  g_source_unref (timeout);
}

typedef struct
{
  GMainLoop *loop;
  gboolean   answered_here;
} LoopThread;

static void
on_shared_result (GObject      *lock,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  LoopThread *self = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  self->answered_here = smartasync_lock_run_finish (SMARTASYNC_LOCK (lock), result, &value, NULL) &&
                        g_value_get_int (&value) == 42 &&
                        g_main_context_is_owner (g_main_loop_get_context (self->loop));
  g_main_loop_quit (self->loop);
}

static gboolean
ask_lock (gpointer user_data)
{
  LoopThread *self = user_data;

  smartasync_lock_run_async (shared_lock, "answer", slow_op, NULL, NULL, NULL,
                             on_shared_result, self);
  return G_SOURCE_REMOVE;
}

static gpointer
loop_thread (gpointer data)
{
  LoopThread *self = data;
  GMainContext *context = g_main_context_new ();
  GSource *idle = g_idle_source_new ();

  g_main_context_push_thread_default (context);
  self->loop = g_main_loop_new (context, FALSE);
  g_source_set_callback (idle, ask_lock, self, NULL);
  g_source_attach (idle, context);
  g_source_unref (idle);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (context);

  g_main_loop_unref (self->loop);
  g_main_context_unref (context);
  return NULL;
}

static gboolean
lock_across_threads (void)
{
  LoopThread threads[2] = { { NULL, FALSE }, { NULL, FALSE } };
  GThread *t0, *t1;

  shared_lock = smartasync_lock_new ();
  slow_op = smartasync_operation_new_async ("slow-answer", slow_impl, NULL, NULL);
  t0 = g_thread_new ("loop-0", loop_thread, &threads[0]);
  t1 = g_thread_new ("loop-1", loop_thread, &threads[1]);
  g_thread_join (t0);
  g_thread_join (t1);

  g_print ("lock shared by two loop threads: %u run(s), each answer on its own thread: %s\n",
           smartasync_lock_get_executions (shared_lock),
           threads[0].answered_here && threads[1].answered_here ? "yes" : "no");

  g_clear_object (&slow_op);
  g_clear_object (&shared_lock);
  return threads[0].answered_here && threads[1].answered_here;
}

int
main (void)
{
  gboolean ok = TRUE;

  main_thread = g_thread_self ();
  ok &= four_paths ();
  ok &= thread_local_state ();
  ok &= lock_across_threads ();
  return ok ? 0 : 1;
}
