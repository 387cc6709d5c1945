/**
 * Key ordering and folder arithmetic shared by every backend and by the extension.
 * The registry orders keys by UTF-8 bytes, which is the same as ordering by Unicode code points
 * (SQLite's BINARY collation, PostgreSQL's COLLATE "C"). JavaScript's `<` compares UTF-16 code
 * units instead, which puts U+E000..U+FFFF after the surrogate pairs of U+10000 and above;
 * `compareKeys` corrects that.
 */

function codeUnitRank(c: number): number {
  // Surrogates (0xD800..0xDFFF) stand for code points >= U+10000: move them above 0xFFFF's rank.
  if (c >= 0xd800) {
    return c <= 0xdfff ? c + 0x2000 : c - 0x800;
  }
  return c;
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca < 0xd800 && cb < 0xd800) {
        return ca - cb;
      }
      return codeUnitRank(ca) - codeUnitRank(cb);
    }
  }
  return a.length - b.length;
}

/**
 * The smallest string that sorts after every string starting with `prefix`, or undefined when
 * there is none (empty prefix, or only U+10FFFF). `key >= prefix && key < prefixEnd(prefix)` is
 * exactly `key.startsWith(prefix)`.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const cp = cps[cps.length - 1].codePointAt(0)!;
    if (cp < 0x10ffff) {
      const next = cp === 0xd7ff ? 0xe000 : cp + 1;
      cps[cps.length - 1] = String.fromCodePoint(next);
      return cps.join('');
    }
    cps.pop();
  }
  return undefined;
}

/** Byte length of a string in UTF-8. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/*
 * How a key splits into folders, when separator occurrences can overlap ('::' in 'a:::b', 'aba'
 * in 'ababa'): scanning from the start of the key, each occurrence that begins at or after the end
 * of the previous one closes a folder (leftmost first, never overlapping, as String.split does).
 * With '::', 'a:::b' is the key ':b' in folder 'a::'; a key ending in an occurrence ('team/') sits
 * in the folder of the same name. `childOf` (and `children` in every backend) groups by the first
 * occurrence at or after the end of `prefix`, which is this split whenever `prefix` is '' or a
 * folder; `parentOf` and `leafName` follow the same split, so the tree's reveal, its parent
 * links and drag and drop all agree with what `children` shows.
 */

/**
 * Where a key sits below `prefix`: a key directly inside it, or the child folder that contains it
 * (its full prefix ending in `separator`). `key` must start with `prefix`.
 */
export function childOf(prefix: string, separator: string, key: string): { kind: 'folder' | 'key'; key: string } {
  const at = key.indexOf(separator, prefix.length);
  if (at < 0) {
    return { kind: 'key', key };
  }
  return { kind: 'folder', key: key.slice(0, at + separator.length) };
}

/** The folder (prefix ending in separator) that directly holds `key` or folder `key`; '' at the top. */
export function parentOf(key: string, separator: string, isFolder = false): string {
  // The last folder end of the split that lies before the end of a folder (at or before the end of a key).
  const last = isFolder ? key.length - 1 : key.length;
  let parent = 0;
  for (let at = key.indexOf(separator); at >= 0 && at + separator.length <= last; at = key.indexOf(separator, at + separator.length)) {
    parent = at + separator.length;
  }
  return key.slice(0, parent);
}

/** The last segment of a key or folder, for display ('team/api/url' -> 'url', 'team/api/' -> 'api'). */
export function leafName(key: string, separator: string, isFolder = false): string {
  const parent = parentOf(key, separator, isFolder);
  const end = isFolder ? key.length - separator.length : key.length;
  return key.slice(parent.length, end);
}
