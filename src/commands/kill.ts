import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { killContainer } from '../container/kill';
import { parseSignal } from '../container/signals';

export async function kill(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const id = containerId(a);
  const signal = parseSignal(a.signal as string | undefined);
  await killContainer(openStore(g), id, signal, Boolean(a.all));
}
