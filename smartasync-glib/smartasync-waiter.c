/* smartasync-waiter.c: wait synchronously for any GIO asynchronous operation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncWaiter:
 *
 * Calls any existing GIO `_async`/`_finish` pair synchronously, from any
 * thread, following GLib's own recipe (as in `gio/gsubprocess.c`):
 *
 * 1. [ctor@Smartasync.Waiter.new] pushes the calling thread's private main
 *    context as thread-default, so the operation started next binds to it;
 * 2. the caller starts the operation with [func@Smartasync.Waiter.callback]
 *    (C) or [method@Smartasync.Waiter.complete] (bindings) as its callback;
 * 3. [method@Smartasync.Waiter.wait] iterates the private context until the
 *    callback has run, pops the context and returns the #GAsyncResult for the
 *    operation's `_finish` function.
 *
 * |[<!-- language="C" -->
 * g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
 * g_autoptr(GAsyncResult) res = NULL;
 *
 * g_file_load_contents_async (file, NULL, smartasync_waiter_callback, waiter);
 * res = smartasync_waiter_wait (waiter, NULL, &error);
 * if (res != NULL)
 *   g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);
 * ]|
 *
 * The [func@Smartasync.WAIT] macro does the same in one expression.
 *
 * ## The private context
 *
 * Each thread has one private context ([func@Smartasync.get_private_context]),
 * created on first use and reused by every later wait, so a wait costs no
 * context creation. The library never iterates any other context.
 *
 * ## Nesting and leftovers
 *
 * Code dispatched during a wait may wait again: the nested wait iterates the
 * same private context, so completions of the outer operation that arrive
 * meanwhile are dispatched to their own callback and picked up by the outer
 * wait once the inner one returns. Smart calls made from code dispatched
 * during a wait return pending tasks bound to the private context; a wait
 * does not return before those it started have completed, so their callbacks
 * never fire inside a later, unrelated wait.
 *
 * ## Cancellation
 *
 * Cancelling the wait's #GCancellable makes the wait return
 * %G_IO_ERROR_CANCELLED at once, even if the operation ignores cancellation
 * (unless the operation's own completion was already dispatched: then the
 * wait returns that result, and an operation that shares the cancellable
 * reports the cancellation from its `_finish` function).
 * The operation keeps its reference to the waiter, so its late completion is
 * received and dropped safely.
 *
 * ## Waiting from a running loop
 *
 * A wait requested from code that a running main loop of this thread is
 * dispatching (a GTK signal handler, a D-Bus method handler) is refused with
 * %SMARTASYNC_ERROR_WOULD_BLOCK, as `asyncio.run()` is inside a running
 * event loop: blocking would freeze the loop, and an operation that needs
 * that loop would never complete. [ctor@Smartasync.Waiter.new_full] and
 * [func@Smartasync.WAIT] refuse before the operation starts, so a refused
 * wait starts nothing. Use the asynchronous call there, or push
 * %SMARTASYNC_MODE_SYNC to assert that the operation does not need the loop.
 *
 * Hand-written `_sync` functions that nest a loop block the running loop
 * instead, and callers may rely on it. A library that must keep that
 * behaviour opts in per wait with %SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP
 * ([func@Smartasync.WAIT_FULL]): the wait then iterates the private context
 * inside the running loop's dispatch, as the hand-written code iterated its
 * own context, and an operation that needs the blocked loop never completes,
 * as there.
 *
 * ## Debugging
 *
 * Each wait logs one debug message naming it (`G_MESSAGES_DEBUG=Smartasync`).
 * A wait still blocked after 5 seconds logs another, at debug level too:
 * [method@Smartasync.Waiter.set_stall_report] changes the delay or turns it
 * off.
 *
 * ## Threads
 *
 * A waiter belongs to the thread that created it: it must be waited on, once,
 * by that thread. Its callback may run on any thread.
 *
 * ## Example
 *
 * Any GIO `_async` function, waited for on the thread's private context:
 * the waiter is the callback's user data.
 *
 * ```c
 * g_autoptr(SmartasyncWaiter) waiter = smartasync_waiter_new ();
 * g_autoptr(GAsyncResult) res = NULL;
 *
 * g_file_load_contents_async (file, NULL, smartasync_waiter_callback, waiter);
 * res = smartasync_waiter_wait (waiter, NULL, &error);
 * if (res != NULL)
 *   g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);
 * ```
 *
 * (From `doc/examples/classes.c`, which the test suite builds and runs.)
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-enum-types.h"
#include "smartasync-error.h"
#include "smartasync-wait-private.h"
#include "smartasync-waiter.h"

struct _SmartasyncWaiter
{
  GObject                parent_instance;

  SmartasyncWait         wait;     /* embedded: the waiter's own references manage it */
  char                  *name;
  SmartasyncWaiterFlags  flags;
  GError                *refusal;  /* why the wait was refused, until reported */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_FLAGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SmartasyncWaiter, smartasync_waiter, G_TYPE_OBJECT)

