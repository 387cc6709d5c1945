/**
 * The sqlite backend's append-only journal (`<file>.nautilus-log`): how records are framed,
 * checksummed and read back. Platform-neutral (no Node APIs), so that it runs wherever the
 * backend runs.
 *
 * Layout, format 2 (all integers big-endian):
 *   header  = "NAUTLOG" | format version (1 byte, "2") | database id (16 bytes) | CRC-32 of the previous 24 bytes (4)
 *   batch   = body length (u32) | CRC-32 of first seq and body (u32) | first seq high (u32) | first seq low (u32) | body
 *   body    = one or more records: payload length (u32) | payload
 *   payload = UTF-8 JSON array of JournalOp
 * One batch is one group-commit append, written and synced as a whole; its records have the
 * sequence numbers first seq, first seq + 1, ...
 *
 * Format 1 (version 0.1.0, "NAUTLOG1") framed every record on its own: a batch of exactly one
 * record. It is still read; the backend rewrites it as format 2 before appending to it.
 *
 * Sequence numbers grow by one per record over the whole life of the database; the snapshot (the
 * SQLite file) records the last one it contains, so replay skips what the snapshot already has.
 *
 * Damage: only the last batch can be unsynced when a crash strikes, and a file system may keep
 * any part of it (a later page and not an earlier one). So damage with no intact batch after it
 * is a torn tail: never acknowledged, dropped. Damage followed by an intact batch hit an
 * acknowledged, synced batch: that is corruption, never dropped silently. (Format 1 could not
 * tell a torn group commit from that, since each of its records was a frame.)
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
/** Bytes of a batch frame before its body. */
export const RECORD_HEADER_BYTES = 16;
/** Bytes before each record's payload inside a format-2 batch. */
export const RECORD_PREFIX_BYTES = 4;
/** The format this version writes; it reads 1 and 2. */
export const JOURNAL_FORMAT = 2;
const SIGNATURE = [0x4e, 0x41, 0x55, 0x54, 0x4c, 0x4f, 0x47]; // "NAUTLOG"
const VERSION_AT = 7;

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

export function encodeHeader(dbId: Uint8Array, format = JOURNAL_FORMAT): Uint8Array {
  if (dbId.length !== 16) {
    throw new Error('database id must be 16 bytes');
  }
  const out = new Uint8Array(HEADER_BYTES);
  out.set(SIGNATURE, 0);
  out[VERSION_AT] = 0x30 + format;
  out.set(dbId, 8);
  new DataView(out.buffer).setUint32(24, crc32(out, 0, 24));
  return out;
}

export function encodePayload(ops: readonly JournalOp[]): Uint8Array {
  return encoder.encode(JSON.stringify(ops));
}

function frame(seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  view.setUint32(8, Math.floor(seq / 0x1_0000_0000));
  view.setUint32(12, seq >>> 0);
  out.set(body, RECORD_HEADER_BYTES);
  view.setUint32(4, crc32(out, 8));
  return out;
}

/** The bytes one record adds to a format-2 batch. */
export function recordBytes(payload: Uint8Array): number {
  return RECORD_PREFIX_BYTES + payload.length;
}

/** One format-2 batch: the records first, first + 1, ... in one checksummed frame. */
export function frameBatch(first: number, payloads: readonly Uint8Array[]): Uint8Array {
  if (payloads.length === 0) {
    throw new Error('a batch holds at least one record');
  }
  let n = 0;
  for (const p of payloads) {
    n += recordBytes(p);
  }
  const body = new Uint8Array(n);
  const view = new DataView(body.buffer);
  let at = 0;
  for (const p of payloads) {
    view.setUint32(at, p.length);
    body.set(p, at + RECORD_PREFIX_BYTES);
    at += recordBytes(p);
  }
  return frame(first, body);
}

/** A format-2 batch of one record. */
export function encodeRecord(seq: number, ops: readonly JournalOp[]): Uint8Array {
  return frameBatch(seq, [encodePayload(ops)]);
}

/** A format-1 record (version 0.1.0), for tests of reading old files. */
export function encodeFormat1Record(seq: number, ops: readonly JournalOp[]): Uint8Array {
  return frame(seq, encodePayload(ops));
}

/** A whole format-2 journal holding these records (header, then one batch). */
export function encodeJournal(dbId: Uint8Array, records: readonly { seq: number; payload: Uint8Array }[]): Uint8Array {
  const header = encodeHeader(dbId);
  if (records.length === 0) {
    return header;
  }
  const batch = frameBatch(
    records[0].seq,
    records.map((r) => r.payload),
  );
  const out = new Uint8Array(header.length + batch.length);
  out.set(header);
  out.set(batch, header.length);
  return out;
}

export interface JournalRecord {
  seq: number;
  /** Byte range of the batch that holds the record. */
  start: number;
  end: number;
  payload: Uint8Array;
}

