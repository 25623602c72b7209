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
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UserError(`cannot read ${configPath}`, st.isDirectory() ? 'is a directory' : 'not a regular file');
    text = fs.readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${configPath}`, errnoText(err));
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const config = validateConfig(parseJson(text, configPath));
  rejectNul(config, '');
  return { bundle, configPath, config };
}

/**
 * No string reaches a syscall with a NUL inside (it would be cut short, or
 * refused deep in the runner naming no field): refused here with its pointer.
 */
export function rejectNul(root: unknown, base: string): void {
  // An explicit stack, and pointers built only on failure: unknown fields
  // may nest 100,000 deep, past the call stack (and past quadratic strings).
  interface Node {
    value: unknown;
    key: string;
    up?: Node;
  }
  const pointer = (n: Node): string => {
    const keys: string[] = [];
    for (let at: Node | undefined = n; at?.up; at = at.up) keys.push(at.key.replace(/~/g, '~0').replace(/\//g, '~1'));
    return (
      base +
      keys
        .reverse()
        .map((k) => `/${k}`)
        .join('')
    );
  };
  const bad = (n: Node): never => {
    throw new UserError(`config.json: ${pointer(n) || '/'}`, 'must not contain a NUL byte');
  };
  const todo: Node[] = [{ value: root, key: '' }];
  while (todo.length) {
    const n = todo.pop()!;
    const v = n.value;
    if (typeof v === 'string') {
      if (v.includes('\0')) bad(n);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => todo.push({ value: x, key: String(i), up: n }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const child = { value: x, key: k, up: n };
        if (k.includes('\0')) bad(child);
        todo.push(child);
      }
    }
  }
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
