import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

export type FieldPath = ReadonlyArray<PropertyKey>;

/** Maps a field path in a parsed YAML document to a 1-based line and column. */
export interface SourceLocator {
  file: string;
  /** where the value at `path` is; for a path that does not exist, where its nearest existing parent is */
  locate(path: FieldPath): { line: number; column: number; exists: boolean };
  /** where the key `key` of the mapping at `path` is written */
  locateKey(path: FieldPath, key: string): { line: number; column: number };
}

/** "conditions[1].turns[0].user" */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function pairOf(node: unknown, key: string): Pair | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((p) => (isScalar(p.key) ? String(p.key.value) === key : String(p.key) === key));
}

function child(node: unknown, key: PropertyKey): unknown {
  if (isSeq(node) && typeof key === 'number') return node.items[key];
  if (isMap(node)) return pairOf(node, String(key))?.value ?? undefined;
  return undefined;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

export function yamlLocator(file: string, doc: Document, lines: LineCounter): SourceLocator {
  const at = (offset: number | undefined): { line: number; column: number } => {
    if (offset === undefined) return { line: 1, column: 1 };
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    file,
    locate(path) {
      let node: unknown = doc.contents;
      let found = startOf(node);
      for (const key of path) {
        const next = child(node, key);
        // a key written with no value ("path:") holds an empty null scalar: point at the key instead
        const empty = isScalar(next) && next.value === null && next.range !== undefined && next.range !== null && next.range[0] === next.range[1];
        if (next === undefined || next === null || empty || startOf(next) === undefined) {
          const pair = typeof key === 'string' ? pairOf(node, key) : undefined;
          const keyStart = pair ? startOf(pair.key) : undefined;
          return { ...at(keyStart ?? found), exists: pair !== undefined };
        }
        node = next;
        found = startOf(next);
      }
      return { ...at(found), exists: true };
    },
    locateKey(path, key) {
      let node: unknown = doc.contents;
      for (const k of path) node = child(node, k);
      const pair = pairOf(node, key);
      return at(startOf(pair?.key) ?? startOf(node));
    },
  };
}
