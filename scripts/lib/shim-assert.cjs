// Stands in for node:assert inside signal-exit only (scripts/lib/bundle.mjs):
// its one use is assert.equal(typeof cb, 'function', message), and loading
// node:assert costs 2-3 ms on every locked verb (measured in the executable).
// A failing check still throws node's own AssertionError.
'use strict';
module.exports = {
  equal(actual, expected, message) {
    // assert.equal is loose equality.
    if (actual != expected) {
      const { AssertionError } = require('node:assert');
      throw new AssertionError({ message, actual, expected, operator: '==' });
    }
  },
};
