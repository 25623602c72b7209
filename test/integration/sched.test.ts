// The per-process kernel settings of the runtime-spec, seen from inside the
// container: a time namespace and its offsets, process.scheduler,
// process.ioPriority, process.execCPUAffinity (exec), linux.memoryPolicy, and
// the one-line errors where the kernel refuses. As root and as an unprivileged
// user without subuids.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { chroci, scratch, makeBundle, type As } from '../helpers/runtime';

/** Fields of /proc/PID/stat by their man-page number (1-based), past the command name. */
function statFields(line: string): Record<number, string> {
  const rest = line
    .slice(line.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  const out: Record<number, string> = {};
  rest.forEach((v, i) => (out[i + 3] = v));
  return out;
}

const STAT = { priority: 18, nice: 19, rtPriority: 40, policy: 41 };
const hostTimeNs = fs.readlinkSync('/proc/self/ns/time');
const hostUptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
/** cgroup v1 with real-time groups: the container's cpu cgroup needs runtime for SCHED_FIFO. */
const rtGroups = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');
const twoCpus = os.cpus().length >= 2;
const numa = fs.existsSync('/proc/self/numa_maps');

describe.each<As>(['root', 'user'])('scheduling and time as %s', (as) => {
  const run = (edit: (c: any) => void, ...flags: string[]) => {
    const root = scratch(as);
    const bundle = makeBundle(as, edit);
    const r = chroci(['--root', root, ...flags, 'run', '--bundle', bundle, 'sc'], { as });
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
    return r;
  };

  it('a time namespace with offsets: /proc/uptime shifted by boottime, its own /proc/self/ns/time', () => {
    const before = hostUptime();
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/uptime; readlink /proc/self/ns/time'];
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 }, monotonic: { secs: 3600, nanosecs: 5 } };
    }, '--debug');
    const after = hostUptime();
    expect(r.status).toBe(0);
    const [uptime, ns] = r.stdout.trim().split('\n');
    const inside = Number(uptime.split(' ')[0]);
    expect(inside).toBeGreaterThanOrEqual(before + 86400);
    expect(inside).toBeLessThanOrEqual(after + 86400 + 1);
    expect(ns).toMatch(/^time:\[\d+\]$/);
    expect(ns).not.toBe(hostTimeNs);
    expect(r.stderr).toContain('ch-run-oci: debug: linux.timeOffsets: set');
  });

  it('a time namespace without offsets is a new one with the host clocks', () => {
    const before = hostUptime();
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/uptime; readlink /proc/self/ns/time'];
      c.linux.namespaces.push({ type: 'time' });
    });
    expect(r.status).toBe(0);
    const [uptime, ns] = r.stdout.trim().split('\n');
    expect(Number(uptime.split(' ')[0])).toBeLessThan(before + 60);
    expect(ns).not.toBe(hostTimeNs);
  });

  it('offsets without a new time namespace: one line naming the field', () => {
    const r = run((c) => (c.linux.timeOffsets = { boottime: { secs: 5 } }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ch-run-oci: config.json: \/linux\/timeOffsets: offsets need a new time namespace[^\n]*\n$/);
  });

  it('an offset the kernel refuses (boottime far before boot): one line naming the field', () => {
    const r = run((c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: -1e12 } };
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ch-run-oci: linux.timeOffsets: write \/proc\/self\/timens_offsets: [^\n]+\n$/);
  });

  it('SCHED_BATCH with a higher nice and best-effort I/O priority 6, in /proc/self/stat and ionice', () => {
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/stat; busybox ionice -p $$'];
      c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    }, '--debug');
    expect(r.status).toBe(0);
    const [stat, ionice] = r.stdout.trim().split('\n');
    const f = statFields(stat);
    expect(f[STAT.policy]).toBe('3');
    expect(f[STAT.nice]).toBe('7');
    expect(ionice).toBe('best-effort: prio 6');
    expect(r.stderr).toContain('debug: process.scheduler: SCHED_BATCH nice 7 set');
    expect(r.stderr).toContain('debug: process.ioPriority: IOPRIO_CLASS_BE 6 set');
  });

  it('SCHED_IDLE and the idle I/O class, inherited by the program', () => {
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/stat; busybox ionice -p $$'];
      c.process.scheduler = { policy: 'SCHED_IDLE' };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
    });
    expect(r.status).toBe(0);
    const [stat, ionice] = r.stdout.trim().split('\n');
    expect(statFields(stat)[STAT.policy]).toBe('5');
    expect(ionice).toBe('idle');
  });

  it('SCHED_FIFO and IOPRIO_CLASS_RT: applied for root, one line naming the field for a user', () => {
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/stat; busybox ionice -p $$'];
      c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 2 };
      if (rtGroups && as === 'root')
        c.linux.resources = { ...c.linux.resources, cpu: { realtimeRuntime: 100000, realtimePeriod: 1000000 } };
    });
    if (as === 'root') {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const [stat, ionice] = r.stdout.trim().split('\n');
      const f = statFields(stat);
      expect(f[STAT.policy]).toBe('1');
      expect(f[STAT.rtPriority]).toBe('10');
      expect(ionice).toBe('realtime: prio 2');
    } else {
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^ch-run-oci: process.scheduler: sched_setattr SCHED_FIFO priority 10 \([^\n]*\): operation not permitted\n$/,
      );
    }
  });

  it('a lower nice value: applied for root, refused for a user', () => {
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/stat'];
      c.process.scheduler = { policy: 'SCHED_OTHER', nice: -5 };
    });
    if (as === 'root') {
      expect(r.status).toBe(0);
      expect(statFields(r.stdout.trim())[STAT.nice]).toBe('-5');
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('ch-run-oci: process.scheduler: sched_setattr SCHED_OTHER nice -5: operation not permitted\n');
    }
  });

  it('IOPRIO_CLASS_RT alone: refused for a user, naming the field', () => {
    if (as === 'root') return;
    const r = run((c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 0 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('ch-run-oci: process.ioPriority: ioprio_set IOPRIO_CLASS_RT 0: operation not permitted\n');
  });

  it('values out of range: one line naming the field, before anything runs', () => {
    const bad: [(c: any) => void, string][] = [
      [
        (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: 40 }),
        'ch-run-oci: process.scheduler.nice: 40 is out of range (-20 to 19)\n',
      ],
      [(c) => (c.process.scheduler = { policy: 'SCHED_ISO' }), 'ch-run-oci: process.scheduler.policy: SCHED_ISO is not a Linux policy\n'],
      [
        (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 9 }),
        'ch-run-oci: process.ioPriority.priority: 9 is out of range (0 to 7)\n',
      ],
      [(c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND' }), 'ch-run-oci: linux.memoryPolicy.nodes: MPOL_BIND needs at least one node\n'],
    ];
    for (const [edit, line] of bad) {
      const r = run(edit);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(line);
    }
  });

  it.runIf(numa)('linux.memoryPolicy MPOL_BIND 0: the process policy in /proc/self/numa_maps', () => {
    const r = run((c) => {
      c.process.args = ['sh', '-c', 'grep -c " bind:0" /proc/self/numa_maps; grep -c " default" /proc/self/numa_maps || true'];
      c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [bound, other] = r.stdout.trim().split('\n').map(Number);
    expect(bound).toBeGreaterThan(0);
    expect(other).toBe(0);
  });

  it.runIf(numa)('linux.memoryPolicy on a node the machine lacks: the kernel refuses, one line naming the field', () => {
    const r = run((c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '1000' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('ch-run-oci: linux.memoryPolicy: set_mempolicy MPOL_BIND nodes 1000: invalid argument\n');
  });

  describe('exec', () => {
    const id = 'scx';
    let root: string;
    const rt = (...a: string[]) => chroci(['--root', root, ...a], { as });
    const start = (edit: (c: any) => void) => {
      root = scratch(as);
      const bundle = makeBundle(as, (c) => {
        c.process.args = ['sleep', '1000'];
        edit(c);
      });
      const r = rt('--debug', 'create', '--bundle', bundle, id);
      expect(r.status, r.stderr).toBe(0);
      expect(rt('start', id).status).toBe(0);
      return r;
    };

    it.runIf(twoCpus)("execCPUAffinity: the exec'd process runs on the final CPUs, the container's own is left alone", () => {
      const created = start((c) => (c.process.execCPUAffinity = { initial: '0', final: '1' }));
      try {
        expect(created.stderr).toContain(
          "debug: ignoring /process/execCPUAffinity: the runtime-spec makes it not applicable to the container's init process",
        );
        const r = rt('--debug', 'exec', id, 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status; grep Cpus_allowed_list /proc/1/status');
        expect(r.status).toBe(0);
        const all = fs.readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)![1];
        expect(r.stdout).toBe(`Cpus_allowed_list:\t1\nCpus_allowed_list:\t${all}\n`);
        expect(r.stderr).toContain('debug: process.execCPUAffinity.initial: 1 CPUs set');
        expect(r.stderr).toContain('debug: process.execCPUAffinity.final: 1 CPUs set');
      } finally {
        rt('delete', '--force', id);
      }
    });

    it("exec joins the container's time namespace and gets its scheduler, I/O priority and memory policy", () => {
      start((c) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { boottime: { secs: 86400 } };
        c.process.scheduler = { policy: 'SCHED_BATCH', nice: 3 };
        c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 5 };
        if (numa) c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
      });
      try {
        const r = rt(
          'exec',
          id,
          'sh',
          '-c',
          'cat /proc/uptime; readlink /proc/self/ns/time; readlink /proc/1/ns/time; cat /proc/self/stat; busybox ionice -p $$; grep -c " bind:0" /proc/self/numa_maps || true',
        );
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const [uptime, ns, ns1, stat, ionice, bound] = r.stdout.trim().split('\n');
        expect(Number(uptime.split(' ')[0])).toBeGreaterThan(hostUptime() + 86000);
        expect(ns).toBe(ns1);
        expect(ns).not.toBe(hostTimeNs);
        const f = statFields(stat);
        expect([f[STAT.policy], f[STAT.nice]]).toEqual(['3', '3']);
        expect(ionice).toBe('best-effort: prio 5');
        if (numa) expect(Number(bound)).toBeGreaterThan(0);
      } finally {
        rt('delete', '--force', id);
      }
    });

    it('a time namespace joined by path: root gets the same namespace; a user cannot join one of another container', () => {
      start((c) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { boottime: { secs: 86400 } };
      });
      try {
        const pid = JSON.parse(rt('state', id).stdout).pid as number;
        const theirs = fs.readlinkSync(`/proc/${pid}/ns/time`);
        const r = run((c) => {
          c.process.args = ['sh', '-c', 'readlink /proc/self/ns/time; cat /proc/uptime'];
          c.linux.namespaces.push({ type: 'time', path: `/proc/${pid}/ns/time` });
        });
        if (as === 'root') {
          expect(r.stderr).toBe('');
          expect(r.status).toBe(0);
          const [ns, uptime] = r.stdout.trim().split('\n');
          expect(ns).toBe(theirs);
          expect(Number(uptime.split(' ')[0])).toBeGreaterThan(hostUptime() + 86000);
        } else {
          expect(r.status).toBe(1);
          expect(r.stderr).toMatch(new RegExp(`^ch-run-oci: join namespace: setns /proc/${pid}/ns/time: operation not permitted\\n$`));
        }
      } finally {
        rt('delete', '--force', id);
      }
    });
  });
});
