// Which verbs a container's status allows, in one table (runtime-spec
// runtime.md: start needs `created`, kill `created` or `running`, delete
// `stopped`), and the one way every verb reads a container's status.
import { UserError } from '../errors';
import type { ContainerRecord } from '../state/record';
import { deriveStatus, type Status } from '../state/status';
import type { StateStore } from '../state/store';

export interface Observed {
  record: ContainerRecord;
  status: Status;
  dir: string;
}

/** The stored record and the status derived from the live process. */
export function observe(store: StateStore, id: string): Observed {
  const record = store.read(id);
  const dir = store.dir(id);
  return { record, status: deriveStatus(record, dir), dir };
}

interface Rule {
  allowed: readonly Status[];
  /** The error for any other status (clients match some of these texts). */
  refusal: (status: Status) => string;
}

export const TRANSITIONS = {
  start: { allowed: ['created'], refusal: (s) => `cannot start a container that is ${s}` },
  // runc: pause a created or running container, resume a paused one, update any live one.
  pause: { allowed: ['created', 'running'], refusal: (s) => `cannot pause a container that is ${s}` },
  resume: { allowed: ['paused'], refusal: (s) => `cannot resume a container that is ${s}` },
  update: { allowed: ['created', 'running', 'paused'], refusal: (s) => `cannot update a container that is ${s}` },
  // runc's words: containerd's shim reads "container not running" (and "does
  // not exist") as "already gone", anything else as a failed kill.
  // A paused container takes signals (they are delivered when it thaws), as in runc.
  kill: { allowed: ['created', 'running', 'paused'], refusal: (s) => `container not running (status ${s})` },
  exec: { allowed: ['created', 'running'], refusal: (s) => `cannot exec in a ${s} container` },
  // "creating" seen under the lock is a create that died half-way (create holds
  // the lock until it is done): removed like a stopped one. A created one is
  // killed first: it never ran the user program (as in runc).
  delete: {
    allowed: ['stopped', 'created', 'creating'],
    refusal: (s) => `cannot delete a ${s} container (stop it first or use --force)`,
  },
} as const satisfies Record<string, Rule>;

export type Verb = keyof typeof TRANSITIONS;

/** Throws the verb's refusal, naming the container, unless its status allows the verb. */
export function requireStatus(verb: Verb, id: string, status: Status): void {
  const rule: Rule = TRANSITIONS[verb];
  if (!rule.allowed.includes(status)) throw new UserError(`container "${id}"`, rule.refusal(status));
}
