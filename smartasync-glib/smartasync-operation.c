/* smartasync-operation.c: one implementation, callable from sync and async callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SmartasyncOperation:
 *
 * Wraps one implementation of an operation, written once, so that it can be
 * called from anywhere: the GLib counterpart of the Python SmartAsync
 * decorator.
 *
 * An implementation is a [callback@Smartasync.Func] that completes the
 * #GTask it is given. It is either *asynchronous*
 * ([ctor@Smartasync.Operation.new_async]: it starts work and completes the
 * task later, like any GIO `_async` function) or *blocking*
 * ([ctor@Smartasync.Operation.new_blocking]: it runs to completion, like a
 * #GTaskThreadFunc).
 *
 * ## The dispatch matrix
 *
 * [method@Smartasync.Operation.call] looks at the calling thread
 * ([func@Smartasync.in_async_context]) and picks one of four paths:
 *
 * | caller          | async implementation                      | blocking implementation                          |
 * |-----------------|-------------------------------------------|--------------------------------------------------|
 * | sync context    | runs on the thread's private context, waited for; the result is returned | called directly on this thread |
 * | async context   | pending #GTask; the callback runs later on the caller's thread-default context | offloaded to a worker thread; the callback runs on the caller's context |
 *
 * Callers who know what they want use [method@Smartasync.Operation.call_async]
 * (always asynchronous: an async implementation runs on the caller's thread,
 * blocking work is offloaded) or [method@Smartasync.Operation.call_sync]
 * (always returns the result, never from code a running loop dispatches).
 *
 * ## Results and errors
 *
 * As GIO's convention wants, the call's #GTask has the operation as its
 * source object: callbacks receive the operation, and `Gio._promisify()`
 * works on [method@Smartasync.Operation.call_async]. The caller's source
 * object is handed to the implementation as an argument.
 *
 * The implementation returns its result through the #GTask, and the caller
 * reads it the same way: g_task_propagate_pointer() pairs with
 * [method@Smartasync.Operation.call_finish_pointer], and so on; bindings use
 * g_task_return_value() and the #GValue forms. An implementation that
 * declares the type of its result
 * ([property@Smartasync.Operation:result-type]) can be read with the #GValue
 * forms whatever g_task_return_*() it calls, and so through a
 * [class@Smartasync.Lock], a [class@Smartasync.Batch], an await or a
 * binding. A #GError returned by the implementation reaches the caller with
 * domain, code and message unchanged.
 * The bridge's own errors use %SMARTASYNC_ERROR.
 *
 * ## Offloading
 *
 * Blocking work called from an async context runs on a
 * [class@Smartasync.Executor] set on the operation or as the default, or
 * else on the library's own pool (at least 10 threads, started on demand).
 * Not on GLib's #GTask pool, whose worker may drop the last reference to the
 * caller's objects: here everything the library holds for a call is
 * released on the caller's context, never on a worker thread, and the
 * caller is answered once the worker let go of it, so a caller may stop
 * iterating its context once answered. A worker thread is a sync context, so a
 * blocking implementation that calls another operation runs it inline: nested
 * offloads never wait for a pool thread and cannot starve the pool.
 *
 * ## Cancellation
 *
 * A call whose #GCancellable is already cancelled completes with
 * %G_IO_ERROR_CANCELLED without running the implementation. Offloaded work
 * returns %G_IO_ERROR_CANCELLED as soon as it is cancelled, as GIO's own
 * blocking operations do: work still queued never runs; running work sees
 * the cancellable, finishes in the background and its result is dropped,
 * and what its worker held is released on the caller's context when it is
 * done (keep iterating that context, as a running main loop does). A
 * synchronous wait returns at once. Asynchronous implementations get the cancellable and are
 * expected to honour it, as every GIO operation does; their #GTask reports
 * %G_IO_ERROR_CANCELLED even if the work finished.
 *
 * ## Construction
 *
 * Create operations with [ctor@Smartasync.Operation.new_async] or
 * [ctor@Smartasync.Operation.new_blocking]. An operation built with
 * g_object_new() (as a binding's default constructor does, e.g.
 * `Smartasync.Operation(name=…)` in Python) has no implementation: it is a
 * valid object, and every call of it is answered with %SMARTASYNC_ERROR_FAILED
 * naming the constructors to use.
 *
 * ## Threads
 *
 * An operation is immutable apart from its executor and can be called from
 * any number of threads at once; every call has its own #GTask, so
 * concurrent calls each get their own result.
 *
 * ## Example
 *
 * Wrapped once, called from a thread without a running loop: the call
 * returns the result.
 *
 * ```c
 * g_autoptr(SmartasyncOperation) op =
 *   smartasync_operation_new_blocking ("double", double_it, NULL, NULL);
 *
 * result = smartasync_operation_call_sync_int (op, NULL, g_variant_new_int32 (21),
 *                                              NULL, &error);
 * g_assert_no_error (error);
 * g_print ("double (21) = %" G_GSSIZE_FORMAT "\n", result);
 * ```
 *
 * (From `doc/examples/classes.c`, which the test suite builds and runs.)
 *
 * Since: 0.1
 */

#include "config.h"

#include "smartasync-context-private.h"
#include "smartasync-debug-private.h"
#include "smartasync-enum-types.h"
#include "smartasync-error.h"
#include "smartasync-offload-private.h"
#include "smartasync-release-private.h"
#include "smartasync-operation-private.h"
#include "smartasync-wait-private.h"

struct _SmartasyncOperation
{
  GObject             parent_instance;

  char               *name;
  SmartasyncKind      kind;
  SmartasyncFunc      func;
  gpointer            user_data;
  GDestroyNotify      destroy;

