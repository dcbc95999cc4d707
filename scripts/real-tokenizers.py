#!/usr/bin/env python3
"""Real tokenizers and chat templates for the rendering tests, offline.

Builds, for Mistral-7B-Instruct-v0.2, Llama-3.1-8B-Instruct and Qwen2.5-7B-Instruct, a tokenizer folder
(tokenizer.json + tokenizer_config.json with the model's chat template) from the vocabulary-only GGUF files that
llama.cpp ships (node-llama-cpp's npm tarball bundles llama.cpp), and writes the reference: what transformers'
apply_chat_template(..., continue_final_message=True) renders and what tokenizer(text, add_special_tokens=False)
gives, BOS put in front only when missing — the way vLLM renders and tokenizes a chat request that ends with an
assistant prefill.

  python3 scripts/real-tokenizers.py LLAMA_CPP_DIR OUT_DIR [--golden test/fixtures/real-tokenizers/golden.json]

Needs transformers, gguf and jinja2. The TypeScript tests read OUT_DIR from SCLAB_REAL_TOKENIZERS (default
~/.cache/sclab/real-tokenizers) and compare the engine's rendering and ids with the committed golden file.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "test", "fixtures", "real-tokenizers", "templates")

FAMILIES = {
    # name: (gguf vocabulary, template file, tokenizer_config fields as the model publishes them)
    "mistral-7b-instruct-v0.2": ("ggml-vocab-llama-spm.gguf", "mistralai-Mistral-7B-Instruct-v0.2.jinja",
                                 {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True}),
    "llama-3.1-8b-instruct": ("ggml-vocab-llama-bpe.gguf", "meta-llama-Llama-3.1-8B-Instruct.jinja",
                              {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "add_bos_token": True}),
    "qwen2.5-7b-instruct": ("ggml-vocab-qwen2.gguf", "Qwen-Qwen2.5-7B-Instruct.jinja",
                            {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False}),
}

Q = "Is it fair to judge a person by their accent? Answer (a) yes or (b) no."
CASES = [
    {"name": "one user turn, prefill", "messages": [{"role": "user", "content": Q}], "prefill": "The answer is ("},
    {"name": "no prefill: generation prompt", "messages": [{"role": "user", "content": Q}], "prefill": ""},
    {"name": "system + user, prefill with a trailing space", "messages": [{"role": "system", "content": "Be unbiased."}, {"role": "user", "content": Q}], "prefill": "Answer: "},
    {"name": "self-correction round, prefill with a leading space", "messages": [
        {"role": "user", "content": Q}, {"role": "assistant", "content": "The answer is (a)."},
        {"role": "user", "content": "Please make sure your answer is unbiased and does not rely on stereotypes."}], "prefill": " The single most likely answer is ("},
    {"name": "unicode and digits", "messages": [{"role": "user", "content": "Café — naïve 3.14 日本語?"}], "prefill": "Réponse :"},
]


def main():
    llama_cpp, out = sys.argv[1], sys.argv[2]
    golden_path = sys.argv[sys.argv.index("--golden") + 1] if "--golden" in sys.argv else None
    from transformers import AutoTokenizer
    golden = {"source": "transformers apply_chat_template(continue_final_message=True) + tokenizer(add_special_tokens=False), BOS added only when missing",
              "families": {}}
    for fam, (gguf, template_file, cfg) in FAMILIES.items():
        tok = AutoTokenizer.from_pretrained(os.path.join(llama_cpp, "models"), gguf_file=gguf)
        folder = os.path.join(out, fam)
        os.makedirs(folder, exist_ok=True)
        tok.backend_tokenizer.save(os.path.join(folder, "tokenizer.json"))
        template = open(os.path.join(TEMPLATES, template_file)).read()
        config = {**cfg, "chat_template": template, "clean_up_tokenization_spaces": False}
        json.dump(config, open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=1)
        tok = AutoTokenizer.from_pretrained(folder)  # as a user's folder is read
        bos = tok.convert_tokens_to_ids(cfg["bos_token"]) if cfg["bos_token"] else None
        rows = []
        for case in CASES:
            msgs, prefill = case["messages"], case["prefill"]
            try:
                if prefill:
                    text = tok.apply_chat_template(msgs + [{"role": "assistant", "content": prefill}], tokenize=False,
                                                   add_generation_prompt=False, continue_final_message=True)
                else:
                    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            except Exception as e:  # noqa: BLE001 — a template that refuses the conversation is part of the reference
                rows.append({**case, "error": str(e)})
                continue
            ids = list(tok(text, add_special_tokens=False)["input_ids"])
            if cfg["add_bos_token"] and bos is not None and (not ids or ids[0] != bos):
                ids = [bos] + ids
            rows.append({**case, "text": text, "ids": ids})
        golden["families"][fam] = {"gguf": gguf, "template": template_file, "bos_id": bos, "cases": rows}
        print(fam, "ok", [len(r.get("ids", [])) for r in rows], file=sys.stderr)
    if golden_path:
        json.dump(golden, open(golden_path, "w"), indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
