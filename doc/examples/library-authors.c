/* library-authors.c: a library function for both kinds of callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The program that doc/library-authors.md quotes. DemoStore is a small
 * "library" type whose load operation has one implementation and three entry
 * points: demo_store_load_sync(), the classic demo_store_load_async() /
 * demo_store_load_finish() pair, and the smart demo_store_load(). main()
 * calls each of them from a sync context and from a running loop, and exits
 * non-zero if a result or a callback's source object is not what the guide
 * says.
 */

#include <glib/gstdio.h>
#include <smartasync-glib.h>

/* demo-store.h ---------------------------------------------------------- */

#define DEMO_TYPE_STORE (demo_store_get_type ())
G_DECLARE_FINAL_TYPE (DemoStore, demo_store, DEMO, STORE, GObject)

DemoStore *demo_store_new         (const char           *root);

GBytes    *demo_store_load_sync   (DemoStore            *self,
                                   const char           *key,
                                   GCancellable         *cancellable,
                                   GError              **error);
void       demo_store_load_async  (DemoStore            *self,
                                   const char           *key,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);
GBytes    *demo_store_load_finish (DemoStore            *self,
                                   GAsyncResult         *result,
                                   GError              **error);
GTask     *demo_store_load        (DemoStore            *self,
                                   const char           *key,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);

/* demo-store.c ---------------------------------------------------------- */

struct _DemoStore
{
  GObject  parent_instance;
  char    *root;
};

G_DEFINE_FINAL_TYPE (DemoStore, demo_store, G_TYPE_OBJECT)

/* One operation for the whole class: operations are immutable and may be
 * called from any thread. */
static SmartasyncOperation *load_op;

/* The one implementation. The store arrives as the source object. */
static void
load_done (GObject      *file,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GBytes *bytes = g_file_load_bytes_finish (G_FILE (file), result, NULL, &error);

  if (bytes != NULL)
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

static void
load_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  DemoStore *self = DEMO_STORE (source_object);
  g_autofree char *path = g_build_filename (self->root, g_variant_get_string (args, NULL), NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_file_load_bytes_async (file, cancellable, load_done, g_object_ref (task));
}

static void
demo_store_finalize (GObject *object)
{
  g_free (DEMO_STORE (object)->root);
  G_OBJECT_CLASS (demo_store_parent_class)->finalize (object);
}

static void
demo_store_class_init (DemoStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = demo_store_finalize;

  load_op = smartasync_operation_new_async ("demo-store-load", load_impl, NULL, NULL);
}

static void
demo_store_init (DemoStore *self)
{
}

DemoStore *
demo_store_new (const char *root)
{
  DemoStore *self = g_object_new (DEMO_TYPE_STORE, NULL);

  self->root = g_strdup (root);
  return self;
}

/* Entry point 1: synchronous. Returns the result; refused (with
 * SMARTASYNC_ERROR_WOULD_BLOCK) from code a running loop dispatches. */
GBytes *
demo_store_load_sync (DemoStore     *self,
                      const char    *key,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_return_val_if_fail (DEMO_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return smartasync_operation_call_sync_pointer (load_op, self, g_variant_new_string (key),
                                                 cancellable, error);
}

/* Callers expect their callback's source object to be the store, not the
 * operation: a small trampoline passes the store on. */
typedef struct
{
  DemoStore           *self;
  GAsyncReadyCallback  callback;
  gpointer             user_data;
} Forward;

static void
forward_result (GObject      *operation,
                GAsyncResult *result,
                gpointer      data)
{
  Forward *forward = data;

  forward->callback (G_OBJECT (forward->self), result, forward->user_data);
  g_object_unref (forward->self);
  g_free (forward);
}

static Forward *
forward_new (DemoStore           *self,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  Forward *forward = g_new (Forward, 1);

  forward->self = g_object_ref (self);
  forward->callback = callback;
  forward->user_data = user_data;
  return forward;
}

/* Entry point 2: the classic GIO pair. Always asynchronous; the callback runs
 * on the caller's thread-default main context, never from inside this call. */
void
demo_store_load_async (DemoStore           *self,
                       const char          *key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_return_if_fail (DEMO_IS_STORE (self));
  g_return_if_fail (key != NULL);
  g_return_if_fail (callback != NULL);

  smartasync_operation_call_async (load_op, self, g_variant_new_string (key), cancellable,
                                   forward_result, forward_new (self, callback, user_data));
}

GBytes *
demo_store_load_finish (DemoStore     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (DEMO_IS_STORE (self), NULL);

  return smartasync_operation_call_finish_pointer (load_op, result, error);
}

/* Entry point 3: the smart call. In a sync context it has completed (and
 * @callback has run) when it returns; in an async context @callback runs
 * later. Finish with demo_store_load_finish() either way. */
GTask *
demo_store_load (DemoStore           *self,
                 const char          *key,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_return_val_if_fail (DEMO_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return smartasync_operation_call (load_op, self, g_variant_new_string (key), cancellable,
                                    callback ? forward_result : NULL,
                                    callback ? forward_new (self, callback, user_data) : NULL);
}

/* An application using the library ------------------------------------- */

typedef struct
{
  DemoStore *store;
  GMainLoop *loop;
  guint      loaded;
  gboolean   ok;
} Caller;

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Caller *caller = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = demo_store_load_finish (DEMO_STORE (source), result, &error);

  caller->ok &= source == G_OBJECT (caller->store) && bytes != NULL &&
                g_bytes_get_size (bytes) == 6;
  caller->loaded++;
  if (caller->loop != NULL && caller->loaded == 3)
    g_main_loop_quit (caller->loop);
}

static gboolean
from_the_loop (gpointer user_data)
{
  Caller *caller = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) refused = demo_store_load_sync (caller->store, "hello", NULL, &error);
  g_autoptr(GTask) task = NULL;

  caller->ok &= refused == NULL &&
                g_error_matches (error, SMARTASYNC_ERROR, SMARTASYNC_ERROR_WOULD_BLOCK);

  demo_store_load_async (caller->store, "hello", NULL, on_loaded, caller);
  task = demo_store_load (caller->store, "hello", NULL, on_loaded, caller);
  caller->ok &= !g_task_get_completed (task) && caller->loaded == 1;
  return G_SOURCE_REMOVE;
}

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("smartasync-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (root, "hello", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GTask) task = NULL;
  Caller caller = { NULL, NULL, 0, TRUE };

  g_assert_no_error (error);
  g_file_set_contents (path, "hello\n", -1, &error);
  g_assert_no_error (error);
  caller.store = demo_store_new (root);

  /* A command-line caller: no loop. */
  bytes = demo_store_load_sync (caller.store, "hello", NULL, &error);
  g_assert_no_error (error);
  caller.ok &= g_bytes_get_size (bytes) == 6;

  task = demo_store_load (caller.store, "hello", NULL, on_loaded, &caller);
  caller.ok &= g_task_get_completed (task) && caller.loaded == 1;

  /* A GTK or daemon caller: from the loop. */
  caller.loop = g_main_loop_new (NULL, FALSE);
  g_idle_add (from_the_loop, &caller);
  g_main_loop_run (caller.loop);

  g_print ("loads: sync and smart from main(), async and smart from the loop: %s\n",
           caller.ok ? "OK" : "FAILED");

  g_main_loop_unref (caller.loop);
  g_object_unref (caller.store);
  g_unlink (path);
  g_rmdir (root);
  return caller.ok ? 0 : 1;
}
