/** utf8Length without Buffer (a browser's worker): the same counts as Node's Buffer.byteLength. */
import * as assert from 'node:assert/strict';
import { utf8Length } from '../../src/registry/keys';

describe('utf8Length where there is no Buffer (VS Code for the Web)', () => {
  it('counts like Buffer.byteLength: ASCII, 2-, 3- and 4-byte characters, lone surrogates', () => {
    const samples = ['', 'plain/key', 'é', 'ß/中文/键', '😀 emoji', 'a\ud800b', '\udc00', 'end\ud83d', '\u0000\u007f\u0080\u07ff\u0800\uffff'];
    const g = globalThis as { Buffer?: typeof Buffer };
    const saved = g.Buffer!;
    const expected = samples.map((s) => saved.byteLength(s, 'utf8'));
    delete g.Buffer;
    try {
      assert.deepEqual(samples.map(utf8Length), expected);
    } finally {
      g.Buffer = saved;
    }
  });
});
