#!/usr/bin/env python
"""Sparse FTGD (the paper's subnetworks) against dense FTGD and plain fine-tuning on the embedded model, over BLiMP
paradigms it gets wrong, with seeds (issue: FTGD as the task-space paper defines it).

Stages (each resumable, results written atomically after every run):
  calibrate  one paradigm not in the sweep (seed 0, target accuracy only): each method at each learning rate of
             --lrs, to pick each method's rate  -> bench/results/ftgd_calibration.json
  sweep      the chosen paradigms x methods x seeds at equal steps, each method at its calibrated rate
             -> bench/results/ftgd_sparse_sweep.json (one record per run; finished runs are skipped)

Methods: sparse FTGD with a top-k% subnetwork, k in 0.01, 0.1, 1, 10, chosen once (fixed) or at every step
(per_step); the same at fixed 1% with the paper's raw differential as the objective ('diff'); dense FTGD; plain
fine-tuning on the good sentences ('lm', dense). All train the MLP weights, 20 steps of 8 pairs, AdamW; all but
'diff' with the bounded logistic objective.

Measured per run: target gain on held-out pairs of the trained paradigm; off-target change on ALL other BLiMP
paradigms (--n_off held-out pairs each); perplexity change on held-out good BLiMP sentences of paradigms not swept,
and on out-of-domain text (AG News descriptions, SST-2 sentences); the fraction of trained entries changed.

Usage: python bench/ftgd_sparse_sweep.py [--stage calibrate|sweep|all] [--seeds 0,1,2] [--n_off 10]
                                        [--methods 'NAME;NAME'] [--tasks UID,UID]
--methods and --tasks run a subset (the full grid, 6 paradigms x 3 seeds x 11 methods, is about 4 h on 2 cores);
the results file records which subset ran.
"""
import argparse, json, os, sys, time
from pathlib import Path
import lts_nb  # first: it sets the OpenMP wait policy before torch loads
import numpy as np, pandas as pd, torch

from lts_nb.models import load_model
from lts_nb.data import load_blimp, split, BLIMP_TAXONOMY, TaskSet
from lts_nb.ftgd import FTGDConfig, run_ftgd
from lts_nb.scoring import evaluate
from lts_nb.utils import save_json, load_json, set_threads

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent/'shared'/'data'
RES, RUNS = ROOT/'results', ROOT/'runs'
N_TRAIN, N_TEST, N_PPL, N_OOD, DATA_SEED = 160, 100, 100, 100, 0   # 160 = 20 steps x 8 pairs: every training pair seen once
SWEEP = ['npi_present_1', 'wh_vs_that_with_gap_long_distance', 'left_branch_island_echo_question',
         'principle_A_reconstruction', 'inchoative', 'irregular_past_participle_adjectives']
CALIBRATE = 'sentential_subject_island'       # below 60%, not in the sweep
METHODS = {**{f'sparse {k}% {r}': {'topk': k, 'mask': r} for k in (0.01, 0.1, 1, 10) for r in ('fixed', 'per_step')},
           'sparse 1% fixed, diff': {'topk': 1, 'mask': 'fixed', 'objective': 'diff'},   # the paper's raw differential
           'dense': {'topk': None}, 'plain lm': {'method': 'lm', 'topk': None}}

def agnews(n=N_OOD, seed=0):
    df = pd.read_csv(DATA/'textcls'/'agnews'/'test.csv').sample(n=n, random_state=seed)
    return [' '.join(str(t).replace('\\', ' ').split()) for t in df['Description']]

def sst2(n=N_OOD, seed=0):
    lines = (DATA/'textcls'/'sst2'/'stsa.binary.dev').read_text().splitlines()
    rng = np.random.default_rng(seed)
    return [lines[i].split(' ', 1)[1] for i in rng.choice(len(lines), n, replace=False)]

def load(path, default): return load_json(path) if Path(path).exists() else default

