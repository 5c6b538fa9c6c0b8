/* smartasync-batch.c: many concurrent calls from sync code, waited for together
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncBatch:
 *
 * A scope for synchronous code that starts many operations concurrently and
 * waits for all of them at once: the `gather` of the Python SmartAsync's
 * loop-reuse patterns, without creating any loop.
 *
 * [ctor@Smartasync.Batch.new] pushes the calling thread's private context
 * and keeps it pushed until [method@Smartasync.Batch.close]. Each
 * [method@Smartasync.Batch.add] starts its call at once, asynchronously,
 * bound to that context; [method@Smartasync.Batch.wait] iterates it until
 * every call added so far has completed. Results are kept in call order, and
 * each call's error stays with its own result: read them with
 * [method@Smartasync.Batch.get_result] and the operation's finish function.
 *
 * |[<!-- language="C" -->
 * g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
 *
 * for (guint i = 0; i < n_files; i++)
 *   smartasync_batch_add (batch, load_op, NULL, g_variant_new_string (paths[i]));
 * smartasync_batch_wait (batch, NULL, &error);
 * for (guint i = 0; i < n_files; i++)
 *   contents[i] = smartasync_operation_call_finish_pointer (load_op,
 *                   smartasync_batch_get_result (batch, i), &errors[i]);
 * smartasync_batch_close (batch);
 * ]|
 *
 * Every call of the batch shares one #GCancellable:
 * [method@Smartasync.Batch.cancel], or cancelling the cancellable given to
 * [method@Smartasync.Batch.wait], cancels them all.
 *
 * ## A scope for many synchronous calls
 *
 * An open batch is also a scope, the loop-reuse pattern of a command-line
 * loop or a worker that makes many synchronous calls in a row: synchronous
 * calls made on its thread while it is open find the private context pushed
 * already and leave it pushed, which saves each of them the push, the pop
 * and the look for leftovers. What such a call leaves on the private
 * context belongs to the scope: sources left ready may run in a later call
 * of the same scope, and when the batch closes, it dispatches what is ready
 * and, if sources are left that are not, retires the context (the thread
 * gets a fresh one).
 *
 * |[<!-- language="C" -->
 * g_autoptr(SmartasyncBatch) scope = smartasync_batch_new ();
 *
 * while ((line = read_command ()) != NULL)
 *   run_command_sync (line);       // each call reuses the pushed context
 * smartasync_batch_close (scope);
 * ]|
 *
 * ## Per-worker contexts
 *
 * A worker thread that serves many requests (the Python SmartAsync's
 * "middleware" and "thread-local loop" patterns) needs nothing of its own:
 * every synchronous call on that thread reuses the thread's private context,
 * created on its first call and freed when the thread exits. A batch is only
 * needed to run calls *concurrently*.
 *
 * ## Threads
 *
 * A batch belongs to the thread that created it: add, wait and close on
 * that thread. Like a synchronous wait, a batch opened from code that a
 * running main loop of this thread dispatches is refused: its calls do not
 * start (each result reports %SMARTASYNC_ERROR_WOULD_BLOCK, once that loop
 * dispatches it) and its wait fails with %SMARTASYNC_ERROR_WOULD_BLOCK.
 *
 * ## Example
 *
 * Many calls at once from sync code, one wait for all of them, results in
 * call order.
 *
 * ```c
 * g_autoptr(SmartasyncBatch) batch = smartasync_batch_new ();
 *
 * for (gint32 i = 1; i <= 10; i++)
 *   smartasync_batch_add (batch, op, NULL, g_variant_new_int32 (i));
 * if (smartasync_batch_wait (batch, NULL, NULL))
 *   for (guint i = 0; i < smartasync_batch_get_size (batch); i++)
 *     sum += smartasync_operation_call_finish_int (op, smartasync_batch_get_result (batch, i),
 *                                                  NULL);
 * ```
 *
 * (From `doc/examples/classes.c`, which the test suite builds and runs.)
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-batch.h"
#include "smartasync-context-private.h"
#include "smartasync-wait-private.h"

struct _SmartasyncBatch
{
  GObject                parent_instance;

  SmartasyncWait         wait;         /* embedded: pushed from construction to close */
  GCancellable          *cancellable;  /* shared by every call */
  GPtrArray             *results;      /* GAsyncResult, NULL while pending */
  guint                  pending;
  guint                  refused : 1;
  guint                  closed : 1;
};

G_DEFINE_FINAL_TYPE (SmartasyncBatch, smartasync_batch, G_TYPE_OBJECT)

static gboolean
is_open (SmartasyncBatch *self)
{
  return !self->refused && !self->closed;
}

