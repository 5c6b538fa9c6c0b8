// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Smartasync from GJS, against the uninstalled build: gjs -m test-smartasync.js

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import System from 'system';

import {Smartasync, call, smartasync, sync} from './smartasync.js';

let failures = 0;
let count = 0;

function check(condition, what) {
    count++;
    if (condition) {
        print(`ok ${count} ${what}`);
    } else {
        failures++;
        print(`not ok ${count} ${what}`);
    }
}

// Runs an async function from an idle of a running loop.
function inLoop(asyncFunc) {
    const loop = new GLib.MainLoop(null, false);
    let error = null;
    GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        asyncFunc().catch(e => {
            error = e;
        }).finally(() => loop.quit());
        return GLib.SOURCE_REMOVE;
    });
    const watchdog = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 20, () => {
        error = new Error('loop timed out');
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    GLib.source_remove(watchdog);
    if (error)
        throw error;
}

function upperAsync(task, _source, args) {
    const text = args.unpack();
    const idle = GLib.idle_source_new();
    idle.set_callback(() => {
        task.return_value(text.toUpperCase());
        return GLib.SOURCE_REMOVE;
    });
    idle.attach(GLib.MainContext.get_thread_default());
}

function testDetection() {
    check(!Smartasync.in_async_context(), 'detection: sync before the loop');
    let inside = null;
    inLoop(async () => {
        inside = Smartasync.in_async_context();
    });
    check(inside === true, 'detection: async inside the loop');
}

function testSyncGio() {
    const path = GLib.build_filenamev([GLib.get_tmp_dir(), 'smartasync-gjs-test']);
    const file = Gio.File.new_for_path(path);
    file.replace_contents(new TextEncoder().encode('from gjs'), null, false,
        Gio.FileCreateFlags.NONE, null);
    const [ok, contents] = sync(file, 'load_contents', null);
    check(ok && new TextDecoder().decode(contents) === 'from gjs', 'sync GIO: load_contents');

    const proc = Gio.Subprocess.new(['echo', 'hi'], Gio.SubprocessFlags.STDOUT_PIPE);
    const [, stdout] = sync(proc, 'communicate_utf8', null, null);
    check(stdout === 'hi\n', 'sync GIO: subprocess communicate_utf8');
    file.delete(null);

    let caught = null;
    try {
        sync(Gio.File.new_for_path('/nonexistent/smartasync'), 'load_contents', null);
    } catch (e) {
        caught = e;
    }
    check(caught instanceof GLib.Error && caught.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND),
        'sync GIO: errors keep domain and code');
}

// sync() names its wait after the method, in the wait's debug line (and in
// its stall or refusal message): run in a child with the debug log on.
function testSyncWaitNamed() {
    const moduleUrl = GLib.uri_resolve_relative(import.meta.url, 'smartasync.js', GLib.UriFlags.NONE);
    const [script] = Gio.File.new_tmp('smartasync-gjs-XXXXXX.js');
    script.replace_contents(new TextEncoder().encode(
        `import Gio from 'gi://Gio';\nimport {sync} from '${moduleUrl}';\n` +
        "sync(Gio.File.new_for_path('/etc/hostname'), 'load_contents', null);\n"),
    null, false, Gio.FileCreateFlags.NONE, null);
    const launcher = new Gio.SubprocessLauncher({
        flags: Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_MERGE,
    });
    launcher.setenv('G_MESSAGES_DEBUG', 'Smartasync', true);
    const child = launcher.spawnv(['gjs', '-m', script.get_path()]);
    const [, output] = sync(child, 'communicate_utf8', null, null);
    script.delete(null);
    check(child.get_successful() && /Smartasync-DEBUG.*File\.load_contents_async: /.test(output) &&
        !/ operation: /.test(output), 'sync GIO: the wait is named after the method');
}

function testDispatchPaths() {
    const upper = Smartasync.Operation.new_async('upper', upperAsync);
    check(call(upper, null, new GLib.Variant('s', 'abc')) === 'ABC', 'sync context + JS async implementation');

    let pending = null;
    let value = null;
    inLoop(async () => {
        pending = call(upper, null, new GLib.Variant('s', 'later'));
        value = await pending;
    });
    check(pending instanceof Promise && value === 'LATER', 'async context + JS async implementation: Promise');

    // GJS cannot run JavaScript on a worker: a JS blocking implementation is
    // marked thread-unsafe and offloading it fails clearly.
    const jsBlocking = Smartasync.Operation.new_blocking('js-blocking',
        task => task.return_value(7));
    jsBlocking.thread_safe = false;
    check(call(jsBlocking) === 7, 'sync context + JS blocking implementation runs directly');
    let offloadError = null;
    inLoop(async () => {
        try {
            await call(jsBlocking);
        } catch (e) {
            offloadError = e;
        }
    });
    check(offloadError instanceof GLib.Error &&
        offloadError.matches(Smartasync.error_quark(), Smartasync.Error.OFFLOAD_FAILED),
    'async context + JS blocking implementation: clear OFFLOAD_FAILED error');
}

