/* test-bad-input.c: NULL and mismatched arguments on every public function
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every public function of the headers is called here with each argument it
 * can get wrong: NULL where an object is needed, an object of another type,
 * a result from another operation or source tag, an error already set, a
 * value already initialized, a call from the wrong thread, or at the wrong
 * time (inside a wait, after close). Each must log a critical in the
 * "Smartasync" domain and return a safe value, never crash or hang.
 *
 * "Mismatched" objects are real GTypeInstances of the wrong type: a pointer
 * to something that is not a GTypeInstance at all cannot be told apart from
 * a valid one without reading through it, in GLib as here.
 *
 * As in GLib, a call refused by a precondition does not sink a floating
 * GVariant argument: the tests pass none (it would be leaked).
 *
 * Functions without arguments (smartasync_in_async_context(),
 * smartasync_get_mode(), smartasync_clear_modes(),
 * smartasync_get_private_context(), smartasync_get_debug(),
 * smartasync_lock_new(), smartasync_batch_new(),
 * smartasync_dup_default_executor(), smartasync_error_quark(), the version
 * getters and the *_get_type() functions) have nothing to get wrong; the
 * version check takes plain numbers. They are called once each, so that this
 * file touches every symbol of the headers.
 *
 * Cases where the library hung or crashed when they were written run in a
 * subprocess with a timeout (the "isolated" group), so that a regression
 * fails its own case instead of blocking the suite. */

#include "test-util.h"

#define DOMAIN "Smartasync"

/* A critical in the library's domain, then a safe return. */
#define EXPECT_CRITICAL(pattern, statement) \
  G_STMT_START { \
    g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, (pattern)); \
    statement; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

/* Subprocess cases get this long before they count as hung. */
#define SUBPROCESS_TIMEOUT (120 * G_USEC_PER_SEC)   /* a hang guard, not a deadline */

/* Objects of the wrong type */

static GObject *
plain_object (void)
{
  static GObject *object;

  if (object == NULL)
    object = g_object_new (G_TYPE_OBJECT, NULL);
  return object;
}

/* A GTypeInstance that is not a GObject. */
static GParamSpec *
not_an_object (void)
{
  static GParamSpec *pspec;

  if (pspec == NULL)
    pspec = g_param_spec_ref_sink (g_param_spec_int ("not-an-object", NULL, NULL,
                                                     0, 1, 0, G_PARAM_READABLE));
  return pspec;
}

#define NOT_CANCELLABLE ((GCancellable *) plain_object ())
#define NOT_OPERATION   ((SmartasyncOperation *) plain_object ())
#define NOT_LOCK        ((SmartasyncLock *) plain_object ())
#define NOT_BATCH       ((SmartasyncBatch *) plain_object ())
#define NOT_WAITER      ((SmartasyncWaiter *) plain_object ())
#define NOT_EXECUTOR    ((SmartasyncExecutor *) plain_object ())
#define NOT_GOBJECT     ((gpointer) not_an_object ())

static void
value_impl (GTask        *task,
            gpointer      source_object,
            GVariant     *args,
            GCancellable *cancellable,
            gpointer      user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_static_string (&value, "value");
  g_task_return_value (task, &value);
}

static SmartasyncOperation *
new_value_op (SmartasyncKind kind)
{
  if (kind == SMARTASYNC_KIND_ASYNC)
    return smartasync_operation_new_async ("value", value_impl, NULL, NULL);
  return smartasync_operation_new_blocking ("value", value_impl, NULL, NULL);
}

/* A completed result of @op's call_async(), its callback dispatched. */
static GAsyncResult *
operation_result (SmartasyncOperation *op)
{
  GAsyncResult *result = NULL;
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GAsyncResult) waited = NULL;

  smartasync_operation_call_async (op, NULL, NULL, NULL, smartasync_waiter_callback, waiter);
  waited = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_nonnull (waited);
  result = g_object_ref (waited);
  return result;
}

static GAsyncResult *
lock_result (SmartasyncLock      *lock,
             SmartasyncOperation *op)
{
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  GAsyncResult *result;

  smartasync_lock_run_async (lock, NULL, op, NULL, NULL, NULL, smartasync_waiter_callback, waiter);
  result = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_nonnull (result);
  return result;
}

/* Context */

