// SPDX-License-Identifier: LGPL-2.1-or-later
//
// smartasync.js: Smartasync feeling native in GJS. Installed as
// ${datadir}/gjs-1.0/smartasync-glib-1.0/smartasync.js; import it with a
// static import statement (see doc/bindings.md):
//
//   import {smartasync, call, sync} from
//       'file:///usr/share/gjs-1.0/smartasync-glib-1.0/smartasync.js';
//
// - call(operation, source, args, cancellable): the smart call. With no
//   running GLib main loop on this thread it returns the value; from code a
//   running loop dispatched it returns a Promise, so `await` works there.
// - smartasync(func): one JavaScript function, callable the same way.
//   * A plain function: GJS refuses to run JavaScript on other threads, so
//     it always runs on the calling thread, inside the call: in a sync
//     context the value is returned, in an async context a Promise that
//     resolves on the loop's next iteration. Blocking work that must not
//     hold the loop belongs in C, Python, or a subprocess.
//   * An async function: from a running loop on the default main context,
//     its Promise. GJS runs promise jobs only from a source of the default
//     main context, which Smartasync never iterates, so with no loop running
//     (or from a loop on another context) the call is refused with an Error
//     that says why, before the function runs, instead of hanging.
// - sync(obj, 'load_contents', ...args): any GIO _async method, synchronously.
//
// A top-level `await import()` of this module makes the rest of the script
// run as a promise job that GJS's own main loop dispatches: an async
// context. The module detects it and says so (a warning, and the reason in
// sync()'s refusal); import it with a static import statement instead.

import GLib from 'gi://GLib';
import Smartasync from 'gi://Smartasync?version=1.0';

export {Smartasync};

// GJS runs promise jobs from this source of the default main context.
const JOB_SOURCE_NAME = 'GjsPromiseJobQueueSource';

function inGjsJobLoop() {
    return GLib.main_current_source()?.get_name() === JOB_SOURCE_NAME && GLib.main_depth() === 1;
}

// Evaluated inside a promise job that GJS's own loop dispatches: a top-level
// `await import()` of this module (or an import() from a loop's callback).
const loadedInPromiseJob = inGjsJobLoop();
let warnedAboutTopLevelAwait = false;

const TOP_LEVEL_AWAIT = 'this code runs as a promise job that GJS dispatches from its own main ' +
    'loop, as the rest of a module does after a top-level `await` (here the `await import()` of ' +
    'smartasync.js), so Smartasync sees an async context';
const STATIC_IMPORT = 'Import smartasync.js with a static import statement ' +
    "(import {smartasync, sync} from '…/smartasync.js') to keep the script a sync context";

// The Promise a call returns in an async context. After a top-level await
// import() of this module, say once why a script gets Promises.
function asyncResult(what, promise) {
    if (loadedInPromiseJob && !warnedAboutTopLevelAwait && inGjsJobLoop()) {
        warnedAboutTopLevelAwait = true;
        console.warn(`Smartasync: ${what} returns a Promise: ${TOP_LEVEL_AWAIT}. ` +
            `${STATIC_IMPORT}, or await the call.`);
    }
    return promise;
}

/** Completes with the value of an operation's GTask, or throws its GLib.Error. */
function finishValue(operation, result) {
    const [, value] = operation.call_finish(result);
    return value;
}

/**
 * The smart call: the value in a sync context, a Promise in an async one.
 */
export function call(operation, source = null, args = null, cancellable = null) {
    if (!Smartasync.in_async_context()) {
        const [, value] = operation.call_sync(source, args, cancellable);
        return value;
    }

    return asyncResult(`call(${operation.get_name()})`, new Promise((resolve, reject) => {
        operation.call_async(source, args, cancellable, (_op, result) => {
            try {
                resolve(finishValue(operation, result));
            } catch (error) {
                reject(error);
            }
        });
    }));
}

// JavaScript arguments and results travel by key: the C core only carries a
// number, so any JavaScript value passes through unchanged.
const calls = new Map();
let nextKey = 1;

