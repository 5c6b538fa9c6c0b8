/* smartasync-gtk.c: a GTK 4 window whose buttons start work through smartasync-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Three buttons, three kinds of work, and a main loop that never stops
 * drawing:
 *
 * - Hash: SHA-256 over generated data, a *blocking* implementation. The
 *   clicked handler runs from the main loop (an async context), so the smart
 *   call offloads it to a worker thread and returns a pending task.
 * - Load: g_file_load_contents_async() wrapped as an *async* implementation;
 *   it runs on the main context and completes from its GIO callback.
 * - Report: a slow blocking request run through a SmartasyncLock. Clicks
 *   made while it runs join the run in flight instead of starting another.
 *
 * While work runs, a tick callback counts frame-clock ticks and drives the
 * progress bar, and the spinner turns: if anything blocked the main thread,
 * both would freeze and the count would stall.
 *
 * --self-test clicks the buttons programmatically once the window is shown,
 * checks every result and that frames kept coming during the hash, saves a
 * screenshot with --screenshot FILE, and exits with 0 on success, 1 on failure.
 */

#include <locale.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <smartasync-glib.h>

#define APP_ID            "org.example.SmartasyncGtk"
#define DEFAULT_HASH_MIB  96
#define CHUNK_SIZE        (1 << 20)
#define LOAD_LINES        400
#define REPORT_DELAY_MS   1000
#define REPORT_KEY        "report"

/* Self-test: how many Report clicks, when Load is clicked during the hash,
 * and the fewest frame-clock ticks expected while the hash runs (a hash run
 * on the main thread gets none). */
#define TEST_CLICKS        4
#define TEST_CLICK_GAP_MS  40
#define TEST_LOAD_DELAY_MS 50
#define TEST_MIN_TICKS     5
#define TEST_TIMEOUT_S     90

/* What the blocking hash shares with the UI. The operation owns it, and a
 * running call keeps the operation alive, so a worker still hashing when the
 * application quits never touches freed memory. Workers only use atomics. */
typedef struct
{
  GThread *main_thread;
  gint     mib_done;      /* progress of the current run */
  gint     runs_on_main;  /* runs that were NOT offloaded */
} HashState;

typedef enum
{
  TEST_OFF,
  TEST_STARTING,
  TEST_HASH_LOAD,
  TEST_REPORT,
  TEST_SCREENSHOT,
  TEST_DONE,
} TestStep;

typedef struct
{
  GtkApplication      *application;
  GCancellable        *cancellable;  /* cancelled when the window goes away */
  SmartasyncOperation *hash_op;
  SmartasyncOperation *load_op;
  SmartasyncOperation *report_op;
  SmartasyncLock      *report_lock;
  HashState           *hash_state;   /* owned by hash_op */
  guint                hash_mib;
  char                *tmpdir;
  GFile               *file;         /* written at startup, read by Load */
  GBytes              *file_contents;

  /* Widgets, owned by the window; NULL once it is destroyed. */
  GtkWidget           *window;
  GtkWidget           *spinner;
  GtkWidget           *progress;
  GtkWidget           *hash_button;
  GtkWidget           *load_button;
  GtkWidget           *report_button;
  GtkWidget           *hash_label;
  GtkWidget           *load_label;
  GtkWidget           *report_label;
  GtkWidget           *status_label;

  /* Work in progress, on the main thread only. */
  guint                busy;
  guint                tick_id;
  guint64              ticks;        /* frame-clock ticks while busy */
  gint64               last_tick;
  gint64               hash_started; /* 0 when no hash runs */
  guint64              hash_ticks_at_start;
  gint64               hash_max_gap;
  gint64               load_started;
  guint                hashes_done;
  guint                loads_done;
  guint                report_clicks;
  guint                report_answers;
  guint                report_changes; /* answers that differ from the previous */

  /* The latest results, for the labels and the self-test. */
  char                *hash_hex;
  gboolean             hash_offloaded;
  guint64              hash_ticks;
  gint64               hash_us;
  GBytes              *loaded;
  gint64               load_us;
  gboolean             loaded_during_hash;
  char                *report;

  /* Self-test. */
  gboolean             self_test;
  char                *screenshot;
  char                *expected_hex;
  TestStep             step;
  int                  status;
  guint                watchdog_id;
  guint                clicker_id;
  guint                clicks_sent;
  guint                executions_before;
  guint                joins_before;
  gint64               report_started;
  gulong               after_paint_id;
} App;

