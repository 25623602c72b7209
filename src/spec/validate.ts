// config.json validation: the version check, then the validator generated at
// build time from schemas/*.schema.json (ajv standalone: no schema compiling
// at run time, which would cost ~300 ms per create), then the few rules a
// JSON schema cannot say. Every failure is one line naming the JSON path.
import type { ErrorObject } from 'ajv';
import { UserError } from '../errors';
import type { OciConfig, OciState } from './types';
import { checkVersion } from './version';

/** What ajv's standalone code exports: a predicate that leaves its reasons in `.errors`. */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export interface Validators {
  validateConfig: Validator;
  validateState: Validator;
  validateFeatures: Validator;
}

let validators: Validators | undefined;

/** Tests (and nothing else) may supply validators compiled from the schemas at run time. */
export function useValidators(v: Validators | undefined): void {
  validators = v;
}

function generated(): Validators {
  // Loaded on first use so commands that never read a config (state, kill…) don't pay for it.
  validators ??= require('./generated/validators') as Validators;
  return validators;
}

export function validateConfig(raw: unknown, what = 'config.json'): OciConfig {
  if (!isObject(raw)) throw new UserError(what, `must be a JSON object, not ${kindOf(raw)}`);
  checkVersion(raw, what);
  const v = generated().validateConfig;
  if (!v(raw)) throw new UserError(...explain(v.errors ?? [], raw, what));
  const config = raw as OciConfig;
  checkNamespacesUnique(config, what);
  return config;
}

/** Checks a state document (what `state` prints) against schemas/state.schema.json. */
export function validateState(obj: unknown, what = 'state'): OciState {
  const v = generated().validateState;
  if (!v(obj)) throw new UserError(...explain(v.errors ?? [], obj, what));
  return obj as OciState;
}

/** Checks a `features` document against schemas/features.schema.json. */
export function validateFeatures(obj: unknown, what = 'features'): void {
  const v = generated().validateFeatures;
  if (!v(obj)) throw new UserError(...explain(v.errors ?? [], obj, what));
}

// config-linux.md: a namespace type given twice is an error the schema can't express.
function checkNamespacesUnique(config: OciConfig, what: string): void {
  const seen = new Set<string>();
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    if (seen.has(ns.type)) throw new UserError(`${what}: /linux/namespaces/${i}`, `duplicate namespace type "${ns.type}"`);
    seen.add(ns.type);
  });
}

/**
 * Turns ajv's error list into [where, why] for UserError. ajv may report
 * several errors (and anyOf/oneOf summaries); the deepest concrete one is the
 * one that tells the user what to fix.
 */
export function explain(errors: readonly ErrorObject[], data: unknown, what: string): [string, string] {
  const concrete = errors.filter((e) => !COMBINATORS.has(e.keyword));
  const pool = concrete.length > 0 ? concrete : errors;
  if (pool.length === 0) return [what, 'does not match the schema'];
  let best = pool[0];
  for (const e of pool) if (depth(e.instancePath) > depth(best.instancePath)) best = e;
  const where = best.instancePath === '' ? what : `${what}: ${best.instancePath}`;
  return [where, describe(best, valueAt(data, best.instancePath))];
}

const COMBINATORS = new Set(['anyOf', 'oneOf', 'allOf', 'if', 'then', 'else', 'not', '$ref']);

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

// Plain words for the patterns our schemas use; anything else falls back to the regex.
const PATTERN_WORDS: Record<string, string> = {
  '^RLIMIT_[A-Z]+$': 'must be a resource limit name such as "RLIMIT_NOFILE"',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size such as "2MB" or "1GB"',
  '^[cbup]$': 'must be one of "c", "b", "u", "p"',
  '^[0-9, -]*$': 'must be a CPU list such as "0-3,7"',
  '^MB:[^\\n]*$': 'must start with "MB:" and be one line',
  '^CAP_[A-Z_]+$': 'must be a capability name such as "CAP_CHOWN"',
  '^/': 'must be an absolute path',
};

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function describe(e: ErrorObject, value: unknown): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `missing required property "${String(p.missingProperty)}"`;
    case 'type': {
      const types = String(p.type).split(',');
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}, not ${kindOf(value)}`;
    }
    case 'minItems':
      return p.limit === 1 ? 'must be a non-empty array' : `must have at least ${String(p.limit)} items`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} items`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${Number.isInteger(value) ? 'an integer ' : ''}${String(p.comparison)} ${boundText(p.limit)}`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}, not ${JSON.stringify(value)}`;
    case 'pattern':
      return PATTERN_WORDS[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return e.message ?? `fails the "${e.keyword}" rule`;
  }
}

// 2^63 and 2^64 are not exact doubles; print the integer limits users know.
function boundText(limit: unknown): string {
  if (limit === 2 ** 63) return '9223372036854775807';
  if (limit === -(2 ** 63)) return '-9223372036854775808';
  if (limit === 2 ** 64) return '18446744073709551615';
  return String(limit);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