static void
test_context_bad_input (void)
{
  g_assert_false (smartasync_in_async_context ());
  g_assert_nonnull (smartasync_get_private_context ());
  smartasync_clear_modes ();
  smartasync_set_debug (smartasync_get_debug ());

  EXPECT_CRITICAL ("*mode == SMARTASYNC_MODE_AUTO*", smartasync_push_mode ((SmartasyncMode) 42));
  EXPECT_CRITICAL ("*mode == SMARTASYNC_MODE_AUTO*", smartasync_push_mode ((SmartasyncMode) -1));
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);

  /* Popping with nothing pushed, on a thread with and without state. */
  EXPECT_CRITICAL ("*modes->len > 0*", smartasync_pop_mode ());
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);

  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  smartasync_pop_mode ();
  EXPECT_CRITICAL ("*modes->len > 0*", smartasync_pop_mode ());
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_AUTO);

  /* Adopting the context that is already adopted, then dropping it twice. */
  {
    GMainContext *context = g_main_context_new ();

    smartasync_set_private_context (context);
    smartasync_set_private_context (context);
    g_assert_true (smartasync_get_private_context () == context);
    smartasync_set_private_context (NULL);
    smartasync_set_private_context (NULL);
    g_assert_true (smartasync_get_private_context () != context);
    g_main_context_unref (context);
  }

  smartasync_reset ();
  smartasync_reset ();
}

static gboolean
pop_mode_from_other_thread_ok;

static gpointer
pop_on_fresh_thread (gpointer data)
{
  /* A thread that never touched the library has no state at all. */
  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*state != NULL*");
  smartasync_pop_mode ();
  g_test_assert_expected_messages ();
  pop_mode_from_other_thread_ok = TRUE;
  return NULL;
}

static void
test_context_pop_on_fresh_thread (void)
{
  g_thread_join (g_thread_new ("fresh", pop_on_fresh_thread, NULL));
  g_assert_true (pop_mode_from_other_thread_ok);
}

/* A scope made with an invalid mode pushes nothing, so freeing it must not
 * pop the mode of an enclosing scope. (Runs in a subprocess.) */
static void
isolated_mode_scope_invalid (void)
{
  smartasync_push_mode (SMARTASYNC_MODE_SYNC);
  {
    SmartasyncModeScope *scope = NULL;

    EXPECT_CRITICAL ("*mode == SMARTASYNC_MODE_AUTO*",
                     scope = smartasync_mode_scope_new ((SmartasyncMode) 42));
    smartasync_mode_scope_free (scope);
  }
  g_assert_cmpint (smartasync_get_mode (), ==, SMARTASYNC_MODE_SYNC);
  smartasync_clear_modes ();
}

/* set_private_context() and reset() are refused while a wait runs. */
static void
inside_wait_impl (GTask        *task,
                  gpointer      source_object,
                  GVariant     *args,
                  GCancellable *cancellable,
                  gpointer      user_data)
{
  GMainContext *private_context = smartasync_get_private_context ();
  GMainContext *other = g_main_context_new ();

  EXPECT_CRITICAL ("*wait_depth == 0*", smartasync_set_private_context (other));
  EXPECT_CRITICAL ("*wait_depth == 0*", smartasync_set_private_context (NULL));
  EXPECT_CRITICAL ("*wait_depth == 0*", smartasync_reset ());
  g_assert_true (smartasync_get_private_context () == private_context);
  g_main_context_unref (other);

  g_task_return_boolean (task, TRUE);
}