  GMutex              mutex;      /* protects executor */
  SmartasyncExecutor *executor;
  gint                thread_safe;  /* atomic */
  GType               result_type;  /* atomic */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_KIND,
  PROP_EXECUTOR,
  PROP_THREAD_SAFE,
  PROP_RESULT_TYPE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (SmartasyncOperation, smartasync_operation, G_TYPE_OBJECT)

/* Watches a call's task (see WatchedCall): qdata, which GObject frees with
 * the task, costs half a weak reference, which also allocates a list of
 * references; it is set on every offloaded call. */
static GQuark watched_call_quark;

static void
smartasync_operation_finalize (GObject *object)
{
  SmartasyncOperation *self = SMARTASYNC_OPERATION (object);

  if (self->destroy != NULL)
    self->destroy (self->user_data);
  g_clear_object (&self->executor);
  g_mutex_clear (&self->mutex);
  g_free (self->name);

  G_OBJECT_CLASS (smartasync_operation_parent_class)->finalize (object);
}

static void
smartasync_operation_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  SmartasyncOperation *self = SMARTASYNC_OPERATION (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_EXECUTOR:
      g_value_take_object (value, smartasync_operation_dup_executor (self));
      break;
    case PROP_THREAD_SAFE:
      g_value_set_boolean (value, smartasync_operation_get_thread_safe (self));
      break;
    case PROP_RESULT_TYPE:
      g_value_set_gtype (value, smartasync_operation_get_result_type (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
smartasync_operation_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  SmartasyncOperation *self = SMARTASYNC_OPERATION (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_KIND:
      self->kind = g_value_get_enum (value);
      break;
    case PROP_EXECUTOR:
      smartasync_operation_set_executor (self, g_value_get_object (value));
      break;
    case PROP_THREAD_SAFE:
      smartasync_operation_set_thread_safe (self, g_value_get_boolean (value));
      break;
    case PROP_RESULT_TYPE:
      smartasync_operation_set_result_type (self, g_value_get_gtype (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Bindings build objects with g_object_new() (`Smartasync.Operation(name=…)`
 * in Python), which cannot pass an implementation: such an operation is
 * valid, and answers every call with an error that names the constructors. */
static void
smartasync_operation_constructed (GObject *object)
{
  SmartasyncOperation *self = SMARTASYNC_OPERATION (object);

  G_OBJECT_CLASS (smartasync_operation_parent_class)->constructed (object);

  if (self->name == NULL)
    self->name = g_strdup ("unnamed operation");
}

static void
smartasync_operation_class_init (SmartasyncOperationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = smartasync_operation_constructed;
  object_class->finalize = smartasync_operation_finalize;
  object_class->get_property = smartasync_operation_get_property;
  object_class->set_property = smartasync_operation_set_property;

  watched_call_quark = g_quark_from_static_string ("smartasync-watched-call");

  /**
   * SmartasyncOperation:name:
   *
   * The operation's name, used in debug logs and error messages;
   * "unnamed operation" when none is given.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncOperation:kind:
   *
   * Whether the implementation is asynchronous or blocking.
   *
   * Since: 0.1
   */
  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL,
                       SMARTASYNC_TYPE_KIND, SMARTASYNC_KIND_ASYNC,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncOperation:executor:
   *
   * The executor that runs offloaded blocking calls, or %NULL for the
   * default executor ([func@Smartasync.dup_default_executor]), itself %NULL
   * by default, meaning the library's own pool.
   *
   * Since: 0.1
   */
  properties[PROP_EXECUTOR] =
    g_param_spec_object ("executor", NULL, NULL,
                         SMARTASYNC_TYPE_EXECUTOR,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncOperation:thread-safe:
   *
   * Whether a blocking implementation may run on a worker thread. Set it to
   * %FALSE for implementations that must stay on the thread that calls them,
   * such as JavaScript functions under GJS, which refuses to run them
   * elsewhere: calls that would offload them then fail with
   * %SMARTASYNC_ERROR_OFFLOAD_FAILED instead of hanging. Set it before the
   * first call; calls already started keep the value they saw.
   *
   * Since: 0.1
   */
  properties[PROP_THREAD_SAFE] =
    g_param_spec_boolean ("thread-safe", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * SmartasyncOperation:result-type:
   *
   * The type of the implementation's result, which tells the library which
   * g_task_return_*() the implementation calls, so that every #GValue path
   * (call_sync(), call_finish(), locks, batches, awaits, bindings) can read
   * it:
   *
   * - %G_TYPE_NONE (the default): g_task_return_value(), as bindings do;
   * - %G_TYPE_BOOLEAN: g_task_return_boolean();
   * - an integer, enum or flags type: g_task_return_int();
   * - a boxed, object, interface, string, #GVariant or #GParamSpec type:
   *   g_task_return_pointer() with a full reference of that type (a lock
   *   gives each of its callers its own copy or reference).
   *
   * See [method@Smartasync.Operation.set_result_type].
   *
   * Since: 0.1
   */
  properties[PROP_RESULT_TYPE] =
    g_param_spec_gtype ("result-type", NULL, NULL, G_TYPE_NONE,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
smartasync_operation_init (SmartasyncOperation *self)
{
  g_mutex_init (&self->mutex);
  self->result_type = G_TYPE_NONE;
}

static SmartasyncOperation *
operation_new (const char     *name,
               SmartasyncKind  kind,
               SmartasyncFunc  func,
               gpointer        user_data,
               GDestroyNotify  destroy)
{
  SmartasyncOperation *self;

  self = g_object_new (SMARTASYNC_TYPE_OPERATION,
                       "name", name,
                       "kind", kind,
                       NULL);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;

  return self;
}

/**
 * smartasync_operation_new_async:
 * @name: the operation's name, for logs and error messages
 * @func: (scope notified) (closure user_data) (destroy destroy): an
 *   asynchronous implementation
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the operation is finalized
 *
 * Wraps an asynchronous implementation: @func starts the work and returns;
 * it completes its #GTask later (take a reference to keep it). It always
 * runs on the calling thread, with the context the caller's callback will run
 * on pushed as thread-default.
 *
 * Returns: (transfer full): a new operation
 *
 * Since: 0.1
 */
SmartasyncOperation *
smartasync_operation_new_async (const char     *name,
                                SmartasyncFunc  func,
                                gpointer        user_data,
                                GDestroyNotify  destroy)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return operation_new (name, SMARTASYNC_KIND_ASYNC, func, user_data, destroy);
}

/**
 * smartasync_operation_new_blocking:
 * @name: the operation's name, for logs and error messages
 * @func: (scope notified) (closure user_data) (destroy destroy): a blocking
 *   implementation
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the operation is finalized
 *
 * Wraps a blocking implementation: @func runs to completion and has completed
 * its #GTask when it returns. It runs on the calling thread in a sync context
 * and on a worker thread when called from an async context, so it must be
 * thread-safe.
 *
 * Returns: (transfer full): a new operation
 *
 * Since: 0.1
 */
SmartasyncOperation *
smartasync_operation_new_blocking (const char     *name,
                                   SmartasyncFunc  func,
                                   gpointer        user_data,
                                   GDestroyNotify  destroy)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return operation_new (name, SMARTASYNC_KIND_BLOCKING, func, user_data, destroy);
}

/**
 * smartasync_operation_get_name:
 * @self: an operation
 *
 * Gets the name the operation was created with, which debug logs and error
 * messages use.
 *
 * Returns: the operation's name
 *
 * Since: 0.1
 */
const char *
smartasync_operation_get_name (SmartasyncOperation *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), NULL);

  return self->name;
}

/**
 * smartasync_operation_get_kind:
 * @self: an operation
 *
 * Gets the kind of implementation the operation wraps, which decides how
 * each kind of caller runs it.
 *
 * Returns: whether the implementation is asynchronous or blocking
 *
 * Since: 0.1
 */
SmartasyncKind
smartasync_operation_get_kind (SmartasyncOperation *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), SMARTASYNC_KIND_ASYNC);

  return self->kind;
}

/**
 * smartasync_operation_dup_executor:
 * @self: an operation
 *
 * Gets the executor set with [method@Smartasync.Operation.set_executor].
 * %NULL means that offloaded calls use the default executor
 * ([func@Smartasync.dup_default_executor]), or the library's own pool when
 * there is none.
 *
 * Returns: (transfer full) (nullable): the executor set on the operation
 *
 * Since: 0.1
 */
SmartasyncExecutor *
smartasync_operation_dup_executor (SmartasyncOperation *self)
{
  SmartasyncExecutor *executor;

  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), NULL);

  g_mutex_lock (&self->mutex);
  executor = self->executor ? g_object_ref (self->executor) : NULL;
  g_mutex_unlock (&self->mutex);

  return executor;
}

/**
 * smartasync_operation_set_executor:
 * @self: an operation
 * @executor: (nullable): the executor for offloaded calls, or %NULL for the
 *   default
 *
 * Sets the executor that runs this operation's offloaded blocking calls.
 * Calls already offloaded are not affected.
 *
 * Since: 0.1
 */
void
smartasync_operation_set_executor (SmartasyncOperation *self,
                                   SmartasyncExecutor  *executor)
{
  gboolean changed;

  g_return_if_fail (SMARTASYNC_IS_OPERATION (self));
  g_return_if_fail (executor == NULL || SMARTASYNC_IS_EXECUTOR (executor));

  g_mutex_lock (&self->mutex);
  changed = g_set_object (&self->executor, executor);
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXECUTOR]);
}

/**
 * smartasync_operation_get_thread_safe:
 * @self: an operation
 *
 * Gets [property@Smartasync.Operation:thread-safe].
 *
 * Returns: whether blocking calls may be offloaded to worker threads
 *
 * Since: 0.1
 */
gboolean
smartasync_operation_get_thread_safe (SmartasyncOperation *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), FALSE);

  return g_atomic_int_get (&self->thread_safe);
}

