#!/usr/bin/env python
"""Does the default thread policy hold up when other jobs share the CPU? Scoring throughput of the embedded model
under each thread setting, on a quiet machine and with a competing CPU-bound job, in one run.

    python bench/threads_bench.py [--pairs 160] [--competitors 1]

Settings (each in a fresh child process, since OpenMP reads its environment once, when torch loads it):
- 'torch default, spin':   torch's default threads (all cores), OMP_WAIT_POLICY=ACTIVE (waiting threads spin);
- 'torch default, passive': all cores, OMP_WAIT_POLICY=PASSIVE (what importing lts_nb sets);
- '1 thread':              torch.set_num_threads(1);
- "lts_nb 'auto'":         lts_nb.utils.set_threads('auto') (cores less the load average) with the passive wait.
The competing job is --competitors processes each running 2-thread float32 matmuls non-stop (another user's
training job, say). Each setting scores the same --pairs generated pairs (pair_margins), best of --rounds; the
order of settings rotates between rounds. Writes bench/results/threads_bench.json atomically.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r'''
import os, sys, time, json
setting = sys.argv[1]; n = int(sys.argv[2])
import lts_nb, torch
from lts_nb.utils import set_threads
if setting == '1 thread': torch.set_num_threads(1)
elif setting == "lts_nb 'auto'": set_threads('auto')
from lts_nb.models import load_model
from lts_nb.generate import generate_pairs
from lts_nb.scoring import pair_margins
lm = load_model('smollm2-135m')
pairs = generate_pairs(['gen_sva_simple', 'gen_npi_never', 'gen_wh_island', 'gen_passive'], n_per_task=n // 4, seed=0).pairs
pair_margins(lm, pairs[:8])
t = time.perf_counter(); c = time.process_time(); pair_margins(lm, pairs)
print(json.dumps({'wall_s': time.perf_counter() - t, 'cpu_s': time.process_time() - c, 'threads': torch.get_num_threads(),
                  'wait_policy': os.environ.get('OMP_WAIT_POLICY'), 'load': os.getloadavg()[0]}))
'''
COMPETE = "import torch, time\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\nwhile True: a @ a"
SETTINGS = {'torch default, spin': {'OMP_WAIT_POLICY': 'ACTIVE'}, 'torch default, passive': {'OMP_WAIT_POLICY': 'PASSIVE'},
            '1 thread': {}, "lts_nb 'auto'": {}}

def run(setting, n):
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_WAIT_POLICY', 'OMP_NUM_THREADS')}
    env.update(SETTINGS[setting])
    r = subprocess.run([sys.executable, '-c', CHILD, setting, str(n)], env=env, capture_output=True, text=True, cwd=ROOT)
    if r.returncode: raise SystemExit(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pairs', type=int, default=160)
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--competitors', type=int, default=1)
    ap.add_argument('--out', default=str(ROOT/'bench'/'results'/'threads_bench.json'))
    a = ap.parse_args()
    res = {'args': vars(a), 'cpu_count': os.cpu_count(), 'load_start': os.getloadavg(), 'conditions': {}}
    names = list(SETTINGS)
    for cond in ('quiet', 'contended'):
        procs = [subprocess.Popen([sys.executable, '-c', COMPETE]) for _ in range(a.competitors)] if cond == 'contended' else []
        try:
            if procs: time.sleep(65)   # let the 1-minute load average see the competitor, as 'auto' reads it
            runs = {k: [] for k in names}
            for r in range(a.rounds):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    runs[k].append(run(k, a.pairs)); print(cond, k, runs[k][-1], flush=True)
            res['conditions'][cond] = {k: {'best_wall_s': min(x['wall_s'] for x in v), 'pairs_per_s': a.pairs / min(x['wall_s'] for x in v),
                                           'runs': v} for k, v in runs.items()}
        finally:
            for p in procs: p.kill()
    q, c = res['conditions']['quiet'], res['conditions']['contended']
    res['slowdown_under_contention'] = {k: c[k]['best_wall_s'] / q[k]['best_wall_s'] for k in names}
    res['contended_vs_spin'] = {k: c['torch default, spin']['best_wall_s'] / c[k]['best_wall_s'] for k in names}
    res['time'] = time.strftime('%Y-%m-%d %H:%M:%S')
    out = Path(a.out); fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: json.dump(res, f, indent=1)
    os.replace(tmp, out)
    print(json.dumps({k: res[k] for k in ('slowdown_under_contention', 'contended_vs_spin')}, indent=1))

if __name__ == '__main__':
    main()
