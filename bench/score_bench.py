#!/usr/bin/env python
"""Speed and agreement of lts_nb's pair scoring against minicons, on the same BLiMP pairs, in one run.

Usage (from the repository root):
    python bench/score_bench.py --n_per_task 20 --tasks 10 [--rounds 3] [--batch_size 32] [--threads N]

Scores the pairs with minicons (`IncrementalLMScorer.sequence_score(..., bos_token=True)`, sentences in pair
order, `batch_size` per call), with `lts_nb.scoring.score_pairs` (default: shared prefix computed once) and with
`score_pairs(share_prefix=False)`, in `rounds` rounds whose method order rotates (the machine may have other
load); each method's time is its best round. Also times a 2048x2048 fp32 matmul in every round (best of 5) as
this machine's matmul rate, and relates each method's throughput to it with

    FLOPs(sentence of n tokens, T = n + 1 positions with the prefix token)
        = 2 N_ne T + 2 d V n + 2 L d_attn T (T + 1)

(N_ne: parameters outside the embedding and LM head; d hidden size; V vocabulary; L layers; d_attn attention
width). All methods are credited with the same FLOPs for the same pairs. Prints a report and writes it, with all
figures, to --out (JSON, written atomically).
"""
import argparse, copy, json, os, platform, sys, tempfile, time
import lts_nb  # first: it sets the OpenMP wait policy before torch loads
from pathlib import Path

import numpy as np
import torch


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='smollm2-135m')
    ap.add_argument('--blimp', default='../shared/data/blimp', help='BLiMP directory, zip or jsonl')
    ap.add_argument('--tasks', type=int, default=10, help='number of tasks, evenly spaced in alphabetical order')
    ap.add_argument('--n_per_task', type=int, default=20)
    ap.add_argument('--batch_size', type=int, default=32)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch default)')
    ap.add_argument('--out', default='bench/results/score_bench.json')
    return ap.parse_args()


def matmul_flops(n=2048, reps=5) -> float:
    "Best fp32 FLOP/s of an n x n @ n x n matmul."
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b)[0] for _ in range(reps))
    return 2 * n**3 / best


def _timed(f):
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return time.perf_counter() - t, time.process_time() - c, out


def model_dims(lm):
    m, cfg = lm.model, lm.model.config
    skip = {id(p) for mod in (m.get_input_embeddings(), m.get_output_embeddings()) if mod is not None for p in mod.parameters()}
    n_ne = sum(p.numel() for p in m.parameters() if id(p) not in skip)
    d, V, L = cfg.hidden_size, cfg.vocab_size, cfg.num_hidden_layers
    d_attn = cfg.num_attention_heads * getattr(cfg, 'head_dim', None) if getattr(cfg, 'head_dim', None) else d
    return dict(n_nonembedding=n_ne, d=d, vocab=V, layers=L, d_attn=d_attn)


def sentence_flops(n_tokens, dims):
    n = np.asarray(n_tokens, dtype=np.float64); T = n + 1
    return 2 * dims['n_nonembedding'] * T + 2 * dims['d'] * dims['vocab'] * n + 2 * dims['layers'] * dims['d_attn'] * T * (T + 1)


def shared_fraction(lm, pairs):
    "Share of all tokens (prefix token included) that good and bad have in common at the start."
    from lts_nb.scoring import tokenize_sentences, common_prefix_len
    ids = tokenize_sentences(lm, [s for p in pairs for s in (p.good, p.bad)])
    shared = sum(common_prefix_len(g, b) for g, b in zip(ids[0::2], ids[1::2]))
    return shared / sum(map(len, ids)), sum(map(len, ids)) - shared


