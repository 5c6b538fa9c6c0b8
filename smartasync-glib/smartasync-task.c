/* smartasync-task.c: GTask and GValue result helpers shared by every entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-error.h"
#include "smartasync-operation.h"
#include "smartasync-task-private.h"

/* The name of the task's source (an operation's "name"), for messages. */
static char *
task_source_name (GTask *task)
{
  GObject *source = g_task_get_source_object (task);
  GParamSpec *pspec;
  char *name = NULL;

  if (source != NULL)
    {
      pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (source), "name");
      if (pspec != NULL && pspec->value_type == G_TYPE_STRING)
        g_object_get (source, "name", &name, NULL);
    }
  return name != NULL ? name : g_strdup ("operation");
}

/*< private >
 * _smartasync_result_kind:
 * @result_type: a declared result type, or %G_TYPE_NONE
 *
 * Which g_task_return_*() an implementation that declares @result_type
 * calls: g_task_return_value() when it declares nothing.
 */
SmartasyncResultKind
_smartasync_result_kind (GType result_type)
{
  GType fundamental = G_TYPE_FUNDAMENTAL (result_type);

  if (result_type == G_TYPE_NONE || result_type == G_TYPE_INVALID)
    return SMARTASYNC_RESULT_VALUE;
  if (!G_TYPE_IS_VALUE_TYPE (result_type))
    return SMARTASYNC_RESULT_UNSUPPORTED;

  switch (fundamental)
    {
    case G_TYPE_BOOLEAN:
      return SMARTASYNC_RESULT_BOOLEAN;
    case G_TYPE_CHAR: case G_TYPE_UCHAR: case G_TYPE_INT: case G_TYPE_UINT:
    case G_TYPE_LONG: case G_TYPE_ULONG: case G_TYPE_INT64: case G_TYPE_UINT64:
    case G_TYPE_ENUM: case G_TYPE_FLAGS:
      return SMARTASYNC_RESULT_INT;
    case G_TYPE_BOXED: case G_TYPE_OBJECT: case G_TYPE_STRING: case G_TYPE_VARIANT:
    case G_TYPE_PARAM:
      return SMARTASYNC_RESULT_POINTER;
    case G_TYPE_INTERFACE:
      /* Only interfaces of objects: the value takes an object reference. */
      return g_type_is_a (g_type_interface_instantiatable_prerequisite (result_type), G_TYPE_OBJECT)
             ? SMARTASYNC_RESULT_POINTER : SMARTASYNC_RESULT_UNSUPPORTED;
    default:
      /* A plain pointer has no owner a copy could share; floats and doubles
       * have no g_task_return_*(). */
      return SMARTASYNC_RESULT_UNSUPPORTED;
    }
}

/* The result type the task's operation declares: %G_TYPE_NONE for a task
 * that is not an operation's. */
static GType
task_result_type (GTask *task)
{
  gpointer source = g_task_get_source_object (task);

  if (source == NULL || !SMARTASYNC_IS_OPERATION (source))
    return G_TYPE_NONE;
  return smartasync_operation_get_result_type (source);
}

static const char *
result_kind_function (SmartasyncResultKind kind)
{
  switch (kind)
    {
    case SMARTASYNC_RESULT_BOOLEAN:
      return "g_task_return_boolean()";
    case SMARTASYNC_RESULT_INT:
      return "g_task_return_int()";
    case SMARTASYNC_RESULT_POINTER:
      return "g_task_return_pointer()";
    case SMARTASYNC_RESULT_VALUE:
    case SMARTASYNC_RESULT_UNSUPPORTED:
    default:
      return "g_task_return_value()";
    }
}

/* Sets @value (unset) to the integer a g_task_return_int() returned, as
 * the declared integer, enum or flags type. */
static void
value_set_int (GValue *value,
               GType   type,
               gssize  n)
{
  g_value_init (value, type);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_CHAR:   g_value_set_schar (value, (gint8) n); break;
    case G_TYPE_UCHAR:  g_value_set_uchar (value, (guchar) n); break;
    case G_TYPE_INT:    g_value_set_int (value, (gint) n); break;
    case G_TYPE_UINT:   g_value_set_uint (value, (guint) n); break;
    case G_TYPE_LONG:   g_value_set_long (value, (glong) n); break;
    case G_TYPE_ULONG:  g_value_set_ulong (value, (gulong) n); break;
    case G_TYPE_INT64:  g_value_set_int64 (value, (gint64) n); break;
    case G_TYPE_UINT64: g_value_set_uint64 (value, (guint64) n); break;
    case G_TYPE_ENUM:   g_value_set_enum (value, (gint) n); break;
    case G_TYPE_FLAGS:  g_value_set_flags (value, (guint) n); break;
    default:            g_assert_not_reached ();
    }
}