function testCOffloadFromJs() {
    // A C blocking implementation, offloaded from JS: Smartasync's own
    // executor test helper is not exported, so use a GIO blocking operation
    // through the waiter from a loop instead: g_file_query_info_async runs in
    // GIO's thread pool while the loop keeps ticking.
    let ticks = 0;
    let info = null;
    inLoop(async () => {
        const timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 1, () => {
            ticks++;
            return GLib.SOURCE_CONTINUE;
        });
        const file = Gio.File.new_for_path('/etc/os-release');
        info = await new Promise((resolve, reject) => {
            file.query_info_async('standard::size', Gio.FileQueryInfoFlags.NONE,
                GLib.PRIORITY_DEFAULT, null, (f, res) => {
                    try {
                        resolve(f.query_info_finish(res));
                    } catch (e) {
                        reject(e);
                    }
                });
        });
        GLib.source_remove(timer);
    });
    check(info !== null && info.get_size() > 0, 'worker-thread GIO work from a JS loop');
}

function testDefaultExecutor() {
    const executor = Smartasync.Executor.new(1);
    Smartasync.set_default_executor(executor);
    check(Smartasync.dup_default_executor() === executor, 'default executor set from JS');
    Smartasync.set_default_executor(null);
    check(Smartasync.dup_default_executor() === null, 'default executor reset with null');
}

function testSugar() {
    const double = smartasync(function (x) {
        return {twice: 2 * x};
    });
    check(double(21).twice === 42, 'smartasync(): value in sync context');
    let got = null;
    let wasPromise = false;
    inLoop(async () => {
        const result = double(5);
        wasPromise = result instanceof Promise;
        got = await result;
    });
    check(wasPromise && got.twice === 10, 'smartasync(): Promise in async context');

    const boom = smartasync(() => {
        throw new TypeError('bad input');
    });
    let thrown = null;
    try {
        boom();
    } catch (e) {
        thrown = e;
    }
    check(thrown instanceof TypeError && thrown.message === 'bad input', 'smartasync(): JS exceptions pass through');

    const failing = smartasync(() => {
        throw new GLib.Error(Gio.io_error_quark(), Gio.IOErrorEnum.PERMISSION_DENIED, 'denied');
    });
    let gerror = null;
    inLoop(async () => {
        try {
            await failing();
        } catch (e) {
            gerror = e;
        }
    });
    check(gerror instanceof GLib.Error && gerror.code === Gio.IOErrorEnum.PERMISSION_DENIED &&
        gerror.message === 'denied', 'smartasync(): GLib.Error keeps domain, code and message');
}

function testPromisify() {
    Gio._promisify(Smartasync.Operation.prototype, 'call_async', 'call_finish');
    const upper = Smartasync.Operation.new_async('upper', upperAsync);
    let value = null;
    inLoop(async () => {
        // _promisify drops the leading `true` of a throwing finish function.
        const [v] = await upper.call_async(null, new GLib.Variant('s', 'promisified'), null);
        value = v;
    });
    check(value === 'PROMISIFIED', 'Gio._promisify on call_async/call_finish');
}

function testCancellation() {
    const never = Smartasync.Operation.new_async('never', (task, source, args, cancellable) => {
        cancellable.connect(() => task.return_error_if_cancelled());
    });
    const cancellable = new Gio.Cancellable();
    let error = null;
    inLoop(async () => {
        const promise = call(never, null, null, cancellable);
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
            cancellable.cancel();
            return GLib.SOURCE_REMOVE;
        });
        try {
            await promise;
        } catch (e) {
            error = e;
        }
    });
    check(error instanceof GLib.Error && error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
        'cancellation via Gio.Cancellable');
}

function testLock() {
    let executions = 0;
    const answer = Smartasync.Operation.new_async('answer', (task, _source, args) => {
        executions++;
        const key = args.unpack();
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 20, () => {
            task.return_value(`answer:${key}`);
            return GLib.SOURCE_REMOVE;
        });
    });
    const lock = Smartasync.Lock.new();
    Gio._promisify(Smartasync.Lock.prototype, 'run_async', 'run_finish');
    let answers = [];
    inLoop(async () => {
        const calls = [];
        for (let i = 0; i < 30; i++)
            calls.push(lock.run_async('a', answer, null, new GLib.Variant('s', 'a'), null));
        for (let i = 0; i < 5; i++)
            calls.push(lock.run_async('b', answer, null, new GLib.Variant('s', 'b'), null));
        answers = (await Promise.all(calls)).map(([v]) => v);
    });
    check(executions === 2 && answers.filter(a => a === 'answer:a').length === 30 &&
        answers.filter(a => a === 'answer:b').length === 5, 'Lock: 35 callers, 2 keys, 2 executions');

    let resetErrors = 0;
    inLoop(async () => {
        const calls = [];
        for (let i = 0; i < 3; i++)
            calls.push(lock.run_async('c', answer, null, new GLib.Variant('s', 'c'), null).catch(() => resetErrors++));
        lock.reset();
        await Promise.all(calls);
    });
    check(resetErrors === 2, 'Lock: reset releases the joiners; the first caller keeps its run');

    // Issue 14, defect 5: an implementation that returns with return_int()
    // declares its result type; every GValue path, the lock's included, gives
    // its value.
    const counted = Smartasync.Operation.new_async('counted', task => task.return_int(7));
    counted.result_type = GObject.TYPE_INT;
    let counts = [];
    inLoop(async () => {
        const calls = [];
        for (let i = 0; i < 3; i++)
            calls.push(lock.run_async('d', counted, null, null, null));
        counts = (await Promise.all(calls)).map(([v]) => v);
    });
    check(counted.call_sync(null, null, null)[1] === 7 && counts.join() === '7,7,7',
        'Lock: a declared int result reaches every caller');
}

