// A fake cgroup file system: plain directories and files in a temp dir, laid
// out like v1, v2 or hybrid hierarchies, with the files the kernel would put
// in each cgroup. The manager writes them like the real ones (last write
// wins, since a plain file keeps only that), so tests read back what it did.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CgroupMode, Host } from '../../src/cgroups/host';

const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.soft_limit_in_bytes': '9223372036854771712\n',
    'memory.usage_in_bytes': '1000\n',
    'memory.max_usage_in_bytes': '2000\n',
    'memory.failcnt': '0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    'memory.swappiness': '60\n',
    'memory.stat': 'cache 4096\nrss 8192\n',
    'memory.memsw.usage_in_bytes': '1000\n',
    'memory.memsw.max_usage_in_bytes': '2000\n',
    'memory.memsw.failcnt': '0\n',
  },
  'cpu,cpuacct': {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.cfs_burst_us': '0\n',
    'cpu.idle': '0\n',
    'cpu.rt_period_us': '1000000\n',
    'cpu.rt_runtime_us': '0\n',
    'cpu.stat': 'nr_periods 5\nnr_throttled 1\nthrottled_time 300\n',
    'cpuacct.usage': '123456789\n',
    'cpuacct.usage_percpu': '100 200 \n',
    'cpuacct.stat': 'user 3\nsystem 4\n',
  },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  pids: { 'pids.max': 'max\n', 'pids.current': '3\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  devices: { 'devices.allow': '', 'devices.deny': '' },
  blkio: {
    'blkio.weight': '',
    'blkio.weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n',
  },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '', 'hugetlb.2MB.rsvd.limit_in_bytes': '' },
  'name=systemd': {},
};

const V2_CORE: Record<string, string> = {
  'cgroup.procs': '',
  'cgroup.freeze': '0\n',
  'cgroup.kill': '',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.subtree_control': '',
};
const V2_FILES: Record<string, string> = {
  'memory.max': 'max\n',
  'memory.swap.max': 'max\n',
  'memory.low': '0\n',
  'memory.current': '5000\n',
  'memory.peak': '6000\n',
  'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
  'memory.stat': 'anon 100\nfile 200\n',
  'memory.swap.current': '0\n',
  'cpu.weight': '100\n',
  'cpu.max': 'max 100000\n',
  'cpu.max.burst': '0\n',
  'cpu.idle': '0\n',
  'cpu.stat': 'usage_usec 10\nuser_usec 6\nsystem_usec 4\n',
  'pids.max': 'max\n',
  'pids.current': '0\n',
  'io.weight': 'default 100\n',
  'io.max': '',
  'cpuset.cpus': '',
  'cpuset.mems': '',
  'hugetlb.2MB.max': 'max\n',
  'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
};

export interface FakeTree {
  root: string;
  host: Host;
  /** Make (or fill) a cgroup directory with the files the kernel would put there. */
  cgroup(key: string, cgroupPath: string, extra?: Record<string, string>): string;
  read(file: string): string;
  cleanup(): void;
}

export function fakeTree(mode: CgroupMode): FakeTree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `chroci-fakecg-${mode}-`));
  const base = path.join(root, 'sys/fs/cgroup');
  const hierarchies: Host['hierarchies'] = [];
  const mountOf = new Map<string, string>();
  if (mode !== 'v2') {
    for (const key of Object.keys(V1_FILES)) {
      const mountpoint = path.join(base, key === 'name=systemd' ? 'systemd' : key);
      mountOf.set(key, mountpoint);
      hierarchies.push({ key, controllers: key.startsWith('name=') ? [] : key.split(','), mountpoint, mountRoot: '/', own: '/' });
    }
  }
  if (mode !== 'v1') {
    const mountpoint = mode === 'v2' ? base : path.join(base, 'unified');
    mountOf.set('', mountpoint);
    hierarchies.push({ key: '', controllers: [], mountpoint, mountRoot: '/', own: '/' });
  }
  const fill = (key: string, dir: string, extra: Record<string, string> = {}) => {
    fs.mkdirSync(dir, { recursive: true });
    const files =
      key === ''
        ? {
            ...V2_CORE,
            ...(mode === 'v2'
              ? { ...V2_FILES, 'cgroup.controllers': 'cpuset cpu io memory hugetlb pids\n' }
              : { 'cgroup.controllers': '' }),
          }
        : { 'cgroup.procs': '', ...V1_FILES[key] };
    for (const [f, v] of Object.entries({ ...files, ...extra })) fs.writeFileSync(path.join(dir, f), v);
    return dir;
  };
  for (const [key, mp] of mountOf) fill(key, mp, key === 'cpuset' ? { 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n' } : {});
  if (mode !== 'v2') fs.symlinkSync('cpu,cpuacct', path.join(base, 'cpu'));
  const host: Host = { mode, hierarchies, base, links: mode === 'v2' ? [] : [{ name: 'cpu', target: 'cpu,cpuacct' }] };
  return {
    root,
    host,
    cgroup: (key, cgroupPath, extra) => fill(key, path.join(mountOf.get(key)!, cgroupPath), extra),
    read: (file) => fs.readFileSync(file, 'utf8'),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
