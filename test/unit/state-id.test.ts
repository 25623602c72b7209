import { describe, expect, it } from 'vitest';
import { checkId } from '../../src/state/id';
import { UserError } from '../../src/errors';

function message(id: unknown): string {
  try {
    checkId(id);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  return 'accepted';
}

describe('checkId', () => {
  it.each([
    'a',
    'Z9',
    'buildah-buildah123',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x_y.z+w-v',
    '1.2',
    'a'.repeat(1024),
  ])('accepts %s', (id) => {
    expect(checkId(id)).toBe(id);
  });

  it.each([
    ['', 'container id "": must not be empty'],
    ['.', 'container id ".": is a reserved name'],
    ['..', 'container id "..": is a reserved name'],
    ['/', 'container id "/": must not contain "/"'],
    ['a/b', 'container id "a/b": must not contain "/"'],
    ['../etc', 'container id "../etc": must not contain "/"'],
    ['a\0b', 'container id "a\\u0000b": must not contain NUL'],
    ['a b', 'container id "a b": must not contain whitespace'],
    ['a\nb', 'container id "a\\nb": must not contain whitespace'],
    ['-a', 'container id "-a": must start with a letter or digit'],
    ['.hidden', 'container id ".hidden": must start with a letter or digit'],
    ['_a', 'container id "_a": must start with a letter or digit'],
    ['a:b', 'container id "a:b": character ":" is not allowed (use letters, digits, "_", ".", "+", "-")'],
    ['é', 'container id "é": must start with a letter or digit'],
  ])('rejects %j', (id, text) => {
    expect(message(id)).toBe(text);
  });

  it('rejects ids longer than 1024 characters and shortens the echo', () => {
    const text = message('b'.repeat(1025));
    expect(text).toBe(`container id "${'b'.repeat(64)}…": longer than 1024 characters`);
  });

  it('rejects a missing or non-string id', () => {
    expect(message(undefined)).toBe('container id: missing');
    expect(message(42)).toBe('container id: must be a string, not number');
  });
});
