// Bad config.json files, generated with fast-check from valid ones (the real
// client configs in shared/configs and our own `spec` output): wrong
// types, missing and extra fields, huge strings and arrays, deep nesting,
// raw numbers JSON.stringify cannot write, non-UTF-8 bytes, NUL bytes, invalid
// JSON, and bundles whose config or rootfs is a symlink, missing, a
// directory, a fifo or unreadable.
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A value to put somewhere; `raw` is JSON text written as is, `bytes` is spliced into a string literal. */
export type Bad = { json: Json } | { raw: string } | { bytes: number[] } | { huge: 'string' | 'array' | 'nest'; size: number };

export type Mutation =
  | { kind: 'set'; sel: number; value: Bad }
  | { kind: 'delete'; sel: number }
  | { kind: 'extra'; sel: number; key: string; value: Bad }
  | { kind: 'target'; target: number; value: Bad };

export type FileCase =
  | 'none'
  | 'truncate'
  | 'garbage'
  | 'empty'
  | 'bom'
  | 'nul'
  | 'not-object'
  | 'trailing'
  | 'config-symlink'
  | 'config-dangling'
  | 'config-missing'
  | 'config-dir'
  | 'config-fifo'
  | 'config-unreadable'
  | 'rootfs-symlink'
  | 'rootfs-absolute'
  | 'rootfs-dotdot'
  | 'rootfs-missing'
  | 'rootfs-file'
  | 'rootfs-dangling'
  | 'rootfs-unreadable'
  | 'bundle-relative'
  | 'bundle-missing'
  | 'bundle-file';

export interface ConfigCase {
  base: number;
  as: 'root' | 'user';
  verb: 'create' | 'run';
  mutations: Mutation[];
  file: FileCase;
  /** Position (0..1) for truncate/garbage. */
  at: number;
}

/** Paths that matter most (numbers, NUL bytes, paths), hit on purpose as well as at random. */
export const TARGETS: (string | number)[][] = [
  ['process', 'args', 0],
  ['process', 'args'],
  ['process', 'env', 0],
  ['process', 'env'],
  ['process', 'cwd'],
  ['process', 'user', 'uid'],
  ['process', 'user', 'gid'],
  ['process', 'user', 'additionalGids'],
  ['process', 'user', 'umask'],
  ['process', 'rlimits', 0, 'soft'],
  ['process', 'rlimits', 0, 'hard'],
  ['process', 'rlimits', 0, 'type'],
  ['process', 'oomScoreAdj'],
  ['process', 'consoleSize'],
  ['process', 'terminal'],
  ['process', 'capabilities', 'bounding', 0],
  ['process', 'noNewPrivileges'],
  ['root', 'path'],
  ['root', 'readonly'],
  ['hostname'],
  ['ociVersion'],
  ['mounts', 0, 'destination'],
  ['mounts', 0, 'source'],
  ['mounts', 0, 'type'],
  ['mounts', 0, 'options', 0],
  ['mounts'],
  ['linux', 'namespaces', 0, 'type'],
  ['linux', 'namespaces', 0, 'path'],
  ['linux', 'namespaces'],
  ['linux', 'uidMappings'],
  ['linux', 'uidMappings', 0, 'size'],
  ['linux', 'gidMappings', 0, 'hostID'],
  ['linux', 'maskedPaths', 0],
  ['linux', 'readonlyPaths', 0],
  ['linux', 'sysctl'],
  ['linux', 'rootfsPropagation'],
  ['linux', 'resources', 'memory', 'limit'],
  ['linux', 'seccomp', 'defaultAction'],
  ['annotations'],
  ['hooks'],
];

const NUMBERS: Json[] = [-1, 0, 1.5, -2147483649, 2147483648, 4294967295, 4294967296, 2 ** 53, -(2 ** 63), 1e308, -1e308, 65536];
const STRINGS: Json[] = [
  '',
  'x',
  '/',
  '..',
  '../../..',
  '/../../etc',
  'a\u0000b',
  '\u0000',
  'tr\u0000ue',
  'A=\u0000',
  'é\u00ff',
  '\n',
  'line\nbreak',
  '-1',
  'null',
  '1e400',
];
const RAW = ['18446744073709551616', '1e400', '-0', '9223372036854775808', '1.0', '123456789012345678901234567890', '-1e-400', '0.0000001'];

export const badArb: fc.Arbitrary<Bad> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, [null], { '': null }).map((json) => ({ json })) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS).map((json) => ({ json })) },
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS).map((json) => ({ json })) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW).map((raw) => ({ raw })) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 4 }).map((bytes) => ({ bytes })) },
  {
    weight: 1,
    arbitrary: fc.record({
      huge: fc.constantFrom<'string' | 'array' | 'nest'>('string', 'array', 'nest'),
      size: fc.constantFrom(1000, 10_000, 100_000),
    }),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ json: json as Json })) },
  { weight: 1, arbitrary: fc.integer().map((json) => ({ json })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((json) => ({ json })) },
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant<'set'>('set'), sel: fc.nat(), value: badArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant<'delete'>('delete'), sel: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant<'extra'>('extra'),
      sel: fc.nat(),
      key: fc.constantFrom('x', 'extra', '__proto__', 'constructor', '', 'a.b'),
      value: badArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant<'target'>('target'), target: fc.nat({ max: TARGETS.length - 1 }), value: badArb }),
  },
);

