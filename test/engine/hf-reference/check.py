# Compares our engine's outputs (tmp/enginecheck/ours.json, from gen.ts) with transformers' LlamaForCausalLM on
# stories260K in HF layout: logits, output_hidden_states, the pre-norm last layer, self_attn and mlp outputs, and
# continuation log-probabilities. Prints the worst absolute differences; writes them to $OUT/diff.json.
import json, os, torch, transformers
from transformers import LlamaForCausalLM
root = 'tmp/enginecheck'
ours = json.load(open(f'{root}/ours.json'))
m = LlamaForCausalLM.from_pretrained(f'{root}/stories-hf', dtype=torch.float32, attn_implementation='eager').eval()
caught = {'attn': {}, 'mlp': {}, 'layer': {}}
def hook(kind, i):
    def f(_mod, _inp, output):
        caught[kind][i] = (output[0] if isinstance(output, tuple) else output)[0].detach()
    return f
for i, layer in enumerate(m.model.layers):
    layer.self_attn.register_forward_hook(hook('attn', i))
    layer.mlp.register_forward_hook(hook('mlp', i))
    layer.register_forward_hook(hook('layer', i))
ids = torch.tensor([ours['ids']])
with torch.no_grad():
    o = m(ids, output_hidden_states=True)
def worst(a, b):
    return float((torch.tensor(a) - b).abs().max())
L = len(m.model.layers)
d = {
    'logits': worst(ours['logits'], o.logits[0]),
    'max_logit': float(o.logits.abs().max()),
    'hidden_hf_convention': max(worst(ours['hidden_hf'][l], o.hidden_states[l][0]) for l in range(L + 1)),
    'residual_sclab_last_prenorm': worst(ours['residual_sclab'][L], caught['layer'][L - 1]),
    'residual_sclab_0_to_L-1': max(worst(ours['residual_sclab'][l], o.hidden_states[l][0]) for l in range(L)),
    'attn_output': max(worst(ours['attn'][l], caught['attn'][l]) for l in range(L)),
    'mlp_output': max(worst(ours['mlp'][l], caught['mlp'][l]) for l in range(L)),
    'max_state': float(max(h.abs().max() for h in o.hidden_states)),
}
lp = torch.log_softmax(o.logits[0].double(), -1)
s = ours['score_from']
ref = [float(lp[t - 1, ours['ids'][t]]) for t in range(s, len(ours['ids']))]
d['score_logprobs'] = max(abs(a - b) for a, b in zip(ours['score_logprobs'], ref))
d['greedy_next_same'] = bool(torch.equal(o.logits[0].argmax(-1), torch.tensor(ours['logits']).argmax(-1)))
d['versions'] = f'transformers {transformers.__version__}, torch {torch.__version__}'
print(json.dumps(d, indent=1))
os.makedirs(os.environ.get('OUT', root), exist_ok=True)
json.dump(d, open(os.path.join(os.environ.get('OUT', root), 'diff.json'), 'w'), indent=1)
