"""Sequential vs Ray engine for the per-task fine-tunings of a task space: wall time and equality, in one run.

    python bench/ray_bench.py --model runs/pretrain/m/step2048 --tag neox_m
    python bench/ray_bench.py --model smollm2-135m --tasks gen_sva_simple,gen_anaphor_gender,gen_npi_never,gen_wh_island --steps 10 --n_test 50 --tag smollm2

Both engines start from the same loaded model and folder-less state: each run goes into a fresh folder, the
sequential one first (torch's default threads in this process), then Ray (a local ray.init()) twice: with its
defaults (each job asks for as many CPUs as this process uses threads and computes with that many: bit-identical
results, one job at a time on 2 cores) and with cpus=1 (one single-threaded job per core). Ray times include starting Ray and its workers; `*_tuning_s` is the fanned-out
part alone (from the last gradient sketch to the written space, from the run's log, 1 s resolution). Writes
bench/results/ray_bench_<tag>.json.
"""
import argparse, json, os, shutil, time
from pathlib import Path
import numpy as np, torch

ap = argparse.ArgumentParser()
ap.add_argument('--model', required=True)
ap.add_argument('--tasks', default='demo')
ap.add_argument('--steps', type=int, default=40)
ap.add_argument('--n_train', type=int, default=64)
ap.add_argument('--n_test', type=int, default=100)
ap.add_argument('--out', default='runs/ray_bench')
ap.add_argument('--tag', default='run')
a = ap.parse_args()

from lts_nb.ftgd import FTGDConfig
from lts_nb.models import load_model
from lts_nb.probes import resolve_tasks, run_task_space

lm = load_model(a.model)
pairs = resolve_tasks(a.tasks, None, a.n_train + a.n_test + 50, 0)
cfg = FTGDConfig(steps=a.steps, lr=1e-4, batch_size=8, seed=0)
res = {'model': a.model, 'n_params': lm.n_params, 'tasks': len(pairs), 'steps': a.steps, 'cpu_count': os.cpu_count(),
       'torch_threads': torch.get_num_threads()}
spaces = {}
from datetime import datetime
def tuning_seconds(out):
    "Seconds from the end of the last gradient sketch to the written space: the part the engine fans out."
    lines = (out/'log.txt').read_text().splitlines()
    t = lambda l: datetime.strptime(l[:19], '%Y-%m-%d %H:%M:%S')
    return (t([l for l in lines if 'task space written' in l][-1]) - t([l for l in lines if ' grads ' in l][-1])).total_seconds()

runs = {'sequential': dict(engine='sequential'),
        'ray': dict(engine='ray'),                  # default: CPUs and threads per job = this process's threads
        'ray_cpus1': dict(engine='ray', cpus=1)}    # one single-threaded job per core
for name, kw in runs.items():
    out = Path(a.out)/f'{a.tag}_{name}'
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    spaces[name] = run_task_space(lm, pairs, out, cfg, a.n_train, a.n_test, progress=False, **kw)
    res[f'{name}_s'] = round(time.perf_counter() - t0, 1)
    res[f'{name}_tuning_s'] = tuning_seconds(out)
for name in ('ray', 'ray_cpus1'):
    res[f'{name}_speedup'] = round(res['sequential_s'] / res[f'{name}_s'], 2)
    res[f'{name}_tuning_speedup'] = round(res['sequential_tuning_s'] / max(res[f'{name}_tuning_s'], 1), 2)
    res[f'{name}_max_abs_diff'] = {k: float(np.nanmax(np.abs(spaces[name][k].to_numpy() - spaces['sequential'][k].to_numpy())))
                                   for k in spaces['sequential'].matrices}
    res[f'{name}_identical'] = all(np.array_equal(spaces[name][k].to_numpy(), spaces['sequential'][k].to_numpy(), equal_nan=True)
                                   for k in spaces['sequential'].matrices)
print(json.dumps(res, indent=1))
Path('bench/results').mkdir(parents=True, exist_ok=True)
Path(f'bench/results/ray_bench_{a.tag}.json').write_text(json.dumps(res, indent=1))
