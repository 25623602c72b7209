// What every verb goes through, whichever parser read the command line:
// yargs (parse.ts) or the fast path for the hot verbs (fast.ts). Kept apart
// from parse.ts so that the fast path never loads yargs.
import { configureLog, debug, openLogFile } from '../log';
import type { GlobalOptions } from '../commands/global';
import { GLOBAL_OPTIONS, VERBS } from './options';

/** --log, --log-format, --debug: applied before anything else runs. */
export function configureFromArgs(a: Record<string, unknown>): void {
  configureLog({
    file: a.log as string | undefined,
    format: (a.logFormat as 'text' | 'json' | undefined) ?? 'text',
    debug: Boolean(a.debug),
  });
}

function globals(a: Record<string, unknown>): GlobalOptions {
  return {
    root: a.root as string | undefined,
    debug: Boolean(a.debug),
  };
}

/** Wraps a verb: applies global options, honours CH_RUN_OCI_HANG, then runs the verb module. */
export function verb<A extends Record<string, unknown>>(name: string, run: (a: A, g: GlobalOptions) => Promise<number | void>) {
  return async (a: A): Promise<void> => {
    // A --log that cannot be a log fails the verb before it does anything.
    openLogFile();
    const g = globals(a);
    // Options runc accepts that mean nothing here: accepted and noted under --debug.
    const own = VERBS.find((v) => v.name === name)?.options ?? [];
    for (const o of [...GLOBAL_OPTIONS, ...own]) if (o.ignored && a[o.name] !== undefined) debug(`ignoring --${o.name}`);
    if (a.rootless !== undefined && name !== 'spec') debug(`--rootless ${String(a.rootless)}: always rootless here`);
    if (process.env.CH_RUN_OCI_HANG === name) await hang(name);
    const code = await run(a, g);
    if (typeof code === 'number') process.exitCode = code;
  };
}

/** CH_RUN_OCI_HANG=<verb>: stop here so a person can inspect a build mid-step. */
function hang(name: string): Promise<never> {
  process.stderr.write(`ch-run-oci: CH_RUN_OCI_HANG=${name}: pid ${process.pid} sleeping; kill it to continue\n`);
  return new Promise(() => setInterval(() => undefined, 1 << 30));
}
