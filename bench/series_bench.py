"""Checkpoint series of self-pretrained GPT-NeoX models at 3 sizes, and their task spaces (issue: scales and checkpoints).

    python bench/series_bench.py --stage pretrain   # train xs, s, m (2048 steps each) into runs/pretrain/SIZE
    python bench/series_bench.py --stage series     # task spaces of the chosen checkpoints -> runs/series
    python bench/series_bench.py --stage all

Both stages resume where they stopped. Writes bench/results/series_bench.json (accuracy per checkpoint, the series
table, wall times) and bench/results/series_table.csv.
"""
import argparse, json, os, resource, sys, time
from pathlib import Path
import torch

ap = argparse.ArgumentParser()
ap.add_argument('--stage', default='all', choices=['pretrain', 'series', 'all'])
ap.add_argument('--sizes', default='xs,s,m')
ap.add_argument('--steps', type=int, default=2048)
ap.add_argument('--pretrain_dir', default='runs/pretrain')
ap.add_argument('--out', default='runs/series')
ap.add_argument('--checkpoints', default='64,256,1024,2048', help='checkpoint steps whose task spaces are computed')
ap.add_argument('--ft_steps', type=int, default=40)
ap.add_argument('--embedded', default='runs/demo', help='task-space run of the embedded model on the same pairs (README demo)')
ap.add_argument('--engine', default='sequential')
ap.add_argument('--threads', type=int, default=None)
a = ap.parse_args()
if a.threads: torch.set_num_threads(a.threads)

from lts_nb.pretrain import PretrainConfig, pretrain, checkpoint_accuracy, checkpoints, DEMO_N
from lts_nb.probes import resolve_tasks

res_p = Path('bench/results/series_bench.json')
res = json.loads(res_p.read_text()) if res_p.exists() else {}
sizes = a.sizes.split(',')
if a.stage in ('pretrain', 'all'):
    for size in sizes:
        t0 = time.perf_counter()
        pretrain(Path(a.pretrain_dir)/size, PretrainConfig(size=size, steps=a.steps))
        res.setdefault('pretrain_s', {})[size] = round(time.perf_counter() - t0, 1)
    pairs = resolve_tasks('demo', None, DEMO_N, 0)
    acc = checkpoint_accuracy({s: Path(a.pretrain_dir)/s for s in sizes}, pairs)
    curve = acc.groupby(['run', 'step']).acc.mean().unstack(0)
    print(curve.round(3).to_string())
    res['accuracy'] = {s: {int(k): round(v, 4) for k, v in curve[s].items()} for s in sizes}
    res['n_params'] = {s: int(acc[acc.run == s].n_params.iloc[0]) for s in sizes}
if a.stage in ('series', 'all'):
    from lts_nb.series import run_series, series_table
    steps = [int(s) for s in a.checkpoints.split(',')]
    refs = {f'{size}@step{st}': str(Path(a.pretrain_dir)/size/f'step{st}') for size in sizes for st in steps}
    pairs = resolve_tasks('demo', None, DEMO_N, 0)
    t0 = time.perf_counter()
    series = run_series(refs, pairs, a.out, steps=a.ft_steps, engine=a.engine)
    res.setdefault('series_runs_s', []).append(round(time.perf_counter() - t0, 1))  # a resumed run only times what was left
    if a.embedded and (Path(a.embedded)/'task_space.json').exists(): series.add_run('smollm2-135m', a.embedded)
    tab = series_table(series)
    print(tab.round(3).to_string())
    tab.to_csv('bench/results/series_table.csv')
    res['table'] = json.loads(tab.reset_index().to_json(orient='records'))
res['peak_rss_gb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
res_p.parent.mkdir(parents=True, exist_ok=True); res_p.write_text(json.dumps(res, indent=1))
