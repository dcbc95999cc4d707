// Core errors name what to change in plain words; each host says it its own way (the CLI by its flags).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLAIN_REMEDY_WORDS, SclabError, messageIn } from '../../src/core/model/errors';
import { readStatements } from '../../src/core/probes/labelled-data';
import { CLI_REMEDY_WORDS } from '../../src/cli/remedy-words';
import { EXTENSION_REMEDY_WORDS } from '../../src/extension/remedy-words';

describe('remedies in core errors', () => {
  it('a core error holds no CLI flag; the CLI and the extension each reword it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sclab-remedy-'));
    const file = path.join(dir, 'statements.csv');
    await fs.writeFile(file, 'text\nsome statement\n');
    const err = await readStatements(file).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SclabError);
    const e = err as SclabError;
    expect(e.code).toBe('config');
    expect(e.message).toBe(`${file}: give the text field to read statements from a csv file`);
    expect(e.message).not.toMatch(/--/);
    expect(messageIn(e, CLI_REMEDY_WORDS)).toBe(`${file}: give --text-field to read statements from a csv file`);
    expect(messageIn(e, EXTENSION_REMEDY_WORDS)).toBe(`${file}: give a text field to read statements from a csv file`);
  });

  it('an error without remedies reads the same for every host', () => {
    const e = new SclabError('io', 'disk full');
    expect(messageIn(e, CLI_REMEDY_WORDS)).toBe('disk full');
    expect(messageIn(new Error('plain'), CLI_REMEDY_WORDS)).toBe('plain');
  });

  it('every host names every remedy, and only the CLI speaks in flags', () => {
    const keys = Object.keys(PLAIN_REMEDY_WORDS).sort();
    expect(Object.keys(CLI_REMEDY_WORDS).sort()).toEqual(keys);
    expect(Object.keys(EXTENSION_REMEDY_WORDS).sort()).toEqual(keys);
    for (const w of [...Object.values(PLAIN_REMEDY_WORDS), ...Object.values(EXTENSION_REMEDY_WORDS)]) expect(w).not.toMatch(/--|sclab /);
  });
});
