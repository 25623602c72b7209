// The command line: flags, verbs and help text, nothing else. Every verb hands
// its parsed arguments to one function in ../commands/. Verb modules are loaded
// lazily so that hot verbs (state, start, kill, delete) never load ajv, the
// schemas or the runner.
import yargs from 'yargs/yargs';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UserError } from '../errors';
import { versionText } from '../version';
import { configureFromArgs, verb as verbOf } from './verb';

type Args = ArgumentsCamelCase<Record<string, unknown>>;
const verb = verbOf<Args>;

const UNSUPPORTED_VERBS: Record<string, string> = {
  pause: 'pause a container',
  resume: 'resume a paused container',
  checkpoint: 'checkpoint a running container',
  restore: 'restore a checkpointed container',
  update: 'update container resource constraints',
  events: 'display container events',
};

/** The options create and run share (run adds its own). */
function createOptions(c: Argv): Argv {
  return idArg(c)
        .option('bundle', { alias: 'b', type: 'string', default: '.', defaultDescription: 'current directory', describe: 'bundle directory (holds config.json)', requiresArg: true })
        .option('pid-file', { type: 'string', describe: 'write the container process id here', requiresArg: true })
        .option('console-socket', { type: 'string', describe: 'terminal socket (not supported: an error)', requiresArg: true })
        .option('preserve-fds', { type: 'string', default: '0', describe: 'pass this many extra fds (from 3) to the container', requiresArg: true })
    .option('no-pivot', { type: 'boolean', describe: 'move the root into place and chroot instead of pivot_root' })
    .option('no-new-keyring', { type: 'boolean', describe: 'accepted; no session keyring is created' });
}

// Ids are optional to yargs so that a missing one gets our own message (commands/args.ts).
function idArg(y: Argv): Argv {
  return y.positional('id', { type: 'string', describe: 'container id' });
}

// Options that take a value, so that a scan can tell values from words.
const VALUE_OPTIONS = new Set([
  '--root', '--log', '--log-format', '--criu', '--rootless', '--cgroup-manager',
  '--process', '-p', '--pid-file', '--cwd', '--env', '-e', '--user', '-u', '--additional-gids', '-g', '--cap', '-c',
  '--preserve-fds', '--console-socket', '--process-label', '--apparmor', '--cgroup',
]);

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
      if (VALUE_OPTIONS.has(a) && !(a === '--rootless' && (argv[i + 1] ?? '-').startsWith('-'))) i++;
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

let execCommand: string[] = [];

