import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId, preserveFds } from './args';
import { UserError } from '../errors';
import { execInContainer, execProcessFromArgs } from '../container/exec';
import type { Process } from '../spec/types';

const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

export async function exec(a: Record<string, unknown>, g: GlobalOptions): Promise<number> {
  const id = containerId(a);
  const store = openStore(g);
  let proc: Process;
  if (a.process !== undefined) {
    const { loadProcess } = await import('../spec/process');
    proc = loadProcess(String(a.process));
  } else {
    const { observe } = await import('../container/transitions');
    const base = observe(store, id).record.process as Process | undefined;
    const gids = list(a.additionalGids).map((g) => {
      if (!/^\d+$/.test(g)) throw new UserError(`--additional-gids "${g}"`, 'must be a number');
      return Number(g);
    });
    proc = execProcessFromArgs(base, {
      args: list(a.args),
      cwd: a.cwd as string | undefined,
      env: list(a.env),
      user: a.user as string | undefined,
      additionalGids: gids,
      noNewPrivs: Boolean(a.noNewPrivs),
      caps: list(a.cap),
      tty: Boolean(a.tty),
    });
  }
  return execInContainer(store, id, proc, {
    detach: Boolean(a.detach),
    pidFile: a.pidFile as string | undefined,
    preserveFds: preserveFds(a),
    consoleSocket: a.consoleSocket === undefined ? undefined : String(a.consoleSocket),
  });
}
