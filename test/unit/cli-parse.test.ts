// The fast path (src/cli/fast.ts) must read a command line exactly as yargs
// (src/cli/parse.ts) does, or decline it. Each accepted line is parsed by
// both and the arguments compared; yargs is stopped just before the verb runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildCli } from '../../src/cli/parse';
import { FAST_VERBS, parseFast } from '../../src/cli/fast';

/** What yargs hands the verb (without $0), or "error: …". */
async function viaYargs(argv: string[]): Promise<unknown> {
  const stop = new Error('stop before the verb');
  let seen: Record<string, unknown> | undefined;
  const y = buildCli(argv)
    .exitProcess(false)
    .middleware((a) => {
      seen = { ...a };
      throw stop;
    });
  try {
    await y.parseAsync();
  } catch (err) {
    if (err !== stop) return `error: ${(err as Error).message}`;
  }
  if (!seen) return 'error: the verb was not reached';
  delete seen.$0;
  return seen;
}

async function agree(argv: string[]): Promise<boolean> {
  const fast = parseFast(argv);
  if (!fast) return false;
  expect(await viaYargs(argv), argv.join(' ')).toEqual(fast);
  return true;
}

// Command lines the clients send (shared/notes/clients.md), which must take the fast path.
const CLIENT_LINES = [
  'create --bundle /var/tmp/buildah1 --pid-file /var/tmp/buildah1/pid buildah-buildah1',
  'create --bundle /var/tmp/buildah1 --pid-file /var/tmp/buildah1/pid --no-new-keyring buildah-buildah1',
  'start buildah-buildah1',
  'state buildah-buildah1',
  'kill buildah-buildah1 SIGKILL',
  'delete buildah-buildah1',
  '--log-format=json --log /u/oci-log create --bundle /u --pid-file /r/pidfile 0123abc',
  '--log-format json --log /u/oci-log create --bundle /u --pid-file /r/pidfile --console-socket /s 0123abc',
  'kill 0123abc 15',
  'kill 0123abc 9',
  'delete --force 0123abc',
  'delete -f 0123abc',
  '--root /run/x --debug state c1',
  '--systemd-cgroup kill --all c1 TERM',
  '--cgroup-manager disabled start c1',
  '--cgroup-manager=disabled --log-format=json --log /u/oci-log create --bundle /u --pid-file /r/pidfile c1',
  'kill -a c1',
  'create -b . --preserve-fds 2 --no-pivot c1',
  'create c1 --bundle=/b',
  'state --root /q c1',
  'state 123',
];

// Lines yargs must read (help, errors, unusual forms).
const DECLINED = [
  '',
  '--help',
  'state',
  'state --help',
  '--version',
  'state a b',
  'kill a 9 x',
  'delete --force true',
  'delete --force=true x',
  'create --bundle',
  'create --bundle -x c1',
  'create --bundle= c1',
  '--root x --root y state c',
  '-f delete c',
  'delete -af c',
  'state -- c',
  'state - c',
  '--log-format xml state c',
  'list',
  'run c',
  'exec c sh',
  '--rootless true state c',
  'spec',
  'state --bundle /b c',
  'frobnicate c',
  '--criu x state c',
  'state -1',
];