/**
 * smartasync_operation_set_thread_safe:
 * @self: an operation
 * @thread_safe: whether blocking calls may be offloaded to worker threads
 *
 * Sets [property@Smartasync.Operation:thread-safe].
 *
 * Since: 0.1
 */
void
smartasync_operation_set_thread_safe (SmartasyncOperation *self,
                                      gboolean             thread_safe)
{
  g_return_if_fail (SMARTASYNC_IS_OPERATION (self));

  if (g_atomic_int_exchange (&self->thread_safe, !!thread_safe) != !!thread_safe)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREAD_SAFE]);
}

/**
 * smartasync_operation_get_result_type:
 * @self: an operation
 *
 * Gets [property@Smartasync.Operation:result-type].
 *
 * Returns: the type the implementation returns, or %G_TYPE_NONE when it
 *   returns a #GValue with g_task_return_value()
 *
 * Since: 0.1
 */
GType
smartasync_operation_get_result_type (SmartasyncOperation *self)
{
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), G_TYPE_NONE);

  return (GType) g_atomic_pointer_get (&self->result_type);
}

/**
 * smartasync_operation_set_result_type:
 * @self: an operation
 * @result_type: the type the implementation returns, or %G_TYPE_NONE when
 *   it returns a #GValue with g_task_return_value()
 *
 * Declares which g_task_return_*() the implementation calls, by the type
 * of its result (see [property@Smartasync.Operation:result-type]), so that
 * callers who read results as #GValue get them whatever the kind: an
 * implementation that calls g_task_return_int() declares %G_TYPE_INT (or
 * another integer type), one that returns a #GBytes with
 * g_task_return_pointer() declares %G_TYPE_BYTES. Without it, only
 * g_task_return_value() results can be read as a #GValue, and the others
 * only with the typed finish functions.
 *
 * Once a type is declared, a typed finish function of another kind fails
 * with %SMARTASYNC_ERROR_FAILED naming the operation, instead of reading
 * what it cannot know the type of; an object of another class than the
 * declared one is refused the same way. Set it once, before the first call:
 * results are read with the type declared when they are read.
 *
 * A type no g_task_return_*() can return (a plain pointer, a float) is a
 * programmer error.
 *
 * Since: 0.1
 */
