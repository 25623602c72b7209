// Entry point. Every failure ends here as one line on stderr (and in --log),
// exit status 1; the stack trace only under --debug.
import { UserError } from './errors';
import { error, isDebug } from './log';
import { runCli } from './cli/parse';

async function main(): Promise<void> {
  try {
    await runCli(process.argv.slice(2));
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
