#!/usr/bin/env python
"""One FTGD run on the embedded smollm2-135m (CPU): prints wall time and peak RSS (must stay under 4 GB).
Also writes them to bench/results/ftgd_bench.json.

Usage: python bench/ftgd_bench.py [--task complex_NP_island] [--steps 20] [--threads N] [--out DIR]
The run record is written to DIR (default: a temporary directory, removed afterwards); the full parameter delta
is saved too, so the peak includes writing the whole record.
"""
import argparse, json, resource, shutil, sys, tempfile, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parent
BLIMP = ROOT.parent.parent/'shared'/'data'/'blimp'

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--task', default='complex_NP_island')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    t_start = time.perf_counter()
    from lts_nb.models import load_model
    from lts_nb.data import load_blimp
    from lts_nb.ftgd import FTGDConfig, run_ftgd, task_data
    lm = load_model('smollm2-135m')
    others = ['anaphor_number_agreement', 'determiner_noun_agreement_2', 'npi_present_1']
    ts = load_blimp(BLIMP, tasks=[a.task] + [u for u in others if u != a.task])
    train, test, ppl = task_data(ts, a.task, n_train=500, n_test=200, n_other=100, n_ppl=200)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix='ftgd_bench'))
    cfg = FTGDConfig(steps=a.steps)
    try:
        m = run_ftgd(lm, train, test, a.task, out, cfg, ppl, record_delta=True, progress=False)
    finally:
        if not a.out: shutil.rmtree(out, ignore_errors=True)
    wall = time.perf_counter() - t_start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9   # ru_maxrss is in KiB on Linux
    print(json.dumps({k: m[k] for k in ('task', 'method', 'steps', 'seed', 'acc_before', 'acc_after', 'ppl_before', 'ppl_after',
                                         'off_target_change', 'n_trained', 'train_s', 'eval_s')}, indent=1))
    print(f"threads {torch.get_num_threads()}; wall time {wall:.0f} s (training {m['train_s']:.0f} s, "
          f"{m['train_s']/max(1, m['steps_done']):.1f} s/step; evaluation {m['eval_s']:.0f} s)")
    print(f"peak RSS {peak_gb:.2f} GB ({'under' if peak_gb < 4 else 'OVER'} the 4 GB budget)")
    res = {k: m[k] for k in ('task', 'steps', 'acc_before', 'acc_after', 'ppl_before', 'ppl_after', 'n_trained', 'train_s', 'eval_s')}
    res.update(wall_s=wall, peak_rss_gb=peak_gb, threads=torch.get_num_threads())
    from lts_nb.ftgd import save_json
    save_json(res, ROOT/'results'/'ftgd_bench.json')
    sys.exit(0 if peak_gb < 4 else 1)

if __name__ == '__main__': main()