void
smartasync_operation_set_result_type (SmartasyncOperation *self,
                                      GType                result_type)
{
  g_return_if_fail (SMARTASYNC_IS_OPERATION (self));

  if (result_type == G_TYPE_INVALID)
    result_type = G_TYPE_NONE;
  if (_smartasync_result_kind (result_type) == SMARTASYNC_RESULT_UNSUPPORTED)
    {
      g_critical ("%s: “%s” cannot declare %s as its result type: an implementation "
                  "returns a boolean, an integer, enum or flags type, or, with "
                  "g_task_return_pointer(), a boxed, object, interface, string, "
                  "GVariant or GParamSpec type (G_TYPE_NONE: g_task_return_value())",
                  G_STRFUNC, self->name, g_type_name (result_type));
      return;
    }

  if ((GType) g_atomic_pointer_exchange (&self->result_type, result_type) != result_type)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_TYPE]);
}

/* Calls */

void
_smartasync_call_init (SmartasyncCall      *call,
                       SmartasyncOperation *operation,
                       gpointer             source_object,
                       GVariant            *args)
{
  call->operation = g_object_ref (operation);
  call->source_object = source_object ? g_object_ref (source_object) : NULL;
  call->args = args ? g_variant_ref (args) : NULL;
}

void
_smartasync_call_clear (SmartasyncCall *call)
{
  g_clear_object (&call->operation);
  g_clear_object (&call->source_object);
  g_clear_pointer (&call->args, g_variant_unref);
}

/* The call's task has the operation as its source object, as GIO's
 * convention wants (Gio._promisify relies on it); the caller's source object
 * goes to the implementation as an argument. */
static void
run_implementation (SmartasyncOperation *self,
                    GTask               *task,
                    gpointer             source_object,
                    GVariant            *args)
{
  if (G_UNLIKELY (self->func == NULL))
    {
      g_task_return_new_error (task, SMARTASYNC_ERROR, SMARTASYNC_ERROR_FAILED,
                               "“%s” has no implementation: it was built with "
                               "g_object_new(); create operations with "
                               "smartasync_operation_new_async() or "
                               "smartasync_operation_new_blocking() "
                               "(Smartasync.Operation.new_async() in bindings)",
                               self->name);
      return;
    }

  self->func (task, source_object, args, g_task_get_cancellable (task), self->user_data);
}

/* A call whose task is watched, so that its caller is answered exactly
 * once, on the task's context: with the task's own completion; with
 * SMARTASYNC_ERROR_NOT_COMPLETED by a task standing in for one the
 * implementation dropped without completing; or, for an offloaded call,
 * with G_IO_ERROR_CANCELLED as soon as it is cancelled (as GIO's blocking
 * operations on GLib's pool return on cancel), while its worker finishes in
 * the background. Whatever answers later is dropped. Calls started on a
 * private context are also counted until everything the library holds for
 * them is released, so that the wait that runs them drains them. */
typedef struct
{
  gatomicrefcount        ref_count;
  SmartasyncThreadState *state;         /* counts the call as pending, or NULL */
  GMainContext          *context;       /* the context the task completes on */
  SmartasyncOperation   *operation;
  GTask                 *task;          /* atomic, not owned: the task, until it is gone */
  GAsyncReadyCallback    callback;
  gpointer               user_data;
  /* On the context's thread only: */
  gboolean               answered;
  gpointer               offload;       /* the Offload of the call, until released */
  GTask                  *deferred;     /* its completion, answered at the release */
  GCancellable          *cancellable;   /* of an offloaded call, while connected */
  gulong                 cancelled_id;
  GSource               *cancel_answer; /* atomic: queued by the handler */
} WatchedCall;

static void tag_task          (SmartasyncOperation *self,
                               GTask               *task);
static void offload_completed (gpointer             offload,
                               GAsyncResult        *result);

static WatchedCall *
watched_ref (WatchedCall *watched)
{
  g_atomic_ref_count_inc (&watched->ref_count);
  return watched;
}

static void
watched_unref (gpointer data)
{
  WatchedCall *watched = data;

  if (!g_atomic_ref_count_dec (&watched->ref_count))
    return;

  if (watched->state != NULL)
    {
      _smartasync_thread_state_untrack (watched->state);
      /* A wait draining the call may sleep in poll() on its thread; on that
       * thread itself, it looks at the count before it sleeps again. */
      if (!_smartasync_thread_state_is_current (watched->state))
        g_main_context_wakeup (watched->context);
    }
  g_clear_pointer (&watched->cancel_answer, g_source_unref);
  g_main_context_unref (watched->context);
  g_object_unref (watched->operation);
  g_free (watched);
}

/* Runs @answer from a dispatch of the call's context, with a reference;
 * @pending, if given, keeps the source so that it can be withdrawn. */
static void
watched_post (WatchedCall  *watched,
              GSourceFunc   answer,
              const char   *name,
              GSource     **pending)
{
  /* Read first: scan-build takes the NULL check inside watched_ref() (on
   * the first field) as a sign that @watched may be NULL. */
  GMainContext *context = watched->context;
  GSource *idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_static_name (idle, name);
  g_source_set_callback (idle, answer, watched_ref (watched), watched_unref);
  if (pending != NULL)
    g_atomic_pointer_set (pending, g_source_ref (idle));
  _smartasync_source_attach_unref (idle, context);
}

/* On the context's thread, never from the cancellable's handler. A
 * cancellation that came with the answer leaves nothing on the caller's
 * context: its own answer, if queued, is withdrawn. */
static void
watched_stop_cancel_watch (WatchedCall *watched)
{
  GSource *pending;

  if (watched->cancellable == NULL)
    return;

  /* Waits for the handler, if it runs on another thread. */
  g_cancellable_disconnect (watched->cancellable, watched->cancelled_id);
  g_clear_object (&watched->cancellable);
  pending = g_atomic_pointer_exchange (&watched->cancel_answer, NULL);
  if (pending != NULL)
    {
      g_source_destroy (pending);
      g_source_unref (pending);
    }
}