def main():
    args = parse()
    if args.threads: torch.set_num_threads(args.threads)
    from minicons import scorer
    from lts_nb.models import load_model
    from lts_nb.data import load_blimp
    from lts_nb.scoring import score_pairs, tokenize_sentences, pair_margins

    load0 = os.getloadavg()
    lm = load_model(args.model)
    blimp = load_blimp(args.blimp)
    uids = list(blimp)[::max(1, len(blimp) // args.tasks)][:args.tasks]
    sub = blimp.subset(uids, n_per_task=args.n_per_task)
    pairs = sub.pairs
    sents = [s for p in pairs for s in (p.good, p.bad)]
    n_tok = np.array([len(x) - 1 for x in tokenize_sentences(lm, sents)])
    mc = scorer.IncrementalLMScorer(lm.model, tokenizer=copy.deepcopy(lm.tokenizer), device='cpu')  # minicons edits its tokenizer

    def run_minicons():
        out = []
        for i in range(0, len(sents), args.batch_size):
            out += mc.sequence_score(sents[i:i+args.batch_size], reduction=lambda x: x.sum(0).item(), bos_token=True)
        out = np.array(out)
        return out[0::2], out[1::2]

    def run_lts(share_prefix):
        df = score_pairs(lm, pairs, batch_size=args.batch_size, share_prefix=share_prefix, progress=False)
        return df.good.values, df.bad.values

    def run_margins():   # decisions only: the margin of each pair (the head from each pair's first difference on)
        m = pair_margins(lm, pairs, batch_size=args.batch_size)
        return m, np.zeros_like(m)
    methods = {'minicons': run_minicons, 'lts_nb': lambda: run_lts(True), 'lts_nb (no prefix sharing)': lambda: run_lts(False),
               'lts_nb margins': run_margins}
    score_pairs(lm, pairs[:2], progress=False)   # warm-up: one-time model checks, allocator
    mc.sequence_score(sents[:2], reduction=lambda x: x.sum(0).item(), bos_token=True)
    wall = {k: [] for k in methods}; cpu = {k: [] for k in methods}; results = {}; peaks = []
    names = list(methods)
    for r in range(args.rounds):
        peaks.append(matmul_flops())
        for k in names[r % len(names):] + names[:r % len(names)]:
            w, c, out = _timed(methods[k])
            wall[k].append(w); cpu[k].append(c); results[k] = out
        print(f"round {r+1}/{args.rounds}: " + ', '.join(f"{k} {wall[k][-1]:.1f} s" for k in names), flush=True)
    peak = max(peaks)

    mg, mb = results['minicons']
    agree = {}
    for k in names[1:]:
        g, b = results[k]
        if k == 'lts_nb margins':   # margins, not scores: compare margins and decisions
            agree[k] = dict(max_abs_diff=float(np.abs(g - (mg - mb)).max()), decision_agreement=float(((g > 0) == (mg > mb)).mean()))
            continue
        agree[k] = dict(max_abs_diff=float(np.abs(np.r_[g - mg, b - mb]).max()),
                        decision_agreement=float(((g > b) == (mg > mb)).mean()))
    sg, sb = results['lts_nb']; ng, nb = results['lts_nb (no prefix sharing)']
    share_vs_sep = float(np.abs(np.r_[sg - ng, sb - nb]).max())

    dims = model_dims(lm)
    flops = float(sentence_flops(n_tok, dims).sum())
    tokens = int((n_tok + 1).sum())
    frac_shared, executed_tokens = shared_fraction(lm, pairs)
    frac_all, _ = shared_fraction(lm, blimp.subset(None, n_per_task=args.n_per_task).pairs)
    per = {}
    for k in names:
        best = min(wall[k])
        per[k] = dict(best_s=best, median_s=float(np.median(wall[k])), best_cpu_s=min(cpu[k]), pairs_per_s=len(pairs) / best,
                      tokens_per_s=tokens / best, effective_flops=flops / best, fraction_of_matmul_peak=flops / best / peak)
    ratio = per['lts_nb']['pairs_per_s'] / per['minicons']['pairs_per_s']
    ratio_margins = per['lts_nb margins']['pairs_per_s'] / per['minicons']['pairs_per_s']
    ratio_sep = per['lts_nb (no prefix sharing)']['pairs_per_s'] / per['minicons']['pairs_per_s']
    load1 = os.getloadavg()

    lines = [f"model {lm.name}: {dims['layers']} layers, d={dims['d']}, V={dims['vocab']}, N_ne={dims['n_nonembedding']/1e6:.1f}M; "
             f"{len(pairs)} pairs ({len(uids)} tasks x {args.n_per_task}), {tokens} tokens with the prefix token",
             f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; load average {load0[0]:.1f} at start, {load1[0]:.1f} at end",
             f"fp32 matmul peak (2048^3, best of {5*args.rounds}): {peak/1e9:.1f} GFLOP/s",
             f"FLOPs/token (mean over these sentences) = {flops/tokens/1e6:.1f} M",
             f"shared prefix: {frac_shared:.1%} of the tokens of these pairs ({tokens - executed_tokens} of {tokens}); "
             f"{frac_all:.1%} on {args.n_per_task} pairs of each of all {len(blimp)} tasks",
             f"{'method':28s} {'best s':>7s} {'median s':>8s} {'CPU s':>6s} {'pairs/s':>8s} {'tokens/s':>9s} {'GFLOP/s':>8s} {'of peak':>8s}"]
    for k in names:
        p = per[k]
        lines.append(f"{k:28s} {p['best_s']:7.2f} {p['median_s']:8.2f} {p['best_cpu_s']:6.2f} {p['pairs_per_s']:8.1f} {p['tokens_per_s']:9.0f} "
                     f"{p['effective_flops']/1e9:8.1f} {p['fraction_of_matmul_peak']:8.1%}")
    cpu_ratio = per['minicons']['best_cpu_s'] / per['lts_nb']['best_cpu_s']
    lines.append(f"speed-up over minicons (pairs/s, best rounds): {ratio:.2f}x with prefix sharing, {ratio_sep:.2f}x without, "
                 f"{ratio_margins:.2f}x for margins only (pair_margins); "
                 f"in CPU time {cpu_ratio:.2f}x with prefix sharing")
    for k, a in agree.items():
        lines.append(f"{k} vs minicons: max |diff| {a['max_abs_diff']:.2e} nats, decisions agree on {a['decision_agreement']:.1%} of pairs")
    lines.append(f"prefix sharing vs separate sentences: max |diff| {share_vs_sep:.2e} nats")
    report = '\n'.join(lines)
    print(report)

    res = dict(args=vars(args), tasks=uids, n_pairs=len(pairs), tokens=tokens, executed_tokens_with_sharing=int(executed_tokens),
               shared_fraction=frac_shared, shared_fraction_all_tasks=frac_all, dims=dims, flops_total=flops,
               flops_per_token=flops / tokens, matmul_peak_flops=peak, matmul_peaks=peaks, methods=per,
               wall_s=wall, cpu_s=cpu, speedup=ratio, speedup_cpu_time=cpu_ratio, speedup_no_sharing=ratio_sep, speedup_margins=ratio_margins, agreement=agree,
               sharing_vs_separate_max_abs_diff=share_vs_sep, threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
               loadavg_start=load0, loadavg_end=load1, torch=torch.__version__, platform=platform.platform(),
               time=time.strftime('%Y-%m-%d %H:%M:%S'), report=report)
    out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: json.dump(res, f, indent=1)
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == '__main__':
    main()
