import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId, noTerminal, preserveFds } from './args';
import { createContainer } from '../container/lifecycle';

export async function create(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const id = containerId(a);
  await createContainer(openStore(g), {
    id,
    bundle: String(a.bundle),
    pidFile: a.pidFile as string | undefined,
    consoleSocket: noTerminal(a),
    preserveFds: preserveFds(a),
    noPivot: Boolean(a.noPivot),
    wait: false,
  });
}
