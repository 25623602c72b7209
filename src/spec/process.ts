// A process.json (what `exec --process FILE` reads, what podman's conmon
// writes): checked with the same generated validator as config.json, by
// placing it where a config holds its process, so its rules never drift.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { parseJson } from './load';
import type { Process } from './types';
import { validateConfig } from './validate';

export function validateProcess(raw: unknown, what: string): Process {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(what, 'must be a JSON object');
  try {
    return validateConfig({ ociVersion: '1.0.0', root: { path: '/' }, process: raw }, what).process!;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    // "process.json: /process/args: …" → "process.json: /args: …"
    throw new UserError(err.message.replace(`${what}: /process/`, `${what}: /`).replace(`${what}: /process:`, `${what}:`));
  }
}

export function loadProcess(file: string): Process {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw new UserError(`--process ${abs}`, errnoText(err));
  }
  return validateProcess(parseJson(text, abs), abs);
}