static void
watched_answer (WatchedCall  *watched,
                GAsyncResult *result)
{
  watched->answered = TRUE;
  watched_stop_cancel_watch (watched);
  if (watched->callback != NULL)
    watched->callback (g_task_get_source_object (G_TASK (result)), result, watched->user_data);
}

/* The completion of an offloaded call waits for its worker's release, so
 * that the caller, once answered, may stop iterating its context with
 * nothing of the call left on it. */
static void
watched_callback (GObject      *source_object,
                  GAsyncResult *result,
                  gpointer      data)
{
  WatchedCall *watched = data;
  gboolean is_task = g_atomic_pointer_compare_and_exchange (&watched->task, (GTask *) result, NULL);

  /* The task completed: it needs no watching for a drop any more. */
  if (is_task)
    g_object_steal_qdata (G_OBJECT (result), watched_call_quark);

  if (is_task && watched->offload != NULL)
    offload_completed (watched->offload, result);
  else if (!watched->answered)
    watched_answer (watched, result);

  watched_unref (watched);
}

static void
answer_with_stand_in (WatchedCall *watched,
                      GError      *error)
{
  g_autoptr(GTask) task = g_task_new (watched->operation, NULL, watched_callback,
                                      watched_ref (watched));

  tag_task (watched->operation, task);
  g_task_return_error (task, error);
}

static gboolean
answer_dropped_task (gpointer data)
{
  WatchedCall *watched = data;

  if (!watched->answered)
    answer_with_stand_in (watched, _smartasync_dropped_task_error (watched->operation->name));
  return G_SOURCE_REMOVE;
}

static gboolean
answer_cancelled_call (gpointer data)
{
  WatchedCall *watched = data;
  GError *error = NULL;

  if (!watched->answered &&
      g_cancellable_set_error_if_cancelled (watched->cancellable, &error))
    answer_with_stand_in (watched, error);
  return G_SOURCE_REMOVE;
}

/* The implementation dropped the task without completing it, on whatever
 * thread: the task's reference to the call goes to the stand-in. */
static void
watched_task_dropped (gpointer data)
{
  WatchedCall *watched = data;

  g_atomic_pointer_set (&watched->task, NULL);
  if (watched->callback != NULL)
    watched_post (watched, answer_dropped_task, "[smartasync] answer a dropped task", NULL);
  watched_unref (watched);
}

static void
watched_cancelled (GCancellable *cancellable,
                   WatchedCall  *watched)
{
  watched_post (watched, answer_cancelled_call, "[smartasync] answer a cancelled call",
                &watched->cancel_answer);
}

/* An offloaded call returns on cancel, before its worker is done. */
static void
watch_cancellable (GTask *task)
{
  WatchedCall *watched = g_object_get_qdata (G_OBJECT (task), watched_call_quark);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (cancellable == NULL || watched->callback == NULL)
    return;

  watched->cancellable = g_object_ref (cancellable);
  watched->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (watched_cancelled),
                                                 watched_ref (watched), watched_unref);
}

static GTask *
new_watched_task (SmartasyncOperation *self,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data,
                  gboolean             counted)
{
  WatchedCall *watched = g_new0 (WatchedCall, 1);
  GTask *task;

  /* This reference is the task's: its completion or its drop takes it. */
  g_atomic_ref_count_init (&watched->ref_count);
  watched->state = counted ? _smartasync_thread_state () : NULL;
  watched->context = g_main_context_ref_thread_default ();
  watched->operation = g_object_ref (self);
  watched->callback = callback;
  watched->user_data = user_data;
  if (counted)
    _smartasync_thread_state_track (watched->state);
  task = g_task_new (self, cancellable, watched_callback, watched);
  watched->task = task;
  g_object_set_qdata_full (G_OBJECT (task), watched_call_quark, watched, watched_task_dropped);
  return task;
}

/* GLib's g_task_set_source_tag() macro also names the task after the tag,
 * which costs an allocation and a string build per call. The operation's
 * name is the more useful one, and only worth its cost when debugging. */
static void
tag_task (SmartasyncOperation *self,
          GTask               *task)
{
  (g_task_set_source_tag) (task, smartasync_operation_call_async);
  if (G_UNLIKELY (_smartasync_debug_enabled ()))
    g_task_set_name (task, self->name);
}

/* Every asynchronous call is watched, so that it is answered exactly once
 * even when its implementation drops the task without completing it (GIO
 * would leave such a call unanswered). A call started while this thread's
 * private context is thread-default (from code a wait dispatches, or from a
 * blocking implementation running inline) is also counted: it completes on
 * that context, and the wait keeps iterating until it has, so the callback
 * never fires inside a later, unrelated wait. */
static GTask *
new_async_task (SmartasyncOperation *self,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  gboolean counted = _smartasync_context_is_private (g_main_context_get_thread_default ());
  GTask *task = new_watched_task (self, cancellable, callback, user_data, counted);

  tag_task (self, task);
  return task;
}

static GTask *
new_sync_task (SmartasyncOperation *self,
               GCancellable        *cancellable,
               SmartasyncWait      *waiter)
{
  GTask *task = g_task_new (self, cancellable, _smartasync_wait_callback, waiter);

  tag_task (self, task);
  return task;
}

/* What a worker holds while it runs an offloaded call: the task and the
 * caller's objects, and the call's watch, which keeps a counted call
 * pending until they are released, on the caller's context (see
 * smartasync-release.c). */
typedef struct
{
  GTask          *task;
  SmartasyncCall  call;
  WatchedCall    *watched;
  gint            state;    /* atomic: OFFLOAD_* */
} Offload;

