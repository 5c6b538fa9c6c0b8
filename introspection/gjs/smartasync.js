// SPDX-License-Identifier: LGPL-2.1-or-later
//
// smartasync.js: Smartasync feeling native in GJS.
//
//   import {smartasync, call, sync} from './smartasync.js';
//
// - call(operation, source, args, cancellable): the smart call. With no
//   running GLib main loop on this thread it returns the value; from code a
//   running loop dispatched it returns a Promise, so `await` works there.
// - smartasync(func): one JavaScript function, callable the same way.
//   GJS refuses to run JavaScript on other threads, so the function always
//   runs on the calling thread, inside the call: in a sync context the value
//   is returned, in an async context a Promise that resolves on the loop's
//   next iteration. Blocking work that must not hold the loop belongs in C,
//   Python, or a subprocess.
// - sync(obj, 'load_contents', ...args): any GIO _async method, synchronously.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Smartasync from 'gi://Smartasync?version=1.0';

export {Smartasync};

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

    return new Promise((resolve, reject) => {
        operation.call_async(source, args, cancellable, (_op, result) => {
            try {
                resolve(finishValue(operation, result));
            } catch (error) {
                reject(error);
            }
        });
    });
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

/**
 * Wraps a JavaScript function as an asynchronous Smartasync operation that
 * completes at once on the calling thread.
 */
export function smartasync(func, {name} = {}) {
    const operation = Smartasync.Operation.new_async(name ?? (func.name || 'js-function'),
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

    const smart = function (...argv) {
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
 */
export function sync(obj, name, ...args) {
    const waiter = Smartasync.Waiter.new();
    obj[`${name}_async`](...args, (source, result) => waiter.complete(source, result));
    return obj[`${name}_finish`](waiter.wait(null));
}
