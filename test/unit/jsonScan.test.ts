import * as assert from 'node:assert/strict';
import { JsonScanError, scanJsonObject } from '../../src/extension/jsonScan';

describe('extension: incremental JSON import reader', () => {
  it('reads what JSON.parse reads, in file order, for every kind of value', async () => {
    const text = JSON.stringify({
      'team/api/url': 'https://example.test',
      'esc"aped\\key': 'line\nbreak \u00e9 \ud83d\ude00 \\u0041',
      num: 42.5e1,
      neg: -1,
      t: true,
      f: false,
      n: null,
      obj: { a: [1, { b: '}' }], c: '"]' },
      arr: [[], {}, 'x'],
      empty: '',
    }, null, 2);
    const entries = await scanJsonObject(text);
    assert.deepEqual(Object.fromEntries(entries), JSON.parse(text));
    assert.deepEqual(
      entries.map(([k]) => k),
      ['team/api/url', 'esc"aped\\key', 'num', 'neg', 't', 'f', 'n', 'obj', 'arr', 'empty'],
    );
  });

  it('keeps the first position and the last value of a repeated key, like JSON.parse', async () => {
    const entries = await scanJsonObject('{"a": "1", "b": "2", "a": "3"}');
    assert.deepEqual(entries, [
      ['a', '3'],
      ['b', '2'],
    ]);
  });

  it('accepts a byte-order mark, surrounding whitespace and the empty object', async () => {
    assert.deepEqual(await scanJsonObject('\ufeff  {}  \n'), []);
    assert.deepEqual(await scanJsonObject('{ "k" :"v" }'), [['k', 'v']]);
  });

  it('pauses every N entries (so the host can breathe) and returns all of them', async () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 12_345; i++) {
      data[`k/${i}`] = `v${i}`;
    }
    let pauses = 0;
    const entries = await scanJsonObject(JSON.stringify(data), async () => void pauses++, 1000);
    assert.equal(entries.length, 12_345);
    assert.equal(pauses, 12);
    assert.deepEqual(entries[12_344], ['k/12344', 'v12344']);
  });

  const bad: [string, RegExp][] = [
    ['[1, 2]', /JSON object.*holds an array at line 1, column 1/],
    ['"just a string"', /holds a string/],
    ['', /holds nothing/],
    ['{"a": "1",}', /Expected a key in double quotes at line 1, column 11/],
    ['{"a" "1"}', /Expected ":"/],
    ['{"a": "1" "b": "2"}', /Expected "," or "}"/],
    ['{"a": "unterminated}', /Unterminated string/],
    ['{"a": tru}', /Invalid value/],
    ['{"a": "x\u0001"}', /Unescaped control character/],
    ['{"a": "\\q"}', /Invalid escape/],
    ['{"a": "1"} trailing', /Unexpected text after the object/],
    ['{\n  "a": "1",\n  "b": oops\n}', /Invalid value at line 3, column 8/],
    ['{"a": ', /Expected a value/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)} with a located message`, async () => {
      await assert.rejects(scanJsonObject(text), (err: unknown) => err instanceof JsonScanError && message.test(err.message));
    });
  }
});
