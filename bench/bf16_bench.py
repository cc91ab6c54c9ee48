#!/usr/bin/env python
"""bfloat16 on this machine: how fast it really runs, and how much it changes BLiMP decisions, against float32.

    python bench/bf16_bench.py [--n_per_task 35] [--tasks 60] [--speed_pairs 48]

1. Matmul peaks: float32 (2048^3) and bfloat16 (1024^3, or what the CPU gives), best of 3, 1 and 2 threads.
2. Speed: the same pairs scored with `lm.compute_dtype = torch.bfloat16` (torch.autocast; our head, softmax and
   log-probabilities stay float32) and in float32: pairs/s, and each as a fraction of its own dtype's matmul peak.
3. Agreement: float32 scores against bfloat16 scores on >= 2,000 pairs from >= 20 paradigms. Where the CPU has no
   native bfloat16 (no AMX / AVX512-BF16), real bfloat16 would take hours here, so the numbers are those of an
   *emulation*: every linear layer of the transformer body gets its weights, inputs and outputs rounded to bfloat16
   and multiplies in float32 -- what AMX computes (bf16 x bf16 products are exact in float32; AMX accumulates in
   float32), up to the order of the sums -- and the LM head stays float32, as in lts_nb. On a CPU with native
   bfloat16 the real autocast path is measured instead.
Writes bench/results/bf16_bench.json atomically.
"""
import argparse, json, os, tempfile, time
from contextlib import contextmanager
from pathlib import Path
import numpy as np, torch

ROOT = Path(__file__).resolve().parents[1]

def peak(dtype, n, threads, reps=3):
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype); a @ b
    best = min(_t(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best

def _t(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t

@contextmanager
def bf16_emulation(model):
    "Round the weights, inputs and outputs of every linear layer of the body (not the LM head) to bfloat16."
    r = lambda t: t.to(torch.bfloat16).to(t.dtype)
    head = model.get_output_embeddings()
    lins = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head]
    saved = [m.weight.data.clone() for m in lins]
    hooks = []
    for m in lins:
        m.weight.data = r(m.weight.data)
        hooks.append(m.register_forward_pre_hook(lambda mod, args: (r(args[0]),) + tuple(args[1:])))
        hooks.append(m.register_forward_hook(lambda mod, args, out: r(out)))
    try: yield
    finally:
        for h in hooks: h.remove()
        for m, w in zip(lins, saved): m.weight.data = w

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n_per_task', type=int, default=35)
    ap.add_argument('--tasks', type=int, default=60)
    ap.add_argument('--speed_pairs', type=int, default=48)
    ap.add_argument('--out', default=str(ROOT/'bench'/'results'/'bf16_bench.json'))
    a = ap.parse_args()
    from lts_nb.models import load_model, native_bf16
    from lts_nb.data import load_blimp
    from lts_nb.scoring import pair_margins, score_pairs, tokenize_sentences
    res = {'native_bf16': native_bf16('cpu'), 'load_start': os.getloadavg()}
    res['peaks'] = {f'{dt}_{th}thread': peak(getattr(torch, dt), 2048 if dt == 'float32' else 512, th)
                    for dt in ('float32', 'bfloat16') for th in (1, 2)}
    torch.set_num_threads(2)
    lm = load_model('smollm2-135m')
    blimp = load_blimp(ROOT.parent/'shared'/'data'/'blimp')
    uids = list(blimp)[::max(1, len(blimp) // a.tasks)][:a.tasks]
    pairs = blimp.subset(uids, n_per_task=a.n_per_task).pairs
    # speed, fp32 vs real bf16 autocast, on the same few pairs
    sp = pairs[::max(1, len(pairs) // a.speed_pairs)][:a.speed_pairs]
    pair_margins(lm, sp[:4])
    t32 = min(_t(lambda: pair_margins(lm, sp)) for _ in range(2))
    lm.compute_dtype = torch.bfloat16
    pair_margins(lm, sp[:2])
    t16 = _t(lambda: pair_margins(lm, sp))
    m16_real = pair_margins(lm, sp)
    lm.compute_dtype = torch.float32
    m32_sp = pair_margins(lm, sp)
    with bf16_emulation(lm.model): m16_emul_sp = pair_margins(lm, sp)
    ids = tokenize_sentences(lm, [s for p in sp for s in (p.good, p.bad)])
    flops = sum(2 * 106e6 * len(x) for x in ids)      # body FLOPs of the sentences (approx. non-embedding params x tokens)
    res['speed'] = {'pairs': len(sp), 'float32_s': t32, 'bfloat16_autocast_s': t16, 'bf16_slowdown': t16 / t32,
                    'float32_fraction_of_fp32_peak': flops / t32 / res['peaks']['float32_2thread'],
                    'bfloat16_fraction_of_bf16_peak': flops / t16 / res['peaks']['bfloat16_2thread'],
                    'real_bf16_vs_fp32_max_abs_margin_diff': float(np.abs(m16_real - m32_sp).max()),
                    'emulation_vs_real_bf16_max_abs_margin_diff': float(np.abs(m16_emul_sp - m16_real).max()),
                    'emulation_vs_real_bf16_median_abs_margin_diff': float(np.median(np.abs(m16_emul_sp - m16_real))),
                    'real_bf16_vs_fp32_median_abs_margin_diff': float(np.median(np.abs(m16_real - m32_sp)))}
    print(json.dumps(res['speed'], indent=1), flush=True)
    # agreement on many pairs: fp32 vs (emulated unless native) bf16
    t0 = time.perf_counter(); m32 = pair_margins(lm, pairs); t_32 = time.perf_counter() - t0
    if res['native_bf16']:
        lm.compute_dtype = torch.bfloat16; m16 = pair_margins(lm, pairs); lm.compute_dtype = torch.float32; how = 'native autocast'
    else:
        with bf16_emulation(lm.model): m16 = pair_margins(lm, pairs)
        how = 'emulated (bf16-rounded linear weights, inputs and outputs; float32 head)'
    err = np.abs(m16 - m32)
    per_task = {}
    for p, x, y in zip(pairs, m32, m16): per_task.setdefault(p.uid, []).append((x > 0) == (y > 0))
    res['agreement'] = {'how': how, 'pairs': len(pairs), 'paradigms': len(uids), 'decision_agreement': float(((m16 > 0) == (m32 > 0)).mean()),
                        'flips': int(((m16 > 0) != (m32 > 0)).sum()), 'median_abs_margin_error': float(np.median(err)),
                        'p95_abs_margin_error': float(np.percentile(err, 95)), 'max_abs_margin_error': float(err.max()),
                        'accuracy_fp32': float((m32 > 0).mean()), 'accuracy_bf16': float((m16 > 0).mean()),
                        'worst_paradigm_agreement': float(min(np.mean(v) for v in per_task.values())), 'fp32_scoring_s': t_32}
    res['time'] = time.strftime('%Y-%m-%d %H:%M:%S'); res['load_end'] = os.getloadavg()
    print(json.dumps(res['agreement'], indent=1))
    out = Path(a.out); fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: json.dump(res, f, indent=1)
    os.replace(tmp, out)

if __name__ == '__main__':
    main()