static void self_test_continue (App *app);

/* Self-test gates. While one is set, a run waits at the end of its work
 * until the self-test has seen what it checks (the load completing and the
 * frames drawn during the hash; every Report click joining the one run), so
 * that the checks hold however fast or slow the machine is. Only the
 * self-test sets them. */
static gint hold_hash;
static gint hold_report;

/* Waits while @gate is set, in slices so that cancellation is noticed;
 * %FALSE if cancelled. Never on the thread that runs the UI (a run that was
 * not offloaded): that would freeze the very loop the test watches. */
static gboolean
wait_at_gate (gint         *gate,
              GCancellable *cancellable)
{
  if (g_main_context_is_owner (g_main_context_default ()))
    return TRUE;

  while (g_atomic_int_get (gate))
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  return TRUE;
}

/* Implementations: written once, run wherever the library sends them */

/* Deterministic data, so the checksum is the same on every run. */
static void
fill_data (guchar *data,
           gsize   offset,
           gsize   length)
{
  for (gsize i = 0; i < length; i++)
    data[i] = (guchar) (((offset + i) * 2654435761u) >> 24);
}

/* Blocking: hashes "mib" MiB chunk by chunk, publishing its progress, and
 * stops early when cancelled. */
static void
hash_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  HashState *state = user_data;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *chunk = g_malloc (CHUNK_SIZE);
  guint mib = g_variant_get_uint32 (args);
  GError *error = NULL;

  if (g_thread_self () == state->main_thread)
    g_atomic_int_inc (&state->runs_on_main);

  for (guint i = 0; i < mib; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      fill_data (chunk, (gsize) i * CHUNK_SIZE, CHUNK_SIZE);
      g_checksum_update (checksum, chunk, CHUNK_SIZE);
      g_atomic_int_set (&state->mib_done, i + 1);
    }
  if (!wait_at_gate (&hold_hash, cancellable))
    {
      g_task_return_error_if_cancelled (task);
      return;
    }
  g_task_return_pointer (task, g_strdup (g_checksum_get_string (checksum)), g_free);
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *contents;
  gsize length;

  if (g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    g_task_return_pointer (task, g_bytes_new_take (contents, length),
                           (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

/* Async: plain GIO code. It binds to the context of the caller, here the
 * main context, and completes its task from the load's callback. */
static void
load_impl (GTask        *task,
           gpointer      source_object,
           GVariant     *args,
           GCancellable *cancellable,
           gpointer      user_data)
{
  g_file_load_contents_async (G_FILE (source_object), cancellable,
                              load_done, g_object_ref (task));
}

/* Blocking, and slow on purpose: it stands for a query to a database or a
 * web service. It sleeps in slices so that cancellation is noticed, and
 * returns a GValue, as results shared through a SmartasyncLock must. */
static void
report_impl (GTask        *task,
             gpointer      source_object,
             GVariant     *args,
             GCancellable *cancellable,
             gpointer      user_data)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GDateTime) now = NULL;
  guint hashes, loads;

  for (guint waited = 0; waited < REPORT_DELAY_MS; waited += 10)
    {
      if (g_task_return_error_if_cancelled (task))
        return;
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  if (!wait_at_gate (&hold_report, cancellable))
    {
      g_task_return_error_if_cancelled (task);
      return;
    }

  g_variant_get (args, "(uu)", &hashes, &loads);
  now = g_date_time_new_now_local ();
  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, g_strdup_printf ("%u hash%s and %u load%s done, as of %02d:%02d:%02d",
                                                hashes, hashes == 1 ? "" : "es",
                                                loads, loads == 1 ? "" : "s",
                                                g_date_time_get_hour (now),
                                                g_date_time_get_minute (now),
                                                g_date_time_get_second (now)));
  g_task_return_value (task, &value);
}

/* UI helpers */

static void G_GNUC_PRINTF (2, 3)
set_markup (GtkWidget  *label,
            const char *format,
            ...)
{
  g_autofree char *markup = NULL;
  va_list args;

  va_start (args, format);
  markup = g_markup_vprintf_escaped (format, args);
  va_end (args);
  gtk_label_set_markup (GTK_LABEL (label), markup);
}

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
update_progress (App *app)
{
  GtkProgressBar *bar = GTK_PROGRESS_BAR (app->progress);
  g_autofree char *text = NULL;

  if (app->hash_started != 0)
    {
      guint done = g_atomic_int_get (&app->hash_state->mib_done);

      gtk_progress_bar_set_fraction (bar, (double) done / app->hash_mib);
      text = g_strdup_printf ("Hashing: %u of %u MiB", done, app->hash_mib);
    }
  else if (app->busy > 0)
    {
      gtk_progress_bar_pulse (bar);
      text = g_strdup ("Working\xe2\x80\xa6");
    }
  else if (app->hashes_done > 0)
    {
      gtk_progress_bar_set_fraction (bar, 1.0);
      text = g_strdup_printf ("Idle \xc2\xb7 last hash: %u of %u MiB", app->hash_mib, app->hash_mib);
    }
  else
    {
      gtk_progress_bar_set_fraction (bar, 0.0);
      text = g_strdup ("Idle");
    }
  gtk_progress_bar_set_text (bar, text);
}

static void
update_status (App *app)
{
  set_markup (app->status_label,
              "Frame clock: <b>%" G_GUINT64_FORMAT "</b> ticks counted while work ran"
              " \xc2\xb7 main loop %s",
              app->ticks, app->busy > 0 ? "busy, still drawing" : "idle");
}

/* The self-test lets the hash end once the load completed while it ran and
 * enough frames were drawn meanwhile. */
static void
self_test_release_hash (App *app)
{
  if (app->step == TEST_HASH_LOAD && app->hash_started != 0 && app->loaded != NULL &&
      app->loaded_during_hash && app->ticks - app->hash_ticks_at_start >= TEST_MIN_TICKS)
    g_atomic_int_set (&hold_hash, FALSE);
}

/* Counts frames while work runs: the proof that the main loop keeps going.
 * The gap is measured with the monotonic clock, not the frame time, which
 * the frame clock may smooth. */
static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  App *app = user_data;
  gint64 now = g_get_monotonic_time ();

  app->ticks++;
  if (app->hash_started != 0)
    app->hash_max_gap = MAX (app->hash_max_gap, now - app->last_tick);
  app->last_tick = now;
  update_progress (app);
  update_status (app);
  self_test_release_hash (app);
  return G_SOURCE_CONTINUE;
}