/* The worker and the task's completion meet: the second of them answers
 * the caller and releases, on the caller's context, in the completion's
 * own dispatch when the worker was done first (the usual case: one
 * wake-up of the caller's loop per call), else from a release the worker
 * queues after it. */
enum {
  OFFLOAD_WORKER_DONE     = 1 << 0,
  OFFLOAD_COMPLETION_SEEN = 1 << 1,
  OFFLOAD_RELEASE_QUEUED  = 1 << 2,
};

/* Answers the caller if the completion came first, then releases. Only
 * releases when the context is destroyed with the release still queued. */
static void
offload_free (gpointer data)
{
  Offload *offload = data;
  WatchedCall *watched = offload->watched;
  g_autoptr(GTask) deferred = g_steal_pointer (&watched->deferred);

  watched->offload = NULL;
  if (deferred != NULL && !watched->answered && g_main_context_is_owner (watched->context))
    {
      /* As GTask runs a callback: with its context as thread-default. */
      g_main_context_push_thread_default (watched->context);
      watched_answer (watched, G_ASYNC_RESULT (deferred));
      g_main_context_pop_thread_default (watched->context);
    }

  g_object_unref (offload->task);
  _smartasync_call_clear (&offload->call);
  watched_unref (watched);
  g_free (offload);
}

/* On the caller's context, from the task's completion. */
static void
offload_completed (gpointer      data,
                   GAsyncResult *result)
{
  Offload *offload = data;
  gint met;

  if (!offload->watched->answered)
    offload->watched->deferred = g_object_ref (G_TASK (result));
  met = g_atomic_int_or (&offload->state, OFFLOAD_COMPLETION_SEEN);
  if ((met & OFFLOAD_WORKER_DONE) && !(met & OFFLOAD_RELEASE_QUEUED))
    offload_free (offload);
}

/* On the worker, once the implementation returned or its thread exited.
 * GTask queues a completion on the task's context as a source whose data
 * is the task: while it is queued, the completion will meet the worker. A
 * task not completed (or completed and seen already) needs the release. */
static void
offload_release (gpointer data)
{
  Offload *offload = data;
  GMainContext *context = g_task_get_context (offload->task);
  gboolean completion_queued =
    g_main_context_find_source_by_user_data (context, offload->task) != NULL;
  gint state, done;

  do
    {
      state = g_atomic_int_get (&offload->state);
      done = state | OFFLOAD_WORKER_DONE;
      if ((state & OFFLOAD_COMPLETION_SEEN) || !completion_queued)
        done |= OFFLOAD_RELEASE_QUEUED;
    }
  while (!g_atomic_int_compare_and_exchange (&offload->state, state, done));

  /* Otherwise the completion may have freed the offload already. */
  if (done & OFFLOAD_RELEASE_QUEUED)
    _smartasync_release_on_context (context, offload, offload_free);
}

/* The caller of a call cancelled while queued is answered already: its
 * work never runs. */
static void
offload_run (gpointer data,
             gpointer unused)
{
  Offload *offload = data;

  if (g_task_return_error_if_cancelled (offload->task))
    return;

  run_implementation (offload->call.operation, offload->task,
                      offload->call.source_object, offload->call.args);
}

/* Runs an offloaded call on the executor the offload policy names. Its
 * references are the worker's own, kept apart from the task data, which
 * the implementation may replace. */
static void
offload (SmartasyncOperation *self,
         GTask               *task,
         gpointer             source_object,
         GVariant            *args)
{
  g_autoptr(SmartasyncExecutor) executor = NULL;
  g_autoptr(GError) error = NULL;
  Offload *offload;

  if (!smartasync_operation_get_thread_safe (self))
    {
      g_task_return_new_error (task, SMARTASYNC_ERROR, SMARTASYNC_ERROR_OFFLOAD_FAILED,
                               "“%s” is not thread-safe and cannot be offloaded from a "
                               "running loop: call it from a thread without a loop, or "
                               "make it an asynchronous implementation", self->name);
      return;
    }

  offload = g_new0 (Offload, 1);
  offload->task = g_object_ref (task);
  _smartasync_call_init (&offload->call, self, source_object, args);
  offload->watched = watched_ref (g_object_get_qdata (G_OBJECT (task), watched_call_quark));
  offload->watched->offload = offload;
  watch_cancellable (task);

  executor = _smartasync_offload_dup_executor (self);
  if (!_smartasync_executor_run (executor, offload_run, offload, offload_release, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      offload_free (offload);
    }
}

static GTask *
start_async (SmartasyncOperation *self,
             gpointer             source_object,
             GVariant            *args,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  GTask *task = new_async_task (self, cancellable, callback, user_data);

  SMARTASYNC_DEBUG (self->name, self->kind == SMARTASYNC_KIND_ASYNC ? "async" : "offload",
                    "async context, %s implementation: %s",
                    self->kind == SMARTASYNC_KIND_ASYNC ? "async" : "blocking",
                    self->kind == SMARTASYNC_KIND_ASYNC ? "pending task" : "offloaded to a worker");

  if (g_task_return_error_if_cancelled (task))
    return task;

  if (self->kind == SMARTASYNC_KIND_ASYNC)
    run_implementation (self, task, source_object, args);
  else
    offload (self, task, source_object, args);

  return task;
}

static void
start_implementation (GTask    *task,
                      gpointer  data)
{
  SmartasyncCall *call = data;

  run_implementation (call->operation, task, call->source_object, call->args);
}

/* Runs the call on the private context (an asynchronous implementation) or
 * directly (a blocking one) and returns the completed task, or %NULL with
 * @error set when the wait itself failed. */
static GTask *
run_sync (SmartasyncOperation  *self,
          gpointer              source_object,
          GVariant             *args,
          GCancellable         *cancellable,
          GError              **error)
{
  g_autoptr(SmartasyncWait) waiter = NULL;
  SmartasyncCall call = { .operation = self, .source_object = source_object, .args = args };

  if (cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  waiter = _smartasync_wait_new (self->name,
                                 self->kind == SMARTASYNC_KIND_BLOCKING
                                 ? SMARTASYNC_WAIT_PASS_THROUGH : SMARTASYNC_WAIT_DEFAULT,
                                 error);
  if (waiter == NULL)
    return NULL;

  _smartasync_wait_start (waiter, new_sync_task (self, cancellable, waiter),
                          start_implementation, &call);
  if (!_smartasync_wait_run (waiter, cancellable, error))
    return NULL;

  return G_TASK (_smartasync_wait_steal_result (waiter));
}

/**
 * smartasync_operation_call_async:
 * @self: an operation
 * @source_object: (nullable) (type GObject.Object): passed to the
 *   implementation as its source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called on the caller's
 *   thread-default main context when the call completes
 * @user_data: data for @callback
 *
 * Calls the operation asynchronously, whatever the context: an asynchronous
 * implementation starts at once on this thread; a blocking one is offloaded
 * to a worker thread. @callback is never invoked from inside this function.
 * Finish with [method@Smartasync.Operation.call_finish] or one of its typed
 * forms.
 *
 * Since: 0.1
 */
void
smartasync_operation_call_async (SmartasyncOperation *self,
                                 gpointer             source_object,
                                 GVariant            *args,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GVariant) sunk = NULL;

  g_return_if_fail (SMARTASYNC_IS_OPERATION (self));
  g_return_if_fail (source_object == NULL || G_IS_OBJECT (source_object));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  sunk = args ? g_variant_ref_sink (args) : NULL;
  g_object_unref (start_async (self, source_object, sunk, cancellable, callback, user_data));
}

#define FINISH_PRECONDITIONS(val) \
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), (val)); \
  g_return_val_if_fail (g_task_is_valid (result, self), (val)); \
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == smartasync_operation_call_async, (val)); \
  g_return_val_if_fail (error == NULL || *error == NULL, (val))

