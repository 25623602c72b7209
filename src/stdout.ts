// Output for the hot verbs, written straight to fd 1, and our messages to
// fd 2. Creating process.stdout or process.stderr (a stream over a file or a
// pipe) loads Node's whole stream stack: ~1 ms of a 40 ms `state` in the
// executable, and ~10 % of the instructions of a failing one (measured), and
// buildah runs `state` every 100 ms of every RUN step. Node writes to files
// and pipes synchronously on Linux anyway, so nothing else changes.
import * as fs from 'node:fs';
import { sleepSync } from './sleep';

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length;) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      // A non-blocking pipe that is full (O_NONBLOCK set by whoever shares it): wait for the reader.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      sleepSync(1);
    }
  }
}

/** Writes all of text to standard output. */
export function writeStdout(text: string): void {
  writeAll(1, text);
}

/** Writes text to standard error; a closed or broken stderr loses it silently, as process.stderr does. */
export function writeStderr(text: string): void {
  try {
    writeAll(2, text);
  } catch {
    // Nowhere left to say it.
  }
}