/* Work keeps the application alive (so that closing the window lets pending
 * callbacks arrive before it quits) and the frame clock ticking. */
static void
work_begin (App *app)
{
  g_application_hold (G_APPLICATION (app->application));
  if (app->busy++ > 0)
    return;

  app->last_tick = g_get_monotonic_time ();
  gtk_spinner_start (GTK_SPINNER (app->spinner));
  app->tick_id = gtk_widget_add_tick_callback (app->window, on_tick, app, NULL);
}

static void
work_end (App *app)
{
  g_application_release (G_APPLICATION (app->application));
  if (--app->busy > 0 || app->window == NULL)
    return;

  gtk_widget_remove_tick_callback (app->window, app->tick_id);
  app->tick_id = 0;
  gtk_spinner_stop (GTK_SPINNER (app->spinner));
  update_progress (app);
  update_status (app);
}

/* Whether a callback should leave the UI alone: the window is gone and the
 * call was cancelled with it. */
static gboolean
window_gone (App          *app,
             const GError *error)
{
  return app->window == NULL ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
self_test_fail_error (App          *app,
                      const char   *what,
                      const GError *error);

/* Hash */

static void
on_hashed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *hex = NULL;

  hex = smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (source), result, &error);
  app->hash_us = g_get_monotonic_time () - app->hash_started;
  app->hash_ticks = app->ticks - app->hash_ticks_at_start;
  app->hash_started = 0;

  if (!window_gone (app, error))
    {
      gtk_widget_set_sensitive (app->hash_button, TRUE);
      gtk_widget_set_tooltip_text (app->hash_label, hex);
      if (hex != NULL)
        set_markup (app->hash_label,
                    "SHA-256 <tt>%.16s\xe2\x80\xa6</tt>\n"
                    "<small>%u MiB in %.0f ms on %s; %" G_GUINT64_FORMAT " frames meanwhile</small>",
                    hex, app->hash_mib, app->hash_us / 1000.0,
                    app->hash_offloaded ? "a worker thread" : "the MAIN thread",
                    app->hash_ticks);
      else
        set_markup (app->hash_label, "<b>Failed:</b> %s", error->message);
    }
  if (hex != NULL)
    {
      app->hashes_done++;
      g_free (app->hash_hex);
      app->hash_hex = g_steal_pointer (&hex);
    }
  else
    self_test_fail_error (app, "Hash", error);

  work_end (app);
  self_test_continue (app);
}

