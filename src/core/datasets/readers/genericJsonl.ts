import { errorAt } from '../diagnostics';
import { choiceColumns, genericRowToItem, IdRegistry } from '../genericRow';
import { columnOfKey } from '../jsonError';
import { jsonObjectRows } from '../jsonl';
import type { PhysicalLine } from '../lines';
import type { DatasetEvent } from '../types';

/** A generic prompt file in JSON Lines: one object per line (see genericRow.ts for the columns). */
export async function* readGenericJsonl(file: string, lines: AsyncIterable<PhysicalLine>): AsyncGenerator<DatasetEvent> {
  const ids = new IdRegistry();
  for await (const row of jsonObjectRows(file, lines)) {
    if ('diagnostic' in row) {
      yield row;
      continue;
    }
    const columnOf = (k: string) => columnOfKey(row.text, k);
    const { item, diagnostics } = genericRowToItem({
      file,
      line: row.line,
      values: row.value,
      columnOf,
      choiceCols: 'choices' in row.value ? null : choiceColumns(Object.keys(row.value)),
    });
    for (const diagnostic of diagnostics) yield { diagnostic };
    if (!item) continue;
    const dup = ids.check(item.id, row.line);
    if (dup) {
      yield { diagnostic: errorAt({ file, line: row.line, column: columnOf('id') }, dup, 'id') };
      continue;
    }
    yield { item };
  }
}
