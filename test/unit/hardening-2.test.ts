// Pure pieces of the second security round: the runner's report lines, the
// report time bound, ps's escaping, the recorded user namespace, the keyring
// record.
import { describe, expect, it } from 'vitest';
import { parseEarlyPid, parseReport, reportTimeoutMs, REPORT_TIMEOUT_ENV } from '../../src/runner/launch';
import { printableCommand } from '../../src/commands/ps';
import { recordedUserNs } from '../../src/container/processes';
import { planRecords } from '../../src/runner/protocol';
import { buildExecPlan } from '../../src/container/exec-plan';
import { parseIdMap } from '../../src/container/idmap';
import type { ContainerRecord } from '../../src/state/record';

describe('runner reports', () => {
  it('"ok PID USERNS" carries the user namespace inode; "ok PID" still parses', () => {
    expect(parseReport('ok 1234 4026532841')).toEqual({ pid: 1234, userNs: 4026532841 });
    expect(parseReport('ok 1234')).toEqual({ pid: 1234 });
    expect(parseReport('ok 1234 x')).toHaveProperty('error');
  });
  it('"pid PID" comes first, for clean-up only', () => {
    expect(parseEarlyPid('pid 77')).toBe(77);
    expect(parseEarlyPid('ok 77')).toBeUndefined();
    expect(parseEarlyPid('pid 7 7')).toBeUndefined();
  });
  it('the wait for the runner is bounded: 20 s, or the hidden override in seconds', () => {
    expect(reportTimeoutMs({})).toBe(20_000);
    expect(reportTimeoutMs({ [REPORT_TIMEOUT_ENV]: '2' })).toBe(2_000);
    expect(reportTimeoutMs({ [REPORT_TIMEOUT_ENV]: '0.5' })).toBe(500);
    for (const bad of ['0', '-1', 'x', '']) expect(reportTimeoutMs({ [REPORT_TIMEOUT_ENV]: bad })).toBe(20_000);
  });
});

describe('ps command lines', () => {
  it('joins argv with spaces and turns control and invisible formatting characters into "?"', () => {
    expect(printableCommand('sleep\u0000100\u0000')).toBe('sleep 100');
    expect(printableCommand('sh\u0000x\n1  /usr/sbin/sshd -D\u001b]0;t\u0007\u001b[2J\u0000')).toBe('sh x?1  /usr/sbin/sshd -D?]0;t??[2J');
    expect(printableCommand('a\u0085b\u009bc\u007fd\u202ee\u2028f\u200bg\ufffd')).toBe('a?b?c?d?e?f?g?');
    expect(printableCommand('grüße 日本')).toBe('grüße 日本');
  });
});

describe('the recorded user namespace', () => {
  const rec = (user?: string) => ({ ns: user === undefined ? undefined : { user } }) as unknown as ContainerRecord;
  it('is the inode of "user:[N]", 0 when unknown', () => {
    expect(recordedUserNs(rec('user:[4026532841]'))).toBe(4026532841);
    expect(recordedUserNs(rec(''))).toBe(0);
    expect(recordedUserNs(rec())).toBe(0);
    expect(recordedUserNs(rec('user:[1]x'))).toBe(0);
  });
});

describe('the session keyring record', () => {
  const view = {
    pid: 42,
    startTime: '1',
    namespaces: ['user' as const],
    uidMap: parseIdMap('0 1000 1'),
    gidMap: parseIdMap('0 1000 1'),
    setgroups: false,
  };
  it("exec joins the container's keyring by name, or keeps the caller's without one", () => {
    const plan = buildExecPlan({ args: ['true'], cwd: '/' } as never, view, { wait: false, preserveFds: 0 });
    expect(planRecords(plan).find((r) => r[0] === 'keyring')).toBeUndefined();
    expect(planRecords({ ...plan, keyring: 'c1' }).find((r) => r[0] === 'keyring')).toEqual(['keyring', 'c1']);
  });
});
