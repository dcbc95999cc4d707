// Models the embedded engine can fetch by name. Only stories260K has pinned digests (see
// ../shared/models/stories260K/SOURCE.md); the Hugging Face suggestions cannot be pinned from here, so their
// sha256 is computed and written to the cache manifest on first download and verified on every later use.

export interface CatalogFile {
  /** file name inside the model's cache folder */
  path: string;
  url: string;
  /** pinned sha256; absent = trust on first download, then verify against the cache manifest */
  sha256?: string;
  size?: number;
  /** a missing optional file (HTTP 404) is skipped, not an error */
  optional?: boolean;
}

export interface CatalogEntry {
  name: string;
  kind: 'llama2c' | 'hf';
  description: string;
  homepage: string;
  license: string;
  files: CatalogFile[];
  /** llama2c entries: which files are the checkpoint and the tokenizer */
  llama2c?: { bin: string; tokenizer: string };
}

const hub = (repo: string, path: string) => `https://huggingface.co/${repo}/resolve/main/${path}`;

function hfEntry(name: string, repo: string, description: string, license: string): CatalogEntry {
  const files: CatalogFile[] = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((p) => ({ path: p, url: hub(repo, p) }));
  files.push({ path: 'generation_config.json', url: hub(repo, 'generation_config.json'), optional: true });
  return { name, kind: 'hf', description, homepage: `https://huggingface.co/${repo}`, license, files };
}

export const CATALOG: readonly CatalogEntry[] = [
  {
    name: 'stories260K',
    kind: 'llama2c',
    description: 'Karpathy\'s 260K-parameter TinyStories Llama (llama2.c format): a tiny real model for tests and demos; its answers mean nothing',
    homepage: 'https://huggingface.co/karpathy/tinyllamas',
    license: 'MIT',
    files: [
      {
        path: 'stories260K.bin',
        url: hub('karpathy/tinyllamas', 'stories260K/stories260K.bin'),
        sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
        size: 1056540,
      },
      {
        path: 'tok512.bin',
        url: hub('karpathy/tinyllamas', 'stories260K/tok512.bin'),
        sha256: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
        size: 6227,
      },
    ],
    llama2c: { bin: 'stories260K.bin', tokenizer: 'tok512.bin' },
  },
  hfEntry('SmolLM2-135M-Instruct', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'SmolLM2 135M instruct (Llama architecture, 30 layers, width 576, ~270 MB bf16)', 'Apache-2.0'),
  hfEntry('SmolLM2-360M-Instruct', 'HuggingFaceTB/SmolLM2-360M-Instruct', 'SmolLM2 360M instruct (Llama architecture, 32 layers, width 960, ~720 MB bf16)', 'Apache-2.0'),
  hfEntry('Qwen2.5-0.5B-Instruct', 'Qwen/Qwen2.5-0.5B-Instruct', 'Qwen2.5 0.5B instruct (Qwen2 architecture, 24 layers, width 896, ~990 MB bf16)', 'Apache-2.0'),
];

/** Case-insensitive lookup by catalogue name. */
export function findCatalogEntry(name: string): CatalogEntry | undefined {
  const key = name.toLowerCase();
  return CATALOG.find((e) => e.name.toLowerCase() === key);
}