export function buildCli(fullArgv: string[]): Argv {
  const split = splitExec(fullArgv);
  const argv = split.argv;
  execCommand = split.command;
  const y = yargs(argv)
    .scriptName('ch-run-oci')
    .usage('ch-run-oci [global options] <command> [command options] <container-id>\n\nA runc-compatible, fully unprivileged OCI container runtime.')
    .parserConfiguration({
      // Container ids like "123" and signals like "15" stay strings.
      'parse-positional-numbers': false,
      'parse-numbers': false,
      // runc has real flags called --no-pivot and --no-new-keyring.
      'boolean-negation': false,
      'strip-aliased': true,
    })
    .option('root', { type: 'string', describe: 'state root (default: /run/ch-run-oci for root, $XDG_RUNTIME_DIR/ch-run-oci otherwise)', requiresArg: true })
    .option('log', { type: 'string', describe: 'also append messages to this file', requiresArg: true })
    .option('log-format', { choices: ['text', 'json'], describe: 'format of --log lines', requiresArg: true })
    .option('debug', { type: 'boolean', describe: 'show debug notes (ignored fields, steps) and stack traces' })
    .option('systemd-cgroup', { type: 'boolean', describe: 'accepted for runc compatibility; ignored (no cgroups)', hidden: false })
    .option('cgroup-manager', { type: 'string', describe: "accepted for crun compatibility (podman passes it with --cgroups=disabled); ignored (no cgroups)", requiresArg: true })
    // A string, not requiresArg: `spec --rootless` (no value) is the same word as runc's global --rootless VALUE.
    .option('rootless', { type: 'string', describe: 'accepted for runc compatibility (true|false|auto); always rootless' })
    .option('criu', { type: 'string', hidden: true, requiresArg: true })
    .middleware((a) => configureFromArgs(a), true)
    .command('create [id]', 'create a container (it waits for start)', createOptions,
      verb('create', async (a, g) => (await import('../commands/create')).create(a, g)),
    )
    .command('start [id]', 'start the user program of a created container', idArg,
      verb('start', async (a, g) => (await import('../commands/start')).start(a, g)))
    .command('run [id]', 'create, start and wait for a container; exits with its status', (c) =>
      createOptions(c)
        .option('detach', { alias: 'd', type: 'boolean', describe: 'return after start instead of waiting' })
        .option('keep', { type: 'boolean', describe: 'keep the container after it exits' })
        .option('no-subreaper', { type: 'boolean', describe: 'accepted; ignored' }),
      verb('run', async (a, g) => (await import('../commands/run')).run(a, g)))
    .command('state [id]', 'print the state of a container as JSON', idArg,
      verb('state', async (a, g) => (await import('../commands/state')).state(a, g)))
    .command('kill [id] [signal]', 'send a signal to a container (default TERM)', (c) =>
      idArg(c)
        .positional('signal', { type: 'string', describe: 'name (TERM, SIGKILL) or number (15)' })
        .option('all', { alias: 'a', type: 'boolean', describe: 'signal every process of the container' }),
      verb('kill', async (a, g) => (await import('../commands/kill')).kill(a, g)))
    .command('delete [id]', 'delete a stopped (or created) container', (c) =>
      idArg(c).option('force', { alias: 'f', type: 'boolean', describe: 'kill a running container first; no error if it does not exist' }),
      verb('delete', async (a, g) => (await import('../commands/delete')).remove(a, g)))
    .command('list', 'list containers', (c) =>
      c.option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format', requiresArg: true })
        .option('quiet', { alias: 'q', type: 'boolean', describe: 'print ids only' }),
      verb('list', async (a, g) => (await import('../commands/list')).list(a, g)))
    .command('ps [id]', 'list the processes of a container', (c) =>
      idArg(c).option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'output format', requiresArg: true }),
      verb('ps', async (a, g) => (await import('../commands/ps')).ps(a, g)))
    .command('spec', 'write a default config.json for this runtime', (c) =>
      c.option('bundle', { alias: 'b', type: 'string', default: '.', defaultDescription: 'current directory', describe: 'where to write config.json', requiresArg: true })
        .option('rootless', { type: 'string', describe: "runc's rootless layout (user namespace mappings, no network namespace)" }),
      verb('spec', async (a, g) => (await import('../commands/spec')).spec(a, g)))
    .command('features', 'print the OCI features document of this runtime', {},
      verb('features', async (a, g) => (await import('../commands/features')).features(a, g)))
    .command('exec [id] [args..]', 'run one more process in a running container', (c) =>
      idArg(c)
        .positional('args', { type: 'string', array: true, describe: 'command and arguments (or --process FILE)' })
        .option('process', { alias: 'p', type: 'string', describe: 'process.json describing the process', requiresArg: true })
        .option('detach', { alias: 'd', type: 'boolean', describe: 'return once the process runs' })
        .option('pid-file', { type: 'string', describe: 'write the process id here', requiresArg: true })
        .option('cwd', { type: 'string', describe: 'working directory in the container', requiresArg: true })
        .option('env', { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'NAME=VALUE added to the environment', requiresArg: true })
        .option('user', { alias: 'u', type: 'string', describe: 'UID[:GID] in the container', requiresArg: true })
        .option('additional-gids', { alias: 'g', type: 'string', array: true, nargs: 1, describe: 'supplementary group ids', requiresArg: true })
        .option('cap', { alias: 'c', type: 'string', array: true, nargs: 1, describe: 'add a capability', requiresArg: true })
        .option('no-new-privs', { type: 'boolean', describe: 'set no_new_privs' })
        .option('preserve-fds', { type: 'string', default: '0', describe: 'pass this many extra fds (from 3)', requiresArg: true })
        .option('tty', { alias: 't', type: 'boolean', describe: 'terminal (not supported: an error)' })
        .option('console-socket', { type: 'string', describe: 'terminal socket (not supported: an error)', requiresArg: true })
        .option('process-label', { type: 'string', describe: 'accepted; no LSM labels are set', requiresArg: true })
        .option('apparmor', { type: 'string', describe: 'accepted; no AppArmor profile is set', requiresArg: true })
        .option('cgroup', { type: 'string', describe: 'accepted; no cgroups are used', requiresArg: true }),
      verb('exec', async (a, g) => (await import('../commands/exec')).exec({ ...a, args: execCommand }, g)));
  for (const [name, what] of Object.entries(UNSUPPORTED_VERBS)) {
    y.command(`${name} [args..]`, `${what} (not supported)`, (c) => c.strict(false),
      verb(name, async () => { throw new UserError(name, 'not supported'); }));
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
  return msg.replace(/\s*\n\s*/g, ' ').replace(/^Invalid values: /, 'invalid value: ').trim();
}

export async function runCli(argv: string[]): Promise<void> {
  await buildCli(argv).parseAsync();
}
