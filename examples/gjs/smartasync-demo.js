// SPDX-License-Identifier: LGPL-2.1-or-later
//
// One plain and one async JavaScript function, called from a script with no
// loop (a value; the async one is refused, saying why) and from a running
// GLib main loop (Promises); and an async-only GIO call made synchronously. Run from the build tree:
// meson devenv -C build, then
//   gjs -m examples/gjs/smartasync-demo.js
// An installed library's module is imported from
// 'file:///usr/share/gjs-1.0/smartasync-glib-1.0/smartasync.js' instead.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import {smartasync, sync} from '../../introspection/gjs/smartasync.js';

Gio._promisify(Gio.Subprocess.prototype, 'communicate_utf8_async', 'communicate_utf8_finish');

// GJS runs JavaScript on the main thread only: a plain function runs there
// in both contexts, from the loop's next iteration when a loop is running.
const wordCount = smartasync(text => text.split(/\s+/).filter(w => w.length).length);

// An async function: GIO work awaited. From a loop it returns its Promise;
// with no loop GJS could never resume it, so the call is refused, saying why.
const systemName = smartasync(async function systemName() {
    const proc = Gio.Subprocess.new(['uname', '-s'], Gio.SubprocessFlags.STDOUT_PIPE);
    const [stdout] = await proc.communicate_utf8_async(null, null);
    return stdout.trim();
});

// 1. No loop: values, at once.
const [, stdout] = sync(Gio.Subprocess.new(['uname', '-s'], Gio.SubprocessFlags.STDOUT_PIPE),
    'communicate_utf8', null, null);
print(`no loop: sync(subprocess, 'communicate_utf8') -> ${JSON.stringify(stdout.trim())}`);
print(`no loop: wordCount(...) = ${wordCount('one implementation, every caller')}`);
let refusal = '';
try {
    systemName();
} catch (error) {
    refusal = error.message;
}
print(`no loop: async function systemName() refused: ${refusal}`);
const name = stdout.trim();

// 2. A running loop: the same functions return Promises.
const loop = new GLib.MainLoop(null, false);
let status = 1;
GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
    const count = wordCount('called from a running GLib main loop');
    const named = systemName();
    print(`GLib loop: wordCount(...) returned ${count.constructor.name}, ` +
        `systemName() returned ${named.constructor.name}`);
    Promise.all([count, named]).then(([c, n]) => {
        print(`GLib loop: resolved to ${c} and ${JSON.stringify(n)}`);
        status = c === 7 && n === name && refusal.includes('default main context') ? 0 : 1;
    }).finally(() => loop.quit());
    return GLib.SOURCE_REMOVE;
});
loop.run();
System.exit(status);
