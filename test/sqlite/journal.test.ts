/** The journal format on its own: checksums, framing, torn tails versus damage in the middle. */
import * as assert from 'node:assert/strict';
import { crc32, decodeOps, encodeHeader, encodeRecord, HEADER_BYTES, JournalCorruption, parseJournal } from '../../src/registry/backends/sqliteJournal';
import type { JournalOp } from '../../src/registry/backends/sqliteJournal';

const id = Uint8Array.from({ length: 16 }, (_, i) => i * 3);

function journal(first: number, count: number): { bytes: Uint8Array; ends: number[] } {
  const parts = [encodeHeader(id)];
  const ends: number[] = [];
  let at = HEADER_BYTES;
  for (let s = first; s < first + count; s++) {
    const rec = encodeRecord(s, [['p', `key ${s}`, `value ${s} é😀`, s % 2 ? null : 1_700_000_000_000 + s]]);
    parts.push(rec);
    at += rec.length;
    ends.push(at);
  }
  return { bytes: Buffer.concat(parts), ends };
}

function corruption(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseJournal(bytes), (err: unknown) => err instanceof JournalCorruption && pattern.test(err.reason));
}

describe('sqlite journal format', () => {
  it('CRC-32 matches the standard check value, also across slices and continuation', () => {
    const check = new TextEncoder().encode('123456789');
    assert.equal(crc32(check), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    const big = Uint8Array.from({ length: 1001 }, (_, i) => (i * 31) & 0xff);
    assert.equal(crc32(big, 0, 1001), crc32(big.subarray(500), 0, 501, crc32(big, 0, 500)));
  });

  it('reads back every record of a clean journal, in order', () => {
    const { bytes } = journal(7, 20);
    const parsed = parseJournal(bytes);
    assert.deepEqual([...parsed.dbId], [...id]);
    assert.equal(parsed.records.length, 20);
    assert.deepEqual(
      parsed.records.map((r) => r.seq),
      Array.from({ length: 20 }, (_, i) => 7 + i),
    );
    assert.equal(parsed.tornBytes, 0);
    assert.equal(parsed.goodLength, bytes.length);
    assert.deepEqual(decodeOps(parsed.records[1].payload), [['p', 'key 8', 'value 8 é😀', 1_700_000_000_008]]);
  });

  it('sequence numbers beyond 2^32 survive the framing', () => {
    const rec = encodeRecord(2 ** 40 + 5, [['d', 'k']]);
    const parsed = parseJournal(Buffer.concat([encodeHeader(id), rec]));
    assert.equal(parsed.records[0].seq, 2 ** 40 + 5);
  });

  it('a record cut short at any byte is a torn tail: dropped, the records before it kept', () => {
    const { bytes, ends } = journal(1, 5);
    for (let cut = ends[3] + 1; cut < ends[4]; cut++) {
      const parsed = parseJournal(bytes.subarray(0, cut));
      assert.equal(parsed.records.length, 4, `cut at ${cut}`);
      assert.equal(parsed.goodLength, ends[3]);
      assert.equal(parsed.tornBytes, cut - ends[3]);
    }
  });

  it('zeros or garbage after the last record are a torn tail', () => {
    const { bytes, ends } = journal(1, 3);
    for (const tail of [new Uint8Array(5000), Uint8Array.from({ length: 300 }, (_, i) => (i * 97) & 0xff)]) {
      const parsed = parseJournal(Buffer.concat([bytes, tail]));
      assert.equal(parsed.records.length, 3);
      assert.equal(parsed.goodLength, ends[2]);
    }
  });

  it('a damaged record followed by an intact one is corruption, wherever the damage is', () => {
    const { bytes, ends } = journal(1, 6);
    for (const at of [HEADER_BYTES + 1, HEADER_BYTES + 6, ends[0] + 10, ends[2] + 17, ends[4] - 1]) {
      const damaged = Uint8Array.from(bytes);
      damaged[at] ^= 0x40;
      corruption(damaged, /damaged but record \d+ at byte \d+ after it is intact/);
    }
  });

  it('a missing record (a gap in sequence numbers) is corruption', () => {
    const a = encodeRecord(1, [['d', 'a']]);
    const c = encodeRecord(3, [['d', 'c']]);
    corruption(Buffer.concat([encodeHeader(id), a, c]), /follows record 1/);
  });

  it('a bad header is corruption: too short, wrong signature, bad checksum', () => {
    const header = encodeHeader(id);
    corruption(header.subarray(0, 10), /shorter than its 28-byte header/);
    const sig = Uint8Array.from(header);
    sig[0] = 0x58;
    corruption(sig, /signature/);
    const sum = Uint8Array.from(header);
    sum[12] ^= 1;
    corruption(sum, /checksum/);
  });

  it('decodeOps refuses payloads that are not lists of known changes', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    assert.throws(() => decodeOps(enc({ not: 'a list' })), /not a list/);
    assert.throws(() => decodeOps(enc([['x', 'k']])), /unknown change/);
    assert.throws(() => decodeOps(enc([['p', 'k', 5, null]])), /unknown change/);
    assert.throws(() => decodeOps(enc([[1, 2]])), /malformed/);
    const ok: JournalOp[] = [['p', 'k', 'v', null], ['d', 'k'], ['r', ''], ['t', 'k', 5]];
    assert.deepEqual(decodeOps(enc(ok)), ok);
  });
});
