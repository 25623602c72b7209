// Entry point. Every failure ends here as one line on stderr (and in --log),
// exit status 1; the stack trace only under --debug.
import { UserError } from './errors';
import { error, isDebug } from './log';
import { runFast } from './cli/fast';

async function main(): Promise<void> {
  try {
    // The hot verbs' usual command lines skip yargs (cli/fast.ts); everything
    // else, and anything unusual, goes through the full command line.
    const argv = process.argv.slice(2);
    if (!(await runFast(argv))) await (await import('./cli/parse')).runCli(argv);
  } catch (err) {
    if (err instanceof UserError) {
      error(err.message);
    } else {
      const e = err as Error;
      error(`internal error: ${e && e.message ? e.message.split('\n')[0] : String(err)}`);
    }
    if (isDebug() && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = 1;
  }
}

void main();
