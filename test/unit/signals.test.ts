import { describe, expect, it } from 'vitest';
import { parseSignal } from '../../src/container/signals';

describe('parseSignal', () => {
  it('defaults to SIGTERM', () => {
    expect(parseSignal(undefined)).toBe(15);
  });

  it.each<[string | number, number]>([
    ['TERM', 15],
    ['SIGTERM', 15],
    ['sigterm', 15],
    ['term', 15],
    ['kill', 9],
    ['SIGKILL', 9],
    ['KILL', 9],
    ['HUP', 1],
    ['int', 2],
    ['SIGUSR1', 10],
    ['usr2', 12],
    ['CHLD', 17],
    ['SIGWINCH', 28],
    ['STOP', 19],
    ['CONT', 18],
    ['9', 9],
    ['15', 15],
    [' 15 ', 15],
    [9, 9],
    ['1', 1],
    ['64', 64],
    ['RTMIN', 34],
    ['SIGRTMIN+3', 37],
    ['rtmin+30', 64],
    ['RTMAX', 64],
    ['SIGRTMAX-2', 62],
  ])('%j → %d', (input, n) => {
    expect(parseSignal(input)).toBe(n);
  });

  it.each<string | number>(['', 'FOO', 'SIG', '0', '65', '-9', '9x', 'RTMIN+31', 'RTMAX+1', 'RTMIN-1', '1.5', 0, 100, 'SIGSIGTERM'])(
    'rejects %j',
    (input) => {
      expect(() => parseSignal(input)).toThrow(`signal "${String(input).trim()}": unknown signal`);
    },
  );
});
