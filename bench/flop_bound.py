#!/usr/bin/env python
"""A lower bound on the wall time of a task-space run: its matmul FLOPs at this machine's measured matmul peak.

    python bench/flop_bound.py [--tasks demo] [--blimp PATH] [--steps 40] [--n_train 64] [--n_test 100] [--tag readme]

Counts the tokens each phase of `run_task_space` feeds the model (tokenizing the same pairs the runner draws and
splits) and credits each token with 2 N FLOPs forward and 6 N forward + backward, N = the parameters outside the
embedding and the LM head (the head, attention scores and everything else are left out, so this is a bound):
- eval1 and eval2: each held-out pair once per model (12 tasks x n_test pairs; eval2 for each of the tuned copies),
  forward only, with the shared prefix of a pair counted once (as the scorer packs it);
- grads: the gradient differential over each task's n_train training pairs (both sentences, forward + backward);
- tune: steps x batch_size pairs (the fixed subnetwork is chosen from the grads phase's differential, not again).
The peak is a 2048^3 float32 matmul, best of 5, on 1 and 2 threads, measured in this run, or read from the
`peak_before` of a task_space_bench result (--peak_from, measured there on the quiet machine before the runs). Writes
bench/results/flop_bound_<tag>.json.
"""
import argparse, json, subprocess, sys, time
from pathlib import Path
import lts_nb  # first: the OpenMP wait policy
import numpy as np

from lts_nb.probes import resolve_tasks, pairs_to_draw
from lts_nb.data import split
from lts_nb.utils import save_json, common_prefix_len

ROOT = Path(__file__).resolve().parents[1]

def tokens(tok, pairs, prefix: int = 1):
    "(packed forward tokens, both-sentence tokens) of a list of pairs, each sentence after `prefix` start tokens."
    packed = both = 0
    for p in pairs:
        g, b = tok(p.good, add_special_tokens=False).input_ids, tok(p.bad, add_special_tokens=False).input_ids
        packed += prefix + len(g) + len(b) - common_prefix_len(g, b); both += 2 * prefix + len(g) + len(b)
    return packed, both

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--tasks', default='demo'); ap.add_argument('--blimp', default=None)
    ap.add_argument('--steps', type=int, default=40); ap.add_argument('--batch_size', type=int, default=8)
    ap.add_argument('--n_train', type=int, default=64); ap.add_argument('--n_test', type=int, default=100)
    ap.add_argument('--model', default='smollm2-135m'); ap.add_argument('--tag', default='readme')
    ap.add_argument('--peak_from', default=None, help='a bench/results/task_space_bench_*.json whose peak_before to use')
    a = ap.parse_args()
    from lts_nb.models import load_model
    lm = load_model(a.model)
    emb = {id(p) for m in (lm.model.get_input_embeddings(), lm.model.get_output_embeddings()) if m is not None for p in m.parameters()}
    N = sum(p.numel() for p in lm.model.parameters() if id(p) not in emb)
    ts = resolve_tasks(a.tasks, a.blimp, pairs_to_draw(a.n_train, a.n_test), 0)
    train, test = split(ts, a.n_train, a.n_test, 0)
    k = len(ts)
    ev_packed = sum(tokens(lm.tokenizer, test[u])[0] for u in ts)
    tr_both = {u: tokens(lm.tokenizer, train[u])[1] for u in ts}
    per_pair = np.mean([v / len(train[u]) for u, v in tr_both.items()])
    flops = {'eval1': 2 * N * ev_packed, 'grads': 6 * N * sum(tr_both.values()),
             'tune_steps': 6 * N * k * a.steps * a.batch_size * per_pair,
             'eval2': 2 * N * ev_packed * k}
    total = sum(flops.values())
    code = ("import torch, time, sys\ntorch.set_num_threads(int(sys.argv[1]))\na, b = torch.randn(2048, 2048), torch.randn(2048, 2048); a @ b\n"
            "best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))\nprint(2 * 2048**3 / best)")
    peak = ({int(k.split('_')[1]): v for k, v in json.loads(Path(a.peak_from).read_text())['peak_before'].items()} if a.peak_from else
            {t: float(subprocess.run([sys.executable, '-c', code, str(t)], capture_output=True, text=True, check=True).stdout) for t in (1, 2)})
    res = {'args': vars(a), 'peak_source': a.peak_from or 'measured in this run', 'N_nonembedding': N, 'tasks': k, 'eval_tokens_packed_per_model': ev_packed,
           'flops': flops, 'total_flops': total, 'peak_flops': peak,
           'bound_s': {f'threads_{t}': total / v for t, v in peak.items()}, 'time': time.strftime('%Y-%m-%d %H:%M:%S')}
    save_json(res, ROOT/'bench'/'results'/f'flop_bound_{a.tag}.json')
    print(json.dumps({k: res[k] for k in ('N_nonembedding', 'total_flops', 'peak_flops', 'bound_s')}, indent=1))

if __name__ == '__main__':
    main()