static void
on_hash_clicked (GtkButton *button,
                 App       *app)
{
  g_autoptr(GTask) task = NULL;

  app->hash_started = app->last_tick = g_get_monotonic_time ();
  app->hash_ticks_at_start = app->ticks;
  app->hash_max_gap = 0;
  g_atomic_int_set (&app->hash_state->mib_done, 0);
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  set_markup (app->hash_label, "Hashing %u MiB\xe2\x80\xa6", app->hash_mib);
  work_begin (app);

  /* The smart call. A signal handler runs from the main loop, an async
   * context: the blocking implementation goes to a worker thread and the
   * task is still pending when the call returns. */
  task = smartasync_operation_call (app->hash_op, NULL, g_variant_new_uint32 (app->hash_mib),
                                    app->cancellable, on_hashed, app);
  app->hash_offloaded = !g_task_get_completed (task);
}

/* Load */

static void
show_loaded (App    *app,
             GBytes *bytes)
{
  gsize size;
  const char *text = g_bytes_get_data (bytes, &size);
  const char *eol = memchr (text, '\n', size);
  g_autofree char *first = g_strndup (text, eol != NULL ? (gsize) (eol - text) : size);
  guint lines = 0;

  for (gsize i = 0; i < size; i++)
    lines += text[i] == '\n';
  set_markup (app->load_label,
              "%" G_GSIZE_FORMAT " bytes, %u lines: \xe2\x80\x9c%s\xe2\x80\x9d\n"
              "<small>loaded in %.1f ms%s</small>",
              size, lines, first, app->load_us / 1000.0,
              app->loaded_during_hash ? ", while the hash was running" : "");
}

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  bytes = smartasync_operation_call_finish_pointer (SMARTASYNC_OPERATION (source), result, &error);
  app->load_us = g_get_monotonic_time () - app->load_started;
  app->loaded_during_hash = app->hash_started != 0;

  if (bytes != NULL)
    {
      app->loads_done++;
      g_clear_pointer (&app->loaded, g_bytes_unref);
      app->loaded = g_bytes_ref (bytes);
      if (app->window != NULL)
        show_loaded (app, bytes);
    }
  else
    {
      if (!window_gone (app, error))
        set_markup (app->load_label, "<b>Failed:</b> %s", error->message);
      self_test_fail_error (app, "Load", error);
    }

  self_test_release_hash (app);
  work_end (app);
  self_test_continue (app);
}

static void
on_load_clicked (GtkButton *button,
                 App       *app)
{
  app->load_started = g_get_monotonic_time ();
  set_markup (app->load_label, "Loading\xe2\x80\xa6");
  work_begin (app);

  /* An async implementation called from an async context: it runs here, on
   * the main context, and the callback comes back through the main loop. */
  g_object_unref (smartasync_operation_call (app->load_op, app->file, NULL,
                                             app->cancellable, on_loaded, app));
}

/* Report */

static void
show_report_counts (App *app)
{
  set_markup (app->report_label,
              "%s\n<small>%u click%s answered by %u execution%s (%u joined a run in flight)</small>",
              app->report != NULL ? app->report : "Preparing a report\xe2\x80\xa6",
              app->report_clicks, app->report_clicks == 1 ? "" : "s",
              smartasync_lock_get_executions (app->report_lock),
              smartasync_lock_get_executions (app->report_lock) == 1 ? "" : "s",
              smartasync_lock_get_joins (app->report_lock));
}

static void
on_report (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  if (smartasync_lock_run_finish (app->report_lock, result, &value, &error))
    {
      const char *text = g_value_get_string (&value);

      app->report_answers++;
      if (g_strcmp0 (text, app->report) != 0)
        app->report_changes++;
      g_free (app->report);
      app->report = g_strdup (text);
      if (app->window != NULL)
        show_report_counts (app);
    }
  else
    {
      if (!window_gone (app, error))
        set_markup (app->report_label, "<b>Failed:</b> %s", error->message);
      self_test_fail_error (app, "Report", error);
    }

  work_end (app);
  self_test_continue (app);
}