/**
 * smartasync_operation_call_finish:
 * @self: an operation
 * @result: the #GAsyncResult of the call
 * @value: (out caller-allocates) (optional): the result, when the
 *   implementation returned it with g_task_return_value() or declared its
 *   type ([property@Smartasync.Operation:result-type]); %NULL to ignore it,
 *   whatever its kind
 * @error: return location for an error
 *
 * Finishes a call started by [method@Smartasync.Operation.call_async] or
 * [method@Smartasync.Operation.call], when the implementation returned a
 * #GValue (as bindings do) or declared the type of its result.
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_operation_call_finish (SmartasyncOperation  *self,
                                  GAsyncResult         *result,
                                  GValue               *value,
                                  GError              **error)
{
  FINISH_PRECONDITIONS (FALSE);
  _smartasync_value_prepare_out (value);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);

  if (value == NULL)
    return _smartasync_task_propagate_ignoring_result (G_TASK (result), error);
  return _smartasync_task_propagate_value (G_TASK (result), value, error);
}

/**
 * smartasync_operation_call_finish_pointer: (skip)
 * @self: an operation
 * @result: the #GAsyncResult of the call
 * @error: return location for an error
 *
 * Finishes a call whose implementation used g_task_return_pointer().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error set
 *
 * Since: 0.1
 */
gpointer
smartasync_operation_call_finish_pointer (SmartasyncOperation  *self,
                                          GAsyncResult         *result,
                                          GError              **error)
{
  FINISH_PRECONDITIONS (NULL);

  return _smartasync_task_propagate_pointer (G_TASK (result), error);
}

/**
 * smartasync_operation_call_finish_boolean:
 * @self: an operation
 * @result: the #GAsyncResult of the call
 * @error: return location for an error
 *
 * Finishes a call whose implementation used g_task_return_boolean().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: the result, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
smartasync_operation_call_finish_boolean (SmartasyncOperation  *self,
                                          GAsyncResult         *result,
                                          GError              **error)
{
  FINISH_PRECONDITIONS (FALSE);

  return _smartasync_task_propagate_boolean (G_TASK (result), error);
}

/**
 * smartasync_operation_call_finish_int:
 * @self: an operation
 * @result: the #GAsyncResult of the call
 * @error: return location for an error
 *
 * Finishes a call whose implementation used g_task_return_int().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: the result, or -1 with @error set
 *
 * Since: 0.1
 */
gssize
smartasync_operation_call_finish_int (SmartasyncOperation  *self,
                                      GAsyncResult         *result,
                                      GError              **error)
{
  FINISH_PRECONDITIONS (-1);

  return _smartasync_task_propagate_int (G_TASK (result), error);
}

#define SYNC_PRECONDITIONS(val) \
  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), (val)); \
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), (val)); \
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), (val)); \
  g_return_val_if_fail (error == NULL || *error == NULL, (val)); \
  sunk = args ? g_variant_ref_sink (args) : NULL

/**
 * smartasync_operation_call_sync:
 * @self: an operation
 * @source_object: (nullable) (type GObject.Object): passed to the
 *   implementation as its source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @value: (out caller-allocates) (optional): the result, when the
 *   implementation returned it with g_task_return_value() or declared its
 *   type ([property@Smartasync.Operation:result-type]); %NULL to ignore it,
 *   whatever its kind
 * @error: return location for an error
 *
 * Calls the operation and returns when it has completed: an asynchronous
 * implementation runs on the thread's private context, which is iterated
 * until it completes; a blocking one is called directly. From code that a
 * running main loop of this thread dispatches, this fails with
 * %SMARTASYNC_ERROR_WOULD_BLOCK instead of freezing the loop (see
 * [class@Smartasync.Waiter]).
 *
 * Returns: %TRUE on success, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
smartasync_operation_call_sync (SmartasyncOperation  *self,
                                gpointer              source_object,
                                GVariant             *args,
                                GCancellable         *cancellable,
                                GValue               *value,
                                GError              **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GTask) task = NULL;

  _smartasync_value_prepare_out (value);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);
  SYNC_PRECONDITIONS (FALSE);

  task = run_sync (self, source_object, sunk, cancellable, error);
  if (task == NULL)
    return _smartasync_value_clear_out (value);
  if (value == NULL)
    return _smartasync_task_propagate_ignoring_result (task, error);
  return _smartasync_task_propagate_value (task, value, error);
}

/**
 * smartasync_operation_call_sync_pointer: (skip)
 * @self: an operation
 * @source_object: (nullable): passed to the implementation as its source
 *   object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Like [method@Smartasync.Operation.call_sync], for implementations that use
 * g_task_return_pointer().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: (transfer full) (nullable): the result, or %NULL with @error set
 *
 * Since: 0.1
 */