function testAwaitAndBatch() {
    const [ok, length] = Smartasync.continuation('Alice',
        value => [true, value.length]);
    check(ok && length === 5, 'continuation on a ready value');

    const upper = Smartasync.Operation.new_async('upper', upperAsync);
    const batch = Smartasync.Batch.new();
    for (let i = 0; i < 50; i++)
        batch.add(upper, null, new GLib.Variant('s', `w${i}`));
    batch.wait(null);
    const results = [];
    for (let i = 0; i < 50; i++)
        results.push(upper.call_finish(batch.get_result(i))[1]);
    batch.close();
    check(results.every((r, i) => r === `W${i}`), 'batch of 50 from sync code, results in order');
}

// An async function called with no loop: GJS would never run its promise
// jobs (they run from the default main context, which Smartasync does not
// iterate), so the call is refused at once, before the function runs.
function testAsyncFunctionSync() {
    let ran = false;
    const load = smartasync(async function loadSomething() {
        ran = true;
        await null;
        return 1;
    });
    let refusal = null;
    try {
        load();
    } catch (e) {
        refusal = e;
    }
    check(refusal instanceof Error && refusal.message.includes('loadSomething()') &&
        refusal.message.includes('default main context') && refusal.message.includes('running loop'),
    'async function, no loop: refused with an error naming it, the reason and the fix');
    check(!ran, 'async function, no loop: the refused call did not run the function');
}

function testAsyncFunctionLoop() {
    const later = smartasync(async x => {
        await null;
        return {x, inAsync: Smartasync.in_async_context()};
    });
    let result = null;
    let pending = null;
    inLoop(async () => {
        pending = later(7);
        result = await pending;
    });
    check(pending instanceof Promise && result.x === 7, 'async function from a running loop: its Promise');
}

function testAsyncFunctionRefusals() {
    const fn = smartasync(async function namedAsync() {
        await null;
        return 1;
    });

    // A loop on another context: promise jobs could not run there.
    const context = new GLib.MainContext();
    context.push_thread_default();
    const loop = GLib.MainLoop.new(context, false);
    let otherContextError = null;
    const source = GLib.idle_source_new();
    source.set_callback(() => {
        try {
            fn();
        } catch (e) {
            otherContextError = e;
        }
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    source.attach(context);
    loop.run();
    context.pop_thread_default();
    check(otherContextError instanceof Error && otherContextError.message.includes('namedAsync()') &&
        otherContextError.message.includes('default main context'),
    'async function from a loop on another context: a clear error, not a hang');

    // Forced sync inside a promise job: GJS runs no other job meanwhile.
    let inJobError = null;
    inLoop(async () => {
        await null;
        Smartasync.push_mode(Smartasync.Mode.SYNC);
        try {
            fn();
        } catch (e) {
            inJobError = e;
        } finally {
            Smartasync.pop_mode();
        }
    });
    check(inJobError instanceof Error && inJobError.message.includes('namedAsync()') &&
        inJobError.message.includes('promise job'),
    'async function run synchronously inside a promise job: a clear error, not a hang');
}

// The GObject way of constructing: never a crash.
function testGObjectConstruction() {
    const op = new Smartasync.Operation({name: 'built'});
    let error = null;
    try {
        op.call_sync(null, null, null);
    } catch (e) {
        error = e;
    }
    check(error instanceof GLib.Error && error.message.includes('new_async'),
        'new Smartasync.Operation({name}): calls fail with an error naming the constructors');
    const batch = new Smartasync.Batch();
    const upper = Smartasync.Operation.new_async('upper', upperAsync);
    batch.add(upper, null, new GLib.Variant('s', 'gobject'));
    batch.wait(null);
    check(upper.call_finish(batch.get_result(0))[1] === 'GOBJECT', 'new Smartasync.Batch() works');
    batch.close();
    check(new Smartasync.Lock().get_executions() === 0, 'new Smartasync.Lock() works');
}

const tests = [testDetection, testSyncGio, testSyncWaitNamed, testDispatchPaths, testCOffloadFromJs, testDefaultExecutor, testSugar,
    testPromisify, testCancellation, testLock, testAwaitAndBatch, testAsyncFunctionSync,
    testAsyncFunctionLoop, testAsyncFunctionRefusals, testGObjectConstruction];
for (const test of tests) {
    try {
        test();
    } catch (e) {
        failures++;
        print(`not ok - ${test.name} threw: ${e}\n${e.stack}`);
    }
}
print(`1..${count}`);
System.exit(failures ? 1 : 0);
