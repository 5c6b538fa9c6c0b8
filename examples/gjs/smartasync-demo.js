// SPDX-License-Identifier: LGPL-2.1-or-later
//
// One JavaScript function, called from a script with no loop (a value) and
// from a running GLib main loop (a Promise); and an async-only GIO call made
// synchronously. Run from the build tree: meson devenv -C build, then
//   gjs -m examples/gjs/smartasync-demo.js

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import {smartasync, sync} from '../../introspection/gjs/smartasync.js';

// GJS runs JavaScript on the main thread only: the function runs there in
// both contexts, from the loop's next iteration when a loop is running.
const wordCount = smartasync(text => text.split(/\s+/).filter(w => w.length).length);

// 1. No loop: async-only GIO calls, synchronously.
const [, stdout] = sync(Gio.Subprocess.new(['uname', '-s'], Gio.SubprocessFlags.STDOUT_PIPE),
    'communicate_utf8', null, null);
print(`sync context: uname -s -> ${JSON.stringify(stdout.trim())}`);
print(`sync context: wordCount(...) = ${wordCount('one implementation, every caller')}`);

// 2. A running loop: the same function returns a Promise.
const loop = new GLib.MainLoop(null, false);
let status = 1;
GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
    const result = wordCount('called from a running GLib main loop');
    print(`async context: wordCount(...) returned ${result.constructor.name}`);
    result.then(count => {
        print(`async context: resolved to ${count}`);
        status = count === 7 ? 0 : 1;
    }).finally(() => loop.quit());
    return GLib.SOURCE_REMOVE;
});
loop.run();
System.exit(status);
