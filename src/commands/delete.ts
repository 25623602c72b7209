import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { deleteContainer } from '../container/delete';

// "delete" is a reserved word: the verb's function is called remove.
export async function remove(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  await deleteContainer(openStore(g), containerId(a), Boolean(a.force));
}