static void
smartasync_batch_finalize (GObject *object)
{
  SmartasyncBatch *self = SMARTASYNC_BATCH (object);

  if (is_open (self))
    g_critical ("SmartasyncBatch %p finalized without smartasync_batch_close(): "
                "the private context stays pushed on its thread", self);

  _smartasync_wait_clear (&self->wait);
  g_ptr_array_unref (self->results);
  g_object_unref (self->cancellable);

  G_OBJECT_CLASS (smartasync_batch_parent_class)->finalize (object);
}

/* Opening the batch is construction, so that a batch built with
 * g_object_new() (as bindings do) is open too. */
static void
smartasync_batch_constructed (GObject *object)
{
  SmartasyncBatch *self = SMARTASYNC_BATCH (object);

  G_OBJECT_CLASS (smartasync_batch_parent_class)->constructed (object);

  self->refused = !_smartasync_wait_init (&self->wait, "SmartasyncBatch",
                                          SMARTASYNC_WAIT_DEFAULT, NULL);
  if (!self->refused)
    _smartasync_wait_open_scope (&self->wait);
}

static void
smartasync_batch_class_init (SmartasyncBatchClass *klass)
{
  G_OBJECT_CLASS (klass)->constructed = smartasync_batch_constructed;
  G_OBJECT_CLASS (klass)->finalize = smartasync_batch_finalize;
}

static void
smartasync_batch_init (SmartasyncBatch *self)
{
  self->cancellable = g_cancellable_new ();
  self->results = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * smartasync_batch_new:
 *
 * Opens a batch on the calling thread: pushes the thread's private context
 * until [method@Smartasync.Batch.close].
 *
 * Returns: (transfer full): a new batch
 *
 * Since: 0.1
 */
SmartasyncBatch *
smartasync_batch_new (void)
{
  return g_object_new (SMARTASYNC_TYPE_BATCH, NULL);
}

typedef struct
{
  SmartasyncBatch *batch;
  guint            index;
} Slot;

static void
slot_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      data)
{
  Slot *slot = data;
  SmartasyncBatch *self = slot->batch;

  g_ptr_array_index (self->results, slot->index) = g_object_ref (result);
  self->pending--;
  g_object_unref (self);
  g_free (slot);
}

/**
 * smartasync_batch_add:
 * @self: an open batch
 * @operation: the operation to call
 * @source_object: (nullable) (type GObject.Object): the call's source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 *
 * Starts a call of @operation at once, asynchronously: an asynchronous
 * implementation starts on this thread, a blocking one on a worker thread,
 * so that the batch's calls run concurrently.
 *
 * Returns: the call's index, for [method@Smartasync.Batch.get_result]
 *
 * Since: 0.1
 */
guint
smartasync_batch_add (SmartasyncBatch     *self,
                      SmartasyncOperation *operation,
                      gpointer             source_object,
                      GVariant            *args)
{
  g_autoptr(GVariant) sunk = NULL;
  Slot *slot;

  g_return_val_if_fail (SMARTASYNC_IS_BATCH (self), G_MAXUINT);
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (operation), G_MAXUINT);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), G_MAXUINT);
  g_return_val_if_fail (self->wait.state == _smartasync_thread_state (), G_MAXUINT);
  g_return_val_if_fail (!self->closed, G_MAXUINT);

  sunk = args ? g_variant_ref_sink (args) : NULL;
  slot = g_new (Slot, 1);
  slot->batch = g_object_ref (self);
  slot->index = self->results->len;
  g_ptr_array_add (self->results, NULL);
  self->pending++;

  /* A refused batch never waits: its calls do not start, each reports why. */
  if (self->refused)
    {
      g_autoptr(GTask) task = g_task_new (operation, NULL, slot_done, slot);
      GError *error = NULL;

      g_task_set_source_tag (task, smartasync_operation_call_async);
      _smartasync_set_would_block_error (smartasync_operation_get_name (operation), &error);
      g_task_return_error (task, error);
      return slot->index;
    }

  smartasync_operation_call_async (operation, source_object, sunk, self->cancellable,
                                   slot_done, slot);
  return slot->index;
}

#define CANCEL_GRACE_MS 1000

static gboolean
all_done (gpointer data)
{
  return ((SmartasyncBatch *) data)->pending == 0;
}

static gboolean
end_grace (gpointer grace)
{
  g_cancellable_cancel (grace);
  return G_SOURCE_REMOVE;
}

/* Waits for the calls of a cancelled batch, which normally complete at once,
 * for at most CANCEL_GRACE_MS: a call that ignores cancellation is abandoned
 * (its slot stays empty and its late completion only releases the batch),
 * so that nobody waits forever for it. */
