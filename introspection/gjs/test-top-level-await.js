// SPDX-License-Identifier: LGPL-2.1-or-later
//
// smartasync.js imported with a top-level `await import()`: the rest of this
// script runs as a promise job that GJS's own loop dispatches. The module
// must say so, not silently change behaviour. gjs -m test-top-level-await.js

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

const {Smartasync, smartasync, sync} = await import('./smartasync.js');

let failures = 0;
let count = 0;

function check(condition, what) {
    count++;
    if (!condition)
        failures++;
    print(`${condition ? 'ok' : 'not ok'} ${count} ${what}`);
}

// sync() is refused before it starts anything, with the reason.
let started = 0;
const fake = {
    thing_async() {
        started++;
    },
    thing_finish(result) {
        return result;
    },
};
let refusal = null;
try {
    sync(fake, 'thing');
} catch (e) {
    refusal = e;
}
check(refusal instanceof GLib.Error &&
    refusal.matches(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK) &&
    refusal.message.includes('await import()') && refusal.message.includes('static import'),
'after a top-level await import(): sync() refused, naming the top-level await and the fix');
check(started === 0, 'after a top-level await import(): the refused sync() started nothing');

// A smart call gives a Promise there (awaiting it works); the module warns
// once, saying why. The warning goes to the log: catch it with a writer.
const warnings = [];
GLib.log_set_writer_func((level, fields) => {
    const message = fields.MESSAGE;
    const text = message instanceof Uint8Array ? new TextDecoder().decode(message) : String(message);
    if (text.includes('Smartasync'))
        warnings.push(text);
    return GLib.LogWriterOutput.HANDLED;
});
const double = smartasync(x => 2 * x);
const pending = double(21);
check(pending instanceof Promise && await pending === 42,
    'after a top-level await import(): a smart call returns a Promise, and awaiting it works');
check(warnings.length === 1 && warnings[0].includes('await import()') &&
    warnings[0].includes('static import'), 'after a top-level await import(): a warning says why');

// Forcing the sync path for a block works, as the refusal suggests.
const file = Gio.File.new_for_path(GLib.build_filenamev([GLib.get_tmp_dir(), 'smartasync-gjs-tla']));
file.replace_contents(new TextEncoder().encode('tla'), null, false, Gio.FileCreateFlags.NONE, null);
Smartasync.push_mode(Smartasync.Mode.SYNC);
const [ok, contents] = sync(file, 'load_contents', null);
Smartasync.pop_mode();
file.delete(null);
check(ok && new TextDecoder().decode(contents) === 'tla', 'Smartasync.Mode.SYNC: sync() works there');

print(`1..${count}`);
System.exit(failures ? 1 : 0);
