// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Per-call cost of Smartasync from GJS, against the GJS baseline measured in
// the same run: a Gio._promisify()'d call awaited inside a hand-made
// GLib.MainLoop, which is what a script without Smartasync writes.
//
//   gjs -m bench-smartasync.js [--quick]

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import {Smartasync, call, sync} from './smartasync.js';

const QUICK = ARGV.includes('--quick');
const N = QUICK ? 100 : 3000;
const ROUNDS = QUICK ? 3 : 7;

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

function perCallNs(func) {
    const samples = [];
    for (let round = 0; round < ROUNDS; round++) {
        const start = GLib.get_monotonic_time();
        for (let i = 0; i < N; i++)
            func();
        samples.push((GLib.get_monotonic_time() - start) * 1000 / N);
    }
    return median(samples);
}

const immediate = Smartasync.Operation.new_async('immediate', task => task.return_value(1));
Gio._promisify(Smartasync.Operation.prototype, 'call_async', 'call_finish');

// The baseline: a promisified call awaited in a loop made for the purpose.
function promisifiedWithMainLoop() {
    const loop = new GLib.MainLoop(null, false);
    let value;
    immediate.call_async(null, null, null).then(([v]) => {
        value = v;
        loop.quit();
    });
    loop.run();
    return value;
}

const file = Gio.File.new_for_path('/etc/hostname');
function queryWithMainLoop() {
    const loop = new GLib.MainLoop(null, false);
    file.query_info_async('standard::size', 0, 0, null, (f, res) => {
        f.query_info_finish(res);
        loop.quit();
    });
    loop.run();
}

const rows = [
    ['promisified call + hand-made GLib.MainLoop', promisifiedWithMainLoop],
    ['call() (smart call), sync context', () => call(immediate)],
    ['Operation.call_sync, sync context', () => immediate.call_sync(null, null, null)],
    ['query_info_async + hand-made GLib.MainLoop', queryWithMainLoop],
    ['sync(file, "query_info", ...)', () => sync(file, 'query_info', 'standard::size', 0, 0, null)],
];

const results = rows.map(([name, func]) => [name, perCallNs(func)]);
const base = results[0][1];
const ioBase = results.find(([name]) => name.startsWith('query_info_async'))[1];
print(`GJS ${System.version}; median of ${ROUNDS} rounds of ${N} calls`);
print(`${'path'.padEnd(46)} | ${'µs/call'.padStart(8)} | ratio`);
print('-'.repeat(80));
for (const [name, ns] of results) {
    const ratio = name.includes('query_info') ? ns / ioBase : ns / base;
    print(`${name.padEnd(46)} | ${(ns / 1000).toFixed(2).padStart(8)} | ${ratio.toFixed(2)}x`);
}
Smartasync.reset();
