// The source's structure, checked: no import (static, dynamic or type-only)
// runs in a circle, and every import goes down the layers the data flows
// through: cli → commands → container → spec / state → cgroups → runner, with the
// shared leaves (errors, log, the OCI types…) below them all.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Higher imports lower; equal ranks only within one folder. */
function rank(file: string): number {
  const rel = path.relative(SRC, file);
  if (rel === 'main.ts' || rel === 'boot.ts') return 6;
  if (rel === 'spec/types.ts' || rel.startsWith('spec/generated/')) return 0;
  const top = rel.includes('/') ? rel.split('/')[0] : '';
  return { cli: 5, commands: 4, container: 3, spec: 2, state: 2, cgroups: 1.5, runner: 1, '': 0 }[top] ?? -1;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined; // node: builtins and packages
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts'), base]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return undefined;
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sources(SRC)) {
    const text = fs.readFileSync(f, 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const to = resolve(f, m[1] ?? m[2] ?? m[3]);
      if (to) deps.add(to);
    }
    g.set(f, [...deps]);
  }
  return g;
}

const rel = (f: string): string => path.relative(SRC, f);

describe('the import graph of src/', () => {
  const g = graph();

  it('reads the whole tree', () => {
    expect(g.size).toBeGreaterThan(40);
    for (const f of g.keys()) expect(rank(f), `${rel(f)}: no layer`).toBeGreaterThanOrEqual(0);
  });

  it('has no circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, trail: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of g.get(f) ?? []) visit(d, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of g.keys()) visit(f, []);
    expect(circles).toEqual([]);
  });

  it('imports only down the layers (or within a folder)', () => {
    const up: string[] = [];
    for (const [f, deps] of g)
      for (const d of deps) {
        const same = path.dirname(f) === path.dirname(d);
        if (!same && rank(d) >= rank(f)) up.push(`${rel(f)} -> ${rel(d)}`);
      }
    expect(up).toEqual([]);
  });
});
