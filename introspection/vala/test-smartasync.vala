/* test-smartasync.vala: the Vala bindings compile and work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

static void upper_async (GLib.Task task, GLib.Object? source, GLib.Variant? args,
                         GLib.Cancellable? cancellable) {
    var value = GLib.Value (typeof (string));
    value.set_string (args.get_string ().up ());
    task.return_value (value);
}

static int main (string[] args) {
    assert (!Smartasync.in_async_context ());

    var op = new Smartasync.Operation.async ("upper", upper_async);
    GLib.Value result;
    try {
        op.call_sync (null, new GLib.Variant.string ("vala"), null, out result);
    } catch (GLib.Error e) {
        error ("call_sync failed: %s", e.message);
    }
    assert (result.get_string () == "VALA");

    /* From a running loop: the same call completes asynchronously. */
    var loop = new GLib.MainLoop ();
    string? later = null;
    GLib.Idle.add (() => {
        assert (Smartasync.in_async_context ());
        op.call_async.begin (null, new GLib.Variant.string ("later"), null, (obj, res) => {
            try {
                GLib.Value v;
                op.call_async.end (res, out v);
                later = v.get_string ();
            } catch (GLib.Error e) {
                error ("call_async failed: %s", e.message);
            }
            loop.quit ();
        });
        return GLib.Source.REMOVE;
    });
    loop.run ();
    assert (later == "LATER");

    /* An async-only GIO call, synchronously. */
    var waiter = new Smartasync.Waiter ();
    var file = GLib.File.new_for_path ("/etc/os-release");
    file.query_info_async.begin ("standard::size", GLib.FileQueryInfoFlags.NONE,
                                 GLib.Priority.DEFAULT, null, (obj, res) => {
        waiter.complete (obj, res);
    });
    try {
        var info = file.query_info_async.end (waiter.wait (null));
        assert (info.get_size () > 0);
    } catch (GLib.Error e) {
        error ("wait failed: %s", e.message);
    }

    Smartasync.reset ();
    print ("vala: ok\n");
    return 0;
}
