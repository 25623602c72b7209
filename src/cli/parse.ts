// The command line: flags, verbs and help text, nothing else, built from the
// one table in options.ts. Every verb hands its parsed arguments to one
// function in ../commands/. Verb modules are loaded lazily so that hot verbs
// (state, start, kill, delete) never load ajv, the schemas or the runner.
import yargs from 'yargs/yargs';
import type { Argv, ArgumentsCamelCase, Options } from 'yargs';
import { UserError } from '../errors';
import { versionText } from '../version';
import { ALL_OPTIONS, GLOBAL_OPTIONS, UNSUPPORTED_VERBS, VERBS, valueWords, type Option, type Verb } from './options';
import { configureFromArgs, verb as verbOf } from './verb';

type Args = ArgumentsCamelCase<Record<string, unknown>>;
const verb = verbOf<Args>;

/** Options that take the next word as their value, so that a scan can tell values from words. */
const VALUE_WORDS = valueWords(ALL_OPTIONS);

/**
 * `exec [options] ID CMD ARG…`: like runc, everything after the id is the
 * command, even words that look like options (`sh -c …`). Returns the argv for
 * yargs (up to the id) and the command.
 */
export function splitExec(argv: string[]): { argv: string[]; command: string[] } {
  const words: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      words.push(i + 1);
      break;
    }
    if (a.startsWith('-')) {
      const o = VALUE_WORDS.get(a);
      if (o && !(o.optionalValue && (argv[i + 1] ?? '-').startsWith('-'))) i++;
      continue;
    }
    words.push(i);
    if (words.length === 2) break;
  }
  if (argv[words[0]] !== 'exec' || words.length < 2) return { argv, command: [] };
  const idAt = words[1];
  const dashdash = argv[idAt - 1] === '--' ? idAt - 1 : -1;
  const head = argv.slice(0, idAt + 1).filter((_, i) => i !== dashdash);
  return { argv: head, command: argv.slice(idAt + 1) };
}

/** One table row as yargs' option settings. */
function yargsOption(o: Option): Options {
  const y: Options = { describe: o.describe, type: o.kind === 'flag' ? 'boolean' : 'string' };
  if (o.alias) y.alias = o.alias;
  if (o.default !== undefined) y.default = o.default;
  if (o.defaultDescription) y.defaultDescription = o.defaultDescription;
  if (o.choices) y.choices = [...o.choices];
  if (o.array) y.array = true;
  if (o.hidden) y.hidden = true;
  // An optional value (`spec --rootless`) is a string without requiresArg.
  if (o.kind === 'value' && !o.optionalValue) y.requiresArg = true;
  return y;
}

function withOptions(y: Argv, options: readonly Option[]): Argv {
  for (const o of options) y.option(o.name, yargsOption(o));
  return y;
}

/** `create [id]`, `kill [id] [signal]`, `exec [id] [args..]`: ids are optional to yargs so that a missing one gets our own message (commands/args.ts). */
function usage(v: Verb): string {
  return [v.name, ...v.positionals.map((p) => (p.rest ? `[${p.name}..]` : `[${p.name}]`))].join(' ');
}

let execCommand: string[] = [];

export function buildCli(fullArgv: string[]): Argv {
  const split = splitExec(fullArgv);
  const argv = split.argv;
  execCommand = split.command;
  const y = yargs(argv)
    .scriptName('ch-run-oci')
    .usage(
      'ch-run-oci [global options] <command> [command options] <container-id>\n\nA runc-compatible, fully unprivileged OCI container runtime.',
    )
    .parserConfiguration({
      // Container ids like "123" and signals like "15" stay strings.
      'parse-positional-numbers': false,
      'parse-numbers': false,
      // runc has real flags called --no-pivot and --no-new-keyring.
      'boolean-negation': false,
      // `exec -e A=1 ID cmd`: a repeatable option takes one word each time, not the id too.
      'greedy-arrays': false,
      'strip-aliased': true,
    });
  withOptions(y, GLOBAL_OPTIONS).middleware((a) => configureFromArgs(a), true);
  for (const v of VERBS) {
    const build = (c: Argv): Argv => {
      for (const p of v.positionals) c.positional(p.name, { type: 'string', describe: p.describe, array: p.rest });
      return withOptions(c, v.options);
    };
    // exec's command is everything after the id, split off before yargs (splitExec).
    const run = v.name === 'exec' ? (a: Args, g: Parameters<typeof v.run>[1]) => v.run({ ...a, args: execCommand }, g) : v.run;
    y.command(usage(v), v.describe, build, verb(v.name, run));
  }
  for (const [name, what] of Object.entries(UNSUPPORTED_VERBS)) {
    y.command(
      `${name} [args..]`,
      `${what} (not supported)`,
      (c) => c.strict(false),
      verb(name, async () => {
        throw new UserError(name, 'not supported');
      }),
    );
  }
  return y
    .demandCommand(1, 'a command is required (see --help)')
    .recommendCommands()
    .strict()
    .version('version', 'print the version, commit and spec version', versionText())
    .alias('version', 'v')
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .showHelpOnFail(false)
    .fail((msg, err) => {
      // yargs reports its own parse errors as YError; anything else is a verb's failure.
      if (err && err.name !== 'YError') throw err;
      throw new UserError(explainFailure(msg ?? err?.message ?? 'invalid command line', argv));
    });
}

/** yargs' messages, reworded to name the offending word the way runc users expect. */
export function explainFailure(msg: string, argv: string[]): string {
  const line = msg.split('\n')[0];
  const unknown = /^Unknown arguments?: (.*)$/.exec(line);
  if (unknown) {
    const word = unknown[1].split(', ')[0];
    const flag = argv.find((a) => a === `--${word}` || a.startsWith(`--${word}=`) || a === `-${word}`);
    if (flag) return `unknown option "${flag.split('=')[0]}"`;
    const first = argv.find((a) => !a.startsWith('-'));
    if (first === word) return `unknown command "${word}" (see --help)`;
    return `unexpected argument "${word}"`;
  }
  if (/^Not enough non-option arguments/.test(line)) return 'a command is required (see --help)';
  const needsValue = /^Not enough arguments following: (.*)$/.exec(line);
  if (needsValue) return `option --${needsValue[1]} needs a value`;
  // Anything else (e.g. "Invalid values: Argument: log-format, Given: …"): one line.
  return msg
    .replace(/\s*\n\s*/g, ' ')
    .replace(/^Invalid values: /, 'invalid value: ')
    .trim();
}

export async function runCli(argv: string[]): Promise<void> {
  await buildCli(argv).parseAsync();
}
