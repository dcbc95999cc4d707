#!/usr/bin/env python3
"""Reference sidecar for Self-Correction Lab: the sclab.sidecar/1 protocol on Hugging Face transformers.

Serves hidden states (output_hidden_states for the residual stream, forward hooks on each decoder layer's
self_attn and mlp for their outputs), probe scores and log-likelihoods of a causal LM, next to the model on a GPU
machine. With --remote, hidden states come from a remote interpretability service (nnsight on NDIF) instead.
The protocol is documented in docs/sidecar-protocol.md; conformance: `npm run test:sidecar -- --url URL`.

Only the standard library serves HTTP (ThreadingHTTPServer); model calls run one at a time under a lock.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import struct
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROTOCOL = "sclab.sidecar/1"
MODULES = ("resid", "attn", "mlp")
POSITIONS = ("last", "mean", "all")
CONVENTIONS = ("sclab", "hf")
ENCODINGS = ("json", "base64-f32")
STATUS = {"bad_request": 400, "unauthorized": 401, "not_found": 404, "method_not_allowed": 405, "too_large": 413,
          "prompt_too_long": 413, "unsupported": 501, "internal": 500}
DISCARD_CAP = 256 * 1024 * 1024
# the sample conversation both sides render and tokenize at connect (GET /v1/info tokens, POST /v1/tokenize)
SAMPLE_MESSAGES = [{"role": "user", "content": "Is it fair to judge a person by their accent? Answer (a) yes or (b) no."}]
SAMPLE_PREFILL = "The answer is ("


class WireError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------------------------------
# request validation (the same rules as src/core/sidecar/protocol.ts)

def _messages(v, field="messages"):
    if not isinstance(v, list) or not v:
        raise WireError("bad_request", f"{field}: expected a non-empty array of {{role, content}}")
    out = []
    for i, m in enumerate(v):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") or not isinstance(m.get("content"), str):
            raise WireError("bad_request", f"{field}.{i}: expected {{role: system|user|assistant, content: string}}")
        out.append({"role": m["role"], "content": m["content"]})
    return out


def parse_input(body: dict, text_field: str = "prompt") -> dict:
    has_text = text_field in body
    has_msgs = "messages" in body
    if has_text == has_msgs:
        raise WireError("bad_request", f'{text_field}: give exactly one of "{text_field}" (text) or "messages" (a conversation)')
    if "prefill" in body and not has_msgs:
        raise WireError("bad_request", 'prefill: "prefill" continues an assistant turn: it needs "messages"')
    if has_text:
        if not isinstance(body[text_field], str):
            raise WireError("bad_request", f"{text_field}: expected a string")
        return {"text": body[text_field]}
    prefill = body.get("prefill", "")
    if not isinstance(prefill, str):
        raise WireError("bad_request", "prefill: expected a string")
    return {"messages": _messages(body["messages"]), "prefill": prefill}


def one_of(body: dict, field: str, allowed, default):
    v = body.get(field, default)
    if v not in allowed:
        raise WireError("bad_request", f"{field}: expected one of {', '.join(allowed)} (got {json.dumps(v)})")
    return v


def input_chars(inp: dict) -> int:
    if "text" in inp:
        return len(inp["text"])
    return len(inp["prefill"]) + sum(len(m["content"]) for m in inp["messages"])


def encode_vector(values, encoding: str):
    import numpy as np
    arr = np.asarray(values, dtype="<f4").reshape(-1)
    if encoding == "json":
        return [float(x) for x in arr]
    return base64.b64encode(arr.tobytes()).decode("ascii")


def combine_weight_digests(digests):
    """As src/core/engine/hf/hash.ts: one file → its sha256; several → sha256 of sorted "digest  name\\n" lines."""
    if len(digests) == 1:
        return digests[0][1]
    lines = "".join(f"{d}  {n}\n" for n, d in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def weights_sha256(folder: str):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    if not files:
        return None
    digests = []
    for f in files:
        h = hashlib.sha256()
        with open(os.path.join(folder, f), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 24), b""):
                h.update(chunk)
        digests.append((f, h.hexdigest()))
    return combine_weight_digests(digests)


# --------------------------------------------------------------------------------------------------------------
# the model

class Model:
    """A transformers causal LM with hooks that catch each decoder layer's attention and MLP outputs."""

    def __init__(self, args):
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        # exact fp32 matmuls when fp32 is asked for: TF32 would cost ~1e-3 relative on Ampere and later
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        folder = args.model
        if not os.path.isdir(folder):
            from huggingface_hub import snapshot_download
            # remote: the weights stay on NDIF; only the tokenizer and config come here
            patterns = ["*.json", "tokenizer*", "*.model"] + ([] if args.remote else ["*.safetensors"])
            folder = snapshot_download(args.model, allow_patterns=patterns)
        self.folder = folder
        # as our engine names a folder: config.json's _name_or_path is not trusted here, the folder's name is
        self.name = args.name or (os.path.basename(args.model.rstrip("/")) if os.path.isdir(args.model) else args.model)
        dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[args.dtype]
        self.device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        self.tok = load_tokenizer(folder, args.tokenizer_json)
        self.config = AutoConfig.from_pretrained(folder)
        self.remote = None
        if args.remote:
            self.remote = RemoteModel(args.model, args)
            self.model = None
            self.layers = None
        else:
            if args.device_map:
                # several GPUs (70B): accelerate places the layers; inputs go to the first one
                self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation=args.attn, device_map=args.device_map).eval()
                self.device = str(self.model.device)
            else:
                self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation=args.attn).to(self.device).eval()
            self.layers = decoder_layers(self.model)
        self.n_layers = self.config.num_hidden_layers
        self.d_model = self.config.hidden_size
        self.max_tokens = getattr(self.config, "max_position_embeddings", None)
        self.bos_id = self.tok.bos_token_id
        self.add_bos = self._adds_bos()
        self.identity = None
        if not args.no_hash and not args.remote:
            sha = weights_sha256(folder)
            if sha:
                self.identity = {"name": self.name, "n_layers": self.n_layers, "d_model": self.d_model, "weights_sha256": sha}
        self.caught = {}
        self.wanted = set()  # (kind, layer index) the running request asked for; nothing else is kept
        self.keep_last = False
        self.special_ids = special_token_ids(self.tok)
        # capability steer: the intervention of the request in flight, per thread (hooks run on the forward's thread)
        self.tls = threading.local()
        if self.layers is not None:
            for i, layer in enumerate(self.layers):
                layer.self_attn.register_forward_hook(self._hook("attn", i))
                layer.mlp.register_forward_hook(self._hook("mlp", i))
                # before the catching hook: what is caught (and what later layers see) is the steered output
                layer.register_forward_hook(self._steer_hook(i), with_kwargs=True)
                layer.register_forward_hook(self._hook("layer", i))
        self.lock = threading.Lock()

    def describe(self) -> str:
        import transformers
        where = "remote via nnsight/NDIF" if self.remote else self.device
        return f"sclab_sidecar.py (transformers {transformers.__version__}, torch {self.torch.__version__}, {where})"

    def _adds_bos(self) -> bool:
        # as our engine: tokenizer_config.json's add_bos_token, else whether the tokenizer puts BOS in front itself
        # (transformers 5 no longer keeps the field in init_kwargs: read the file)
        if self.bos_id is None:
            return False
        cfg_path = os.path.join(self.folder, "tokenizer_config.json")
        configured = (json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}).get("add_bos_token")
        if not isinstance(configured, bool):
            configured = getattr(self.tok, "init_kwargs", {}).get("add_bos_token")
        if isinstance(configured, bool):
            return configured
        ids = self.tok("a", add_special_tokens=True)["input_ids"]
        return len(ids) > 0 and ids[0] == self.bos_id

    def _hook(self, kind, i):
        def f(_mod, _inp, output):
            if (kind, i) in self.wanted:
                # transformers 5 decoder layers return a tensor, older ones a tuple (hidden, ...)
                h = (output[0] if isinstance(output, tuple) else output)[0].detach()
                self.caught[(kind, i)] = h[-1:] if self.keep_last else h
        return f

    def can_generate(self) -> bool:
        return self.remote is None and getattr(self, "model", None) is not None

    def _steer_hook(self, i):
        """Residual index l = i + 1 (the output of decoder layer i): add alpha·u, or remove the component along u.
        The absolute position of the pass's first token comes from the layer's cache_position (a pass that continues
        a KV cache starts later), else from position_ids, else 0."""
        def f(_mod, _args, kwargs, output):
            s = getattr(self.tls, "steering", None)
            u = s["by_layer"].get(i + 1) if s else None
            if u is None:
                return None
            h = output[0] if isinstance(output, tuple) else output
            where = kwargs.get("cache_position")
            if where is None and kwargs.get("position_ids") is not None:
                where = kwargs["position_ids"][0]
            offset = int(where[0]) if where is not None and len(where) > 0 else 0
            start = max(0, s["from"] - offset)
            if start >= h.shape[1]:
                return None
            h = h.clone()
            u = u.to(device=h.device, dtype=h.dtype)
            part = h[:, start:, :]
            if s["mode"] == "add":
                part += s["alpha"] * u
            else:
                part -= (part @ u).unsqueeze(-1) * u
            return (h,) + tuple(output[1:]) if isinstance(output, tuple) else h
        return f

    def compile_steer(self, steer, inp, ids):
        """The wire's steer (already checked by parse_steer) → unit directions per layer and the first steered position."""
        if steer is None or (steer["mode"] == "add" and steer["alpha"] == 0):
            return None  # alpha 0 is no intervention at all: bit-identical to an unsteered pass
        torch = self.torch
        by_layer = {}
        for k, entry in enumerate(steer["layers"]):
            l, d = entry["layer"], entry["direction"]
            if l < 1 or l > self.n_layers:
                raise WireError("bad_request", f"steer.layers[{k}].layer: {l} is not a decoder layer output of this {self.n_layers}-layer model (1…{self.n_layers})")
            if l in by_layer:
                raise WireError("bad_request", f"steer.layers[{k}].layer: layer {l} appears twice")
            if len(d) != self.d_model:
                raise WireError("bad_request", f"steer.layers[{k}].direction: needs {self.d_model} numbers (the model's width), got {len(d)}")
            v = torch.tensor(d, dtype=torch.float64)
            n = float(v.norm())
            if not math.isfinite(n) or n == 0:
                raise WireError("bad_request", f"steer.layers[{k}].direction: is the zero vector or not finite")
            by_layer[l] = (v / n).float()
        start = 0
        if steer["positions"] == "input" and "messages" in inp:
            msgs = inp["messages"]
            last = len(msgs) - 1
            while last > 0 and msgs[last]["role"] != "user":
                last -= 1
            if last > 0:
                before = self.ids(self.render(msgs[:last], ""))
                while start < len(before) and start < len(ids) and before[start] == ids[start]:
                    start += 1
        return {"mode": steer["mode"], "alpha": float(steer["alpha"]), "by_layer": by_layer, "from": start}

    def steered(self, steering):
        """the context in which this thread's forward passes run under `steering` (None: unsteered)"""
        model = self

        class Scope:
            def __enter__(self):
                model.tls.steering = steering

            def __exit__(self, *_):
                model.tls.steering = None
                return False
        return Scope()

    # ---- text → ids, as the OpenAI-compatible servers (vLLM, SGLang, llama.cpp) do it ---------------------------
    def render(self, messages, prefill: str) -> str:
        """The prefill is a final assistant message, continued (continue_final_message), as vLLM renders a chat
        request that ends with one: templates space or trim assistant content (Mistral v0.2 writes "[/INST] " +
        content), so appending the raw prefill after the generation prompt would differ from what the generator saw."""
        if getattr(self.tok, "chat_template", None):
            from jinja2 import TemplateError
            try:
                if not prefill.strip():  # no assistant message at all, as our OpenAI backend sends none
                    return self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + prefill
                return self.tok.apply_chat_template(messages + [{"role": "assistant", "content": prefill}], tokenize=False,
                                                    add_generation_prompt=False, continue_final_message=True)
            except (TemplateError, ValueError) as e:  # raise_exception("roles must alternate"), prefill rewritten
                raise WireError("bad_request", f"the chat template of {self.name} refused the conversation: {e}")
        label = {"system": "System", "user": "User", "assistant": "Assistant"}
        turns = "".join(f"{label[m['role']]}: {m['content']}\n\n" for m in messages)
        return f"{turns}Assistant:{(' ' + prefill) if prefill else ''}"

    def text_of(self, inp: dict) -> str:
        return inp["text"] if "text" in inp else self.render(inp["messages"], inp["prefill"])

    def ids(self, text: str):
        """As the serving engines tokenize a rendered chat (add_special_tokens=False: a BOS the template writes is
        the BOS id), with BOS put in front only when the text did not bring it."""
        ids = list(self.tok(text, add_special_tokens=False)["input_ids"])
        if self.add_bos and self.bos_id is not None and (not ids or ids[0] != self.bos_id):
            ids = [self.bos_id] + ids
        return ids

    def special_positions(self, ids):
        return [i for i, t in enumerate(ids) if t in self.special_ids]

    def check_length(self, n: int):
        if n == 0:
            raise WireError("bad_request", "the input is empty and the model has no BOS token: nothing to run")
        if self.max_tokens and n > self.max_tokens:
            raise WireError("prompt_too_long", f"the input is {n} tokens; the model's context holds {self.max_tokens}")

    def pieces(self, before, ids):
        decode = lambda xs: self.tok.decode(xs, skip_special_tokens=True)  # noqa: E731
        seq = list(before) + list(ids)
        out = []
        for i in range(len(ids)):
            at = len(before) + i
            window = seq[max(0, at - 4):at]  # the tokens before it, so spacing rules apply; short decodes only
            prev, now = decode(window), decode(window + [seq[at]])
            out.append(now[len(prev):] if now.startswith(prev) else decode([seq[at]]))
        return out

    # ---- hidden states ----------------------------------------------------------------------------------------
    def layer_list(self, layers, module: str):
        """the layers asked for, each once, in the order asked"""
        lo = 0 if module == "resid" else 1
        if layers == "all":
            return list(range(lo, self.n_layers + 1))
        for l in layers:
            if l < lo or l > self.n_layers:
                raise WireError("bad_request", f"layer {l} does not exist for module {module}: choose {lo}…{self.n_layers}")
        return list(dict.fromkeys(layers))

    def hidden(self, inp: dict, layers, position: str, module: str, convention: str, budget_bytes=None, steer=None):
        """→ (layer_ids, [vector per layer as float32 numpy], n_tokens, special positions); `steer`: capability steer"""
        if steer is None:
            return self._hidden(inp, layers, position, module, convention, budget_bytes)
        if not self.can_generate():
            raise WireError("unsupported", "steering is not offered through the remote service")
        with self.steered(self.compile_steer(steer, inp, self.ids(self.text_of(inp)))):
            return self._hidden(inp, layers, position, module, convention, budget_bytes)

    def _hidden(self, inp: dict, layers, position: str, module: str, convention: str, budget_bytes=None):
        layers = self.layer_list(layers, module)
        ids = self.ids(self.text_of(inp))
        self.check_length(len(ids))
        if budget_bytes is not None:
            floats = len(layers) * self.d_model * (len(ids) if position == "all" else 1)
            if 4 * floats > budget_bytes:
                raise WireError("too_large", f"the answer would hold {floats} numbers ({len(layers)} layers × {len(ids)} tokens × {self.d_model} wide for position {position}), "
                                             f"{4 * floats} bytes as float32; this server sends at most {budget_bytes}: ask for fewer layers or position last/mean")
        special = self.special_positions(ids)
        if self.remote is not None:
            rows = self.remote.hidden(ids, layers, module, convention)
        else:
            rows = self._local_hidden(ids, layers, module, convention, position)
        out = []
        skip = set(special)
        keep = [i for i in range(len(ids)) if i not in skip] or list(range(len(ids)))
        for r in rows:  # r: [T, d] float32 numpy ([1, d] when only the last row was kept)
            if position == "last":
                v = r[-1]
            elif position == "mean":
                # special positions (BOS: 10–100× larger than the others in middle layers) are left out
                v = r[keep].astype("float64").mean(0).astype("float32")
            else:
                v = r.reshape(-1)
            out.append(v)
        return layers, out, len(ids), special

    def _forward_guard(self, n_tokens: int):
        """CUDA out-of-memory: free the cache and answer 413 with the size, instead of a retryable 500 that keeps it"""
        torch = self.torch
        sidecar = self

        class Guard:
            def __enter__(self):
                return self

            def __exit__(self, kind, err, _tb):
                sidecar.caught = {}
                sidecar.wanted = set()
                oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
                if err is not None and oom is not None and isinstance(err, oom):
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    raise WireError("prompt_too_long", f"out of GPU memory on an input of {n_tokens} tokens: send a shorter input") from None
                return False
        return Guard()

    def _base(self):
        """the decoder stack without the LM head: hidden states need no logits over the vocabulary"""
        return getattr(self.model, "model", None) or getattr(self.model, "base_model", self.model)

    def _local_hidden(self, ids, layers, module, convention, position="all"):
        torch = self.torch
        n = self.n_layers
        last_only = position == "last"
        with self.lock, torch.no_grad(), self._forward_guard(len(ids)):
            # only the modules and layers asked for are caught by hooks; the last residual entry in the sclab
            # convention is the last layer's output before the final norm
            if module == "resid":
                self.wanted = {("layer", l - 1) for l in layers if l > 0}
            else:
                self.wanted = {(module, l - 1) for l in layers}
            x = torch.tensor([ids], device=self.device)
            if module == "resid" and 0 in layers:
                emb = self.model.get_input_embeddings()(x)[0]
            base = self._base()
            self.keep_last = last_only
            o = base(input_ids=x, use_cache=False)
            rows = []
            for l in layers:
                if module == "resid":
                    if l == 0:
                        h = emb
                    elif l == n and convention == "hf":
                        h = o.last_hidden_state[0]  # after the final norm, what the LM head reads
                    else:
                        h = self.caught[("layer", l - 1)]
                else:
                    h = self.caught[(module, l - 1)]
                h = h[-1:] if last_only else h
                rows.append(h.float().cpu().numpy())
            return rows

    # ---- log-likelihoods --------------------------------------------------------------------------------------
    def tokenize(self, inp: dict):
        text = self.text_of(inp)
        return text, self.ids(text)

    def loglikelihood(self, inp: dict, continuations, steer=None):
        if steer is None or self.remote is not None:
            return self._loglikelihood(inp, continuations)
        with self.steered(self.compile_steer(steer, inp, self.ids(self.text_of(inp)))):
            return self._loglikelihood(inp, continuations)

    def _loglikelihood(self, inp: dict, continuations):
        if self.remote is not None:
            raise WireError("unsupported", "log-likelihoods are not computed through the remote service; use the generation server")
        text = self.text_of(inp)
        ctx = self.ids(text)
        wholes = [self.ids(text + c) for c in continuations]
        self.check_length(max(len(w) for w in wholes))
        # as our engine (continuations.ts): each option's tokens are those after the prefix it shares with the input
        lcps = []
        for w in wholes:
            n = 0
            while n < len(ctx) and n < len(w) and w[n] == ctx[n]:
                n += 1
            lcps.append(n)
        if min([len(ctx)] + lcps) == 0:
            raise WireError("bad_request", "an option changes the first token of the input: there is no context to score it after")
        shared = min(lcps)  # the context's tokens every option starts with: run once, its KV cache shared
        todo = [(i, w, start) for i, (w, start) in enumerate(zip(wholes, lcps)) if start < len(w)]
        vals = self._logprobs_shared(wholes[0][:shared], [(w[shared:], start - shared) for _, w, start in todo]) if todo else []
        results = [{"sum": 0.0, "tokens": [], "logprobs": []} for _ in wholes]
        for (i, w, start), v in zip(todo, vals):
            results[i] = {"sum": sum(v), "tokens": self.pieces(w[:start], w[start:]), "logprobs": v}
        return results

    def _logprobs_shared(self, prefix, tails):
        """For each (tail, skip): log P(tail[t] | prefix + tail[:t]) for t ≥ skip. The prefix runs once; each tail
        continues a copy of its KV cache. Only the logits of the positions scored are computed (logits_to_keep),
        in float32, with log_softmax + gather instead of a float64 copy of every position's logits."""
        import copy
        torch = self.torch
        n = len(prefix) + max(len(t) for t, _ in tails)
        with self.lock, torch.no_grad(), self._forward_guard(n):
            dev = self.device
            o = self.model(input_ids=torch.tensor([prefix], device=dev), use_cache=True, logits_to_keep=1)
            past, last_logits = o.past_key_values, o.logits[0, -1].float()
            del o
            out = []
            for k, (tail, skip) in enumerate(tails):
                cache = past if k == len(tails) - 1 else copy.deepcopy(past)  # the last one may extend the original
                o = self.model(input_ids=torch.tensor([tail], device=dev), past_key_values=cache, use_cache=True, logits_to_keep=len(tail))
                # row j predicts tail[j]: the prefix's last row, then the tail's own rows but its last
                rows = torch.cat([last_logits[None], o.logits[0, :-1].float()])
                targets = torch.tensor(tail, device=rows.device)
                lp = torch.log_softmax(rows, -1).gather(-1, targets[:, None])[:, 0]
                out.append([float(x) for x in lp[skip:].cpu()])
                del o, rows, lp, cache
            return out