static void
on_report_clicked (GtkButton *button,
                   App       *app)
{
  GVariant *args = g_variant_new ("(uu)", app->hashes_done, app->loads_done);

  app->report_clicks++;
  work_begin (app);

  /* Every click is a caller of its own, with its own callback; while a run
   * is in flight for the key, a click joins it (and its arguments are
   * ignored: the run keeps those of the click that started it). */
  smartasync_lock_run_async (app->report_lock, REPORT_KEY, app->report_op, NULL, args,
                             app->cancellable, on_report, app);
  show_report_counts (app);
}

/* The window */

static GtkWidget *
new_result_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_width_chars (GTK_LABEL (label), 46);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 46);
  gtk_widget_set_hexpand (label, TRUE);
  return label;
}

static GtkWidget *
add_row (App        *app,
         GtkGrid    *grid,
         int         row,
         const char *title,
         const char *tooltip,
         GCallback   clicked,
         GtkWidget **label)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (title);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", clicked, app);
  *label = new_result_label ("Not run yet");
  gtk_grid_attach (grid, button, 0, row, 1, 1);
  gtk_grid_attach (grid, *label, 1, row, 1, 1);
  return button;
}

static GtkWidget *
build_content (App *app)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *intro = gtk_label_new ("Each button starts work through smartasync-glib. "
                                    "The spinner and the bar keep moving: the main loop never blocks.");

  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (intro), 60);
  gtk_label_set_xalign (GTK_LABEL (intro), 0.0);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (box), intro);

  gtk_grid_set_row_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  app->hash_button = add_row (app, GTK_GRID (grid), 0, "_Hash",
                              "SHA-256 over generated data: blocking work, offloaded",
                              G_CALLBACK (on_hash_clicked), &app->hash_label);
  app->load_button = add_row (app, GTK_GRID (grid), 1, "_Load",
                              "g_file_load_contents_async() through an async operation",
                              G_CALLBACK (on_load_clicked), &app->load_label);
  app->report_button = add_row (app, GTK_GRID (grid), 2, "_Report",
                                "A slow request; clicks made while it runs share it",
                                G_CALLBACK (on_report_clicked), &app->report_label);
  gtk_box_append (GTK_BOX (box), grid);

  app->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (app->progress), TRUE);
  gtk_progress_bar_set_pulse_step (GTK_PROGRESS_BAR (app->progress), 0.02);
  gtk_box_append (GTK_BOX (box), app->progress);

  app->status_label = new_result_label (NULL);
  gtk_widget_add_css_class (app->status_label, "dim-label");
  gtk_box_append (GTK_BOX (box), app->status_label);
  return box;
}

/* Pending calls get G_IO_ERROR_CANCELLED; the held application quits once
 * their callbacks have arrived. */
static void
on_window_destroy (GtkWidget *window,
                   App       *app)
{
  app->window = NULL;
  app->tick_id = 0;
  g_cancellable_cancel (app->cancellable);
}

static void self_test_arm (App *app);

static void
on_activate (GApplication *application,
             App          *app)
{
  GtkWidget *header;

  if (app->window != NULL)
    {
      gtk_window_present (GTK_WINDOW (app->window));
      return;
    }

  app->window = gtk_application_window_new (app->application);
  gtk_window_set_title (GTK_WINDOW (app->window), "smartasync-glib GTK demo");
  header = gtk_header_bar_new ();
  app->spinner = gtk_spinner_new ();
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), app->spinner);
  gtk_window_set_titlebar (GTK_WINDOW (app->window), header);
  gtk_window_set_child (GTK_WINDOW (app->window), build_content (app));
  g_signal_connect (app->window, "destroy", G_CALLBACK (on_window_destroy), app);
  update_progress (app);
  update_status (app);

  if (app->self_test)
    self_test_arm (app);
  gtk_window_present (GTK_WINDOW (app->window));
}

/* Setup and teardown */

static gboolean
write_sample_file (App     *app,
                   GError **error)
{
  g_autoptr(GString) text = g_string_new ("smartasync-glib: one implementation, every caller\n");
  g_autofree char *path = NULL;
  gsize size;

  for (guint i = 2; i <= LOAD_LINES; i++)
    g_string_append_printf (text, "line %u of %u, loaded by g_file_load_contents_async()\n",
                            i, LOAD_LINES);
  size = text->len;
  app->file_contents = g_string_free_to_bytes (g_steal_pointer (&text));

  app->tmpdir = g_dir_make_tmp ("smartasync-gtk-XXXXXX", error);
  if (app->tmpdir == NULL)
    return FALSE;
  path = g_build_filename (app->tmpdir, "notes.txt", NULL);
  app->file = g_file_new_for_path (path);
  return g_file_set_contents (path, g_bytes_get_data (app->file_contents, NULL), size, error);
}

