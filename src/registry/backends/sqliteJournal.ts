/**
 * The sqlite backend's append-only journal (`<file>.nautilus-log`): how records are framed,
 * checksummed and read back. Platform-neutral (no Node APIs), so that it runs wherever the
 * backend runs.
 *
 * Layout (all integers big-endian):
 *   header  = "NAUTLOG1" (8 bytes) | database id (16 bytes) | CRC-32 of the previous 24 bytes (4)
 *   record  = payload length (u32) | CRC-32 of seq and payload (u32) | seq high (u32) | seq low (u32) | payload
 *   payload = UTF-8 JSON array of JournalOp
 *
 * Sequence numbers grow by one per record over the whole life of the database; the snapshot (the
 * SQLite file) records the last one it contains, so replay skips what the snapshot already has.
 * A record cut short at the end of the file (a crash while appending) is a torn tail: it was never
 * acknowledged and is dropped. A bad record followed by good ones is corruption.
 */

/** One physical change; replaying them in order rebuilds the state regardless of the clock. */
export type JournalOp =
  /** Store key, value, expiresAt (epoch ms) or null. */
  | ['p', string, string, number | null]
  /** Delete one key. */
  | ['d', string]
  /** Delete every key that starts with the prefix ('' = all). */
  | ['r', string]
  /** Set expiresAt (epoch ms) or null of an existing key. */
  | ['t', string, number | null];

export const HEADER_BYTES = 28;
export const RECORD_HEADER_BYTES = 16;
const MAGIC = [0x4e, 0x41, 0x55, 0x54, 0x4c, 0x4f, 0x47, 0x31]; // "NAUTLOG1"

const CRC_TABLE = (() => {
  const t = new Int32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) {
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
    }
  }
  return t;
})();

/** CRC-32 (IEEE) of bytes[start, end), continuing from `crc` (pass 0 to start). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  const t = CRC_TABLE;
  let c = ~crc;
  let i = start;
  // Slicing-by-4: four bytes per step.
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < end; i++) {
    c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeHeader(dbId: Uint8Array): Uint8Array {
  if (dbId.length !== 16) {
    throw new Error('database id must be 16 bytes');
  }
  const out = new Uint8Array(HEADER_BYTES);
  out.set(MAGIC, 0);
  out.set(dbId, 8);
  new DataView(out.buffer).setUint32(24, crc32(out, 0, 24));
  return out;
}

export function encodePayload(ops: readonly JournalOp[]): Uint8Array {
  return encoder.encode(JSON.stringify(ops));
}

/** One framed, checksummed record around an encoded payload. */
export function frameRecord(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(8, Math.floor(seq / 0x1_0000_0000));
  view.setUint32(12, seq >>> 0);
  out.set(payload, RECORD_HEADER_BYTES);
  view.setUint32(4, crc32(out, 8));
  return out;
}

export function encodeRecord(seq: number, ops: readonly JournalOp[]): Uint8Array {
  return frameRecord(seq, encodePayload(ops));
}

export interface JournalRecord {
  seq: number;
  /** Byte range of the whole record in the journal. */
  start: number;
  end: number;
  payload: Uint8Array;
}

export interface ParsedJournal {
  dbId: Uint8Array;
  records: JournalRecord[];
  /** Length of the good part: header plus every whole record. */
  goodLength: number;
  /** Bytes after the good part that were dropped as a torn tail (0 when the journal ends cleanly). */
  tornBytes: number;
}

/** The journal cannot be read; `reason` says why, for the CORRUPT message. */
export class JournalCorruption extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function decodeOps(payload: Uint8Array): JournalOp[] {
  const ops = JSON.parse(decoder.decode(payload)) as unknown;
  if (!Array.isArray(ops)) {
    throw new Error('record payload is not a list of changes');
  }
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[1] !== 'string') {
      throw new Error('record holds a malformed change');
    }
    const ok =
      (op[0] === 'p' && op.length === 4 && typeof op[2] === 'string' && (op[3] === null || typeof op[3] === 'number')) ||
      ((op[0] === 'd' || op[0] === 'r') && op.length === 2) ||
      (op[0] === 't' && op.length === 3 && (op[2] === null || typeof op[2] === 'number'));
    if (!ok) {
      throw new Error(`record holds an unknown change ${JSON.stringify(op[0])}`);
    }
  }
  return ops as JournalOp[];
}

interface Frame {
  seq: number;
  end: number;
}

/** The record framed at `at`, or undefined when the bytes there are not a whole record with a good checksum. */
function frameAt(bytes: Uint8Array, view: DataView, at: number): Frame | undefined {
  if (at + RECORD_HEADER_BYTES > bytes.length) {
    return undefined;
  }
  const len = view.getUint32(at);
  if (len === 0 || len > bytes.length - at - RECORD_HEADER_BYTES) {
    return undefined;
  }
  const end = at + RECORD_HEADER_BYTES + len;
  if (crc32(bytes, at + 8, end) !== view.getUint32(at + 4)) {
    return undefined;
  }
  return { seq: view.getUint32(at + 8) * 0x1_0000_0000 + view.getUint32(at + 12), end };
}

/**
 * Reads a journal. Throws JournalCorruption when the header is bad, when a bad record is followed
 * by a good one (damage in the middle), or when sequence numbers do not follow each other.
 */
export function parseJournal(bytes: Uint8Array): ParsedJournal {
  if (bytes.length < HEADER_BYTES) {
    throw new JournalCorruption(`the journal is ${bytes.length} bytes long, shorter than its ${HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new JournalCorruption('the journal does not start with the Nautilus journal signature');
    }
  }
  if (crc32(bytes, 0, 24) !== view.getUint32(24)) {
    throw new JournalCorruption('the journal header fails its checksum');
  }
  const dbId = bytes.slice(8, 24);
  const records: JournalRecord[] = [];
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const frame = frameAt(bytes, view, at);
    if (!frame) {
      break;
    }
    const prev = records[records.length - 1];
    if (prev && frame.seq !== prev.seq + 1) {
      throw new JournalCorruption(`record ${frame.seq} at byte ${at} follows record ${prev.seq}: records are missing or out of order`);
    }
    records.push({ seq: frame.seq, start: at, end: frame.end, payload: bytes.subarray(at + RECORD_HEADER_BYTES, frame.end) });
    at = frame.end;
  }
  if (at < bytes.length) {
    // A bad record. If a good record with a later sequence number follows, this is damage in the
    // middle; otherwise it is the torn tail of an append that never completed.
    const last = records[records.length - 1]?.seq;
    for (let p = at + 1; p + RECORD_HEADER_BYTES < bytes.length; p++) {
      const seq = view.getUint32(p + 8) * 0x1_0000_0000 + view.getUint32(p + 12);
      if (last !== undefined && (seq <= last || seq > last + bytes.length)) {
        continue; // cheap filter before the checksum: a later record has a later sequence number
      }
      const frame = frameAt(bytes, view, p);
      if (frame && (last === undefined || frame.seq > last)) {
        throw new JournalCorruption(
          `the record at byte ${at} is damaged but record ${frame.seq} at byte ${p} after it is intact (damage in the middle of the journal, not an interrupted write)`,
        );
      }
    }
  }
  return { dbId, records, goodLength: at, tornBytes: bytes.length - at };
}
