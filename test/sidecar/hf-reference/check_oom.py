"""sclab_sidecar.py's out-of-memory guard with torch: a CUDA OOM inside a forward pass becomes a 413 that gives the
token count, and the caught activations are dropped. Usage: python3 check_oom.py; prints one JSON line."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../sidecar"))
import sclab_sidecar as sc  # noqa: E402

m = sc.Model.__new__(sc.Model)  # the guard only: no weights are needed
m.torch, m.caught, m.wanted = torch, {("layer", 0): torch.zeros(2)}, {("layer", 0)}
try:
    with m._forward_guard(4096):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    out = {"error": None}
except sc.WireError as e:
    out = {"code": e.code, "status": sc.STATUS[e.code], "message": e.message, "cleared": m.caught == {} and m.wanted == set()}
try:
    with m._forward_guard(10):
        raise ValueError("a bug")
except ValueError:
    out["other_errors_pass_through"] = True
print(json.dumps(out))
