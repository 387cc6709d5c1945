/**
 * An incremental reader for the import format: one JSON object of key to value. Unlike JSON.parse
 * (which blocks for about a second on 100,000 entries inside the extension host), it hands control
 * back every few thousand entries, and it reports a syntax error with its line and column.
 * No vscode import: it is pure logic, unit-tested in plain mocha.
 */

export class JsonScanError extends Error {
  override readonly name = 'JsonScanError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function lineAndColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lastBreak = i;
    }
  }
  return { line, column: pos - lastBreak };
}

function describeStart(text: string, pos: number): string {
  const c = text[pos];
  if (c === undefined) {
    return 'nothing';
  }
  if (c === '[') {
    return 'an array';
  }
  if (c === '"') {
    return 'a string';
  }
  if (c === 'n') {
    return 'null';
  }
  if (c === 't' || c === 'f') {
    return 'a boolean';
  }
  if (/[-0-9]/.test(c)) {
    return 'a number';
  }
  return `"${c}"`;
}

/**
 * Reads `{"key": value, ...}` and returns its entries in file order (a repeated key keeps its
 * first position and its last value, as JSON.parse would keep the last). `pause` is awaited every
 * `every` entries. Throws JsonScanError for anything that is not such an object.
 */
export async function scanJsonObject(
  input: string,
  pause: () => Promise<void> = () => Promise.resolve(),
  every = 5000,
): Promise<[string, unknown][]> {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let pos = 0;
  const fail = (message: string, at = pos): never => {
    const { line, column } = lineAndColumn(text, at);
    throw new JsonScanError(`${message} at line ${line}, column ${column}`, line, column);
  };
  const skipWs = (): void => {
    while (pos < text.length && WS.has(text.charCodeAt(pos))) {
      pos++;
    }
  };
  /** Reads a JSON string starting at pos (a quote); returns its value. */
  const readString = (): string => {
    const start = pos;
    pos++;
    let escaped = false;
    for (;;) {
      if (pos >= text.length) {
        fail('Unterminated string', start);
      }
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        break;
      }
      if (c === 0x5c) {
        escaped = true;
        pos += 2;
        continue;
      }
      if (c < 0x20) {
        fail('Unescaped control character in a string');
      }
      pos++;
    }
    if (!escaped) {
      return text.slice(start + 1, pos - 1);
    }
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      return fail('Invalid escape in a string', start);
    }
  };
  /** Reads any other JSON value (number, literal, object, array) and parses it. */
  const readValue = (): unknown => {
    const start = pos;
    const c = text[pos];
    if (c === '{' || c === '[') {
      let depth = 0;
      while (pos < text.length) {
        const ch = text[pos];
        if (ch === '"') {
          readString();
          continue;
        }
        if (ch === '{' || ch === '[') {
          depth++;
        } else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            pos++;
            break;
          }
        }
        pos++;
      }
    } else {
      while (pos < text.length && !WS.has(text.charCodeAt(pos)) && text[pos] !== ',' && text[pos] !== '}') {
        pos++;
      }
    }
    try {
      return JSON.parse(text.slice(start, pos));
    } catch {
      return fail('Invalid value', start);
    }
  };

  skipWs();
  if (text[pos] !== '{') {
    fail(`Expected a JSON object of key to value, like {"team/api/url": "https://example.test"}, but the file holds ${describeStart(text, pos)}`);
  }
  pos++;
  const index = new Map<string, number>();
  const entries: [string, unknown][] = [];
  skipWs();
  if (text[pos] === '}') {
    pos++;
  } else {
    for (;;) {
      skipWs();
      if (text[pos] !== '"') {
        fail('Expected a key in double quotes');
      }
      const key = readString();
      skipWs();
      if (text[pos] !== ':') {
        fail('Expected ":" after a key');
      }
      pos++;
      skipWs();
      if (pos >= text.length) {
        fail('Expected a value');
      }
      const value = text[pos] === '"' ? readString() : readValue();
      const at = index.get(key);
      if (at === undefined) {
        index.set(key, entries.length);
        entries.push([key, value]);
      } else {
        entries[at][1] = value;
      }
      if (entries.length % every === 0) {
        await pause();
      }
      skipWs();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        break;
      }
      fail('Expected "," or "}"');
    }
  }
  skipWs();
  if (pos < text.length) {
    fail('Unexpected text after the object');
  }
  return entries;
}