/* Gives @value (unset) the pointer a g_task_return_pointer() returned,
 * taking it over: the task no longer frees it. An object of another type
 * than the declared one is refused, and released. */
static gboolean
value_take_pointer (GValue    *value,
                    GType      type,
                    gpointer   pointer,
                    GTask     *task,
                    GError   **error)
{
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      if (pointer != NULL && !G_TYPE_CHECK_INSTANCE_TYPE (pointer, type))
        {
          g_autofree char *name = task_source_name (task);

          g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
                       "The implementation of “%s” returned a %s, not the %s its "
                       "result type declares", name, G_OBJECT_TYPE_NAME (pointer),
                       g_type_name (type));
          g_object_unref (pointer);
          return FALSE;
        }
      g_value_init (value, type);
      g_value_take_object (value, pointer);
      break;
    case G_TYPE_BOXED:
      g_value_init (value, type);
      g_value_take_boxed (value, pointer);
      break;
    case G_TYPE_STRING:
      g_value_init (value, type);
      g_value_take_string (value, pointer);
      break;
    case G_TYPE_VARIANT:
      g_value_init (value, type);
      g_value_take_variant (value, pointer);
      break;
    case G_TYPE_PARAM:
      g_value_init (value, type);
      g_value_take_param (value, pointer);
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* Reads a declared result of any kind into @value (unset). */
static gboolean
propagate_declared (GTask   *task,
                    GType    type,
                    GValue  *value,
                    GError **error)
{
  GError *local_error = NULL;
  gpointer pointer;
  gboolean boolean;
  gssize n;

  switch (_smartasync_result_kind (type))
    {
    case SMARTASYNC_RESULT_BOOLEAN:
      boolean = g_task_propagate_boolean (task, &local_error);
      if (local_error != NULL)
        break;
      g_value_init (value, type);
      g_value_set_boolean (value, boolean);
      return TRUE;
    case SMARTASYNC_RESULT_INT:
      n = g_task_propagate_int (task, &local_error);
      if (local_error != NULL)
        break;
      value_set_int (value, type, n);
      return TRUE;
    case SMARTASYNC_RESULT_POINTER:
      pointer = g_task_propagate_pointer (task, &local_error);
      if (local_error != NULL)
        break;
      return value_take_pointer (value, type, pointer, task, error);
    case SMARTASYNC_RESULT_VALUE:
    case SMARTASYNC_RESULT_UNSUPPORTED:
    default:
      g_assert_not_reached ();
    }

  g_propagate_error (error, local_error);
  return FALSE;
}

/*< private >
 * _smartasync_task_propagate_value:
 *
 * Reads the task's result into @value (unset), whatever g_task_return_*()
 * filled it, as long as the operation that owns the task declared which
 * (#SmartasyncOperation:result-type): every #GValue path (call_sync(),
 * call_finish(), locks, batches, awaits, bindings) reads results this way.
 * Always sets @error when it fails: an undeclared result that is not a
 * #GValue is reported by GTask as a programmer error, and the caller still
 * gets a #GError naming the operation and the fix.
 */
gboolean
_smartasync_task_propagate_value (GTask   *task,
                                  GValue  *value,
                                  GError **error)
{
  GError *local_error = NULL;
  GType type = task_result_type (task);

  if (type != G_TYPE_NONE)
    {
      if (propagate_declared (task, type, value, &local_error))
        return TRUE;
    }
  else if (g_task_propagate_value (task, value, &local_error))
    return TRUE;

  if (local_error == NULL)
    {
      g_autofree char *name = task_source_name (task);

      local_error = g_error_new (SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
                                 "The implementation of “%s” did not return its result "
                                 "with g_task_return_value(): declare the type it returns "
                                 "with smartasync_operation_set_result_type() (the "
                                 "“result-type” property), or read it with the typed "
                                 "finish function that matches its g_task_return_*() "
                                 "(or pass no value to ignore it)", name);
    }
  g_propagate_error (error, local_error);
  _smartasync_value_clear_out (value);
  return FALSE;
}

