/* test-util.h: implementations and helpers shared by the C tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smartasync-glib.h>

G_BEGIN_DECLS

/* Async implementation: completes on the next iteration of the thread-default
 * context with the string argument upper-cased (pointer result), or with the
 * G_IO_ERROR_INVALID_ARGUMENT error when args is NULL. */
void test_upper_async (GTask        *task,
                       gpointer      source_object,
                       GVariant     *args,
                       GCancellable *cancellable,
                       gpointer      user_data);

/* Blocking implementation: returns the integer argument doubled (int result),
 * and records the thread it ran on in *(GThread **) user_data when set. */
void test_double_blocking (GTask        *task,
                           gpointer      source_object,
                           GVariant     *args,
                           GCancellable *cancellable,
                           gpointer      user_data);

/* Iterates @context until *flag becomes TRUE. */
void test_iterate_until (GMainContext *context,
                         gboolean     *flag);

/* Runs @func once from an idle dispatched by a loop on the default context
 * and returns when it has run. */
void test_run_in_loop (GSourceFunc func,
                       gpointer    data);

/* The ids (strings) of this process's threads whose name starts with
 * @prefix, from /proc/self/task (Linux). */
GPtrArray *test_list_threads_named (const char *prefix);

/* A GSourceFunc that sets the gboolean @data points to, once. */
gboolean test_set_flag (gpointer data);

/* Polls *@flag, which another thread sets: a hang guard, not a deadline;
 * after 120 s it fails, naming @what it waited for. */
void test_wait_for_flag (gint       *flag,
                         const char *what);

/* The result types an implementation can declare (SmartasyncOperation:
 * result-type), at least one per kind of g_task_return_*() and of pointer
 * (string, boxed, object, interface, variant); ends with G_TYPE_INVALID. */
const GType *test_declared_types (void);

/* Calls @check with a blocking and an asynchronous operation of
 * test_return_declared() for each of test_declared_types(), then with a
 * blocking and an asynchronous one that fail (declaring G_TYPE_STRING). */
void test_for_each_declared (void (*check) (SmartasyncOperation *op));

/* Implementation (blocking or async): returns 42 as the type its
 * operation declares, with the g_task_return_*() that type calls for; with
 * user data (a message), fails with G_IO_ERROR_FAILED instead. */
void test_return_declared (GTask        *task,
                           gpointer      source_object,
                           GVariant     *args,
                           GCancellable *cancellable,
                           gpointer      user_data);

/* Implementation: returns a GSimpleAction named "not-a-file" with
 * g_task_return_pointer(), for operations that declare another type. */
void test_return_action (GTask        *task,
                         gpointer      source_object,
                         GVariant     *args,
                         GCancellable *cancellable,
                         gpointer      user_data);

/* Asserts that @value holds what test_return_declared() returns for @type. */
void test_assert_declared (GType         type,
                           const GValue *value);

/* Asserts the outcome of a call of an operation of test_for_each_declared():
 * its result, or its failure. */
void test_assert_declared_outcome (SmartasyncOperation *op,
                                   gboolean             ok,
                                   const GValue        *value,
                                   const GError        *error);

/* An index below @n, drawn from @rand with the given weights. */
guint test_pick_weighted (GRand       *rand,
                          const guint *weights,
                          guint        n);

G_END_DECLS
