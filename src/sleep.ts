// Waiting without a busy loop. The synchronous form is for the short pauses
// of the synchronous hot paths (a full pipe, polling a dying process), where
// an event-loop turn would cost more than the pause itself.

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for ms milliseconds. */
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