static void
on_startup (GApplication *application,
            App          *app)
{
  g_autoptr(GError) error = NULL;

  app->cancellable = g_cancellable_new ();
  app->hash_state = g_new0 (HashState, 1);
  app->hash_state->main_thread = g_thread_self ();
  app->hash_op = smartasync_operation_new_blocking ("sha256", hash_impl,
                                                    app->hash_state, g_free);
  app->load_op = smartasync_operation_new_async ("load-file", load_impl, NULL, NULL);
  app->report_op = smartasync_operation_new_blocking ("report", report_impl, NULL, NULL);
  app->report_lock = smartasync_lock_new ();

  if (!write_sample_file (app, &error))
    g_warning ("Cannot write the file to load: %s", error->message);
}

static void
on_shutdown (GApplication *application,
             App          *app)
{
  if (app->file != NULL)
    g_file_delete (app->file, NULL, NULL);
  if (app->tmpdir != NULL)
    g_rmdir (app->tmpdir);
}

static void
app_clear (App *app)
{
  g_clear_handle_id (&app->watchdog_id, g_source_remove);
  g_clear_handle_id (&app->clicker_id, g_source_remove);
  g_clear_object (&app->hash_op);
  g_clear_object (&app->load_op);
  g_clear_object (&app->report_op);
  g_clear_object (&app->report_lock);
  g_clear_object (&app->cancellable);
  g_clear_object (&app->file);
  g_clear_pointer (&app->file_contents, g_bytes_unref);
  g_clear_pointer (&app->loaded, g_bytes_unref);
  g_clear_pointer (&app->tmpdir, g_free);
  g_clear_pointer (&app->hash_hex, g_free);
  g_clear_pointer (&app->report, g_free);
  g_clear_pointer (&app->screenshot, g_free);
  g_clear_pointer (&app->expected_hex, g_free);
  g_clear_object (&app->application);
}

/* Self-test */

static void G_GNUC_PRINTF (2, 3)
self_test_fail (App        *app,
                const char *format,
                ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (app->step == TEST_OFF || app->step == TEST_DONE)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("smartasync-gtk self-test FAILED: %s\n", message);
  g_atomic_int_set (&hold_hash, FALSE);
  g_atomic_int_set (&hold_report, FALSE);
  app->step = TEST_DONE;
  app->status = 1;
  g_application_quit (G_APPLICATION (app->application));
}

static void
self_test_fail_error (App          *app,
                      const char   *what,
                      const GError *error)
{
  self_test_fail (app, "%s: %s", what, error->message);
}

/* A direct computation, through none of the library's paths, to check the
 * offloaded one against. */
static char *
hash_directly (guint mib)
{
  gsize size = (gsize) mib * CHUNK_SIZE;
  g_autofree guchar *data = g_malloc (size);

  fill_data (data, 0, size);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
}

static gboolean
self_test_timeout (gpointer user_data)
{
  App *app = user_data;

  app->watchdog_id = 0;
  self_test_fail (app, "no result after %d s (step %d)", TEST_TIMEOUT_S, app->step);
  return G_SOURCE_REMOVE;
}

static gboolean
self_test_click_load (gpointer user_data)
{
  App *app = user_data;

  g_print ("  clicking Load while the hash runs (%d of %u MiB done)\n",
           g_atomic_int_get (&app->hash_state->mib_done), app->hash_mib);
  g_signal_emit_by_name (app->load_button, "clicked");
  return G_SOURCE_REMOVE;
}

/* Clicks are emitted from main-loop sources, as real ones are dispatched,
 * so the handlers run in an async context exactly as they do for a user. */
static gboolean
self_test_start (gpointer user_data)
{
  App *app = user_data;

  g_print ("smartasync-gtk self-test: window shown; clicking Hash (%u MiB)\n", app->hash_mib);
  app->step = TEST_HASH_LOAD;
  g_atomic_int_set (&hold_hash, TRUE);
  g_signal_emit_by_name (app->hash_button, "clicked");
  g_timeout_add (TEST_LOAD_DELAY_MS, self_test_click_load, app);
  return G_SOURCE_REMOVE;
}

