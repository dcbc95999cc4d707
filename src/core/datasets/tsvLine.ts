/** Split a plain (unquoted) TSV line; also gives each cell's 1-based start column for messages. */
export function splitTabs(text: string): { cells: string[]; columns: number[] } {
  const cells = text.split('\t');
  const columns: number[] = [];
  let col = 1;
  for (const c of cells) {
    columns.push(col);
    col += c.length + 1;
  }
  return { cells, columns };
}