def load_tokenizer(folder: str, from_json: bool):
    """AutoTokenizer; or, with --tokenizer-json, the folder's tokenizer.json as is (what our engine reads), with the
    special tokens and chat template of tokenizer_config.json"""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    if not from_json:
        return AutoTokenizer.from_pretrained(folder)
    cfg_path = os.path.join(folder, "tokenizer_config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    special = {k: v for k, v in cfg.items() if k in ("bos_token", "eos_token", "unk_token", "pad_token") and isinstance(v, str)}
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"), **special)
    if isinstance(cfg.get("chat_template"), str):
        tok.chat_template = cfg["chat_template"]
    if isinstance(cfg.get("add_bos_token"), bool):
        tok.init_kwargs["add_bos_token"] = cfg["add_bos_token"]
    return tok


def special_token_ids(tok):
    """ids of the tokenizer's special tokens: BOS/EOS/…, and added tokens marked special (chat-template markers)"""
    ids = set(getattr(tok, "all_special_ids", None) or [])
    for i, t in (getattr(tok, "added_tokens_decoder", None) or {}).items():
        if getattr(t, "special", False):
            ids.add(int(i))
    return ids


def decoder_layers(model):
    for path in ("model.layers", "model.model.layers", "transformer.h", "gpt_neox.layers"):
        obj = model
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return list(obj)
        except AttributeError:
            continue
    raise SystemExit("cannot find the decoder layers of this model (looked for model.layers, transformer.h, gpt_neox.layers)")


class RemoteModel:
    """Hidden states from a remote interpretability service: nnsight traces run on NDIF (needs NDIF_API_KEY)."""

    def __init__(self, model_id: str, args):
        try:
            from nnsight import CONFIG, LanguageModel
        except ImportError as e:
            raise SystemExit("--remote needs nnsight: pip install -r requirements-remote.txt") from e
        key = os.environ.get(args.ndif_key_env)
        if not key:
            raise SystemExit(f"--remote needs an NDIF API key in ${args.ndif_key_env}")
        CONFIG.set_default_api_key(key)
        self.lm = LanguageModel(model_id)
        self.layers = decoder_layers(self.lm)

    def hidden(self, ids, layers, module, convention):
        """nnsight ≥ 0.5 runs the trace body beside the model (on NDIF with remote=True): modules are read in the
        order they execute (layers sorted, each once; the final norm last), and only what is marked saved comes back
        — so the values go into one container saved inside the body (nnsight.save), not into a dict of this frame.
        transformers 5 decoder layers and MLPs return a tensor [batch, T, d] and attention a tuple whose first entry
        is that tensor: the batch row is taken after unwrapping, never by output[0] alone. The body uses nothing
        but the model's envoys and builtins, so it serializes for NDIF."""
        import nnsight
        import torch
        n = len(self.layers)
        order = sorted(set(layers))
        final_norm = module == "resid" and convention == "hf" and n in order
        blocks = self.layers
        x = torch.tensor([ids])
        with self.lm.trace({"input_ids": x, "attention_mask": torch.ones_like(x)}, remote=True):
            saved = nnsight.save({})
            for l in order:
                if module == "resid" and l == 0:
                    saved[l] = blocks[0].input
                elif module == "resid" and l == n and final_norm:
                    continue  # read after every layer: the final norm runs last
                else:
                    o = blocks[l - 1].output if module == "resid" else blocks[l - 1].self_attn.output if module == "attn" else blocks[l - 1].mlp.output
                    saved[l] = o[0] if isinstance(o, tuple) else o
            if final_norm:
                saved[n] = self.lm.model.norm.output
        out = []
        for l in layers:
            v = saved[l]
            v = getattr(v, "value", v)  # nnsight < 0.5 wrapped saved values
            out.append(v[0].detach().float().cpu().numpy())
        return out


# --------------------------------------------------------------------------------------------------------------
# probes (schema sclab.probe/1): cosine per layer, and sigmoid(w·h + b) for logistic probes

def load_probe(raw: dict, source: str, identity):
    import numpy as np
    if not isinstance(raw, dict) or raw.get("schema") != "sclab.probe/1":
        raise WireError("bad_request", f"{source}: not a sclab.probe/1 probe file (schema)")
    model = raw.get("model") or {}
    if identity is not None and (model.get("weightsSha256") != identity["weights_sha256"] or model.get("nLayers") != identity["n_layers"] or model.get("dModel") != identity["d_model"]):
        raise WireError("bad_request", f"{source}: this probe was trained on model \"{model.get('name')}\" (weights sha256 {str(model.get('weightsSha256'))[:12]}…), "
                                       f"but this server runs \"{identity['name']}\" ({identity['weights_sha256'][:12]}…)")
    module = raw.get("module")
    if module not in ("residual", "attn", "mlp"):
        raise WireError("bad_request", f"{source}: module: expected residual, attn or mlp")
    layers = []
    for i, l in enumerate(raw.get("layers") or []):
        w = l.get("weights")
        if isinstance(w, str):
            vec = np.frombuffer(base64.b64decode(w), dtype="<f4").astype(np.float64)
        elif isinstance(w, list):
            vec = np.asarray(w, dtype=np.float64)
        else:
            raise WireError("bad_request", f"{source}: layers.{i}.weights: expected base64 float32 or an array")
        if vec.shape[0] != model.get("dModel"):
            raise WireError("bad_request", f"{source}: layers.{i}.weights: has {vec.shape[0]} numbers, the model's width is {model.get('dModel')}")
        layers.append((int(l["layer"]), vec, l.get("bias")))
    if not layers:
        raise WireError("bad_request", f"{source}: layers: none")
    return {"module": module, "convention": raw.get("convention", "sclab"), "kind": raw.get("kind"), "layers": layers}


def score_probe(probe, vectors):
    import numpy as np
    cos, prob = [], []
    for layer, w, bias in probe["layers"]:
        h = np.asarray(vectors[layer], dtype=np.float64)
        d = float(w @ h)
        nh, nw = float(np.linalg.norm(h)), float(np.linalg.norm(w))
        cos.append(None if nh == 0 or nw == 0 else d / (nh * nw))
        prob.append(None if bias is None else 1 / (1 + math.exp(-(d + bias))) if -(d + bias) < 700 else 0.0)
    return cos, prob


# --------------------------------------------------------------------------------------------------------------
# HTTP

    # ---- generation (POST /v1/generate) --------------------------------------------------------------------------
    def generate(self, inp: dict, max_tokens: int, temperature: float, top_p: float, seed, stop, steer=None):
        torch = self.torch
        ids = self.ids(self.text_of(inp))
        self.check_length(len(ids))
        if self.max_tokens:
            max_tokens = min(max_tokens, max(0, self.max_tokens - len(ids)))
        steering = self.compile_steer(steer, inp, ids) if steer else None
        gen = torch.Generator(device="cpu").manual_seed(seed if seed is not None else int.from_bytes(os.urandom(4), "little"))
        eos = self.tok.eos_token_id
        out, finish, text = [], "length", None
        with self.lock, torch.no_grad(), self.steered(steering):
            try:
                o = self.model(torch.tensor([ids], device=self.device), use_cache=True)
                past, pos = o.past_key_values, len(ids)
                logits = o.logits[0, -1].double().cpu()
                while len(out) < max_tokens:
                    if temperature == 0:
                        nxt = int(torch.argmax(logits))
                    else:
                        p = torch.softmax(logits / temperature, -1)
                        if top_p < 1:
                            sp, si = torch.sort(p, descending=True)
                            keep = torch.cumsum(sp, 0) - sp < top_p
                            p = torch.zeros_like(p).scatter(0, si[keep], sp[keep])
                        nxt = int(torch.multinomial(p / p.sum(), 1, generator=gen))
                    if nxt == eos:
                        finish = "stop"
                        break
                    out.append(nxt)
                    now = self.tok.decode(out, skip_special_tokens=True)
                    cut = min([i for i in (now.find(s) for s in stop if s) if i >= 0], default=-1)
                    if cut >= 0:
                        text, finish = now[:cut], "stop"
                        break
                    if len(out) >= max_tokens:
                        break
                    o = self.model(torch.tensor([[nxt]], device=self.device), past_key_values=past, use_cache=True)
                    past, pos = o.past_key_values, pos + 1
                    logits = o.logits[0, -1].double().cpu()
            finally:
                past = None
        if text is None:
            text = self.tok.decode(out, skip_special_tokens=True)
        return {"text": text, "finish_reason": finish, "prompt_tokens": len(ids), "completion_tokens": len(out)}


def parse_steer(body: dict, can_steer: bool):
    """The optional `steer` field (capability steer), checked; None when absent."""
    s = body.get("steer")
    if s is None:
        return None
    if not can_steer:
        raise WireError("unsupported", "this server cannot steer (capability steer is false in GET /v1/info)")
    if not isinstance(s, dict) or not set(s) <= {"mode", "alpha", "layers", "positions"}:
        raise WireError("bad_request", "steer: expected {mode?, alpha?, layers: [{layer, direction}], positions?}")
    mode = one_of(s, "mode", ("add", "ablate"), "add")
    positions = one_of(s, "positions", ("all", "input"), "all")
    alpha = s.get("alpha", 0)
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not math.isfinite(alpha):
        raise WireError("bad_request", "steer.alpha: expected a finite number")
    layers = s.get("layers")
    if not isinstance(layers, list) or not layers:
        raise WireError("bad_request", "steer.layers: expected a non-empty list of {layer, direction}")
    out = []
    for k, e in enumerate(layers):
        if not isinstance(e, dict) or set(e) != {"layer", "direction"} or not isinstance(e["layer"], int) or isinstance(e["layer"], bool):
            raise WireError("bad_request", f"steer.layers[{k}]: expected {{layer: integer, direction}}")
        d = e["direction"]
        if isinstance(d, str):
            try:
                raw = base64.b64decode(d, validate=True)
            except Exception:
                raise WireError("bad_request", f"steer.layers[{k}].direction: not base64")
            if len(raw) % 4:
                raise WireError("bad_request", f"steer.layers[{k}].direction: base64 of float32 needs a multiple of 4 bytes")
            d = list(struct.unpack(f"<{len(raw) // 4}f", raw))
        elif not (isinstance(d, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in d)):
            raise WireError("bad_request", f"steer.layers[{k}].direction: expected numbers or base64 float32")
        out.append({"layer": e["layer"], "direction": [float(x) for x in d]})
    return {"mode": mode, "alpha": float(alpha), "layers": out, "positions": positions}


class Sidecar:
    def __init__(self, model: Model, args, probes):
        self.m = model
        self.token = args.token
        self.max_body = args.max_body_mb * 1024 * 1024
        self.max_chars = args.max_prompt_chars
        self.max_response = int(getattr(args, "max_response_mb", 256) * 1024 * 1024)
        self.probes = probes
        self.implementation = model.describe()

    def info(self, _body=None):
        m = self.m
        out = {"protocol": PROTOCOL, "model": m.name, "n_layers": m.n_layers, "d_model": m.d_model, "modules": list(MODULES),
               "capabilities": {"hidden_states": True, "probe_scores": True, "loglikelihood": m.remote is None, "openai": False,
                                "generate": m.can_generate(), "steer": m.can_generate()},
               "limits": {"max_body_bytes": self.max_body, "max_prompt_chars": self.max_chars, "max_response_bytes": self.max_response},
               "implementation": self.implementation, "probes": sorted(self.probes)}
        if m.max_tokens:
            out["limits"]["max_tokens"] = m.max_tokens
        if m.identity:
            out["identity"] = m.identity
        return out

    def check_chars(self, inp):
        n = input_chars(inp)
        if n > self.max_chars:
            raise WireError("prompt_too_long", f"the input text is {n} characters; this server accepts at most {self.max_chars}")

    def hidden_states(self, body):
        inp = parse_input(body)
        layers = body.get("layers", "all")
        if layers != "all" and not (isinstance(layers, list) and layers and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in layers)):
            raise WireError("bad_request", 'layers: expected "all" or a non-empty list of layer numbers ≥ 0')
        position = one_of(body, "position", POSITIONS, "last")
        module = one_of(body, "module", MODULES, "resid")
        convention = one_of(body, "convention", CONVENTIONS, "sclab")
        encoding = one_of(body, "encoding", ENCODINGS, "json")
        self.check_chars(inp)
        # base64 float32 is 4/3 × 4 bytes a number, JSON up to ~16: the budget is on the answer as sent
        per_float = 16 if encoding == "json" else 16 / 3
        steer = parse_steer(body, self.m.can_generate())
        ids, vecs, n, special = self.m.hidden(inp, layers, position, module, convention, budget_bytes=int(self.max_response * 4 / per_float), steer=steer)
        return {"protocol": PROTOCOL, "model": self.m.name, "module": module, "position": position, "convention": convention,
                "encoding": encoding, "layer_ids": ids, "dim": self.m.d_model, "n_tokens": n, "special_positions": special,
                "layers": [encode_vector(v, encoding) for v in vecs]}

    def tokenize(self, body):
        """the ids this server runs the model on, for the client to compare with the generation server's /tokenize"""
        inp = parse_input(body)
        self.check_chars(inp)
        text, ids = self.m.tokenize(inp)
        self.m.check_length(len(ids))
        return {"protocol": PROTOCOL, "model": self.m.name, "text": text, "tokens": ids, "count": len(ids), "bos_id": self.m.bos_id}

    def probe_scores(self, body):
        inp = parse_input(body)
        refs = body.get("probes")
        if not isinstance(refs, list) or not refs:
            raise WireError("bad_request", "probes: expected a non-empty array of {id} or {name?, probe}")
        self.check_chars(inp)
        resolved = []
        for i, ref in enumerate(refs):
            if isinstance(ref, dict) and set(ref) == {"id"}:
                if ref["id"] not in self.probes:
                    raise WireError("not_found", f"probes[{i}]: no probe with id \"{ref['id']}\" on this server (known: {', '.join(sorted(self.probes)) or 'none'})")
                resolved.append((ref["id"], self.probes[ref["id"]]))
            elif isinstance(ref, dict) and "probe" in ref and set(ref) <= {"probe", "name"}:
                name = ref.get("name") or f"probes[{i}]"
                resolved.append((name, load_probe(ref["probe"], f"probes[{i}] ({name})", self.m.identity)))
            else:
                raise WireError("bad_request", f"probes.{i}: expected {{id}} or {{name?, probe}}")
        states = {}
        for _, p in resolved:
            key = (p["module"], p["convention"])
            states.setdefault(key, set()).update(l for l, _, _ in p["layers"])
        vectors = {}
        for (module, convention), layers in states.items():
            wire = "resid" if module == "residual" else module
            ids, vecs, _, _ = self.m.hidden(inp, sorted(layers), "last", wire, convention)
            vectors[(module, convention)] = dict(zip(ids, vecs))
        scores = []
        for name, p in resolved:
            cos, prob = score_probe(p, vectors[(p["module"], p["convention"])])
            entry = {"probe": name, "module": "resid" if p["module"] == "residual" else p["module"], "position": "last",
                     "convention": p["convention"], "layer_ids": [l for l, _, _ in p["layers"]], "cosine": cos}
            if p["kind"] == "logistic":
                entry["probability"] = prob
            scores.append(entry)
        return {"protocol": PROTOCOL, "model": self.m.name, "scores": scores}

    def loglikelihood(self, body):
        inp = parse_input(body, "context")
        conts = body.get("continuations")
        if not isinstance(conts, list) or not conts or len(conts) > 64 or not all(isinstance(c, str) for c in conts):
            raise WireError("bad_request", "continuations: expected 1…64 strings")
        self.check_chars(inp)
        steer = parse_steer(body, self.m.can_generate())
        return {"protocol": PROTOCOL, "model": self.m.name, "results": self.m.loglikelihood(inp, conts, steer)}
    def generate(self, body):
        if not self.m.can_generate():
            raise WireError("unsupported", "this server does not generate through POST /v1/generate")
        inp = parse_input(body)
        max_tokens = body.get("max_tokens", 16)
        temperature = body.get("temperature", 0)
        top_p = body.get("top_p", 1)
        seed = body.get("seed")
        stop = body.get("stop", [])
        num = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)  # noqa: E731
        if not (isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 0):
            raise WireError("bad_request", "max_tokens: expected an integer ≥ 0")
        if not (num(temperature) and temperature >= 0) or not (num(top_p) and 0 < top_p <= 1):
            raise WireError("bad_request", "temperature ≥ 0 and 0 < top_p ≤ 1 expected")
        if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
            raise WireError("bad_request", "seed: expected an integer ≥ 0")
        if not (isinstance(stop, list) and len(stop) <= 16 and all(isinstance(x, str) for x in stop)):
            raise WireError("bad_request", "stop: expected at most 16 strings")
        steer = parse_steer(body, True)
        self.check_chars(inp)
        r = self.m.generate(inp, max_tokens, float(temperature), float(top_p), seed, stop, steer)
        return {"protocol": PROTOCOL, "model": self.m.name, **r}