export interface ParsedJournal {
  /** 1 or 2. */
  format: number;
  dbId: Uint8Array;
  records: JournalRecord[];
  /** Length of the good part: header plus every whole record. */
  goodLength: number;
  /** Bytes after the good part that were dropped as a torn tail (0 when the journal ends cleanly). */
  tornBytes: number;
}

/** The journal cannot be read; `reason` says why, for the CORRUPT message. */
export class JournalCorruption extends Error {
  constructor(
    readonly reason: string,
    /** header: the file is not a readable journal at all; records: damage after a good header (it may hold acknowledged changes). */
    readonly kind: 'header' | 'records' = 'header',
  ) {
    super(reason);
  }
}

/** The journal was written by a newer version (a format this version does not know). */
export class JournalUnsupported extends Error {
  constructor(readonly format: string) {
    super(`journal format ${format}`);
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

/** The frame (format 2: batch; format 1: record) at `at`, or undefined when the bytes there are not a whole frame with a good checksum. */
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

/** The records of a format-2 batch body, or undefined when the body is not a list of whole records. */
function batchRecords(bytes: Uint8Array, view: DataView, start: number, f: Frame): JournalRecord[] | undefined {
  const out: JournalRecord[] = [];
  let at = start + RECORD_HEADER_BYTES;
  while (at < f.end) {
    if (at + RECORD_PREFIX_BYTES > f.end) {
      return undefined;
    }
    const len = view.getUint32(at);
    const end = at + RECORD_PREFIX_BYTES + len;
    if (len === 0 || end > f.end) {
      return undefined;
    }
    out.push({ seq: f.seq + out.length, start, end: f.end, payload: bytes.subarray(at + RECORD_PREFIX_BYTES, end) });
    at = end;
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Reads a journal. Throws JournalUnsupported for a format newer than this version knows, and
 * JournalCorruption when the header is bad, when a bad batch is followed by a good one (damage in
 * the middle), or when sequence numbers do not follow each other.
 */
export function parseJournal(bytes: Uint8Array): ParsedJournal {
  if (bytes.length >= VERSION_AT + 1 && SIGNATURE.every((b, i) => bytes[i] === b) && bytes[VERSION_AT] !== 0x31 && bytes[VERSION_AT] !== 0x32) {
    const v = bytes[VERSION_AT];
    throw new JournalUnsupported(v >= 0x30 && v <= 0x39 ? String.fromCharCode(v) : `byte 0x${v.toString(16).padStart(2, '0')}`);
  }
  if (bytes.length < HEADER_BYTES) {
    throw new JournalCorruption(`the journal is ${bytes.length} bytes long, shorter than its ${HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) {
      throw new JournalCorruption('the journal does not start with the Nautilus journal signature');
    }
  }
  if (crc32(bytes, 0, 24) !== view.getUint32(24)) {
    throw new JournalCorruption('the journal header fails its checksum');
  }
  const format = bytes[VERSION_AT] - 0x30;
  const dbId = bytes.slice(8, 24);
  const records: JournalRecord[] = [];
  let at = HEADER_BYTES;
  while (at < bytes.length) {
    const f = frameAt(bytes, view, at);
    if (!f) {
      break;
    }
    const inBatch =
      format === 1 ? [{ seq: f.seq, start: at, end: f.end, payload: bytes.subarray(at + RECORD_HEADER_BYTES, f.end) }] : batchRecords(bytes, view, at, f);
    if (!inBatch) {
      break; // a good checksum over a malformed body: treated like a bad checksum
    }
    const prev = records[records.length - 1];
    if (prev && f.seq !== prev.seq + 1) {
      throw new JournalCorruption(`record ${f.seq} at byte ${at} follows record ${prev.seq}: records are missing or out of order`, 'records');
    }
    records.push(...inBatch);
    at = f.end;
  }
  if (at < bytes.length) {
    // A bad batch. If a good batch with a later sequence number follows, the damage hit a batch
    // that was synced (another was appended after it); otherwise it is the torn tail of the last
    // append, which never completed and was never acknowledged.
    const last = records[records.length - 1]?.seq;
    for (let p = at + 1; p + RECORD_HEADER_BYTES < bytes.length; p++) {
      const seq = view.getUint32(p + 8) * 0x1_0000_0000 + view.getUint32(p + 12);
      if (last !== undefined && (seq <= last || seq > last + bytes.length)) {
        continue; // cheap filter before the checksum: a later record has a later sequence number
      }
      const f = frameAt(bytes, view, p);
      if (f && (last === undefined || f.seq > last) && (format === 1 || batchRecords(bytes, view, p, f))) {
        throw new JournalCorruption(
          `the ${format === 1 ? 'record' : 'batch of records'} at byte ${at} is damaged but record ${f.seq} at byte ${p} after it is intact (damage in the middle of the journal, not an interrupted write)`,
          'records',
        );
      }
    }
  }
  return { format, dbId, records, goodLength: at, tornBytes: bytes.length - at };
}