/*< private >
 * _smartasync_task_check_kind:
 *
 * Whether a typed finish function that reads a result of @kind may read
 * @task's: always if its operation declared no result type (GTask cannot
 * tell, the caller knows), and otherwise if it declared that kind. A
 * failed task may be read by any of them: errors do not depend on the kind.
 * Sets @error, naming the operation, its declared type and the function to
 * use, when it may not.
 */
gboolean
_smartasync_task_check_kind (GTask                 *task,
                             SmartasyncResultKind   kind,
                             GError               **error)
{
  GType type = task_result_type (task);
  SmartasyncResultKind declared = _smartasync_result_kind (type);
  g_autofree char *name = NULL;

  if (declared == SMARTASYNC_RESULT_VALUE || declared == kind || g_task_had_error (task))
    return TRUE;

  name = task_source_name (task);
  g_set_error (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
               "“%s” returns its result with %s (its result type is %s): a "
               "finish function for %s cannot read it; use the one that matches, "
               "or the GValue form",
               name, result_kind_function (declared), g_type_name (type),
               result_kind_function (kind));
  return FALSE;
}

/*< private >
 * _smartasync_value_clear_out:
 *
 * Leaves a %NULL pointer in an unset (out caller-allocates) value on
 * failure, so that bindings that convert out values even when a GError is
 * set (GJS does) get %NULL instead of an invalid value. Always returns
 * %FALSE, for tail calls in failure paths.
 */
gboolean
_smartasync_value_clear_out (GValue *value)
{
  if (value != NULL && !G_IS_VALUE (value))
    g_value_init (value, G_TYPE_POINTER);
  return FALSE;
}

/*< private >
 * _smartasync_value_prepare_out:
 *
 * Unsets the %NULL pointer a failed call left in an out value, so that C
 * callers can pass the same #GValue again; any other initialized value is
 * the caller's and is refused by the precondition that follows.
 */
void
_smartasync_value_prepare_out (GValue *value)
{
  /* The type, not G_VALUE_HOLDS_POINTER(): this runs on every finish. */
  if (value != NULL && G_VALUE_TYPE (value) == G_TYPE_POINTER && g_value_get_pointer (value) == NULL)
    g_value_unset (value);
}


/*< private >
 * _smartasync_task_propagate_ignoring_result:
 *
 * Finishes @task for a caller that passed no out value: its error if it
 * failed or was cancelled, %TRUE otherwise, whatever kind of result the
 * implementation returned (pointer, boolean, int or #GValue; GTask frees it
 * with the task).
 */
gboolean
_smartasync_task_propagate_ignoring_result (GTask   *task,
                                            GError **error)
{
  if (!g_task_had_error (task))
    return TRUE;

  /* On failure every g_task_propagate_*() only hands out the error. */
  g_task_propagate_pointer (task, error);
  return FALSE;
}

/*< private >
 * _smartasync_task_propagate_pointer:
 *
 * g_task_propagate_pointer(), for the typed finish functions: refused with
 * an error when the operation declared another kind of result.
 */
gpointer
_smartasync_task_propagate_pointer (GTask   *task,
                                    GError **error)
{
  if (!_smartasync_task_check_kind (task, SMARTASYNC_RESULT_POINTER, error))
    return NULL;
  return g_task_propagate_pointer (task, error);
}

/*< private >
 * _smartasync_task_propagate_boolean:
 *
 * g_task_propagate_boolean(), checked like
 * _smartasync_task_propagate_pointer().
 */
gboolean
_smartasync_task_propagate_boolean (GTask   *task,
                                    GError **error)
{
  if (!_smartasync_task_check_kind (task, SMARTASYNC_RESULT_BOOLEAN, error))
    return FALSE;
  return g_task_propagate_boolean (task, error);
}

/*< private >
 * _smartasync_task_propagate_int:
 *
 * g_task_propagate_int(), checked like _smartasync_task_propagate_pointer().
 */
gssize
_smartasync_task_propagate_int (GTask   *task,
                                GError **error)
{
  if (!_smartasync_task_check_kind (task, SMARTASYNC_RESULT_INT, error))
    return -1;
  return g_task_propagate_int (task, error);
}