/* The first tick comes once the window is mapped; the idle added here runs
 * after that frame has been painted. */
static gboolean
self_test_on_first_tick (GtkWidget     *widget,
                         GdkFrameClock *clock,
                         gpointer       user_data)
{
  g_idle_add (self_test_start, user_data);
  return G_SOURCE_REMOVE;
}

static void
self_test_arm (App *app)
{
  app->step = TEST_STARTING;
  app->watchdog_id = g_timeout_add_seconds (TEST_TIMEOUT_S, self_test_timeout, app);
  gtk_widget_add_tick_callback (app->window, self_test_on_first_tick, app, NULL);
}

static gboolean
check_hash (App *app)
{
  double seconds = app->hash_us / (double) G_USEC_PER_SEC;

  g_print ("  hash:   sha256 %.16s... over %u MiB in %.0f ms, %s\n"
           "          frame clock ticked %" G_GUINT64_FORMAT " times meanwhile "
           "(%.0f/s), longest gap %.0f ms\n",
           app->hash_hex, app->hash_mib, seconds * 1000,
           app->hash_offloaded ? "offloaded (pending task on return)" : "NOT offloaded",
           app->hash_ticks, app->hash_ticks / seconds, app->hash_max_gap / 1000.0);

  if (g_strcmp0 (app->hash_hex, app->expected_hex) != 0)
    self_test_fail (app, "hash %s, expected %s", app->hash_hex, app->expected_hex);
  else if (!app->hash_offloaded || g_atomic_int_get (&app->hash_state->runs_on_main) != 0)
    self_test_fail (app, "the hash ran on the main thread");
  else if (app->hash_ticks < TEST_MIN_TICKS)
    self_test_fail (app, "only %" G_GUINT64_FORMAT " frame-clock ticks during the hash (want >= %d)",
                    app->hash_ticks, TEST_MIN_TICKS);
  return app->step != TEST_DONE;
}

static gboolean
check_load (App *app)
{
  g_print ("  load:   %" G_GSIZE_FORMAT " bytes in %.1f ms, %s\n",
           g_bytes_get_size (app->loaded), app->load_us / 1000.0,
           app->loaded_during_hash ? "while the hash was still running" : "AFTER the hash");

  if (!g_bytes_equal (app->loaded, app->file_contents))
    self_test_fail (app, "the loaded contents differ from the file written");
  else if (!app->loaded_during_hash)
    self_test_fail (app, "the load did not complete while the hash ran");
  return app->step != TEST_DONE;
}

static gboolean
self_test_click_report (gpointer user_data)
{
  App *app = user_data;

  g_signal_emit_by_name (app->report_button, "clicked");
  if (++app->clicks_sent < TEST_CLICKS)
    return G_SOURCE_CONTINUE;

  /* Each click has joined the run (or started it) by now. */
  g_atomic_int_set (&hold_report, FALSE);
  app->clicker_id = 0;
  return G_SOURCE_REMOVE;
}

static void
start_report_clicks (App *app)
{
  g_print ("  clicking Report %d times, %d ms apart\n", TEST_CLICKS, TEST_CLICK_GAP_MS);
  app->step = TEST_REPORT;
  g_atomic_int_set (&hold_report, TRUE);
  app->executions_before = smartasync_lock_get_executions (app->report_lock);
  app->joins_before = smartasync_lock_get_joins (app->report_lock);
  app->report_started = g_get_monotonic_time ();
  app->clicker_id = g_timeout_add (TEST_CLICK_GAP_MS, self_test_click_report, app);
}

static gboolean
check_report (App *app)
{
  guint executions = smartasync_lock_get_executions (app->report_lock) - app->executions_before;
  guint joins = smartasync_lock_get_joins (app->report_lock) - app->joins_before;

  g_print ("  report: %u clicks -> %u execution(s), %u join(s), %u answers "
           "(%u distinct) in %.0f ms\n          \"%s\"\n",
           app->clicks_sent, executions, joins, app->report_answers,
           app->report_changes, ms_since (app->report_started), app->report);

  if (executions != 1 || joins != TEST_CLICKS - 1)
    self_test_fail (app, "%d clicks made %u executions and %u joins (want 1 and %d)",
                    TEST_CLICKS, executions, joins, TEST_CLICKS - 1);
  else if (app->report_changes != 1)
    self_test_fail (app, "the callers got %u different reports", app->report_changes);
  return app->step != TEST_DONE;
}

