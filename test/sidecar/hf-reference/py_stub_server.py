"""The Python sidecar's HTTP layer, request checks and probe scoring on a numpy stand-in model (no torch), so the
conformance suite can check sclab_sidecar.py on machines without torch. Usage: python3 py_stub_server.py [PORT] (0 or none: a free port); prints "ready <port>"."""
import math
import os
import sys
from http.server import ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../sidecar"))
import sclab_sidecar as sc  # noqa: E402


class CharTokenizer:
    chat_template = None
    bos_token = "<s>"
    bos_token_id = 1
    init_kwargs = {"add_bos_token": True}

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) + 3 for c in text]}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(chr(i - 3) for i in ids if i >= 3)


class StubModel(sc.Model):
    def __init__(self):
        self.tok = CharTokenizer()
        self.name, self.n_layers, self.d_model, self.max_tokens = "stub", 3, 8, 512
        self.remote, self.bos_id, self.add_bos, self.device = None, 1, True, "cpu"
        self.special_ids = {1}
        self.identity = {"name": "stub", "n_layers": 3, "d_model": 8, "weights_sha256": "ab" * 32}

    def describe(self):
        return "sclab_sidecar.py on a numpy stub"

    def _local_hidden(self, ids, layers, module, convention, position="all"):
        off = {"resid": 0.0, "attn": 0.3, "mlp": 0.7}[module] + (0.05 if convention == "hf" else 0.0)
        rows = []
        for l in layers:
            h = np.array([[math.sin(0.01 * i * (j + 1) + l + off) for j in range(self.d_model)] for i in ids], dtype=np.float32)
            rows.append(np.cumsum(h, axis=0).astype(np.float32))  # each row depends on every token before it
        return rows

    def _logprobs_shared(self, prefix, tails):
        out = []
        for tail, skip in tails:
            ids = list(prefix) + list(tail)
            out.append([-0.1 * (1 + (ids[t] + ids[t - 1]) % 7) for t in range(len(prefix) + skip, len(ids))])
        return out


# a 10 KiB answer budget, so the 413 for an oversized answer is reachable with this small model
args = SimpleNamespace(token=os.environ.get("STUB_TOKEN"), max_body_mb=1, max_prompt_chars=4000, max_response_mb=0.01)
app = sc.Sidecar(StubModel(), args, {})
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), sc.make_handler(app, False))
print("ready", server.server_address[1], flush=True)
server.serve_forever()
