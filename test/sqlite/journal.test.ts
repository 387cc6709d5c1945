/** The journal format on its own: checksums, framing, torn tails versus damage in the middle. */
import * as assert from 'node:assert/strict';
import {
  crc32,
  decodeOps,
  encodeFormat1Record,
  encodeHeader,
  encodePayload,
  encodeRecord,
  frameBatch,
  HEADER_BYTES,
  JournalCorruption,
  JournalUnsupported,
  parseJournal,
} from '../../src/registry/backends/sqliteJournal';
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

  it('format 2: one group commit is one batch; damage anywhere in the last batch is a torn tail, even with later pages intact', () => {
    const payloads = (from: number, n: number) => Array.from({ length: n }, (_, i) => encodePayload([['p', `k${from + i}`, 'v'.repeat(500), null]]));
    const synced = [frameBatch(1, payloads(1, 2)), frameBatch(3, payloads(3, 1))];
    const last = frameBatch(4, payloads(4, 8));
    const bytes = Buffer.concat([encodeHeader(id), ...synced, last]);
    const lastStart = bytes.length - last.length;
    const whole = parseJournal(bytes);
    assert.deepEqual(
      whole.records.map((r) => r.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    for (const [from, to] of [
      [lastStart, lastStart + 100],
      [lastStart + 600, lastStart + 2000],
      [bytes.length - 10, bytes.length],
    ]) {
      const torn = Uint8Array.from(bytes);
      torn.fill(0, from, to);
      const parsed = parseJournal(torn);
      assert.deepEqual(
        parsed.records.map((r) => r.seq),
        [1, 2, 3],
        `zeros at ${from}..${to}`,
      );
      assert.equal(parsed.goodLength, lastStart);
    }
    // Damage in a synced batch with an intact batch after it is corruption.
    const mid = Uint8Array.from(bytes);
    mid[HEADER_BYTES + 40] ^= 1;
    corruption(mid, /batch of records at byte 28 is damaged but record 3/);
  });

  it('format 1 (version 0.1.0, one frame per record) is still read', () => {
    const bytes = Buffer.concat([encodeHeader(id, 1), encodeFormat1Record(1, [['d', 'a']]), encodeFormat1Record(2, [['p', 'b', 'c', null]])]);
    const parsed = parseJournal(bytes);
    assert.equal(parsed.format, 1);
    assert.deepEqual(
      parsed.records.map((r) => decodeOps(r.payload)),
      [[['d', 'a']], [['p', 'b', 'c', null]]],
    );
  });

  it('a journal of a newer format is not corruption: JournalUnsupported names the format', () => {
    for (const v of [0x33, 0x39, 0x41]) {
      const header = encodeHeader(id);
      header[7] = v;
      assert.throws(
        () => parseJournal(header),
        (err: unknown) => err instanceof JournalUnsupported,
      );
    }
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
