/**
 * Finds where a JSON text stops being valid. JSON.parse in Node 20 does not always report a position, so a small
 * scanner walks the text once, only after JSON.parse has failed, to give the user an exact column.
 */
export interface JsonSyntaxError {
  /** 0-based index into the text */
  index: number;
  message: string;
}

class Stop extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

function describe(ch: string | undefined): string {
  return ch === undefined ? 'end of line' : `'${ch}'`;
}

export function locateJsonError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (message: string): never => {
    throw new Stop(i, message);
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('bad \\u escape in string');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          fail(`bad escape ${e === undefined ? 'at end of line' : `'\\${e}'`} in string`);
        }
        continue;
      }
      if (c! < ' ') fail('control character in string (escape it as \\n, \\t, …)');
      i++;
    }
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`unexpected ${describe(text[i])}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, got ${describe(text[i])}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after property name, got ${describe(text[i])}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after property value, got ${describe(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after array element, got ${describe(text[i])}`);
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail(c === undefined ? 'unexpected end of line: value missing' : `unexpected ${describe(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the JSON value`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { index: e.index, message: e.message };
    throw e;
  }
}

/** 1-based column of `"key"` as an object key in a one-line JSON text; 1 when it cannot be found. */
export function columnOfKey(text: string, key: string): number {
  const needle = JSON.stringify(key);
  let from = 0;
  for (;;) {
    const at = text.indexOf(needle, from);
    if (at === -1) return 1;
    if (/^\s*:/.test(text.slice(at + needle.length, at + needle.length + 8))) return at + 1;
    from = at + 1;
  }
}