function remember(item) {
    const key = nextKey++;
    calls.set(key, item);
    return key;
}

function recall(key) {
    const item = calls.get(key);
    calls.delete(key);
    return item;
}

const JS_ERROR_DOMAIN = GLib.quark_from_string('smartasync-gjs-exception');

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

/**
 * Wraps a JavaScript function (plain or async) so that it is callable from
 * anywhere: see the header of this file.
 */
export function smartasync(func, {name} = {}) {
    if (typeof func !== 'function')
        throw new TypeError(`smartasync() needs a function, not ${func}`);
    const label = `${name ?? (func.name || 'js-function')}()`;
    const operation = Smartasync.Operation.new_async(label.slice(0, -2),
        (task, _source, args) => {
            const {self, argv} = recall(args.unpack());
            try {
                const value = func.apply(self, argv);
                task.return_value(remember({value}));
            } catch (error) {
                if (error instanceof GLib.Error) {
                    task.return_error(error);
                } else {
                    task.return_error(new GLib.Error(JS_ERROR_DOMAIN, remember({error}),
                        String(error)));
                }
            }
        });

    function unwrap(key) {
        return recall(key).value;
    }

    function rethrow(error) {
        if (error instanceof GLib.Error && error.matches(JS_ERROR_DOMAIN, error.code))
            throw recall(error.code).error;
        throw error;
    }

    function callAsync(self, argv) {
        if (!Smartasync.in_async_context()) {
            throw new Error(`${label} is an async function, and no main loop runs here: GJS ` +
                'runs promise jobs only from a source of the default main context, which ' +
                "Smartasync never iterates (it is the application's), so the function could not " +
                'resume after its first await and the call would hang. Call it from a running ' +
                'loop, where it returns its Promise; in sync code, use call() and sync() for ' +
                'the GIO work');
        }
        const context = GLib.MainContext.get_thread_default();
        if (context !== null && context !== GLib.MainContext.default()) {
            throw new Error(`${label} is an async function, and this code is dispatched by ` +
                'a loop on a main context other than the default one: GJS runs promise jobs ' +
                'only from the default main context, so it could not resume here. Call it ' +
                "from the default context's loop");
        }
        return asyncResult(label, func.apply(self, argv));
    }

    const isAsync = func instanceof AsyncFunction;
    const smart = function (...argv) {
        if (isAsync)
            return callAsync(this, argv);
        const args = new GLib.Variant('t', remember({self: this, argv}));
        let result;
        try {
            result = call(operation, null, args, null);
        } catch (error) {
            rethrow(error);
        }
        if (result instanceof Promise)
            return result.then(unwrap, rethrow);
        return unwrap(result);
    };
    smart.operation = operation;
    return smart;
}

/**
 * Calls obj[name + '_async'](...args, callback) synchronously on this
 * thread's private context and returns what obj[name + '_finish'] returns.
 * From code a running loop dispatches it is refused before anything starts.
 */
export function sync(obj, name, ...args) {
    if (Smartasync.in_async_context()) {
        const why = loadedInPromiseJob && inGjsJobLoop()
            ? `${TOP_LEVEL_AWAIT}. ${STATIC_IMPORT}`
            : 'this code is dispatched by a running main loop, which the wait would block';
        throw new GLib.Error(Smartasync.error_quark(), Smartasync.Error.WOULD_BLOCK,
            `sync(${obj.constructor?.name ?? 'object'}, '${name}') refused: ${why}. ` +
            `Use obj.${name}_async() with a callback or Gio._promisify() and await it, or push ` +
            'Smartasync.Mode.SYNC around the call if the operation does not need this loop.');
    }
    const waiter = Smartasync.Waiter.new_full(
        `${obj.constructor?.name ?? 'object'}.${name}_async`, Smartasync.WaiterFlags.NONE);
    obj[`${name}_async`](...args, (source, result) => waiter.complete(source, result));
    return obj[`${name}_finish`](waiter.wait(null));
}
