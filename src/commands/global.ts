// What every verb gets from the global options.
import { resolveStateRoot } from '../state/root';
import { StateStore } from '../state/store';

export interface GlobalOptions {
  root?: string;
  debug: boolean;
}

export function openStore(g: GlobalOptions): StateStore {
  return new StateStore(resolveStateRoot(g.root));
}
