#!/usr/bin/env python
"""FTGD vs plain fine-tuning on the embedded model, over BLiMP paradigms it gets wrong, with seeds.

Stages (each resumable; results written atomically):
  screen  held-out accuracy of the base model on every BLiMP paradigm (the test split used by the sweep)
          -> bench/results/ftgd_screen.json
  sweep   for the chosen paradigms x methods (ftgd, lm) x seeds, one run each at equal steps
          -> bench/results/ftgd_sweep.json (one record per run; finished runs are skipped)
  ablate  the open choices of FTGD, one at a time, on the first chosen paradigm (seed 0)
          -> bench/results/ftgd_ablation.json
Run dirs (checkpoints, masks) go to bench/runs/ (git-ignored).

Usage: python bench/ftgd_sweep.py [--stage screen|sweep|all] [--n_tasks 6] [--seeds 0,1] [--steps 40]
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch

from lts_nb.models import load_model
from lts_nb.data import load_blimp, split, BLIMP_TAXONOMY
from lts_nb.ftgd import FTGDConfig, run_ftgd, evaluate, save_json, TaskSet

ROOT = Path(__file__).resolve().parent
BLIMP = ROOT.parent.parent/'shared'/'data'/'blimp'
RES, RUNS = ROOT/'results', ROOT/'runs'
N_TRAIN, N_TEST, N_OTHER, N_PPL, DATA_SEED = 500, 200, 60, 150, 0
EXTRA_OFF = ['determiner_noun_agreement_2', 'anaphor_number_agreement']
AGNEWS, N_NEWS = ROOT.parent.parent/'shared'/'data'/'textcls'/'agnews'/'test.csv', 80

def news_texts(n=N_NEWS, seed=0):
    "Natural text for a second perplexity measure: `n` AG News descriptions (seeded sample, whitespace normalised)."
    df = pd.read_csv(AGNEWS).sample(n=n, random_state=seed)
    return [' '.join(str(t).replace('\\', ' ').split()) for t in df['Description']]

def load(path, default):
    return json.loads(Path(path).read_text()) if Path(path).exists() else default

def heldout(ts):
    "The sweep's split of every task: (train, test) with the test cut to N_TEST pairs."
    return split(ts, N_TRAIN, N_TEST, DATA_SEED)

def screen(lm, ts):
    out = RES/'ftgd_screen.json'
    done = load(out, {})
    _, te = heldout(ts)
    for i, uid in enumerate(ts):
        if uid in done: continue
        t0 = time.time()
        ev = evaluate(lm, TaskSet({uid: te[uid]}))
        done[uid] = {'acc': ev['acc'][uid], 'margin': ev['margin'][uid], 'n': len(te[uid]),
                     'phenomenon': BLIMP_TAXONOMY[uid][0], 'field': BLIMP_TAXONOMY[uid][1]}
        save_json(done, out)
        print(f"[{i+1}/{len(ts)}] {uid}: acc {done[uid]['acc']:.3f} ({time.time()-t0:.1f} s)", flush=True)
    return done

def choose(scr, n_tasks, max_acc=0.85, min_acc=0.3):
    "The lowest-accuracy paradigm of each phenomenon with min_acc <= acc < max_acc, then the n_tasks lowest of those."
    df = pd.DataFrame(scr).T
    df = df[(df.acc < max_acc) & (df.acc >= min_acc)].sort_values('acc')
    return list(df.groupby('phenomenon', sort=False).head(1).index[:n_tasks])

ABLATIONS = {'default': {}, 'objective=diff': {'objective': 'diff'},
             'reduction=mean': {'reduction': 'mean'}, 'reduction=mean,all_tokens': {'reduction': 'mean', 'from_first_diff': False},
             'topk=1%': {'topk': 1.0}, 'topk=1%,per_tensor': {'topk': 1.0, 'topk_scope': 'tensor'},
             'params=attention': {'params': r'\.self_attn\.'}}

def sweep(lm, ts, tasks, seeds, steps, cfg_kw, variants=None, name='ftgd_sweep', train_tasks=None):
    "Runs keyed task/method/seed (or task/variant/seed with `variants`: name -> FTGDConfig overrides)."
    out = RES/f'{name}.json'
    rec = load(out, {'tasks': tasks, 'steps': steps, 'runs': {}})
    main = load(RES/'ftgd_sweep.json', {})
    if 'before' not in rec and main.get('tasks') == tasks and 'before' in main: rec['before'] = main['before']
    tr, te = heldout(ts)
    evals = list(dict.fromkeys(tasks + EXTRA_OFF))
    ppl_tasks = [u for u in ts if u not in tasks]
    ppl = [s for row in zip(*[[p.good for p in te[u]] for u in ppl_tasks]) for s in row][:N_PPL]
    full = TaskSet({u: te[u] if u in tasks else te[u][:N_OTHER] for u in evals})
    ppl_sets = {'agnews': news_texts()}
    if 'before' not in rec:
        t0 = time.time()
        rec['before'] = evaluate(lm, TaskSet({u: full[u] for u in evals}), ppl, progress=False, ppl_sets=ppl_sets)
        rec['before_s'] = time.time() - t0
        save_json(rec, out)
        print(f"before: {time.time()-t0:.0f} s, ppl {rec['before']['ppl']:.2f}", flush=True)
    plan = variants or {m: {'method': m} for m in ('ftgd', 'lm')}
    for seed in seeds:
        for task in (train_tasks or tasks):
            for vname, over in plan.items():
                key = f"{task}/{vname}/s{seed}"
                if key in rec['runs']: continue
                test = TaskSet({task: full[task][:N_TEST], **{u: full[u][:N_OTHER] for u in evals if u != task}})
                before = {'acc': {u: rec['before']['acc'][u] for u in test}, 'margin': {u: rec['before']['margin'][u] for u in test},
                          'ppl': rec['before']['ppl'], 'ppl_sets': rec['before']['ppl_sets']}
                cfg = FTGDConfig(**{'steps': steps, 'seed': seed, **cfg_kw, **over})
                t0 = time.time()
                m = run_ftgd(lm, tr[task], test, task, RUNS/name/key.replace('/', '_').replace('=', '-').replace('%', 'pct'), cfg, ppl,
                             before=before, ckpt_every=5, record_delta=False, restore=True, progress=False,
                             meta={'data_seed': DATA_SEED, 'sweep': name}, ppl_sets=ppl_sets)
                rec['runs'][key] = {k: v for k, v in m.items() if k not in ('run',)}
                save_json(rec, out)
                print(f"{key}: acc {m['acc_before']:.3f} -> {m['acc_after']:.3f}, off-target {m['off_target_change']:+.3f}, "
                      f"ppl {m['ppl_before']:.2f} -> {m['ppl_after']:.2f}, news ppl {m['ppl_sets_before']['agnews']:.2f} -> "
                      f"{m['ppl_sets_after']['agnews']:.2f} ({time.time()-t0:.0f} s)", flush=True)
    return rec

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--stage', default='all', choices=['screen', 'sweep', 'ablate', 'all'])
    ap.add_argument('--n_tasks', type=int, default=5)
    ap.add_argument('--tasks', default=None, help='comma-separated UIDs (default: chosen from the screen)')
    ap.add_argument('--seeds', default='0,1')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--lr', type=float, default=FTGDConfig.lr)
    ap.add_argument('--batch_size', type=int, default=FTGDConfig.batch_size)
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('LTS_THREADS', torch.get_num_threads())))
    lm, ts = load_model('smollm2-135m'), load_blimp(BLIMP)
    scr = screen(lm, ts) if a.stage in ('screen', 'all') else load(RES/'ftgd_screen.json', None)
    if a.stage in ('sweep', 'all'):
        tasks = a.tasks.split(',') if a.tasks else load(RES/'ftgd_sweep.json', {}).get('tasks') or choose(scr, a.n_tasks)
        print('tasks:', tasks, flush=True)
        sweep(lm, ts, tasks, [int(s) for s in a.seeds.split(',')], a.steps, dict(lr=a.lr, batch_size=a.batch_size))
    if a.stage in ('ablate', 'all'):
        tasks = load(RES/'ftgd_sweep.json', {}).get('tasks') or choose(scr, a.n_tasks)
        sweep(lm, ts, tasks, [0], a.steps, dict(lr=a.lr, batch_size=a.batch_size), variants=ABLATIONS, name='ftgd_ablation',
              train_tasks=tasks[:1])
