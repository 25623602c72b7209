// Where messages go. stderr always gets errors as one line "ch-run-oci: …";
// with --log FILE every message is appended there too, as text or as runc's
// JSON lines ({"level","msg","time"}) that conmon/podman read back.
import * as fs from 'node:fs';
import { writeStderr } from './stdout';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

interface LogSettings {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const settings: LogSettings = { format: 'text', debug: false };

export function configureLog(s: Partial<LogSettings>): void {
  Object.assign(settings, s);
}

export function isDebug(): boolean {
  return settings.debug;
}

function toFile(level: Level, msg: string): void {
  if (!settings.file) return;
  const time = new Date().toISOString();
  const line =
    settings.format === 'json' ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  try {
    // Never through a symlink at the log's own name (a root caller's log
    // path may sit in a directory others can write), and created 0644 at
    // most (never 0666 under umask 0), as runc creates it.
    const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(settings.file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o644);
    try {
      fs.writeSync(fd, line);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // A log file we cannot write must not hide the real message on stderr.
  }
}

/** A note shown only under --debug (e.g. an ignored OCI field). */
export function debug(msg: string): void {
  if (!settings.debug) return;
  process.stderr.write(`ch-run-oci: debug: ${msg}\n`);
  toFile('debug', msg);
}

export function warn(msg: string): void {
  process.stderr.write(`ch-run-oci: warning: ${msg}\n`);
  toFile('warning', msg);
}

/**
 * The one line of a failure (a newline carried in from a config value is
 * shown escaped). Straight to fd 2, not through process.stderr: a failing
 * hot verb (state of a container just deleted) stays as cheap as a
 * succeeding one (stdout.ts). Both are synchronous, so the order holds.
 */
export function error(msg: string): void {
  msg = msg.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  writeStderr(`ch-run-oci: ${msg}\n`);
  toFile('error', msg);
}
