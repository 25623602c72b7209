import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { startContainer } from '../container/lifecycle';

export async function start(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  await startContainer(openStore(g), containerId(a));
}
