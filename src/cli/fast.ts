// The fast path for the verbs clients call over and over: buildah runs
// create, start, state, delete per RUN step (and state every 100 ms), podman
// create, start, kill, delete per container. Loading and running yargs costs
// more than these verbs themselves, so the plain command lines clients send
// are read here and go straight to the same verb functions.
//
// Rule: this parser either produces exactly the arguments yargs would (the
// same keys, values and defaults; test/unit/bench-fastpath.test.ts checks
// that against parse.ts) or declines, and yargs reads the line as always.
// Anything unusual declines: help, version, unknown or repeated options, a
// missing id, extra words, values that look like options, `--`, bundled short
// flags. Errors and messages therefore stay yargs' own.
import type { GlobalOptions } from '../commands/global';
import { configureFromArgs, verb, type Args } from './verb';

interface OptionSpec {
  /** A flag takes no value; `value` options take the next word or `=VALUE`. */
  kind: 'flag' | 'value';
  alias?: string;
  /** yargs' default, present in the arguments even when the option is not given. */
  default?: string;
  choices?: readonly string[];
}

type Run = (a: Args, g: GlobalOptions) => Promise<number | void>;

interface VerbSpec {
  positionals: readonly string[];
  options: Record<string, OptionSpec>;
  run: Run;
}

const GLOBALS: Record<string, OptionSpec> = {
  root: { kind: 'value' },
  log: { kind: 'value' },
  'log-format': { kind: 'value', choices: ['text', 'json'] },
  debug: { kind: 'flag' },
  'systemd-cgroup': { kind: 'flag' },
  'cgroup-manager': { kind: 'value' },
};

// Loaders as in parse.ts: a verb's module is loaded only when it runs.
const VERBS: Record<string, VerbSpec> = {
  state: { positionals: ['id'], options: {}, run: async (a, g) => (await import('../commands/state')).state(a, g) },
  start: { positionals: ['id'], options: {}, run: async (a, g) => (await import('../commands/start')).start(a, g) },
  kill: {
    positionals: ['id', 'signal'],
    options: { all: { kind: 'flag', alias: 'a' } },
    run: async (a, g) => (await import('../commands/kill')).kill(a, g),
  },
  delete: {
    positionals: ['id'],
    options: { force: { kind: 'flag', alias: 'f' } },
    run: async (a, g) => (await import('../commands/delete')).remove(a, g),
  },
  create: {
    positionals: ['id'],
    options: {
      bundle: { kind: 'value', alias: 'b', default: '.' },
      'pid-file': { kind: 'value' },
      'console-socket': { kind: 'value' },
      'preserve-fds': { kind: 'value', default: '0' },
      'no-pivot': { kind: 'flag' },
      'no-new-keyring': { kind: 'flag' },
    },
    run: async (a, g) => (await import('../commands/create')).create(a, g),
  },
};

export const FAST_VERBS = Object.keys(VERBS);

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The arguments yargs would give for argv, or undefined when yargs must read it. */
export function parseFast(argv: readonly string[]): Args | undefined {
  let name: string | undefined;
  let spec: VerbSpec | undefined;
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
      key = Object.keys(spec.options).find((k) => spec!.options[k].alias === w[1]);
    }
    if (!key) return undefined;
    // Verb options only after the verb; global options anywhere (yargs' globals).
    const opt = (spec && Object.prototype.hasOwnProperty.call(spec.options, key) ? spec.options[key] : undefined) ??
      (Object.prototype.hasOwnProperty.call(GLOBALS, key) ? GLOBALS[key] : undefined);
    if (!opt || given.has(key)) return undefined;
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
  for (const [k, o] of Object.entries(spec.options)) if (o.default !== undefined && !given.has(k)) set(k, o.default);
  words.forEach((w, i) => (a[spec!.positionals[i]] = w));
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