gpointer
smartasync_operation_call_sync_pointer (SmartasyncOperation  *self,
                                        gpointer              source_object,
                                        GVariant             *args,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GTask) task = NULL;

  SYNC_PRECONDITIONS (NULL);

  task = run_sync (self, source_object, sunk, cancellable, error);
  return task != NULL ? _smartasync_task_propagate_pointer (task, error) : NULL;
}

/**
 * smartasync_operation_call_sync_boolean:
 * @self: an operation
 * @source_object: (nullable) (type GObject.Object): passed to the
 *   implementation as its source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Like [method@Smartasync.Operation.call_sync], for implementations that use
 * g_task_return_boolean().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: the result, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
smartasync_operation_call_sync_boolean (SmartasyncOperation  *self,
                                        gpointer              source_object,
                                        GVariant             *args,
                                        GCancellable         *cancellable,
                                        GError              **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GTask) task = NULL;

  SYNC_PRECONDITIONS (FALSE);

  task = run_sync (self, source_object, sunk, cancellable, error);
  return task != NULL && _smartasync_task_propagate_boolean (task, error);
}

/**
 * smartasync_operation_call_sync_int:
 * @self: an operation
 * @source_object: (nullable) (type GObject.Object): passed to the
 *   implementation as its source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Like [method@Smartasync.Operation.call_sync], for implementations that use
 * g_task_return_int().
 * Refused with %%SMARTASYNC_ERROR_FAILED, before anything is read, when
 * the operation declares a result type of another kind
 * ([property@Smartasync.Operation:result-type]).
 *
 * Returns: the result, or -1 with @error set
 *
 * Since: 0.1
 */
gssize
smartasync_operation_call_sync_int (SmartasyncOperation  *self,
                                    gpointer              source_object,
                                    GVariant             *args,
                                    GCancellable         *cancellable,
                                    GError              **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GTask) task = NULL;

  SYNC_PRECONDITIONS (-1);

  task = run_sync (self, source_object, sunk, cancellable, error);
  return task != NULL ? _smartasync_task_propagate_int (task, error) : -1;
}

static void
return_error (GTask    *task,
              gpointer  error)
{
  g_task_return_error (task, error);
}

/* A completed task carrying the wait's own error, completed through the
 * wait so that its completion is dispatched here and not left on the
 * caller's context. */
static GTask *
failed_task (SmartasyncOperation *self,
             GError              *error)
{
  g_autoptr(SmartasyncWait) waiter =
    _smartasync_wait_new (self->name,
                          SMARTASYNC_WAIT_PASS_THROUGH | SMARTASYNC_WAIT_BLOCK_RUNNING_LOOP,
                          NULL);
  GTask *task = new_sync_task (self, NULL, waiter);

  _smartasync_wait_start (waiter, g_object_ref (task), return_error, error);
  _smartasync_wait_run (waiter, NULL, NULL);

  return task;
}

/**
 * smartasync_operation_call:
 * @self: an operation
 * @source_object: (nullable) (type GObject.Object): passed to the
 *   implementation as its source object
 * @args: (nullable): the call's arguments; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (nullable) (closure user_data): called once with
 *   the result
 * @user_data: data for @callback
 *
 * The smart call: decides from the calling context
 * ([func@Smartasync.in_async_context]) how to run the operation, following
 * the dispatch matrix of [class@Smartasync.Operation].
 *
 * In a sync context the call has completed when this function returns: the
 * returned task holds the result, and @callback has already been invoked,
 * on this thread, with the private context popped. In an async context the
 * returned task is pending, and @callback runs later on the caller's
 * thread-default main context, never from inside this function. Either way
 * @callback runs exactly once and can read the result with
 * [method@Smartasync.Operation.call_finish] or its typed forms, so one
 * callback serves both kinds of callers.
 *
 * A #GTask hands its result out once: read it either in @callback or from
 * the returned task, not both. Without a callback, the returned task is a
 * smart value: [func@Smartasync.is_pending] tells which case it is, and
 * [func@Smartasync.await_async] or [func@Smartasync.continuation] handle
 * both.
 *
 * |[<!-- language="C" -->
 * g_autoptr(GTask) task = smartasync_operation_call (load_op, self, args, NULL,
 *                                                   on_loaded, self);
 * // sync context: on_loaded has run; async context: it will run later
 * ]|
 *
 * Returns: (transfer full): the call's task, completed in a sync context and
 *   pending in an async one
 *
 * Since: 0.1
 */
GTask *
smartasync_operation_call (SmartasyncOperation *self,
                           gpointer             source_object,
                           GVariant            *args,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GVariant) sunk = NULL;
  GError *error = NULL;
  GTask *task;

  g_return_val_if_fail (SMARTASYNC_IS_OPERATION (self), NULL);
  g_return_val_if_fail (source_object == NULL || G_IS_OBJECT (source_object), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  sunk = args ? g_variant_ref_sink (args) : NULL;
  if (smartasync_in_async_context ())
    return start_async (self, source_object, sunk, cancellable, callback, user_data);

  task = run_sync (self, source_object, sunk, cancellable, &error);
  if (task == NULL)
    task = failed_task (self, error);

  if (callback != NULL)
    callback (G_OBJECT (self), G_ASYNC_RESULT (task), user_data);

  return task;
}