def data(ts, n_off):
    tr, te = split(ts, N_TRAIN, N_TEST, DATA_SEED)
    others = [u for u in ts if u not in SWEEP + [CALIBRATE]]
    ppl = [s for row in zip(*[[p.good for p in te[u]] for u in others]) for s in row][:N_PPL]
    full = TaskSet({u: te[u] if u in SWEEP + [CALIBRATE] else te[u][:n_off] for u in ts})
    return tr, full, ppl, {'agnews': agnews(), 'sst2': sst2()}

_DIFF = {}

def differential(lm, task, pairs, cfg):
    "The task's selection gradient over its training pairs (the same for every k, rate and seed of a method): computed once."
    from lts_nb.ftgd import selection_gradient
    key = (task, cfg.method)
    if key not in _DIFF:
        _DIFF.clear(); t0 = time.time(); _DIFF[key] = selection_gradient(lm, pairs, cfg)
        print(f"selection gradient of {task} ({cfg.method}): {time.time() - t0:.0f} s", flush=True)
    return _DIFF[key]

def one_run(lm, key, task, tr, test, ppl, ppl_sets, before, cfg, name):
    t0 = time.time()
    folder = RUNS/name/key.replace('/', '_').replace(' ', '-').replace('%', 'pct')
    g = differential(lm, task, tr[task], cfg) if cfg.sparse and cfg.mask == 'fixed' and not (folder/'subnetwork.npz').exists() else None
    m = run_ftgd(lm, tr[task], test, task, folder, cfg, ppl, before=before, ckpt_every=10, record_delta=False, progress=False,
                 meta={'data_seed': DATA_SEED, 'sweep': name}, ppl_sets=ppl_sets, differential=g)
    keep = ('task', 'method', 'seed', 'acc_before', 'acc_after', 'margin_before', 'margin_after', 'ppl_before', 'ppl_after',
            'ppl_sets_before', 'ppl_sets_after', 'off_target_before', 'off_target_after', 'off_target_change', 'changed_frac',
            'mask_frac', 'mask_kind', 'delta_norm', 'train_s', 'eval_s', 'subnetwork', 'config', 'curve')
    r = {k: m[k] for k in keep}; r['wall_s'] = time.time() - t0
    return r

def before_eval(lm, rec, out, test, ppl, ppl_sets):
    if 'before' not in rec:
        t0 = time.time(); rec['before'] = evaluate(lm, test, ppl, ppl_sets=ppl_sets); rec['before_s'] = time.time() - t0
        save_json(rec, out); print(f"before: {rec['before_s']:.0f} s", flush=True)
    b = rec['before']
    return lambda tst: {'acc': {u: b['acc'][u] for u in tst}, 'margin': {u: b['margin'][u] for u in tst}, 'ppl': b['ppl'],
                        'ppl_sets': b['ppl_sets']}

def calibrate(lm, ts, lrs, steps, n_off, methods):
    out = RES/'ftgd_calibration.json'
    rec = load(out, {'task': CALIBRATE, 'steps': steps, 'lrs': lrs, 'runs': {}})
    tr, full, _, _ = data(ts, n_off)
    test = TaskSet({CALIBRATE: full[CALIBRATE]})
    bef = before_eval(lm, rec, out, test, [], {})
    for name in methods:
        over = METHODS[name]
        for lr in lrs:
            key = f'{name}/lr{lr:g}'
            if key in rec['runs']: continue
            r = one_run(lm, key, CALIBRATE, tr, test, [], {}, bef(test), FTGDConfig(steps=steps, seed=0, lr=lr, **over), 'calibrate')
            rec['runs'][key] = r; save_json(rec, out)
            print(f"calibrate {key}: acc {r['acc_before']:.3f} -> {r['acc_after']:.3f}, changed {r['changed_frac']:.5f} ({r['wall_s']:.0f} s)", flush=True)
    best = {}
    for name in methods:   # the rate with the highest target accuracy after; ties: the smallest rate
        rs = [(rec['runs'][f'{name}/lr{lr:g}']['acc_after'], -lr, lr) for lr in lrs]
        best[name] = max(rs)[2]
    rec['best_lr'] = {**rec.get('best_lr', {}), **best}; save_json(rec, out)
    return best