/* Renders the window as it is on screen: its widget paintable, snapshotted
 * and rendered by the window's own GSK renderer. */
static gboolean
save_screenshot (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || renderer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Nothing to render");
      return FALSE;
    }

  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write %s", path);
      return FALSE;
    }
  g_print ("  screenshot: %s (%dx%d)\n", path, width, height);
  return TRUE;
}

static gboolean
self_test_finish (gpointer user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (app->screenshot != NULL && !save_screenshot (app->window, app->screenshot, &error))
    {
      self_test_fail (app, "screenshot: %s", error->message);
      return G_SOURCE_REMOVE;
    }

  g_print ("smartasync-gtk self-test: OK\n");
  app->step = TEST_DONE;
  app->status = 0;
  g_clear_handle_id (&app->watchdog_id, g_source_remove);
  gtk_window_destroy (GTK_WINDOW (app->window));
  return G_SOURCE_REMOVE;
}

/* The results are in the labels; the screenshot waits until a frame with
 * them has been laid out and painted. */
static void
on_after_paint (GdkFrameClock *clock,
                App           *app)
{
  g_clear_signal_handler (&app->after_paint_id, clock);
  g_idle_add (self_test_finish, app);
}

static void
wait_for_paint (App *app)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (app->window);

  app->step = TEST_SCREENSHOT;
  app->after_paint_id = g_signal_connect (clock, "after-paint",
                                          G_CALLBACK (on_after_paint), app);
  gtk_widget_queue_draw (app->window);
}

/* Called after every result: moves on once the current step has all its. */
static void
self_test_continue (App *app)
{
  switch (app->step)
    {
    case TEST_HASH_LOAD:
      if (app->hash_hex != NULL && app->loaded != NULL &&
          check_hash (app) && check_load (app))
        start_report_clicks (app);
      break;

    case TEST_REPORT:
      if (app->report_answers == TEST_CLICKS && check_report (app))
        wait_for_paint (app);
      break;

    case TEST_OFF:
    case TEST_STARTING:
    case TEST_SCREENSHOT:
    case TEST_DONE:
    default:
      break;
    }
}

/* Options */

static const GOptionEntry options[] = {
  { "self-test", 0, 0, G_OPTION_ARG_NONE, NULL,
    "Click every button, check the results, and exit with 0 (success) or 1", NULL },
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    "With --self-test: save the window to FILE (PNG) at the end", "FILE" },
  { "hash-mib", 0, 0, G_OPTION_ARG_INT, NULL,
    "MiB of data to hash (1-4096, default 96)", "N" },
  { NULL }
};

static int
on_handle_local_options (GApplication *application,
                         GVariantDict *dict,
                         App          *app)
{
  gint32 mib = DEFAULT_HASH_MIB;

  app->self_test = g_variant_dict_contains (dict, "self-test");
  g_variant_dict_lookup (dict, "screenshot", "^ay", &app->screenshot);
  g_variant_dict_lookup (dict, "hash-mib", "i", &mib);
  if (mib < 1 || mib > 4096)
    {
      g_printerr ("--hash-mib must be between 1 and 4096\n");
      return 2;
    }
  app->hash_mib = mib;

  if (app->self_test)
    {
      app->status = 1;  /* until the self-test says otherwise */
      app->expected_hex = hash_directly (app->hash_mib);
    }
  return -1;
}

int
main (int   argc,
      char *argv[])
{
  App app = { 0 };
  int status;

  setlocale (LC_ALL, "");
  app.application = gtk_application_new (APP_ID, G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (G_APPLICATION (app.application), options);
  g_signal_connect (app.application, "handle-local-options",
                    G_CALLBACK (on_handle_local_options), &app);
  g_signal_connect (app.application, "startup", G_CALLBACK (on_startup), &app);
  g_signal_connect (app.application, "activate", G_CALLBACK (on_activate), &app);
  g_signal_connect (app.application, "shutdown", G_CALLBACK (on_shutdown), &app);

  status = g_application_run (G_APPLICATION (app.application), argc, argv);
  if (status == 0 && app.self_test)
    {
      if (app.step != TEST_DONE)
        g_printerr ("smartasync-gtk self-test FAILED: the window closed before the end\n");
      status = app.status;
    }

  app_clear (&app);
  return status;
}
