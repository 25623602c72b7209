// The fast path for the verbs clients call over and over: buildah runs
// create, start, state, delete per RUN step (and state every 100 ms), podman
// create, start, kill, delete per container. Loading and running yargs costs
// more than these verbs themselves, so the plain command lines clients send
// are read here and go straight to the same verb functions.
//
// Rule: this parser either produces exactly the arguments yargs would (the
// same keys, values and defaults; test/unit/cli-parse.test.ts checks
// that against parse.ts) or declines, and yargs reads the line as always.
// Anything unusual declines: help, version, unknown or repeated options, a
// missing id, extra words, values that look like options, `--`, bundled short
// flags. Errors and messages therefore stay yargs' own.
import { GLOBAL_OPTIONS, VERBS as ALL_VERBS, type Args, type Option, type Verb } from './options';
import { configureFromArgs, verb } from './verb';

const byName = (options: readonly Option[]): Record<string, Option> => Object.fromEntries(options.map((o) => [o.name, o]));

// The global options the fast path knows: the plain ones (an option with an
// optional value is left to yargs).
const GLOBALS = byName(GLOBAL_OPTIONS.filter((o) => !o.optionalValue && !o.hidden));

/** The hot verbs (options.ts marks them), with their options by name. */
const VERBS: Record<string, Verb & { byName: Record<string, Option> }> = Object.fromEntries(
  ALL_VERBS.filter((v) => v.fast).map((v) => [v.name, { ...v, byName: byName(v.options) }]),
);

export const FAST_VERBS = Object.keys(VERBS);

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The arguments yargs would give for argv, or undefined when yargs must read it. */
export function parseFast(argv: readonly string[]): Args | undefined {
  let name: string | undefined;
  let spec: (typeof VERBS)[string] | undefined;
  const given = new Map<string, string | true>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    if (!w.startsWith('-')) {
      if (spec) words.push(w);
      else if (Object.prototype.hasOwnProperty.call(VERBS, w)) spec = VERBS[(name = w)];
      else return undefined;
      continue;
    }
    let key: string | undefined;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      key = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (eq >= 0) value = w.slice(eq + 1);
    } else if (w.length === 2 && spec) {
      key = spec.options.find((o) => o.alias === w[1])?.name;
    }
    if (!key) return undefined;
    // Verb options only after the verb; global options anywhere (yargs' globals).
    const opt =
      (spec && Object.prototype.hasOwnProperty.call(spec.byName, key) ? spec.byName[key] : undefined) ??
      (Object.prototype.hasOwnProperty.call(GLOBALS, key) ? GLOBALS[key] : undefined);
    if (!opt || given.has(key)) return undefined;
    if (opt.array) return undefined;
    if (opt.kind === 'flag') {
      // yargs would read a following "true"/"false" as the flag's value.
      if (value !== undefined || argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
      given.set(key, true);
      continue;
    }
    if (value === undefined) value = argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (opt.choices && !opt.choices.includes(value)) return undefined;
    given.set(key, value);
  }
  // A missing id gets our own message from commands/args.ts via yargs.
  if (!spec || words.length === 0 || words.length > spec.positionals.length) return undefined;

  const a: Args = { _: [name!] };
  const set = (k: string, v: string | true): void => {
    a[k] = v;
    a[camel(k)] = v;
  };
  for (const [k, v] of given) set(k, v);
  for (const o of spec.options) if (o.default !== undefined && !given.has(o.name)) set(o.name, o.default);
  words.forEach((w, i) => (a[spec!.positionals[i].name] = w));
  return a;
}

/** Runs argv through the fast path; false when it declined (then yargs must run). */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const a = parseFast(argv);
  if (!a) return false;
  configureFromArgs(a);
  await verb<Args>(String(a._[0]), VERBS[String(a._[0])].run)(a);
  return true;
}
