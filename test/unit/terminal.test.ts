import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { checkTerminal, planTerminal } from '../../src/container/terminal';
import { planRecords } from '../../src/runner/protocol';

const NEED_SOCKET = new UserError('cannot allocate tty if ch-run-oci will detach without setting console socket');
const NO_USE = new UserError('cannot use console socket if ch-run-oci will not detach or allocate tty');

describe("checkTerminal (runc's rules)", () => {
  it('a detached terminal needs a console socket', () => {
    expect(() => checkTerminal(true, true, undefined)).toThrow(NEED_SOCKET);
    expect(() => checkTerminal(true, true, '')).toThrow(NEED_SOCKET);
    expect(() => checkTerminal(true, true, '/run/x.sock')).not.toThrow();
  });

  it('a console socket needs a terminal and a detached process', () => {
    expect(() => checkTerminal(false, true, '/run/x.sock')).toThrow(NO_USE);
    expect(() => checkTerminal(true, false, '/run/x.sock')).toThrow(NO_USE);
    expect(() => checkTerminal(false, false, '/run/x.sock')).toThrow(NO_USE);
  });

  it('the foreground relays; no terminal needs nothing', () => {
    expect(() => checkTerminal(true, false, undefined)).not.toThrow();
    expect(() => checkTerminal(false, false, undefined)).not.toThrow();
    expect(() => checkTerminal(false, true, undefined)).not.toThrow();
  });
});

describe('planTerminal', () => {
  it('is undefined without process.terminal', () => {
    expect(planTerminal({ cwd: '/', args: ['sh'] }, undefined, true)).toBeUndefined();
    expect(planTerminal(undefined, undefined, true)).toBeUndefined();
  });

  it('refuses a consoleSize a terminal cannot hold, naming the field', () => {
    const proc = { cwd: '/', args: ['sh'], terminal: true, consoleSize: { height: 24, width: 65536 } };
    expect(() => planTerminal(proc, undefined, true)).toThrow('process.consoleSize.width: 65536 is more than a terminal holds (65535)');
    expect(planTerminal({ ...proc, consoleSize: { height: 65535, width: 65535 } }, undefined, true)?.rows).toBe(65535);
  });

  it('takes consoleSize and an absolute socket path', () => {
    const t = planTerminal({ cwd: '/', args: ['sh'], terminal: true, consoleSize: { height: 33, width: 101 } }, 'rel/x.sock', true);
    expect(t).toEqual({ rows: 33, cols: 101, console: true, socket: `${process.cwd()}/rel/x.sock` });
    expect(planTerminal({ cwd: '/', args: ['sh'], terminal: true }, undefined, false)).toEqual({
      rows: 0,
      cols: 0,
      console: false,
      socket: undefined,
    });
  });

  it('becomes the terminal and console-socket records', () => {
    const plan = {
      kind: 'exec' as const,
      wait: false,
      preserveFds: 0,
      joins: [],
      ids: { uid: 0, gid: 0, groups: null },
      process: {
        args: ['sh'],
        env: [],
        searchPath: '/bin',
        cwd: '/',
        umask: 0o22,
        rlimits: [],
        noNewPrivileges: false,
        caps: { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n },
        homeFromPasswd: false,
      },
      target: { pid: 1, startTime: '1' },
      terminal: { rows: 24, cols: 80, console: false, socket: '/run/x.sock' },
    };
    const recs = planRecords(plan);
    expect(recs).toContainEqual(['terminal', '24', '80', '0']);
    expect(recs).toContainEqual(['console-socket', '/run/x.sock']);
    expect(planRecords({ ...plan, terminal: undefined }).some((r) => r[0] === 'terminal' || r[0] === 'console-socket')).toBe(false);
  });
});