def sweep(lm, ts, seeds, steps, n_off, lrs, methods, tasks):
    out = RES/'ftgd_sparse_sweep.json'
    rec = load(out, {'tasks': SWEEP, 'steps': steps, 'n_off': n_off, 'lr': lrs, 'runs': {}})
    rec['ran'] = {'tasks': sorted(set(rec.get('ran', {}).get('tasks', [])) | set(tasks)),
                  'methods': sorted(set(rec.get('ran', {}).get('methods', [])) | set(methods)),
                  'seeds': sorted(set(rec.get('ran', {}).get('seeds', [])) | set(seeds))}
    tr, full, ppl, ppl_sets = data(ts, n_off)
    evals = [u for u in ts if u != CALIBRATE]
    bef = before_eval(lm, rec, out, TaskSet({u: full[u] for u in evals}), ppl, ppl_sets)
    for task in tasks:            # task-major: one selection gradient per task serves all its fixed-rule runs
        for seed in seeds:
            for name in methods:
                over, key = METHODS[name], f'{task}/{name}/s{seed}'
                if key in rec['runs']: continue
                test = TaskSet({task: full[task], **{u: full[u] for u in evals if u != task}})
                cfg = FTGDConfig(steps=steps, seed=seed, lr=lrs[name], **over)
                r = one_run(lm, key, task, tr, test, ppl, ppl_sets, bef(test), cfg, 'sparse_sweep')
                rec['runs'][key] = r; save_json(rec, out)
                print(f"{key}: acc {r['acc_before']:.3f} -> {r['acc_after']:.3f}, off {r['off_target_change']:+.4f}, ppl "
                      f"{r['ppl_after'] / r['ppl_before'] - 1:+.3f}, news {r['ppl_sets_after']['agnews'] / r['ppl_sets_before']['agnews'] - 1:+.3f}, "
                      f"changed {r['changed_frac']:.5f} ({r['wall_s']:.0f} s)", flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--stage', default='all', choices=['calibrate', 'sweep', 'all'])
    ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--n_off', type=int, default=10)
    ap.add_argument('--lrs', default='1e-4,1e-3')
    ap.add_argument('--threads', default='auto')
    ap.add_argument('--methods', default=';'.join(METHODS), help="';'-separated method names (default: all)")
    ap.add_argument('--tasks', default=','.join(SWEEP), help='comma-separated paradigms of the sweep (default: all six)')
    a = ap.parse_args()
    methods, tasks = a.methods.split(';'), a.tasks.split(',')
    bad = [m for m in methods if m not in METHODS] + [t for t in tasks if t not in SWEEP]
    if bad: sys.exit(f"unknown methods/tasks {bad}; methods: {list(METHODS)}; tasks: {SWEEP}")
    prev = load(RES/'ftgd_sparse_sweep.json', None)   # its 'before' record and runs hold their settings: never mix them
    if a.stage != 'calibrate' and prev and (prev['n_off'], prev['steps']) != (a.n_off, a.steps):
        sys.exit(f"bench/results/ftgd_sparse_sweep.json holds runs with --n_off {prev['n_off']} --steps {prev['steps']}; "
                 f"move it aside to sweep with --n_off {a.n_off} --steps {a.steps}")
    set_threads(int(a.threads) if a.threads.isdigit() else a.threads)
    lm, ts = load_model('smollm2-135m'), load_blimp(DATA/'blimp')
    lrs = [float(x) for x in a.lrs.split(',')]
    best = calibrate(lm, ts, lrs, a.steps, a.n_off, methods) if a.stage in ('calibrate', 'all') else load(RES/'ftgd_calibration.json', {})['best_lr']
    print('learning rates:', best, flush=True)
    if a.stage in ('sweep', 'all'): sweep(lm, ts, [int(s) for s in a.seeds.split(',')], a.steps, a.n_off, best, methods, tasks)
