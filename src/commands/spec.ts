import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GlobalOptions } from './global';
import { UserError, errnoText } from '../errors';
import { defaultSpec } from '../spec/defaults';

/** spec: write a default config.json; never overwrites one. */
export async function spec(a: Record<string, unknown>, _g: GlobalOptions): Promise<void> {
  const file = path.resolve(String(a.bundle ?? '.'), 'config.json');
  const text = JSON.stringify(defaultSpec({ rootless: a.rootless !== undefined && a.rootless !== 'false' }), null, 2) + '\n';
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new UserError(file, 'already exists; remove it first');
    throw new UserError(file, errnoText(err));
  }
}
