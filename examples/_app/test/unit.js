const assert = require('assert');
const greet = require('../src/greet');
assert.strictEqual(greet('ci'), 'hello, ci');
console.log('unit tests passed: 1');
