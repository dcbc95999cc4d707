#!/usr/bin/env bash
# On a machine with torch + transformers (and a GPU): the Python sidecar on stories260K in HF layout passes the
# conformance suite and gives the embedded engine's hidden states (within 1e-4 relative). Needs tmp/sidecarcheck/
# from README.md step 1 (node.xz there when the machine has no node). Results in $OUT (default tmp/sidecarcheck/out).
set -u
OUT=${OUT:-tmp/sidecarcheck/out}; mkdir -p "$OUT"
C=tmp/sidecarcheck
export PYTHONUNBUFFERED=1 TT=device-check-token
if ! command -v node >/dev/null; then
  python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('$C/node.xz'),open('/tmp/node','wb'))" && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
{ node --version; python3 -c "import torch,transformers;print('torch',torch.__version__,'transformers',transformers.__version__,'cuda',torch.cuda.is_available(),torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"; } 2>&1 | tee "$OUT/versions.txt"
node $C/dist/cli.js serve --model $C/stories-hf --port 18766 --token-env TT >"$OUT/engine.log" 2>&1 &
"${PYTHON:-python3}" sidecar/sclab_sidecar.py --model $C/stories-hf --dtype float32 --port 18765 --token-env TT --log >"$OUT/py-gpu.log" 2>&1 &
"${PYTHON:-python3}" sidecar/sclab_sidecar.py --model $C/stories-hf --dtype float32 --port 18768 --token-env TT --tokenizer-json --log >"$OUT/py-gpu-tokjson.log" 2>&1 &
"${PYTHON:-python3}" sidecar/sclab_sidecar.py --model $C/stories-hf --dtype float32 --port 18767 --token-env TT --device cpu --log >"$OUT/py-cpu.log" 2>&1 &
python3 - <<'PY'
import time, urllib.request
end = time.time() + 150  # one deadline for all four: a server that died must not hold the run
for port in (18766, 18765, 18768, 18767):
    while time.time() < end:
        try:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/info", headers={"authorization": "Bearer device-check-token"}), timeout=2)
            print("up", port, flush=True)
            break
        except Exception:
            time.sleep(1)
PY
for pair in "gpu 18765" "gpu-tokjson 18768" "cpu 18767"; do
  set -- $pair
  echo "=== Python sidecar ($1) vs sclab serve" | tee -a "$OUT/summary.txt"
  node $C/conformance.js --url http://127.0.0.1:$2 --token-env TT --reference http://127.0.0.1:18766 --json "$OUT/$1.json" 2>&1 | tee -a "$OUT/summary.txt"
done
echo "=== sclab serve itself" | tee -a "$OUT/summary.txt"
node $C/conformance.js --url http://127.0.0.1:18766 --token-env TT 2>&1 | tail -1 | tee -a "$OUT/summary.txt"
kill $(jobs -p) 2>/dev/null
for f in "$OUT"/py-*.log; do echo "== $f"; tail -n 5 "$f"; done
