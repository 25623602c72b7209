import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../../src/spec/json-syntax';

describe('findJsonSyntaxError', () => {
  it.each([
    ['{}', undefined],
    ['{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]}', undefined],
    ['{"a": }', 6],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ['[1 2]', 3],
    ['{"a": "b', 8],
    ['{} x', 3],
    ['{"a": tru}', 6],
    ["{'a': 1}", 1],
  ])('%s', (text, offset) => {
    const found = findJsonSyntaxError(text);
    expect(found?.offset).toBe(offset);
    // It must agree with JSON.parse on validity.
    expect(found === undefined).toBe(
      (() => {
        try {
          JSON.parse(text);
          return true;
        } catch {
          return false;
        }
      })(),
    );
  });
});
