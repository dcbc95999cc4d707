import { open } from 'node:fs/promises';
import { cancelledError, isSclabError } from '../model/errors';
import { DatasetFileError, describeFsError } from './diagnostics';
import { firstInvalidUtf8 } from './utf8';

export interface PhysicalLine {
  /** the line's text without its line ending (LF or CRLF) and without a leading UTF-8 byte-order mark */
  text: string;
  /** 1-based */
  line: number;
  /** 1-based column of the first character that was not valid UTF-8 (then `text` holds U+FFFD there) */
  badUtf8Column?: number;
  /** set when the line was longer than `maxLineBytes`: its length in bytes; `text` is then '' (not kept) */
  overlongBytes?: number;
}

export interface LineReadOptions {
  signal?: AbortSignal | undefined;
  /** sees every byte of the file, in order, e.g. to hash it while streaming */
  onChunk?: ((chunk: Buffer) => void) | undefined;
  /** stop after this many bytes (format detection reads only the head) */
  maxBytes?: number | undefined;
  /** a longer line is not kept (memory stays bounded by it): it comes back as '' with `overlongBytes` */
  maxLineBytes?: number | undefined;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decodeLine(bytes: Buffer, line: number): PhysicalLine {
  try {
    return { text: strictDecoder.decode(bytes), line };
  } catch {
    const bad = Math.max(0, firstInvalidUtf8(bytes));
    const column = lenientDecoder.decode(bytes.subarray(0, bad)).length + 1;
    return { text: lenientDecoder.decode(bytes), line, badUtf8Column: column };
  }
}

/** Opens a file for streaming, turning "missing", "directory" and "unreadable" into a DatasetFileError. */
export async function openForReading(path: string) {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new DatasetFileError(path, describeFsError(e), e);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new DatasetFileError(path, 'is a directory, not a file');
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e instanceof DatasetFileError ? e : new DatasetFileError(path, describeFsError(e), e);
  }
}

/**
 * Streams a file's physical lines. Bytes are split on LF ourselves (not readline) so each line can be checked
 * for invalid UTF-8 with an exact position; memory holds one chunk plus the current line.
 */
export async function* readLines(path: string, opts: LineReadOptions = {}): AsyncGenerator<PhysicalLine> {
  const { handle } = await openForReading(path);
  const stream = handle.createReadStream({ highWaterMark: 1 << 16, autoClose: false });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const maxLine = opts.maxLineBytes ?? Infinity;
  let lineNo = 0;
  let seen = 0;
  let first = true;
  const keep = (part: Buffer): void => {
    pendingBytes += part.length;
    if (pendingBytes > maxLine) {
      overlong = true;
      pending = [];
    }
    if (!overlong) pending.push(part);
  };
  const finish = (parts: Buffer[]): PhysicalLine => {
    if (overlong) {
      const line: PhysicalLine = { text: '', line: ++lineNo, overlongBytes: pendingBytes };
      first = false;
      overlong = false;
      return line;
    }
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (first) {
      first = false;
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return decodeLine(bytes, ++lineNo);
  };
  try {
    for await (const raw of stream) {
      let chunk = raw as Buffer;
      if (opts.maxBytes !== undefined && seen + chunk.length > opts.maxBytes) chunk = chunk.subarray(0, opts.maxBytes - seen);
      seen += chunk.length;
      opts.onChunk?.(chunk);
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (opts.signal?.aborted) throw cancelledError();
        keep(chunk.subarray(start, nl));
        yield finish(pending);
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
      if (opts.maxBytes !== undefined && seen >= opts.maxBytes) break;
    }
    if (opts.signal?.aborted) throw cancelledError();
    if (pending.length > 0 || overlong) yield finish(pending);
  } catch (e) {
    if (isSclabError(e)) throw e;
    throw new DatasetFileError(path, describeFsError(e), e);
  } finally {
    stream.destroy();
    await handle.close().catch(() => undefined);
  }
}
