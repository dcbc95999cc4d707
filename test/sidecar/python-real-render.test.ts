// The Python sidecar renders and tokenizes a chat with an assistant prefill as transformers' continue_final_message
// render does (what vLLM sends to the model), on real vocabularies and chat templates (Mistral-7B-Instruct-v0.2,
// Llama-3.1-8B-Instruct, Qwen2.5-7B-Instruct). Needs a Python with transformers (SCLAB_PYTHON, default python3) and
// the tokenizer folders of scripts/real-tokenizers.py (SCLAB_REAL_TOKENIZERS); skips, saying which is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const python = process.env.SCLAB_PYTHON ?? 'python3';
const goldenFile = join(__dirname, '../fixtures/real-tokenizers/golden.json');
const golden = JSON.parse(readFileSync(goldenFile, 'utf8')) as { families: Record<string, { cases: Array<{ name: string; text?: string; ids?: number[] }> }> };
const root = process.env.SCLAB_REAL_TOKENIZERS ?? join(homedir(), '.cache/sclab/real-tokenizers');
const hasTransformers = spawnSync(python, ['-c', 'import transformers, jinja2'], { stdio: 'ignore' }).status === 0;
const hasFolders = Object.keys(golden.families).every((f) => existsSync(join(root, f, 'tokenizer.json')));
const why = !hasTransformers ? `${python} has no transformers (set SCLAB_PYTHON)` : !hasFolders ? `no tokenizer folders under ${root} (scripts/real-tokenizers.py)` : '';
if (why) console.warn(`python-real-render: SKIPPED — ${why}`);

const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn(`python-real-render: out-of-memory guard SKIPPED — ${python} has no torch (set SCLAB_PYTHON)`);

describe.skipIf(!hasTorch)('Python sidecar: CUDA out of memory', () => {
  it('becomes 413 prompt_too_long with the token count, the caught activations dropped; other errors pass through', () => {
    const r = spawnSync(python, [join(__dirname, 'hf-reference/check_oom.py')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({
      code: 'prompt_too_long',
      status: 413,
      message: 'out of GPU memory on an input of 4096 tokens: send a shorter input',
      cleared: true,
      other_errors_pass_through: true,
    });
  }, 130_000);
});

describe.skipIf(!!why)('Python sidecar: real tokenizers and chat templates', () => {
  it('renders and tokenizes every reference case as continue_final_message does; Mistral refuses non-alternating roles with bad_request', () => {
    const r = spawnSync(python, [join(__dirname, 'hf-reference/check_real_render.py'), goldenFile, root], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { family: string; case: string; text?: string; ids?: number[]; refused?: string | null });
    let compared = 0;
    for (const [family, g] of Object.entries(golden.families)) {
      for (const c of g.cases) {
        const got = rows.find((x) => x.family === family && x.case === c.name);
        expect(got, `${family}: ${c.name}`).toMatchObject({ text: c.text, ids: c.ids });
        compared++;
      }
      const refusal = rows.find((x) => x.family === family && x.case === 'non-alternating roles')!;
      if (family.startsWith('mistral')) expect(refusal.refused).toBe('bad_request');
    }
    expect(compared).toBe(15);
  }, 320_000);
});