static void
test_context_inside_wait (void)
{
  g_autoptr(SmartasyncOperation) async_op =
    smartasync_operation_new_async ("inside-wait", inside_wait_impl, NULL, NULL);
  g_autoptr(SmartasyncOperation) blocking_op =
    smartasync_operation_new_blocking ("inside-wait", inside_wait_impl, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (smartasync_operation_call_sync_boolean (async_op, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (smartasync_operation_call_sync_boolean (blocking_op, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  smartasync_reset ();
}

/* Waiter */

static void
test_waiter_bad_input (void)
{
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  g_autoptr(GAsyncResult) result = NULL;

  g_task_return_boolean (task, TRUE);

  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*",
                   smartasync_waiter_complete (NULL, NULL, G_ASYNC_RESULT (task)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*",
                   smartasync_waiter_complete (NOT_WAITER, NULL, G_ASYNC_RESULT (task)));
  EXPECT_CRITICAL ("*G_IS_ASYNC_RESULT*", smartasync_waiter_complete (waiter, NULL, NULL));
  EXPECT_CRITICAL ("*G_IS_ASYNC_RESULT*",
                   smartasync_waiter_complete (waiter, NULL, (GAsyncResult *) plain_object ()));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*",
                   smartasync_waiter_callback (NULL, G_ASYNC_RESULT (task), NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*",
                   smartasync_waiter_callback (NULL, G_ASYNC_RESULT (task), plain_object ()));

  /* Refused waits leave the waiter usable. */
  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*", g_assert_null (smartasync_waiter_wait (NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_WAITER*",
                   g_assert_null (smartasync_waiter_wait (NOT_WAITER, NULL, NULL)));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   g_assert_null (smartasync_waiter_wait (waiter, NOT_CANCELLABLE, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_null (smartasync_waiter_wait (waiter, NULL, &error)));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  smartasync_waiter_complete (waiter, NULL, G_ASYNC_RESULT (task));
  /* Completing twice. */
  g_object_ref (waiter);
  EXPECT_CRITICAL ("*result == NULL*", smartasync_waiter_complete (waiter, NULL, G_ASYNC_RESULT (task)));
  g_object_unref (waiter);

  result = smartasync_waiter_wait (waiter, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (result == G_ASYNC_RESULT (task));
  g_assert_null (g_main_context_get_thread_default ());

  /* Waiting twice. */
  EXPECT_CRITICAL ("*waited*", g_assert_null (smartasync_waiter_wait (waiter, NULL, NULL)));
  g_assert_null (g_main_context_get_thread_default ());
}

static gpointer
wait_from_other_thread (gpointer data)
{
  SmartasyncWaiter *waiter = data;

  EXPECT_CRITICAL ("*_smartasync_thread_state*",
                   g_assert_null (smartasync_waiter_wait (waiter, NULL, NULL)));
  return NULL;
}

static void
test_waiter_wrong_thread (void)
{
  g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(GAsyncResult) result = NULL;

  smartasync_operation_call_async (op, NULL, NULL, NULL, smartasync_waiter_callback, waiter);
  g_thread_join (g_thread_new ("wrong-thread", wait_from_other_thread, waiter));

  /* The owner can still wait. */
  result = smartasync_waiter_wait (waiter, NULL, NULL);
  g_assert_nonnull (result);
  g_assert_null (g_main_context_get_thread_default ());
}

/* Operation */

static void
test_operation_constructors (void)
{
  EXPECT_CRITICAL ("*name != NULL*",
                   g_assert_null (smartasync_operation_new_async (NULL, value_impl, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (smartasync_operation_new_async ("x", NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*name != NULL*",
                   g_assert_null (smartasync_operation_new_blocking (NULL, value_impl, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (smartasync_operation_new_blocking ("x", NULL, NULL, NULL)));
}

static void
test_operation_accessors (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);

  g_assert_true (g_type_is_a (smartasync_operation_get_type (), G_TYPE_OBJECT));

  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*", g_assert_null (smartasync_operation_get_name (NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_null (smartasync_operation_get_name (NOT_OPERATION)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_cmpint (smartasync_operation_get_kind (NULL), ==, SMARTASYNC_KIND_ASYNC));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_null (smartasync_operation_dup_executor (NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_null (smartasync_operation_dup_executor (NOT_OPERATION)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   smartasync_operation_set_executor (NULL, executor));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   smartasync_operation_set_executor (op, NOT_EXECUTOR));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   smartasync_operation_set_executor (op, (SmartasyncExecutor *) op));
  g_assert_null (smartasync_operation_dup_executor (op));
  g_assert_cmpstr (smartasync_operation_get_name (op), ==, "value");
  g_assert_cmpint (smartasync_operation_get_kind (op), ==, SMARTASYNC_KIND_BLOCKING);
}

static void
never_called (GObject      *source_object,
              GAsyncResult *result,
              gpointer      data)
{
  g_assert_not_reached ();
}

static void
test_operation_call_async (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);

  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   smartasync_operation_call_async (NULL, NULL, NULL, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   smartasync_operation_call_async (NOT_OPERATION, NULL, NULL, NULL,
                                                    never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*",
                   smartasync_operation_call_async (op, NOT_GOBJECT, NULL, NULL,
                                                    never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   smartasync_operation_call_async (op, NULL, NULL, NOT_CANCELLABLE,
                                                    never_called, NULL));
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_operation_call (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);

  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_null (smartasync_operation_call (NULL, NULL, NULL, NULL,
                                                             never_called, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_null (smartasync_operation_call (NOT_OPERATION, NULL, NULL, NULL,
                                                             never_called, NULL)));
  EXPECT_CRITICAL ("*G_IS_OBJECT*",
                   g_assert_null (smartasync_operation_call (op, NOT_GOBJECT, NULL, NULL,
                                                             never_called, NULL)));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   g_assert_null (smartasync_operation_call (op, NULL, NULL, NOT_CANCELLABLE,
                                                             never_called, NULL)));
}

static void
check_finish_refused (SmartasyncOperation *op,
                      GAsyncResult        *result,
                      const char          *pattern)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  EXPECT_CRITICAL (pattern,
                   g_assert_false (smartasync_operation_call_finish (op, result, &value, &error)));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&value));
  EXPECT_CRITICAL (pattern,
                   g_assert_null (smartasync_operation_call_finish_pointer (op, result, &error)));
  EXPECT_CRITICAL (pattern,
                   g_assert_false (smartasync_operation_call_finish_boolean (op, result, &error)));
  EXPECT_CRITICAL (pattern,
                   g_assert_cmpint (smartasync_operation_call_finish_int (op, result, &error), ==, -1));
  g_assert_no_error (error);
}

static void
test_operation_finish (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(SmartasyncOperation) other = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(GAsyncResult) result = operation_result (op);
  g_autoptr(GAsyncResult) locked = lock_result (lock, op);
  g_autoptr(GTask) untagged = g_task_new (op, NULL, NULL, NULL);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  g_auto(GValue) value = G_VALUE_INIT;

  g_task_return_boolean (untagged, TRUE);

  check_finish_refused (NULL, result, "*SMARTASYNC_IS_OPERATION*");
  check_finish_refused (NOT_OPERATION, result, "*SMARTASYNC_IS_OPERATION*");
  check_finish_refused (op, NULL, "*g_task_is_valid*");
  check_finish_refused (op, (GAsyncResult *) plain_object (), "*g_task_is_valid*");
  /* Results of another operation, of a lock, of an untagged task. */
  check_finish_refused (other, result, "*g_task_is_valid*");
  check_finish_refused (op, locked, "*g_task_is_valid*");
  check_finish_refused (op, G_ASYNC_RESULT (untagged), "*source_tag*");

  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_operation_call_finish (op, result, &value, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_null (smartasync_operation_call_finish_pointer (op, result, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_operation_call_finish_boolean (op, result, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_cmpint (smartasync_operation_call_finish_int (op, result, &error), ==, -1));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_false (G_IS_VALUE (&value));

  /* The result is still there for a correct call. */
  g_clear_error (&error);
  g_assert_true (smartasync_operation_call_finish (op, result, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "value");

  /* Not smartasync's result at all: the lock's result is for the lock. */
  g_value_unset (&value);
  g_assert_true (smartasync_lock_run_finish (lock, locked, &value, &error));
  g_assert_no_error (error);
}

static void
check_sync_refused (SmartasyncOperation *op,
                    gpointer             source_object,
                    GCancellable        *cancellable,
                    const char          *pattern)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  EXPECT_CRITICAL (pattern,
                   g_assert_false (smartasync_operation_call_sync (op, source_object, NULL,
                                                                   cancellable, &value, &error)));
  EXPECT_CRITICAL (pattern,
                   g_assert_null (smartasync_operation_call_sync_pointer (op, source_object, NULL,
                                                                          cancellable, &error)));
  EXPECT_CRITICAL (pattern,
                   g_assert_false (smartasync_operation_call_sync_boolean (op, source_object, NULL,
                                                                           cancellable, &error)));
  EXPECT_CRITICAL (pattern,
                   g_assert_cmpint (smartasync_operation_call_sync_int (op, source_object, NULL,
                                                                        cancellable, &error), ==, -1));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&value));
}

static void
test_operation_call_sync (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(SmartasyncOperation) blocking = new_value_op (SMARTASYNC_KIND_BLOCKING);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  g_auto(GValue) value = G_VALUE_INIT;

  check_sync_refused (NULL, NULL, NULL, "*SMARTASYNC_IS_OPERATION*");
  check_sync_refused (NOT_OPERATION, NULL, NULL, "*SMARTASYNC_IS_OPERATION*");
  check_sync_refused (op, NOT_GOBJECT, NULL, "*G_IS_OBJECT*");
  check_sync_refused (blocking, NOT_GOBJECT, NULL, "*G_IS_OBJECT*");
  check_sync_refused (op, NULL, NOT_CANCELLABLE, "*G_IS_CANCELLABLE*");
  check_sync_refused (blocking, NULL, NOT_CANCELLABLE, "*G_IS_CANCELLABLE*");

  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_operation_call_sync (op, NULL, NULL, NULL, &value, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_null (smartasync_operation_call_sync_pointer (op, NULL, NULL, NULL, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_operation_call_sync_boolean (op, NULL, NULL, NULL, &error)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_cmpint (smartasync_operation_call_sync_int (op, NULL, NULL, NULL, &error), ==, -1));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (g_main_context_get_thread_default ());
}

/* An out value that is already initialized: refused, not overwritten (which
 * would leak what it held). (Runs in a subprocess.) */
static void
isolated_initialized_out_value (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_strdup ("held by the caller"));

  EXPECT_CRITICAL ("*G_IS_VALUE*",
                   g_assert_false (smartasync_operation_call_sync (op, NULL, NULL, NULL, &value, NULL)));
  g_assert_cmpstr (g_value_get_string (&value), ==, "held by the caller");
}

/* Lock */

static void
test_lock_bad_input (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncLock) other_lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(GAsyncResult) result = lock_result (lock, op);
  g_autoptr(GAsyncResult) op_result = operation_result (op);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (g_type_is_a (smartasync_lock_get_type (), G_TYPE_OBJECT));

  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   smartasync_lock_run_async (NULL, "k", op, NULL, NULL, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   smartasync_lock_run_async (NOT_LOCK, "k", op, NULL, NULL, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   smartasync_lock_run_async (lock, "k", NULL, NULL, NULL, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   smartasync_lock_run_async (lock, "k", (SmartasyncOperation *) lock, NULL, NULL,
                                              NULL, never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*",
                   smartasync_lock_run_async (lock, "k", op, NOT_GOBJECT, NULL, NULL,
                                              never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   smartasync_lock_run_async (lock, "k", op, NULL, NULL, NOT_CANCELLABLE,
                                              never_called, NULL));
  g_assert_false (smartasync_lock_is_running (lock, "k"));

  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   g_assert_false (smartasync_lock_run_finish (NULL, result, &value, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   g_assert_false (smartasync_lock_run_finish (NOT_LOCK, result, &value, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (smartasync_lock_run_finish (lock, NULL, &value, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (smartasync_lock_run_finish (other_lock, result, &value, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_false (smartasync_lock_run_finish (lock, op_result, &value, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_lock_run_finish (lock, result, &value, &error)));
  g_assert_false (G_IS_VALUE (&value));

  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   g_assert_false (smartasync_lock_run_sync (NULL, "k", op, NULL, NULL, NULL,
                                                             &value, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*",
                   g_assert_false (smartasync_lock_run_sync (NOT_LOCK, "k", op, NULL, NULL, NULL,
                                                             &value, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_false (smartasync_lock_run_sync (lock, "k", NULL, NULL, NULL, NULL,
                                                             &value, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_false (smartasync_lock_run_sync (lock, "k", NOT_OPERATION, NULL, NULL,
                                                             NULL, &value, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_lock_run_sync (lock, "k", op, NULL, NULL, NULL,
                                                             &value, &error)));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (g_main_context_get_thread_default ());

  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*", smartasync_lock_reset (NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*", smartasync_lock_reset (NOT_LOCK));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*", g_assert_cmpuint (smartasync_lock_get_executions (NULL), ==, 0));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*", g_assert_cmpuint (smartasync_lock_get_joins (NOT_LOCK), ==, 0));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_LOCK*", g_assert_false (smartasync_lock_is_running (NULL, NULL)));

  /* The lock still works. */
  g_assert_cmpuint (smartasync_lock_get_executions (lock), ==, 1);
  g_assert_cmpuint (smartasync_lock_get_joins (lock), ==, 0);
  g_clear_error (&error);
  g_assert_true (smartasync_lock_run_sync (lock, "k", op, NULL, NULL, NULL, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "value");
}

/* Await */

static gboolean
identity (const GValue  *value,
          GValue        *result,
          gpointer       user_data,
          GError       **error)
{
  g_value_init (result, G_VALUE_TYPE (value));
  g_value_copy (value, result);
  return TRUE;
}

static void
test_await_bad_input (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(GAsyncResult) op_result = operation_result (op);
  g_autoptr(GTask) untagged = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  g_auto(GValue) uninitialized = G_VALUE_INIT;
  g_auto(GValue) ready = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;

  g_value_init (&ready, G_TYPE_INT);
  g_value_set_int (&ready, 7);
  g_task_return_boolean (untagged, TRUE);

  EXPECT_CRITICAL ("*G_IS_VALUE*", g_assert_false (smartasync_is_pending (NULL)));
  EXPECT_CRITICAL ("*G_IS_VALUE*", g_assert_false (smartasync_is_pending (&uninitialized)));

  EXPECT_CRITICAL ("*G_IS_VALUE*", smartasync_await_async (NULL, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", smartasync_await_async (&uninitialized, NULL, never_called, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                   smartasync_await_async (&ready, NOT_CANCELLABLE, never_called, NULL));

  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (smartasync_await_finish (NULL, &out, NULL)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (smartasync_await_finish (op_result, &out, NULL)));
  EXPECT_CRITICAL ("*source_tag*",
                   g_assert_false (smartasync_await_finish (G_ASYNC_RESULT (untagged), &out, NULL)));

  EXPECT_CRITICAL ("*G_IS_VALUE*", g_assert_false (smartasync_await_sync (NULL, NULL, &out, NULL)));
  EXPECT_CRITICAL ("*G_IS_VALUE*",
                   g_assert_false (smartasync_await_sync (&uninitialized, NULL, &out, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_await_sync (&ready, NULL, &out, &error)));

  EXPECT_CRITICAL ("*G_IS_VALUE*",
                   g_assert_false (smartasync_continuation (NULL, identity, NULL, NULL, &out, NULL)));
  EXPECT_CRITICAL ("*G_IS_VALUE*",
                   g_assert_false (smartasync_continuation (&uninitialized, identity, NULL, NULL,
                                                            &out, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_false (smartasync_continuation (&ready, NULL, NULL, NULL, &out, NULL)));
  EXPECT_CRITICAL ("*result != NULL*",
                   g_assert_false (smartasync_continuation (&ready, identity, NULL, NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*G_IS_VALUE (result)*",
                   g_assert_false (smartasync_continuation (&ready, identity, NULL, NULL, &ready, NULL)));
  EXPECT_CRITICAL ("*error == NULL*",
                   g_assert_false (smartasync_continuation (&ready, identity, NULL, NULL, &out, &error)));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_false (G_IS_VALUE (&out));
  g_assert_cmpint (g_value_get_int (&ready), ==, 7);
  g_assert_null (g_main_context_get_thread_default ());
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Batch */

static void
test_batch_bad_input (void)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");

  g_assert_true (g_type_is_a (smartasync_batch_get_type (), G_TYPE_OBJECT));

  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*",
                   g_assert_cmpuint (smartasync_batch_add (NULL, op, NULL, NULL), ==, G_MAXUINT));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*",
                   g_assert_cmpuint (smartasync_batch_add (NOT_BATCH, op, NULL, NULL), ==, G_MAXUINT));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_cmpuint (smartasync_batch_add (batch, NULL, NULL, NULL), ==, G_MAXUINT));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_OPERATION*",
                   g_assert_cmpuint (smartasync_batch_add (batch, NOT_OPERATION, NULL, NULL),
                                     ==, G_MAXUINT));
  g_assert_cmpuint (smartasync_batch_get_size (batch), ==, 0);

  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", g_assert_false (smartasync_batch_wait (NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", g_assert_false (smartasync_batch_wait (NOT_BATCH, NULL, NULL)));
  EXPECT_CRITICAL ("*error == NULL*", g_assert_false (smartasync_batch_wait (batch, NULL, &error)));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);

  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", g_assert_cmpuint (smartasync_batch_get_size (NULL), ==, 0));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", g_assert_null (smartasync_batch_get_result (NULL, 0)));
  EXPECT_CRITICAL ("*index < self->results->len*", g_assert_null (smartasync_batch_get_result (batch, 0)));
  g_assert_cmpuint (smartasync_batch_add (batch, op, NULL, NULL), ==, 0);
  EXPECT_CRITICAL ("*index < self->results->len*",
                   g_assert_null (smartasync_batch_get_result (batch, G_MAXUINT)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", smartasync_batch_cancel (NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", smartasync_batch_cancel (NOT_BATCH));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", smartasync_batch_close (NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_BATCH*", smartasync_batch_close (NOT_BATCH));

  /* The batch still works, and refuses use after close. */
  g_clear_error (&error);
  g_assert_true (smartasync_batch_wait (batch, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (smartasync_batch_get_result (batch, 0));
  smartasync_batch_close (batch);
  smartasync_batch_close (batch);
  g_assert_null (g_main_context_get_thread_default ());

  EXPECT_CRITICAL ("*!self->closed*",
                   g_assert_cmpuint (smartasync_batch_add (batch, op, NULL, NULL), ==, G_MAXUINT));
  EXPECT_CRITICAL ("*!self->closed*", g_assert_false (smartasync_batch_wait (batch, NULL, NULL)));
  g_assert_cmpuint (smartasync_batch_get_size (batch), ==, 1);
}

static gpointer
use_batch_from_other_thread (gpointer data)
{
  SmartasyncBatch *batch = data;
  SmartasyncOperation *op = g_object_get_data (G_OBJECT (batch), "op");

  EXPECT_CRITICAL ("*_smartasync_thread_state*",
                   g_assert_cmpuint (smartasync_batch_add (batch, op, NULL, NULL), ==, G_MAXUINT));
  EXPECT_CRITICAL ("*_smartasync_thread_state*",
                   g_assert_false (smartasync_batch_wait (batch, NULL, NULL)));
  EXPECT_CRITICAL ("*_smartasync_thread_state*", smartasync_batch_close (batch));
  /* Not owner-bound: anyone may read the size or cancel. */
  g_assert_cmpuint (smartasync_batch_get_size (batch), ==, 1);
  return NULL;
}

static void
test_batch_wrong_thread (void)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);

  g_object_set_data (G_OBJECT (batch), "op", op);
  g_assert_cmpuint (smartasync_batch_add (batch, op, NULL, NULL), ==, 0);
  g_thread_join (g_thread_new ("wrong-thread", use_batch_from_other_thread, batch));
  g_assert_true (smartasync_batch_wait (batch, NULL, NULL));
  smartasync_batch_close (batch);
  g_assert_null (g_main_context_get_thread_default ());
}

/* Executor */

static void
test_executor_bad_input (void)
{
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);
  g_autoptr(SmartasyncExecutor) executor = smartasync_executor_new (1);
  g_autoptr(SmartasyncExecutor) before = smartasync_dup_default_executor ();
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_assert_true (g_type_is_a (smartasync_executor_get_type (), G_TYPE_OBJECT));

  EXPECT_CRITICAL ("*max_threads >= 1*", g_assert_null (smartasync_executor_new (0)));
  EXPECT_CRITICAL ("*max_threads <= 1024*", g_assert_null (smartasync_executor_new (1025)));
  EXPECT_CRITICAL ("*max_threads <= 1024*", g_assert_null (smartasync_executor_new (G_MAXUINT)));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   g_assert_cmpuint (smartasync_executor_get_max_threads (NULL), ==, 0));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   g_assert_cmpuint (smartasync_executor_get_max_threads (NOT_EXECUTOR), ==, 0));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   smartasync_executor_run_in_thread (NULL, task, (GTaskThreadFunc) never_called));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   smartasync_executor_run_in_thread (NOT_EXECUTOR, task,
                                                      (GTaskThreadFunc) never_called));
  EXPECT_CRITICAL ("*G_IS_TASK*",
                   smartasync_executor_run_in_thread (executor, NULL, (GTaskThreadFunc) never_called));
  EXPECT_CRITICAL ("*G_IS_TASK*",
                   smartasync_executor_run_in_thread (executor, (GTask *) plain_object (),
                                                      (GTaskThreadFunc) never_called));
  EXPECT_CRITICAL ("*task_func != NULL*", smartasync_executor_run_in_thread (executor, task, NULL));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*", smartasync_set_default_executor (NOT_EXECUTOR));
  EXPECT_CRITICAL ("*SMARTASYNC_IS_EXECUTOR*",
                   smartasync_set_default_executor ((SmartasyncExecutor *) op));

  /* Nothing changed. */
  {
    g_autoptr(SmartasyncExecutor) after = smartasync_dup_default_executor ();

    g_assert_true (after == before);
  }
  g_assert_false (g_task_get_completed (task));
  g_task_return_boolean (task, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The remaining symbols: nothing to get wrong. */
static void
test_no_argument_functions (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();

  g_assert_true (g_type_is_a (smartasync_waiter_get_type (), G_TYPE_OBJECT));
  g_assert_true (G_TYPE_IS_ENUM (smartasync_mode_get_type ()));
  g_assert_true (G_TYPE_IS_ENUM (smartasync_kind_get_type ()));
  g_assert_true (G_TYPE_IS_ENUM (smartasync_error_get_type ()));
  g_assert_cmpuint (smartasync_error_quark (), !=, 0);
  g_assert_cmpuint (smartasync_get_major_version (), ==, SMARTASYNC_MAJOR_VERSION);
  g_assert_cmpuint (smartasync_get_minor_version (), ==, SMARTASYNC_MINOR_VERSION);
  g_assert_cmpuint (smartasync_get_micro_version (), ==, SMARTASYNC_MICRO_VERSION);
  g_assert_nonnull (smartasync_check_version (G_MAXUINT, G_MAXUINT, G_MAXUINT));
  g_assert_nonnull (smartasync_check_version (SMARTASYNC_MAJOR_VERSION + 1, 0, 0));
  g_assert_null (smartasync_check_version (SMARTASYNC_MAJOR_VERSION, 0, 0));
  g_assert_false (smartasync_lock_is_running (lock, NULL));
  smartasync_batch_close (batch);
}

/* Cases that hung, crashed or failed when they were written: each runs in a
 * subprocess with a timeout, so that one of them failing fails its own test
 * case and not the others. A wrong cancellable or source object must be
 * refused with a critical before anything waits. */

static void
isolated_lock_run_sync_bad_cancellable (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);

  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*G_IS_CANCELLABLE*");
  g_assert_false (smartasync_lock_run_sync (lock, "k", op, NULL, NULL, NOT_CANCELLABLE, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
isolated_lock_run_sync_bad_source (void)
{
  g_autoptr(SmartasyncLock) lock = smartasync_lock_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_BLOCKING);

  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*G_IS_OBJECT*");
  g_assert_false (smartasync_lock_run_sync (lock, "k", op, NOT_GOBJECT, NULL, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
isolated_await_sync_bad_cancellable (void)
{
  g_auto(GValue) ready = G_VALUE_INIT;

  g_value_init (&ready, G_TYPE_INT);
  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*G_IS_CANCELLABLE*");
  g_assert_false (smartasync_await_sync (&ready, NOT_CANCELLABLE, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
isolated_batch_add_bad_source (void)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
  g_autoptr(SmartasyncOperation) op = new_value_op (SMARTASYNC_KIND_ASYNC);

  guint index;

  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*G_IS_OBJECT*");
  index = smartasync_batch_add (batch, op, NOT_GOBJECT, NULL);
  g_test_assert_expected_messages ();
  /* Nothing was started, so there is nothing to wait for. */
  g_assert_true (smartasync_batch_wait (batch, NULL, NULL));
  smartasync_batch_close (batch);
  g_assert_cmpuint (index, ==, G_MAXUINT);
}

static void
isolated_batch_wait_bad_cancellable (void)
{
  g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();

  /* Refused in the library's domain, not GIO's, and before connecting. */
  g_test_expect_message (DOMAIN, G_LOG_LEVEL_CRITICAL, "*G_IS_CANCELLABLE*");
  g_assert_false (smartasync_batch_wait (batch, NOT_CANCELLABLE, NULL));
  g_test_assert_expected_messages ();
  smartasync_batch_close (batch);
}

typedef struct
{
  const char *name;
  GTestFunc   func;
} SubprocessCase;

static const SubprocessCase subprocess_cases[] = {
  { "mode-scope-invalid", isolated_mode_scope_invalid },
  { "initialized-out-value", isolated_initialized_out_value },
  { "lock-run-sync-bad-cancellable", isolated_lock_run_sync_bad_cancellable },
  { "lock-run-sync-bad-source", isolated_lock_run_sync_bad_source },
  { "await-sync-bad-cancellable", isolated_await_sync_bad_cancellable },
  { "batch-add-bad-source", isolated_batch_add_bad_source },
  { "batch-wait-bad-cancellable", isolated_batch_wait_bad_cancellable },
};

static void
run_subprocess_case (gconstpointer data)
{
  const SubprocessCase *c = data;

  if (g_test_subprocess ())
    {
      c->func ();
      return;
    }

  /* Short stall reports, so that a hang says what it waits for. */
  g_setenv ("SMARTASYNC_STALL_REPORT_MS", "1000", TRUE);
  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("SMARTASYNC_STALL_REPORT_MS");
  if (!g_test_trap_has_passed ())
    {
      g_test_message ("%s: the subprocess %s", c->name,
                      g_test_trap_reached_timeout () ? "hung (killed after the timeout)"
                                                     : "failed or crashed");
      g_test_fail ();
    }
}

/* A batch or a waiter dropped while still open: a critical (structured, so
 * checked from a subprocess), the context stays pushed, no crash. */
static void
test_dropped_open (void)
{
  if (g_test_subprocess ())
    {
      SmartasyncBatch *batch = smartasync_batch_new ();
      SmartasyncWaiter *waiter;

      g_object_unref (batch);
      waiter = smartasync_waiter_new ();
      g_object_unref (waiter);
      g_object_unref (waiter);   /* the pending completion's reference */
      return;
    }

  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();  /* criticals are fatal in tests */
  g_test_trap_assert_stderr ("*Smartasync-CRITICAL*SmartasyncBatch*without smartasync_batch_close*");
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smartasync/bad-input/context", test_context_bad_input);
  g_test_add_func ("/smartasync/bad-input/context/pop-on-fresh-thread", test_context_pop_on_fresh_thread);
  g_test_add_func ("/smartasync/bad-input/context/inside-wait", test_context_inside_wait);
  g_test_add_func ("/smartasync/bad-input/waiter", test_waiter_bad_input);
  g_test_add_func ("/smartasync/bad-input/waiter/wrong-thread", test_waiter_wrong_thread);
  g_test_add_func ("/smartasync/bad-input/operation/constructors", test_operation_constructors);
  g_test_add_func ("/smartasync/bad-input/operation/accessors", test_operation_accessors);
  g_test_add_func ("/smartasync/bad-input/operation/call-async", test_operation_call_async);
  g_test_add_func ("/smartasync/bad-input/operation/call", test_operation_call);
  g_test_add_func ("/smartasync/bad-input/operation/finish", test_operation_finish);
  g_test_add_func ("/smartasync/bad-input/operation/call-sync", test_operation_call_sync);
  g_test_add_func ("/smartasync/bad-input/lock", test_lock_bad_input);
  g_test_add_func ("/smartasync/bad-input/await", test_await_bad_input);
  g_test_add_func ("/smartasync/bad-input/batch", test_batch_bad_input);
  g_test_add_func ("/smartasync/bad-input/batch/wrong-thread", test_batch_wrong_thread);
  g_test_add_func ("/smartasync/bad-input/executor", test_executor_bad_input);
  g_test_add_func ("/smartasync/bad-input/no-arguments", test_no_argument_functions);
  g_test_add_func ("/smartasync/bad-input/dropped-open", test_dropped_open);
  for (guint i = 0; i < G_N_ELEMENTS (subprocess_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smartasync/bad-input/isolated/%s",
                                               subprocess_cases[i].name);

      g_test_add_data_func (path, &subprocess_cases[i], run_subprocess_case);
    }

  ret = g_test_run ();
  smartasync_reset ();
  return ret;
}