const FILE_CASES: FileCase[] = [
  'truncate',
  'garbage',
  'empty',
  'bom',
  'nul',
  'not-object',
  'trailing',
  'config-symlink',
  'config-dangling',
  'config-missing',
  'config-dir',
  'config-fifo',
  'config-unreadable',
  'rootfs-symlink',
  'rootfs-absolute',
  'rootfs-dotdot',
  'rootfs-missing',
  'rootfs-file',
  'rootfs-dangling',
  'rootfs-unreadable',
  'bundle-relative',
  'bundle-missing',
  'bundle-file',
];

export function caseArb(bases: number): fc.Arbitrary<ConfigCase> {
  return fc.record({
    base: fc.nat({ max: bases - 1 }),
    as: fc.constantFrom<'root' | 'user'>('root', 'user'),
    verb: fc.constantFrom<'create' | 'run'>('create', 'create', 'create', 'run'),
    // Some cases keep the config valid: they must create (or fail on a real limit) and clean up.
    mutations: fc.oneof(
      { weight: 1, arbitrary: fc.constant([] as Mutation[]) },
      { weight: 8, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
    ),
    file: fc.oneof({ weight: 4, arbitrary: fc.constant<FileCase>('none') }, { weight: 1, arbitrary: fc.constantFrom(...FILE_CASES) }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  });
}

/** Every path in a JSON value (objects and arrays), the root excluded. */
export function jsonPaths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      jsonPaths(x, [...prefix, i], out);
    });
  else if (v && typeof v === 'object')
    for (const k of Object.keys(v)) {
      out.push([...prefix, k]);
      jsonPaths(v[k], [...prefix, k], out);
    }
  return out;
}

interface Encoded {
  value: Json;
  /** marker string → raw JSON text (or bytes) to put in its place */
  raw: Map<string, string | Buffer>;
}

let markers = 0;
function encode(b: Bad, raw: Encoded['raw']): Json {
  if ('json' in b) return b.json;
  if ('raw' in b) {
    const m = `@@RAW${++markers}@@`;
    raw.set(JSON.stringify(m), b.raw);
    return m;
  }
  if ('bytes' in b) {
    const m = `@@RAW${++markers}@@`;
    raw.set(JSON.stringify(m), Buffer.concat([Buffer.from('"ok'), Buffer.from(b.bytes), Buffer.from('"')]));
    return m;
  }
  if (b.huge === 'string') return 'A'.repeat(b.size * 10);
  if (b.huge === 'array') return new Array(b.size).fill('x');
  // Deep nesting: written as raw text (JSON.stringify of a deep value would itself overflow).
  const m = `@@RAW${++markers}@@`;
  raw.set(JSON.stringify(m), '['.repeat(b.size) + ']'.repeat(b.size));
  return m;
}

