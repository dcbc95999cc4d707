import json, os, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast
torch.manual_seed(0)
root = 'tmp/hfcheck/models'
cases = json.load(open(f'{root}/cases.json'))
out = {}
for cid in ['llama', 'mistral', 'qwen2']:
    d = f'{root}/{cid}'
    r = {}
    try:
        m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation='eager').eval()
        ids = torch.tensor([cases['ids']])
        with torch.no_grad():
            o = m(ids, output_hidden_states=True)
        r['logits'] = o.logits[0].tolist()
        r['hidden'] = [h[0].tolist() for h in o.hidden_states]
    except Exception as e:
        r['model_error'] = repr(e)
    try:
        try:
            tok = AutoTokenizer.from_pretrained(d)
            r['tok_class'] = type(tok).__name__
        except Exception as e:
            r['auto_tok_error'] = repr(e)
            cfg = json.load(open(f'{d}/tokenizer_config.json'))
            tok = PreTrainedTokenizerFast(tokenizer_file=f'{d}/tokenizer.json', **{k: v for k, v in cfg.items() if k in ('bos_token','eos_token','unk_token','chat_template')})
            r['tok_class'] = 'PreTrainedTokenizerFast(fallback)'
        r['text_ids'] = [tok(t)['input_ids'] for t in cases['texts']]
        r['text_ids_nospecial'] = [tok(t, add_special_tokens=False)['input_ids'] for t in cases['texts']]
        chats = []
        for c in cases['chats']:
            try:
                s = tok.apply_chat_template(c['messages'], add_generation_prompt=True, tokenize=False) + c['prefill']
                chats.append({'text': s, 'ids': tok(s, add_special_tokens=False)['input_ids']})
            except Exception as e:
                chats.append({'error': repr(e)})
        r['chats'] = chats
    except Exception as e:
        r['tok_error'] = repr(e)
    out[cid] = r
os.makedirs(os.environ['OUT'], exist_ok=True)
json.dump(out, open(os.path.join(os.environ['OUT'], 'hf.json'), 'w'))
import transformers; print('transformers', transformers.__version__, 'torch', torch.__version__)
for k, v in out.items(): print(k, {kk: (vv if 'error' in kk or kk == 'tok_class' else '...') for kk, vv in v.items()})
