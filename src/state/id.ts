// Container ids name a directory under the state root, so they must be a
// single safe path component. The rule is runc's in spirit: a letter or digit
// first, then letters, digits and "_.+-"; at most 1024 characters.
import { UserError } from '../errors';

export const MAX_ID_LENGTH = 1024;
const ECHO_LIMIT = 64;
const FIRST = /^[A-Za-z0-9]/;
const ALLOWED = /^[A-Za-z0-9_.+-]*$/;

/** The id as it appears in a message: escaped, and cut so a huge id cannot flood the line. */
export function echoId(id: string): string {
  const cut = id.length > ECHO_LIMIT ? id.slice(0, ECHO_LIMIT) + '…' : id;
  // JSON escaping makes NUL, newlines and quotes visible; drop the outer quotes.
  return JSON.stringify(cut).slice(1, -1);
}

/** Returns the id when it is valid; otherwise throws `container id "X": why`. */
export function checkId(id: unknown): string {
  if (typeof id !== 'string') {
    throw new UserError('container id', id === undefined ? 'missing' : `must be a string, not ${typeof id}`);
  }
  const why = idProblem(id);
  if (why) throw new UserError(`container id "${echoId(id)}"`, why);
  return id;
}

function idProblem(id: string): string | undefined {
  if (id === '') return 'must not be empty';
  if (id.length > MAX_ID_LENGTH) return `longer than ${MAX_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return 'is a reserved name';
  if (id.includes('/')) return 'must not contain "/"';
  if (id.includes('\0')) return 'must not contain NUL';
  if (/\s/.test(id)) return 'must not contain whitespace';
  if (!FIRST.test(id)) return 'must start with a letter or digit';
  if (!ALLOWED.test(id)) {
    const bad = [...id].find((c) => !ALLOWED.test(c)) ?? '';
    return `character ${JSON.stringify(bad)} is not allowed (use letters, digits, "_", ".", "+", "-")`;
  }
  return undefined;
}
