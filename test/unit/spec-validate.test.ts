import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { useValidators, validateConfig, validateState } from '../../src/spec/validate';
import { configWith, INVALID } from '../fixtures/configs/invalid-cases';
import { REPO, SHARED } from '../helpers/repo';
import { ourProcessValidator, ourValidators, sharedConfigs } from './spec-validators';

describe('validateConfig', () => {
  beforeAll(() => useValidators(ourValidators()));
  afterAll(() => useValidators(undefined));

  it('has at least 30 invalid cases', () => expect(INVALID.length).toBeGreaterThanOrEqual(30));

  it.each(INVALID)('rejects: %s', (_name, edit, message) => {
    const config = configWith(edit);
    expect(() => validateConfig(config)).toThrow(UserError);
    expect(() => validateConfig(config)).toThrow(new UserError(message));
  });

  it('rejects a top level that is not an object', () => {
    expect(() => validateConfig([1])).toThrow('config.json: must be a JSON object, not an array');
    expect(() => validateConfig(null)).toThrow('config.json: must be a JSON object, not null');
    expect(() => validateConfig('x')).toThrow('config.json: must be a JSON object, not a string');
  });

  it('accepts the minimal config and returns it unchanged', () => {
    const c = configWith(() => {});
    expect(validateConfig(c)).toBe(c);
  });

  it('accepts unknown properties everywhere (config.md)', () => {
    const c = configWith((c) => {
      c['org.example.extension'] = { a: 1 };
      c.process.futureField = [1];
      c.root.futureFlag = true;
      c.linux = { futureThing: 'x', namespaces: [{ type: 'pid', futureKey: 1 }] };
      c.hooks = { futureHook: [{ nonsense: true }] };
      c.mounts = [{ destination: '/x', futureOption: {} }];
    });
    expect(() => validateConfig(c)).not.toThrow();
  });

  it.each(fs.readdirSync(path.join(REPO, 'test/fixtures/configs/valid')))('accepts the valid variant %s', (file) => {
    const c = JSON.parse(fs.readFileSync(path.join(REPO, 'test/fixtures/configs/valid', file), 'utf8'));
    expect(() => validateConfig(c)).not.toThrow();
  });

  it.each(sharedConfigs().filter((c) => !c.name.includes('exec-process')))('accepts the client capture %s', ({ json }) => {
    expect(() => validateConfig(json)).not.toThrow();
  });

  it('accepts the exec process.json from podman as a process', () => {
    const v = ourProcessValidator();
    const proc = JSON.parse(fs.readFileSync(path.join(SHARED, 'configs/podman-4.3-exec-process.json'), 'utf8'));
    expect(v(proc)).toBe(true);
    expect(v({ ...proc, args: [] })).toBe(false);
  });
});

describe('validateState', () => {
  beforeAll(() => useValidators(ourValidators()));
  afterAll(() => useValidators(undefined));

  const good = { ociVersion: '1.2.1', id: 'c1', status: 'created', pid: 42, bundle: '/b', annotations: {} };

  it('accepts a state document', () => expect(validateState(good)).toBe(good));
  it('rejects an unknown status', () =>
    expect(() => validateState({ ...good, status: 'paused' })).toThrow(
      'state: /status: must be one of "creating", "created", "running", "stopped", not "paused"',
    ));
  it('rejects a relative bundle', () =>
    expect(() => validateState({ ...good, bundle: 'b' })).toThrow('state: /bundle: must be an absolute path'));
  it('rejects a missing id', () => {
    const { id: _id, ...rest } = good;
    expect(() => validateState(rest)).toThrow('state: missing required property "id"');
  });
});

describe('the generated validators', () => {
  // src/spec/generated/validators.js is what the product runs; it must say
  // exactly what the schemas say (made by the build: npm run build, or node scripts/gen-validators.mjs).
  beforeAll(() => {
    expect(
      fs.existsSync(path.join(REPO, 'src/spec/generated/validators.js')),
      'src/spec/generated/validators.js is missing: npm run build',
    ).toBe(true);
    useValidators(undefined);
  });

  it.each(INVALID)('give the same message: %s', (_name, edit, message) => {
    expect(() => validateConfig(configWith(edit))).toThrow(new UserError(message));
  });

  it.each(sharedConfigs().filter((c) => !c.name.includes('exec-process')))('accept $name', ({ json }) => {
    expect(() => validateConfig(json)).not.toThrow();
  });
});
