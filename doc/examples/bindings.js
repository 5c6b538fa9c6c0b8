// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GJS program that doc/bindings.md quotes: the module
// introspection/gjs/smartasync.js (call, smartasync, sync), an operation
// written in JavaScript, and Gio._promisify() on the classic pair. Run
// against the build tree with `gjs -m` (GI_TYPELIB_PATH and LD_LIBRARY_PATH
// as in introspection/meson.build); exits non-zero if anything differs from
// the guide.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import Smartasync from 'gi://Smartasync?version=1.0';
import {call, smartasync, sync} from '../../introspection/gjs/smartasync.js';

const checks = [];
function check(what, ok) {
    print(`${ok ? 'ok' : 'FAILED'}: ${what}`);
    checks.push(ok);
}

const [file, stream] = Gio.File.new_tmp('smartasync-bindings-XXXXXX');
stream.output_stream.write_bytes(new GLib.Bytes('one implementation, every caller\n'), null);
stream.close(null);

// Any GIO _async/_finish pair, synchronously: what _finish returns.
const [, contents] = sync(file, 'load_contents', null);
check("sync(file, 'load_contents', null)", contents.length === 33);

// One JavaScript function for every caller: the value with no loop running,
// a Promise from code a running loop dispatched.
const wordCount = smartasync(text => text.split(/\s+/).filter(w => w.length > 0).length);
check('sync context: wordCount() returns the value', wordCount('no loop here') === 3);

// An async function: its Promise from a running loop. With no loop, GJS
// would never resume it, so the call is refused at once, saying why.
Gio._promisify(Gio.File.prototype, 'load_contents_async', 'load_contents_finish');
const loadText = smartasync(async f => {
    const [bytes] = await f.load_contents_async(null);
    return new TextDecoder().decode(bytes).trim();
});
let refused = null;
try {
    loadText(file);
} catch (error) {
    refused = error;
}
check('no loop: loadText(file) refused with a clear error',
    refused?.message.includes('default main context'));
const text = 'one implementation, every caller';

// An operation written in JavaScript. GJS runs JavaScript on its own thread
// only, so write asynchronous implementations (new_async), never blocking
// ones that a running loop would offload to a worker thread.
const upper = Smartasync.Operation.new_async('upper', (task, _source, args) => {
    task.return_value(args.unpack().toUpperCase());
});
check('call(operation, ...) with no loop: the value',
    call(upper, null, new GLib.Variant('s', 'abc')) === 'ABC');

// The classic pair awaits like any GIO method.
Gio._promisify(Smartasync.Operation.prototype, 'call_async', 'call_finish');

const loop = new GLib.MainLoop(null, false);
GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
    (async () => {
        const pending = wordCount('inside a running loop');
        check('async context: wordCount() returns a Promise', pending instanceof Promise);
        check('  ... that resolves to the value', await pending === 4);

        const promised = loadText(file);
        check('async function context: loadText(file) returns its Promise', promised instanceof Promise);
        check('  ... that resolves to the value', await promised === text);

        const value = await call(upper, null, new GLib.Variant('s', 'def'));
        check('await call(operation, ...) from the loop', value === 'DEF');

        // Gio._promisify() drops the leading `true` of [ok, value].
        const [promisified] = await upper.call_async(null, new GLib.Variant('s', 'ghi'), null);
        check('await operation.call_async(...) with Gio._promisify()', promisified === 'GHI');
    })().catch(error => check(`no exception (${error})`, false)).finally(() => loop.quit());
    return GLib.SOURCE_REMOVE;
});
loop.run();

file.delete(null);
System.exit(checks.every(ok => ok) ? 0 : 1);