function setPath(root: Json, p: (string | number)[], v: Json | undefined): void {
  let cur: any = root;
  for (let i = 0; i < p.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return;
    if (cur[p[i]] === null || typeof cur[p[i]] !== 'object') cur[p[i]] = typeof p[i + 1] === 'number' ? [] : {};
    cur = cur[p[i]];
  }
  if (cur === null || typeof cur !== 'object') return;
  const last = p[p.length - 1];
  if (v === undefined) {
    if (Array.isArray(cur) && typeof last === 'number') cur.splice(last, 1);
    else delete cur[last];
  } else {
    Object.defineProperty(cur, last, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

/** What a case did to the config, in words (for failure reports), and the mutated paths. */
export function applyMutations(base: Json, muts: Mutation[]): { text: Buffer; touched: (string | number)[][]; what: string[] } {
  const config = JSON.parse(JSON.stringify(base)) as Json;
  const raw: Encoded['raw'] = new Map();
  const touched: (string | number)[][] = [];
  const what: string[] = [];
  for (const m of muts) {
    const paths = jsonPaths(config);
    if (m.kind === 'target') {
      const p = TARGETS[m.target];
      setPath(config, p, encode(m.value, raw));
      touched.push(p);
      what.push(`set ${p.join('.')} = ${describe(m.value)}`);
    } else if (paths.length === 0) {
      continue;
    } else if (m.kind === 'set') {
      const p = paths[m.sel % paths.length];
      setPath(config, p, encode(m.value, raw));
      touched.push(p);
      what.push(`set ${p.join('.')} = ${describe(m.value)}`);
    } else if (m.kind === 'delete') {
      const p = paths[m.sel % paths.length];
      setPath(config, p, undefined);
      touched.push(p);
      what.push(`delete ${p.join('.')}`);
    } else {
      // Extra fields go on an object: the root or a random object-valued path.
      const objects = [[] as (string | number)[], ...paths.filter((p) => isObject(get(config, p)))];
      const p = objects[m.sel % objects.length];
      const target = p.length ? get(config, p) : config;
      if (isObject(target)) {
        Object.defineProperty(target, m.key, { value: encode(m.value, raw), enumerable: true, writable: true, configurable: true });
        touched.push([...p, m.key]);
        what.push(`add ${[...p, m.key].join('.')} = ${describe(m.value)}`);
      }
    }
  }
  let text = Buffer.from(JSON.stringify(config, null, 1));
  for (const [marker, replacement] of raw) {
    const at = text.indexOf(marker);
    if (at < 0) continue; // overwritten by a later mutation
    text = Buffer.concat([text.subarray(0, at), Buffer.from(replacement), text.subarray(at + Buffer.byteLength(marker))]);
  }
  return { text, touched, what };
}

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function get(v: Json, p: (string | number)[]): Json | undefined {
  let cur: any = v;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

function describe(b: Bad): string {
  if ('json' in b) {
    const s = JSON.stringify(b.json) ?? 'undefined';
    return s.length > 60 ? s.slice(0, 60) + '…' : s;
  }
  if ('raw' in b) return `raw ${b.raw}`;
  if ('bytes' in b) return `bytes ${b.bytes.map((x) => x.toString(16)).join(' ')}`;
  return `huge ${b.huge} ${b.size}`;
}

/** Applies a file-level case to a bundle whose config.json text is `text`; returns the --bundle argument. */
export function writeBundle(bundle: string, text: Buffer, rootfs: string, file: FileCase, at: number): string {
  fs.mkdirSync(bundle, { recursive: true, mode: 0o755 });
  const config = path.join(bundle, 'config.json');
  const cut = Math.floor(at * text.length);
  switch (file) {
    case 'truncate':
      fs.writeFileSync(config, text.subarray(0, cut));
      break;
    case 'garbage':
      fs.writeFileSync(config, Buffer.concat([text.subarray(0, cut), Buffer.from([0xff, 0x00, 0x7b, 0x22, 0xc3]), text.subarray(cut)]));
      break;
    case 'empty':
      fs.writeFileSync(config, '');
      break;
    case 'bom':
      fs.writeFileSync(config, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]));
      break;
    case 'nul':
      fs.writeFileSync(config, Buffer.concat([text.subarray(0, cut), Buffer.from([0]), text.subarray(cut)]));
      break;
    case 'not-object':
      fs.writeFileSync(config, ['[]', 'null', '42', '"config"', 'true'][Math.floor(at * 5) % 5]);
      break;
    case 'trailing':
      fs.writeFileSync(config, Buffer.concat([text, Buffer.from('\n}{')]));
      break;
    case 'config-symlink':
      fs.writeFileSync(config + '.real', text);
      fs.symlinkSync('config.json.real', config);
      break;
    case 'config-dangling':
      fs.symlinkSync('nowhere.json', config);
      break;
    case 'config-missing':
      break;
    case 'config-dir':
      fs.mkdirSync(config);
      break;
    case 'config-fifo':
      fs.writeFileSync(config + '.txt', text);
      require('node:child_process').execFileSync('mkfifo', [config]);
      break;
    case 'config-unreadable':
      fs.writeFileSync(config, text, { mode: 0o000 });
      fs.chmodSync(config, 0o000);
      break;
    default:
      fs.writeFileSync(config, text);
  }
  // The rootfs: "rootfs" in the bundle (root.path is rewritten to point at it unless a mutation changed it).
  const link = path.join(bundle, 'rootfs');
  switch (file) {
    case 'rootfs-missing':
      break;
    case 'rootfs-file':
      fs.writeFileSync(link, 'not a directory');
      break;
    case 'rootfs-dangling':
      fs.symlinkSync('/nonexistent/rootfs', link);
      break;
    case 'rootfs-unreadable':
      fs.mkdirSync(link, { mode: 0o000 });
      fs.chmodSync(link, 0o000);
      break;
    case 'rootfs-dotdot':
      fs.symlinkSync(path.relative(bundle, rootfs), link);
      break;
    default:
      fs.symlinkSync(rootfs, link);
  }
  if (file === 'bundle-missing') return path.join(bundle, 'missing');
  if (file === 'bundle-file') return path.join(bundle, 'config.json');
  if (file === 'bundle-relative') return path.basename(bundle);
  return bundle;
}

/** The base config adapted to a test bundle: rootfs "rootfs", `true` as the process, no host paths. */
export function adaptConfig(c: any, bundleFiles: string): any {
  c = JSON.parse(JSON.stringify(c));
  c.root = { ...(c.root ?? {}), path: 'rootfs' };
  if (c.process) {
    c.process.args = ['true'];
    c.process.terminal = false;
    delete c.process.consoleSize;
  }
  for (const ns of c.linux?.namespaces ?? []) delete ns.path;
  for (const m of c.mounts ?? []) {
    if (typeof m.source === 'string' && m.source.startsWith('/') && !fs.existsSync(m.source)) {
      // Host files of the client that made the config: stand-ins from the test tree.
      m.source = m.destination === '/dev/shm' ? bundleFiles : path.join(bundleFiles, 'file');
    }
  }
  return c;
}