static void
smartasync_waiter_finalize (GObject *object)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  if (self->wait.context != NULL && !self->wait.waited)
    g_critical ("SmartasyncWaiter %p freed without smartasync_waiter_wait(): "
                "the private context stays pushed on its thread", self);

  _smartasync_wait_clear (&self->wait);
  g_clear_error (&self->refusal);
  g_free (self->name);

  G_OBJECT_CLASS (smartasync_waiter_parent_class)->finalize (object);
}

/* Pushing the context is construction, so that a waiter built with
 * g_object_new() (as bindings do) works too. The pending completion owns a
 * reference to the waiter: the callback gets the waiter itself as user
 * data, and completing it drops that reference. */
static void
smartasync_waiter_constructed (GObject *object)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);
  SmartasyncWaitFlags flags = SMARTASYNC_WAIT_DEFAULT;

  G_OBJECT_CLASS (smartasync_waiter_parent_class)->constructed (object);

  if (self->flags & SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP)
    flags |= SMARTASYNC_WAIT_BLOCK_RUNNING_LOOP;
  _smartasync_wait_init (&self->wait, self->name, flags, &self->refusal);
  g_object_ref (self);
}

static void
smartasync_waiter_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_FLAGS:
      self->flags = g_value_get_flags (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_waiter_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  SmartasyncWaiter *self = SMARTASYNC_WAITER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_FLAGS:
      g_value_set_flags (value, self->flags);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_waiter_class_init (SmartasyncWaiterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = smartasync_waiter_constructed;
  object_class->finalize = smartasync_waiter_finalize;
  object_class->set_property = smartasync_waiter_set_property;
  object_class->get_property = smartasync_waiter_get_property;

  /**
   * SmartasyncWaiter:name:
   *
   * What is waited for (the `_async` function, or the method a binding
   * calls), named in the wait's debug messages and errors.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncWaiter:flags:
   *
   * How the waiter waits.
   *
   * Since: 0.1
   */
  properties[PROP_FLAGS] =
    g_param_spec_flags ("flags", NULL, NULL, SMARTASYNC_TYPE_WAITER_FLAGS,
                        SMARTASYNC_WAITER_FLAGS_NONE,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smartasync_waiter_init (SmartasyncWaiter *self)
{
}

/**
 * smartasync_waiter_new:
 *
 * Creates a waiter and pushes the calling thread's private context as
 * thread-default, so that the asynchronous operation started next binds to
 * it. Start exactly one operation with the waiter as its callback, then call
 * [method@Smartasync.Waiter.wait] on the same thread.
 *
 * From code a running loop of this thread dispatches, the waiter is made
 * all the same, but its wait fails with %SMARTASYNC_ERROR_WOULD_BLOCK *after*
 * the operation was started: use [ctor@Smartasync.Waiter.new_full], which
 * refuses before anything starts.
 *
 * Returns: (transfer full): a new waiter
 *
 * Since: 0.1
 */
SmartasyncWaiter *
smartasync_waiter_new (void)
{
  return g_object_new (SMARTASYNC_TYPE_WAITER, NULL);
}

/**
 * smartasync_waiter_new_full:
 * @name: (nullable): what is waited for (the `_async` function, or the
 *   method a binding calls), named in the wait's debug messages and errors
 * @flags: how to wait
 * @error: return location for %SMARTASYNC_ERROR_WOULD_BLOCK
 *
 * Like [ctor@Smartasync.Waiter.new], but a wait that is refused is refused
 * here, before the operation starts: from code a running loop of this thread
 * dispatches, it returns %NULL with %SMARTASYNC_ERROR_WOULD_BLOCK, and the
 * caller must not start the operation. With
 * %SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP the wait is never refused: it
 * blocks the running loop, as hand-written nested loops do.
 *
 * Returns: (transfer full) (nullable): a new waiter with the private context
 *   pushed, or %NULL with @error set
 *
 * Since: 0.1
 */
SmartasyncWaiter *
smartasync_waiter_new_full (const char             *name,
                            SmartasyncWaiterFlags   flags,
                            GError                **error)
{
  SmartasyncWaiter *self;

  g_return_val_if_fail ((flags & ~SMARTASYNC_WAITER_FLAGS_BLOCK_RUNNING_LOOP) == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (SMARTASYNC_TYPE_WAITER, "name", name, "flags", flags, NULL);
  if (self->refusal == NULL)
    return self;

  g_propagate_error (error, g_steal_pointer (&self->refusal));
  /* Ours, and the one of the completion that will never come. */
  g_object_unref (self);
  g_object_unref (self);
  return NULL;
}

/**
 * smartasync_waiter_set_stall_report:
 * @self: a waiter
 * @timeout_ms: how long the wait may block before it says so, in
 *   milliseconds; 0 never
 *
 * A wait still blocked after @timeout_ms logs a debug message (the
 * `Smartasync` domain, shown with `G_MESSAGES_DEBUG=Smartasync`) naming the
 * operation: it may need a main context that nothing iterates. The default
 * is 5 seconds. Set it before [method@Smartasync.Waiter.wait]; a wait that
 * may legitimately take long (a password prompt) may pass 0.
 *
 * Since: 0.1
 */
void
smartasync_waiter_set_stall_report (SmartasyncWaiter *self,
                                    guint             timeout_ms)
{
  g_return_if_fail (SMARTASYNC_IS_WAITER (self));
  g_return_if_fail (!self->wait.waited);

  _smartasync_wait_set_stall_report (&self->wait, timeout_ms);
}

/**
 * smartasync_waiter_get_name:
 * @self: a waiter
 *
 * Gets what the waiter waits for, as named in its messages.
 *
 * Returns: (nullable): the name given to [ctor@Smartasync.Waiter.new_full]
 *
 * Since: 0.1
 */
const char *
smartasync_waiter_get_name (SmartasyncWaiter *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_WAITER (self), NULL);

  return self->name;
}

/**
 * smartasync_waiter_complete:
 * @self: a waiter
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 *
 * Hands the operation's result to the waiter. Bindings pass this method
 * (bound to the waiter) as the operation's #GAsyncReadyCallback. Call it once.
 *
 * Since: 0.1
 */
void
smartasync_waiter_complete (SmartasyncWaiter *self,
                            GObject          *source_object,
                            GAsyncResult     *result)
{
  g_return_if_fail (SMARTASYNC_IS_WAITER (self));

  if (!_smartasync_wait_complete (&self->wait, result))
    return;

  g_object_unref (self);
}

/**
 * smartasync_waiter_callback: (skip)
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 * @waiter: (type SmartasyncWaiter): the waiter
 *
 * A #GAsyncReadyCallback for C callers: pass it with the waiter as user data
 * to any `_async` function.
 *
 * Since: 0.1
 */
void
smartasync_waiter_callback (GObject      *source_object,
                            GAsyncResult *result,
                            gpointer      waiter)
{
  smartasync_waiter_complete (waiter, source_object, result);
}

/**
 * smartasync_waiter_wait:
 * @self: a waiter
 * @cancellable: (nullable): a #GCancellable that abandons the wait
 * @error: return location for an error of the wait itself
 *
 * Iterates the calling thread's private context until the operation started
 * with this waiter has called back, then pops the context. Errors of the
 * operation are not reported here: pass the result to its `_finish`
 * function. Call it once, on the thread that created the waiter.
 *
 * Returns: (transfer full): the operation's result, or %NULL with @error set
 *   to %G_IO_ERROR_CANCELLED or %SMARTASYNC_ERROR_WOULD_BLOCK
 *
 * Since: 0.1
 */
GAsyncResult *
smartasync_waiter_wait (SmartasyncWaiter  *self,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_return_val_if_fail (SMARTASYNC_IS_WAITER (self), NULL);
  g_return_val_if_fail (!self->wait.waited, NULL);
  g_return_val_if_fail (self->wait.state == _smartasync_thread_state (), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->wait.context == NULL)
    {
      self->wait.waited = TRUE;
      g_propagate_error (error, g_steal_pointer (&self->refusal));
      return NULL;
    }

  if (!_smartasync_wait_run (&self->wait, cancellable, error))
    return NULL;

  return g_object_ref (self->wait.result);
}
