"""sclab_sidecar.py's rendering and tokenization on the real tokenizer folders (scripts/real-tokenizers.py) against
the committed reference golden.json. Usage: python3 check_real_render.py GOLDEN ROOT; prints one JSON line per case."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../../sidecar"))
import sclab_sidecar as sc  # noqa: E402

golden, root = json.load(open(sys.argv[1])), sys.argv[2]
for fam, g in golden["families"].items():
    folder = os.path.join(root, fam)
    m = sc.Model.__new__(sc.Model)  # the text side only: no weights are needed to render and tokenize
    m.folder, m.name = folder, fam
    m.tok = sc.load_tokenizer(folder, False)
    m.bos_id = m.tok.bos_token_id
    m.add_bos = m._adds_bos()
    for c in g["cases"]:
        try:
            text, ids = m.tokenize({"messages": c["messages"], "prefill": c["prefill"]})
            out = {"text": text, "ids": ids}
        except sc.WireError as e:
            out = {"error": e.code + ": " + e.message}
        print(json.dumps({"family": fam, "case": c["name"], **out}), flush=True)
    try:
        m.render([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "x")
        refused = None
    except sc.WireError as e:
        refused = e.code
    print(json.dumps({"family": fam, "case": "non-alternating roles", "refused": refused}), flush=True)
