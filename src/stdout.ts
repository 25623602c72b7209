// Output for the hot verbs, written straight to fd 1. Creating
// process.stdout (a stream over a file or a pipe) costs ~1 ms of a 40 ms
// `state` in the executable (measured), and buildah runs `state` every 100 ms
// of every RUN step. Node writes to files and pipes synchronously on Linux
// anyway, so nothing else changes.
import * as fs from 'node:fs';
import { sleepSync } from './sleep';

/** Writes all of text to standard output. */
export function writeStdout(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length;) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (err) {
      // A non-blocking pipe that is full (O_NONBLOCK set by whoever shares it): wait for the reader.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      sleepSync(1);
    }
  }
}
