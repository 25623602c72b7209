// Global set-up of the hardening suite: the integration set-up (test user,
// built executable) plus the harden-reaper helper.
import integrationSetup from '../setup';
import { buildReaper } from '../helpers/fuzz';

export default function setup(): () => void {
  const teardown = integrationSetup();
  buildReaper();
  return teardown;
}
