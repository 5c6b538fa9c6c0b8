/* smartasync-task.c: GTask and GValue result helpers shared by every entry point
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smartasync-error.h"
#include "smartasync-task-private.h"

/* The name of the task's source (an operation's "name"), for messages. */
static char *
task_source_name (GTask *task)
{
  GObject *source = g_task_get_source_object (task);
  GParamSpec *pspec;
  char *name = NULL;

  if (source == NULL)
    return NULL;
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (source), "name");
  if (pspec != NULL && pspec->value_type == G_TYPE_STRING)
    g_object_get (source, "name", &name, NULL);
  return name;
}

/*< private >
 * _smartasync_task_propagate_value:
 *
 * g_task_propagate_value() that always sets @error when it fails: an
 * implementation that returned something other than a #GValue is reported
 * by GTask as a programmer error, and the caller still gets a #GError.
 */
gboolean
_smartasync_task_propagate_value (GTask   *task,
                                  GValue  *value,
                                  GError **error)
{
  GError *local_error = NULL;

  if (g_task_propagate_value (task, value, &local_error))
    return TRUE;

  if (local_error == NULL)
    {
      g_autofree char *name = task_source_name (task);

      local_error = g_error_new (SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
                                 "The implementation of “%s” did not return its result "
                                 "with g_task_return_value(): read it with the typed "
                                 "finish function that matches its g_task_return_*() "
                                 "(or pass no value to ignore it)",
                                 name != NULL ? name : "operation");
    }
  g_propagate_error (error, local_error);
  _smartasync_value_clear_out (value);
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
