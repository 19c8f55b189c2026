let cached = -1;

function forget(): void {
  cached = -1;
}

/**
 * performance.now(), read at most once per synchronous run of the event loop: the first call
 * reads the clock and queues a microtask that forgets the reading, so every later call in the
 * same run (a whole batch of frames from one socket read, say) gets the same value. Reading the
 * clock costs more than most of what is done per frame. The value is at most one run old: fine
 * for deadlines of whole milliseconds.
 */
export function tickNow(): number {
  if (cached < 0) {
    cached = performance.now();
    queueMicrotask(forget);
  }
  return cached;
}
