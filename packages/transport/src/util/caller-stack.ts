/**
 * Rejects a promise made by `new Promise` (given its `resolve` and `reject`) with the error `make`
 * returns, made in a microtask chained to that promise, so that V8's async stack trace of the
 * error runs through the code awaiting the promise, although the failure was found elsewhere (a
 * timer). It lets `send()` return its promise as it is, without an async wrapper that would cost
 * every request a promise and a microtask more, and still give a TIMEOUT a stack that shows where
 * the caller awaited it.
 *
 *   Promise.resolve().then(make → throw) ─► chained promise ─(its only reaction: resolve/reject)─► caller's promise ─► await in caller
 *
 * V8 follows that chain from the microtask that makes the error (a promise reaction whose derived
 * promise is followed by the caller's own resolving functions). Costs two microtasks, only for the
 * request that fails this way. The rejection lands two microtasks after the call.
 */
export function rejectWithCallerStack<T>(resolve: (value: T) => void, reject: (error: unknown) => void, make: () => Error): void {
  Promise.resolve()
    .then(() => {
      throw make();
    })
    .then(resolve, reject);
}
