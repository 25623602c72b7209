// Where messages go. stderr always gets errors as one line "ch-run-oci: …";
// with --log FILE every message is appended there too, as text or as runc's
// JSON lines ({"level","msg","time"}) that conmon/podman read back.
import * as fs from 'node:fs';
import { UserError, errnoText } from './errors';
import { writeStderr } from './stdout';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

interface LogSettings {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const settings: LogSettings = { format: 'text', debug: false };
/** --log, opened once (a path swapped later cannot make us block or write elsewhere). */
let logFd: number | undefined;
let logTried = false;

export function configureLog(s: Partial<LogSettings>): void {
  Object.assign(settings, s);
}

/** Opens --log now, or throws its one line: every verb starts with this (cli/verb.ts). */
export function openLogFile(): void {
  if (logTried || settings.file === undefined) return;
  logTried = true;
  logFd = openLog(settings.file);
}

export function isDebug(): boolean {
  return settings.debug;
}

/**
 * Opens --log FILE for appending, or throws the one line naming --log. Never
 * through a symlink at the log's own name (a root caller's log path may sit
 * in a directory others can write), created 0644 at most (never 0666 under
 * umask 0), as runc creates it. Without blocking: a FIFO would hang every
 * verb until someone reads it (runc blocks there). Only a regular file or a
 * character device (/dev/null, a terminal) is a log; a FIFO, socket,
 * directory or block device is refused.
 */
export function openLog(file: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  const what = `--log ${JSON.stringify(file.length > 200 ? `${file.slice(0, 200)}…` : file)}`;
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A FIFO nobody reads and a socket give ENXIO, a directory EISDIR: name the kind.
    let kind: string | undefined;
    try {
      kind = logKind(fs.lstatSync(file));
    } catch {
      /* gone meanwhile */
    }
    if (kind && (code === 'ENXIO' || code === 'EISDIR' || code === 'ELOOP')) throw new UserError(what, `is ${kind}, not a regular file`);
    throw new UserError(what, errnoText(err));
  }
  const kind = logKind(fs.fstatSync(fd));
  if (kind) {
    fs.closeSync(fd);
    throw new UserError(what, `is ${kind}, not a regular file`);
  }
  return fd;
}

/** Why a file cannot be a log (undefined: it can). */
function logKind(st: fs.Stats): string | undefined {
  if (st.isFile() || st.isCharacterDevice()) return undefined;
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'an unusual file';
}

function toFile(level: Level, msg: string): void {
  // A message before any verb ran (a command line yargs refused): opened here, or not logged.
  try {
    openLogFile();
  } catch {
    /* the message still reaches stderr */
  }
  if (logFd === undefined) return;
  const time = new Date().toISOString();
  const line =
    settings.format === 'json' ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  try {
    fs.writeSync(logFd, line);
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

/** A hook's output (stdout and stderr alike): as it is on stderr, one entry a line in --log. */
export function hookOutput(label: string, text: string): void {
  process.stderr.write(text);
  for (const line of text.split('\n')) if (line !== '') toFile('info', `${label}: ${line}`);
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