def make_handler(app: Sidecar, log: bool):
    routes = {("GET", "/v1/info"): app.info, ("POST", "/v1/hidden_states"): app.hidden_states,
              ("POST", "/v1/probe_scores"): app.probe_scores, ("POST", "/v1/loglikelihood"): app.loglikelihood,
              ("POST", "/v1/tokenize"): app.tokenize, ("POST", "/v1/generate"): app.generate}
    paths = {p for _, p in routes}
    token_digest = hashlib.sha256(app.token.encode()).digest() if app.token else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120  # seconds a socket may sit idle (slow or stalled clients do not hold a thread forever)

        def log_message(self, *a):  # requests are logged by handle() without bodies or headers
            pass

        def _send(self, status: int, obj, close=False):
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            if close:
                self.send_header("connection", "close")
                self.close_connection = True
            if status == 200 and isinstance(obj.get("layers"), list) and obj["layers"]:
                # a large answer goes out in chunks, one layer at a time, never as one more copy of the whole
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                layers = obj.pop("layers")
                head = json.dumps(obj, separators=(",", ":"), allow_nan=False)
                self._chunk(head[:-1].encode() + b',"layers":[')
                for i, v in enumerate(layers):
                    self._chunk((b"," if i else b"") + json.dumps(v, separators=(",", ":"), allow_nan=False).encode())
                self._chunk(b"]}")
                self.wfile.write(b"0\r\n\r\n")
                return
            data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes):
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        def _length(self):
            raw = self.headers.get("content-length")
            if self.headers.get("transfer-encoding"):
                raise WireError("bad_request", "transfer-encoding: send the body with a content-length")
            if raw is None:
                return 0
            if not raw.strip().isdigit():  # negative or not a number: the body's end is unknown
                raise WireError("bad_request", f"content-length: expected a non-negative integer (got {raw!r})")
            return int(raw)

        def _body(self):
            n = self._length()
            if n > DISCARD_CAP:
                raise WireError("too_large", f"the body is {n} bytes; this server accepts at most {app.max_body}")
            if n > app.max_body:
                left = n
                while left > 0:  # read and drop it, so the client hears the 413 rather than a reset
                    left -= len(self.rfile.read(min(left, 1 << 20)) or b"\0" * left)
                raise WireError("too_large", f"the body is {n} bytes; this server accepts at most {app.max_body}")
            raw = self.rfile.read(n) if n else b""
            if not raw.strip():
                raise WireError("bad_request", "the body is empty: send a JSON object")
            try:
                body = json.loads(raw)
            except ValueError as e:
                raise WireError("bad_request", f"the body is not JSON: {e}")
            if not isinstance(body, dict):
                raise WireError("bad_request", "body: expected a JSON object")
            return body

        def handle_one(self, method):
            started = time.perf_counter()
            path = self.path.split("?")[0].rstrip("/") or "/"
            status = 200
            body_read = method == "GET" and not self.headers.get("content-length") and not self.headers.get("transfer-encoding")
            try:
                if token_digest is not None:
                    auth = self.headers.get("authorization") or ""
                    given = auth[7:].strip() if auth.lower().startswith("bearer ") else None
                    if given is None or not hmac.compare_digest(hashlib.sha256(given.encode()).digest(), token_digest):
                        raise WireError("unauthorized", "this server needs Authorization: Bearer <token>" if given is None else "the bearer token is not the one this server was started with")
                fn = routes.get((method, path))
                if fn is None:
                    if path in paths:
                        raise WireError("method_not_allowed", f"{method} is not allowed on {path}")
                    raise WireError("not_found", f"no route {method} {path}; this server speaks {PROTOCOL} (see GET /v1/info)")
                body = self._body() if method == "POST" else None
                body_read = True
                self._send(200, fn(body))
            except WireError as e:
                status = STATUS[e.code]
                # an answer given before the body was read (401, 404, 405, 413, a bad content-length) closes the
                # connection: the unread body must not be parsed as the next request
                self._send(status, {"error": {"code": e.code, "message": e.message, "type": e.code}}, close=not body_read)
            except Exception as e:  # noqa: BLE001 — a bug answers 500 with its message, never a traceback
                status = 500
                self._send(500, {"error": {"code": "internal", "message": f"{type(e).__name__}: {e}", "type": "internal"}}, close=not body_read)
            if log:
                sys.stderr.write(f"{method} {path} {status} {1000 * (time.perf_counter() - started):.1f} ms\n")

        def do_GET(self):
            self.handle_one("GET")

        def do_POST(self):
            self.handle_one("POST")

        def do_PUT(self):
            self.handle_one("PUT")

        def do_DELETE(self):
            self.handle_one("DELETE")

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description="sclab.sidecar/1 reference server on Hugging Face transformers")
    ap.add_argument("--model", required=True, help="Hugging Face model id (e.g. mistralai/Mistral-7B-Instruct-v0.2) or local folder")
    ap.add_argument("--name", help="the model name clients use (default: the model id, or the folder's name); match the generation server's")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--token", help="require Authorization: Bearer <token> (prefer --token-env)")
    ap.add_argument("--token-env", help="environment variable holding the token")
    ap.add_argument("--allow-no-token", action="store_true", help="listen on a non-loopback address without a token")
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    ap.add_argument("--device", default="auto", help="cuda, cpu, cuda:1 … (default: cuda when available)")
    ap.add_argument("--tokenizer-json", action="store_true", help="read tokenizer.json directly (as sclab's engine does) instead of AutoTokenizer")
    ap.add_argument("--device-map", help='spread the model over several GPUs (e.g. "auto"; needs accelerate)')
    ap.add_argument("--attn", default="sdpa", help="attn_implementation (sdpa: fast, memory-light; eager: the reference kernel)")
    ap.add_argument("--probe", nargs="*", default=[], help="probe files clients may name by id (file name without .probe.json)")
    ap.add_argument("--max-body-mb", type=int, default=8)
    ap.add_argument("--max-prompt-chars", type=int, default=200_000)
    # 256 MiB keeps an answer under V8's ~512 MiB string limit, which the Node client reads it into
    ap.add_argument("--max-response-mb", type=int, default=256, help="largest hidden_states answer; larger requests get 413")
    ap.add_argument("--no-hash", action="store_true", help="skip hashing the weights (no identity in /v1/info: probe files cannot be checked)")
    ap.add_argument("--remote", action="store_true", help="hidden states from NDIF through nnsight instead of a local copy of the model")
    ap.add_argument("--ndif-key-env", default="NDIF_API_KEY")
    ap.add_argument("--log", action="store_true", help="one line per request on stderr")
    args = ap.parse_args(argv)
    if args.token and args.token_env:
        ap.error("give --token or --token-env, not both")
    if args.token_env:
        args.token = os.environ.get(args.token_env) or ap.error(f"--token-env {args.token_env}: the variable is unset or empty")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.token and not args.allow_no_token:
        ap.error(f"--host {args.host} exposes the model beyond this machine: set --token-env NAME, or pass --allow-no-token")
    model = Model(args)
    probes = {}
    for f in args.probe:
        pid = os.path.basename(f).removesuffix(".json").removesuffix(".probe")
        with open(f) as fh:
            try:
                probes[pid] = load_probe(json.load(fh), f, model.identity)
            except WireError as e:
                raise SystemExit(e.message)
    app = Sidecar(model, args, probes)
    server_class = ThreadingHTTPServer
    if ":" in args.host:  # an IPv6 address (::1): the stock server binds IPv4 only
        import socket

        class ThreadingHTTPServer6(ThreadingHTTPServer):
            address_family = socket.AF_INET6
        server_class = ThreadingHTTPServer6
    server = server_class((args.host, args.port), make_handler(app, args.log))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"sclab sidecar: model \"{model.name}\" ({model.n_layers} layers, width {model.d_model}) on {model.device}"
                     f"{', bearer token required' if args.token else ''}\n  {PROTOCOL}: http://{shown}:{port}  (GET /v1/info)\n")
    print(json.dumps({"url": f"http://{shown}:{port}", "model": model.name}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
