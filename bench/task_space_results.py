#!/usr/bin/env python
"""Everything a reader needs from a finished task-space run folder, as one JSON in bench/results/ (run folders are
not committed; this file is, and the notebooks read it).

    python bench/task_space_results.py RUN_DIR --name NAME [--blimp ../shared/data/blimp] [--time FILE] [--n_perm 9999]

Writes bench/results/task_space_<NAME>.json (atomically) with:
- the run's settings (probe.json), compute time per phase (timings.json), and wall time / peak RSS when --time names
  the output of `/usr/bin/time -v` for the run;
- the four spaces (matrices, tasks, taxonomy) and their per-entry sd when the folder aggregates seeds;
- statistics against the taxonomy (graded 2/1/0) with within/across at phenomenon and at field level;
- the same hypotheses with each surface control partialled out, and the MRM coefficients (`TaskSpace.compare`,
  controls from `control_hypotheses` on the paradigms' pairs and the model's tokenizer);
- sharing against chance (the Jaccard overlap of two independent random masks of the same sizes), overall and
  per layer (sharing_layers.json): mean within-phenomenon and across, each as a ratio over chance;
- each task's accuracy before and after its own tuning, and the seed statistics (seed_stats.json) if any.
"""
import argparse, re, sys
from pathlib import Path
import lts_nb  # first: the OpenMP wait policy
import numpy as np, pandas as pd

from lts_nb.data import load_blimp
from lts_nb.task_space import TaskSpace, control_hypotheses, offdiag
from lts_nb.utils import load_json, save_json, nan_to_none

ROOT = Path(__file__).resolve().parents[1]

def gnu_time(path) -> dict:
    "Wall time (s) and peak RSS (GB) from the output of /usr/bin/time -v."
    t = Path(path).read_text()
    wall = re.search(r'Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)', t)
    rss = re.search(r'Maximum resident set size \(kbytes\): (\d+)', t)
    h, m, s = (float(x or 0) for x in wall.groups())
    return {'wall_s': 3600 * h + 60 * m + s, 'peak_rss_gb': int(rss.group(1)) / 2**20}

def phases(timings: dict) -> dict:
    "Compute seconds summed per phase ('eval1', 'grads', 'tune', 'stats', ...)."
    out = {}
    for k, v in timings['pieces'].items(): out[k.split(':')[0]] = out.get(k.split(':')[0], 0.0) + v
    return out

def group_means(m: np.ndarray, tax: pd.DataFrame, level='phenomenon') -> dict:
    "Mean off-diagonal entry within one `level` group and across groups."
    g = tax[level].to_numpy(); same = g[:, None] == g[None]; off = ~np.eye(len(g), dtype=bool)
    return {'within': float(np.nanmean(m[same & off])), 'across': float(np.nanmean(m[~same]))}

def sharing_summary(run: Path, tax: pd.DataFrame) -> dict:
    if not (run/'sharing_layers.json').exists(): return {}
    sl = load_json(run/'sharing_layers.json')
    one = lambda d: {**(g := group_means(np.asarray(d['sharing'], float), tax)),
                     'chance': float(np.nanmean(offdiag(np.asarray(d['chance'], float)))) if 'chance' in d else None,
                     **({'within_over_chance': g['within'] / c, 'across_over_chance': g['across'] / c}
                        if (c := float(np.nanmean(offdiag(np.asarray(d['chance'], float))))) > 0 else {})}
    return {'measure': sl['measure'], 'all': one(sl['all']), 'layers': {k: one(v) for k, v in sl['groups'].items()}}

def accuracies(run: Path, tasks) -> dict:
    if not (run/'eval_before.json').exists(): return {}
    before = load_json(run/'eval_before.json')['acc']
    after = {u: load_json(run/'runs'/u/'metrics.json')['acc_after'] for u in tasks if (run/'runs'/u/'metrics.json').exists()}
    return {'before': {u: before[u] for u in tasks}, 'after_own': after}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run'); ap.add_argument('--name', required=True)
    ap.add_argument('--blimp', default=str(ROOT.parent/'shared'/'data'/'blimp'))
    ap.add_argument('--time', default=None); ap.add_argument('--n_perm', type=int, default=9999)
    ap.add_argument('--model', default=None, help='model for the token-level lexical control (default: the run\'s)')
    a = ap.parse_args()
    run = Path(a.run)
    space = TaskSpace.load(run)
    probe = load_json(run/'probe.json') if (run/'probe.json').exists() else load_json(next(run.glob('seed_*/probe.json')))
    from lts_nb.models import load_model
    lm = load_model(a.model or probe['model'])
    if all(u.startswith('gen_') for u in space.tasks):   # our generator's tasks: the pairs the run drew
        from lts_nb.generate import generate_pairs
        from lts_nb.probes import pairs_to_draw
        pairs = generate_pairs(space.tasks, n_per_task=pairs_to_draw(probe['n_train'], probe['n_test']), seed=probe.get('seed', 0))
    else: pairs = load_blimp(a.blimp, tasks=space.tasks)
    controls = control_hypotheses(pairs, lm.tokenizer)
    tax = space.taxonomy
    first = run if (run/'eval_before.json').exists() else next(run.glob('seed_*'), run)   # a seed aggregate: seed folders
    res = {'run': str(run), 'probe': probe, 'meta': space.meta, 'tasks': space.tasks,
           'taxonomy': tax.reset_index(names='uid').to_dict('records'),
           'matrices': {k: space[k].to_numpy().tolist() for k in space.matrices},
           'stats': {lvl: space.stats(n_perm=a.n_perm, seed=0, level=lvl).to_dict('index') for lvl in ('phenomenon', 'field')},
           'compare': space.compare(controls=controls, n_perm=a.n_perm, seed=0).to_dict('records'),
           'controls': {k: v.to_numpy().tolist() for k, v in controls.items()},
           'sharing': sharing_summary(run if (run/'sharing_layers.json').exists() else first, tax),
           'accuracy': accuracies(first, space.tasks)}
    if (run/'timings.json').exists(): res['phases_s'] = phases(load_json(run/'timings.json'))
    if (run/'seed_stats.json').exists(): res['seed_stats'] = load_json(run/'seed_stats.json')
    if a.time: res['time'] = gnu_time(a.time)
    out = ROOT/'bench'/'results'/f'task_space_{a.name}.json'
    save_json(nan_to_none(res), out)
    print(f"{out}: {len(space.tasks)} tasks; {res.get('time', {})}")

if __name__ == '__main__':
    main()