static void
wait_cancelled_calls (SmartasyncBatch *self)
{
  g_autoptr(GCancellable) grace = g_cancellable_new ();
  GSource *timeout = g_timeout_source_new (CANCEL_GRACE_MS);

  g_source_set_static_name (timeout, "[smartasync] batch cancel grace");
  g_source_set_callback (timeout, end_grace, grace, NULL);
  g_source_attach (timeout, self->wait.context);
  _smartasync_wait_run_until (&self->wait, grace, all_done, self);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

static void
cancel_batch (GCancellable    *cancellable,
              SmartasyncBatch *self)
{
  g_cancellable_cancel (self->cancellable);
}

/**
 * smartasync_batch_wait:
 * @self: an open batch
 * @cancellable: (nullable): cancels every call of the batch
 * @error: return location for an error of the wait itself
 *
 * Iterates the thread's private context until every call added so far has
 * completed. Errors of the calls are not reported here: each stays with its
 * own result. More calls may be added and waited for afterwards.
 *
 * Returns: %TRUE when every call has completed; %FALSE with @error set to
 *   %G_IO_ERROR_CANCELLED if the batch was cancelled (its calls have
 *   completed all the same, most with %G_IO_ERROR_CANCELLED, except one
 *   that ignored cancellation for a second: its result stays %NULL), or to
 *   %SMARTASYNC_ERROR_WOULD_BLOCK if the batch was opened from a running
 *   loop
 *
 * Since: 0.1
 */
gboolean
smartasync_batch_wait (SmartasyncBatch  *self,
                       GCancellable     *cancellable,
                       GError          **error)
{
  gulong handler = 0;

  g_return_val_if_fail (SMARTASYNC_IS_BATCH (self), FALSE);
  g_return_val_if_fail (self->wait.state == _smartasync_thread_state (), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->refused)
    return _smartasync_set_would_block_error ("smartasync_batch_wait", error);
  g_return_val_if_fail (!self->closed, FALSE);

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_batch), self, NULL);

  _smartasync_wait_run_until (&self->wait, self->cancellable, all_done, self);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  /* Cancelled calls normally complete at once: wait for them, but give up
   * on one that ignores cancellation (see wait_cancelled_calls()). */
  if (self->pending > 0)
    wait_cancelled_calls (self);

  return !g_cancellable_set_error_if_cancelled (self->cancellable, error);
}

/**
 * smartasync_batch_get_size:
 * @self: a batch
 *
 * Gets how many calls were added to the batch: their indexes, for
 * [method@Smartasync.Batch.get_result], run from 0 to one less.
 *
 * Returns: how many calls were added
 *
 * Since: 0.1
 */
guint
smartasync_batch_get_size (SmartasyncBatch *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_BATCH (self), 0);

  return self->results->len;
}

/**
 * smartasync_batch_get_result:
 * @self: a batch
 * @index: a call's index, as returned by [method@Smartasync.Batch.add]
 *
 * Gets the result of a call, to pass to the operation's finish function
 * ([method@Smartasync.Operation.call_finish] and its typed forms).
 *
 * Returns: (transfer none) (nullable): the call's result, or %NULL while it
 *   is pending
 *
 * Since: 0.1
 */
GAsyncResult *
smartasync_batch_get_result (SmartasyncBatch *self,
                             guint            index)
{
  g_return_val_if_fail (SMARTASYNC_IS_BATCH (self), NULL);
  g_return_val_if_fail (index < self->results->len, NULL);

  return g_ptr_array_index (self->results, index);
}

/**
 * smartasync_batch_cancel:
 * @self: a batch
 *
 * Cancels every call of the batch, those added so far and those added later.
 *
 * Since: 0.1
 */
void
smartasync_batch_cancel (SmartasyncBatch *self)
{
  g_return_if_fail (SMARTASYNC_IS_BATCH (self));

  g_cancellable_cancel (self->cancellable);
}

/**
 * smartasync_batch_close:
 * @self: a batch
 *
 * Closes the batch: calls still pending are cancelled and waited for (for
 * at most a second: a call that ignores cancellation is abandoned and its
 * slot stays empty), then the private context is popped. Results stay
 * readable. Closing twice is harmless.
 *
 * Since: 0.1
 */
void
smartasync_batch_close (SmartasyncBatch *self)
{
  g_return_if_fail (SMARTASYNC_IS_BATCH (self));
  g_return_if_fail (self->wait.state == _smartasync_thread_state ());

  if (!is_open (self))
    return;

  if (self->pending > 0)
    {
      g_cancellable_cancel (self->cancellable);
      wait_cancelled_calls (self);
    }

  /* Library calls that the batch's implementations started and left
   * running complete here, never in a later wait; a cancelled batch does
   * not wait for them. */
  self->closed = TRUE;
  _smartasync_wait_end (&self->wait, self->cancellable);
}
