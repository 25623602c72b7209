// Reading a bundle: find it, read config.json, parse it with a line:column on
// syntax errors, then validate. Everything a user can get wrong here gets a
// one-line message that names the path involved.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import type { OciConfig } from './types';
import { validateConfig } from './validate';
import { findJsonSyntaxError } from './json-syntax';

export interface Bundle {
  /** Absolute path of the bundle directory. */
  bundle: string;
  /** Absolute path of its config.json. */
  configPath: string;
  config: OciConfig;
}

export function loadBundle(bundleArg: string): Bundle {
  if (bundleArg === '') throw new UserError('bundle', 'the bundle path is empty');
  const bundle = path.resolve(process.cwd(), bundleArg);
  let st: fs.Stats;
  try {
    st = fs.statSync(bundle);
  } catch (err) {
    throw new UserError(`bundle ${bundle}`, errnoText(err));
  }
  if (!st.isDirectory()) throw new UserError(`bundle ${bundle}`, 'not a directory');

  const configPath = path.join(bundle, 'config.json');
  let text: string;
  let fd: number | undefined;
  try {
    // O_NONBLOCK: a fifo (or device) named config.json must not hang create; it is refused below.
    fd = fs.openSync(configPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) throw new UserError(`cannot read ${configPath}`, 'not a regular file');
    text = fs.readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${configPath}`, errnoText(err));
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return { bundle, configPath, config: validateConfig(parseJson(text, configPath)) };
}

/** JSON.parse with the error position turned into line:column (1-based), which editors understand. */
export function parseJson(text: string, name: string): unknown {
  // A UTF-8 byte order mark is not JSON, but some editors write one; it hides nothing, so skip it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new UserError(name, 'invalid JSON: the file is empty');
  try {
    return JSON.parse(body);
  } catch (err) {
    // V8's words when it gives a position; otherwise ("Unexpected token '}', …")
    // our own scan finds where the text goes wrong.
    const msg = err instanceof Error ? err.message : String(err);
    let at = errorOffset(msg, body);
    let reason = cleanReason(msg);
    if (at === undefined) {
      const found = findJsonSyntaxError(body);
      if (found) ({ offset: at, reason } = found);
    }
    if (at === undefined) throw new UserError(`${name}`, `invalid JSON: ${reason}`);
    const { line, column } = lineColumn(body, at);
    throw new UserError(`${name}:${line}:${column}`, `invalid JSON: ${reason}`);
  }
}

// V8 says "… in JSON at position N (line L column C)" (Node 20+) or just
// "at position N"; an empty or truncated file is "Unexpected end of JSON input".
function errorOffset(msg: string, body: string): number | undefined {
  const m = /at position (\d+)/.exec(msg);
  if (m) return Number(m[1]);
  if (/end of JSON input/.test(msg)) return body.length;
  return undefined;
}

function cleanReason(msg: string): string {
  const r = msg
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/,?\s*"(?:[^"\\]|\\.)*"\.\.\. is not valid JSON$/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/ at position \d+/, '')
    .trim();
  return r === '' ? 'syntax error' : r.charAt(0).toLowerCase() + r.slice(1);
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