describe('fast path', () => {
  it.each(CLIENT_LINES)('takes and agrees with yargs: %s', async (line) => {
    expect(await agree(line.split(' '))).toBe(true);
  });

  it.each(DECLINED)('declines: "%s"', (line) => {
    expect(parseFast(line.split(' ').filter(Boolean))).toBeUndefined();
  });

  it('agrees with yargs on every line it takes (random lines)', async () => {
    // Mostly well-formed lines (globals, a verb, its options and words), with
    // noise mixed in, so both sides of the decision are exercised.
    const noise = ['true', 'false', '', '-x', '--', '--help', 'list', '--rootless', 'x=y'];
    const globalWord = fc.constantFrom(
      '--root',
      '/r',
      '--root=/r',
      '--log',
      '/l',
      '--log=/l',
      '--log-format',
      'json',
      '--log-format=text',
      '--debug',
      '--systemd-cgroup',
      '--cgroup-manager',
      'disabled',
      '--cgroup-manager=systemd',
    );
    const verbWord = fc.constantFrom(
      'c1',
      '123',
      '9',
      'SIGKILL',
      '.',
      '/b',
      '--bundle',
      '-b',
      '--bundle=/b',
      '--pid-file',
      '--console-socket',
      '--preserve-fds',
      '--preserve-fds=3',
      '--no-pivot',
      '--no-new-keyring',
      '--force',
      '-f',
      '--all',
      '-a',
      '--debug',
      '--root',
      '--log-format=json',
    );
    const line = fc
      .tuple(
        fc.array(fc.oneof({ arbitrary: globalWord, weight: 9 }, { arbitrary: fc.constantFrom(...noise), weight: 1 }), { maxLength: 3 }),
        fc.constantFrom(...FAST_VERBS),
        fc.array(fc.oneof({ arbitrary: verbWord, weight: 9 }, { arbitrary: fc.constantFrom(...noise), weight: 1 }), {
          minLength: 1,
          maxLength: 5,
        }),
      )
      .map(([pre, v, post]) => [...pre, v, ...post]);
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(line, async (argv) => {
        if (await agree(argv)) taken++;
      }),
      { numRuns: 2000 },
    );
    // The generator must exercise the accepting side, not only declines.
    expect(taken).toBeGreaterThan(40);
  });

  it('agrees with yargs on well-formed lines in any order (random lines)', async () => {
    const valued = (name: string, values: string[]) =>
      fc.tuple(fc.constantFrom(...values), fc.boolean()).map(([v, eq]) => (eq ? [`${name}=${v}`] : [name, v]));
    const maybe = (a: fc.Arbitrary<string[]>) => fc.option(a, { nil: undefined });
    // Each global option absent, before the verb or after it.
    const globals = fc.tuple(
      ...[
        valued('--root', ['/r', 'state']),
        valued('--log', ['/l']),
        valued('--log-format', ['json', 'text']),
        fc.constant<string[]>(['--debug']),
        fc.constant<string[]>(['--systemd-cgroup']),
      ].map((a) => fc.tuple(maybe(a), fc.boolean())),
    );
    const optionsOf: Record<string, fc.Arbitrary<string[]>[]> = {
      create: [
        fc.oneof(valued('--bundle', ['/b', '.']), valued('-b', ['/b'])),
        valued('--pid-file', ['/p']),
        valued('--console-socket', ['/s']),
        valued('--preserve-fds', ['0', '2', 'x']),
        fc.constant<string[]>(['--no-pivot']),
        fc.constant<string[]>(['--no-new-keyring']),
      ],
      kill: [fc.constantFrom(['--all'], ['-a'])],
      delete: [fc.constantFrom(['--force'], ['-f'])],
    };
    const line = fc.constantFrom(...FAST_VERBS).chain((verb) =>
      fc
        .record({
          globals,
          opts: fc.tuple(...(optionsOf[verb] ?? []).map(maybe)),
          words: fc.constantFrom(['c1'], ['123'], ['c1', '9'], ['c1', 'KILL']),
        })
        .chain((r) => {
          const pre = r.globals.filter(([g, before]) => g && before).map(([g]) => g!);
          const post = r.globals.filter(([g, before]) => g && !before).map(([g]) => g!);
          const groups = [...r.opts, ...post, ...r.words.map((w) => [w])].filter((g): g is string[] => g !== undefined);
          return fc.shuffledSubarray(groups, { minLength: groups.length }).map((rest) => [...pre.flat(), verb, ...rest.flat()]);
        }),
    );
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(line, async (argv) => {
        if (await agree(argv)) taken++;
      }),
      { numRuns: 1500 },
    );
    expect(taken).toBeGreaterThan(300);
    // 1,500 yargs runs: seconds on a busy 2-core machine.
  }, 60_000);
});

describe('exec command lines', () => {
  it('a repeatable option takes one word each time: the id and the command stay theirs', async () => {
    const seen = (await viaYargs(['exec', '-e', 'A=1', '--env', 'B=2', 'c1', 'sh', '-c', 'echo'])) as Record<string, unknown>;
    expect(seen.env).toEqual(['A=1', 'B=2']);
    expect(seen.id).toBe('c1');
  });
});
