"""Wall time and peak memory of the task-space demo (`lts_task_space --tasks demo`) on the embedded model.

    python bench/task_space_bench.py --blimp ../shared/data/blimp --out runs/demo_bench [--steps 40]

Runs the CLI as a child process and reports its wall time and peak RSS (getrusage of children). Re-running with the
same --out resumes (and then measures only what was left), so pass a fresh --out for a full measurement.
Writes bench/results/task_space_bench_<name of --out>.json.
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument('--model', default='smollm2-135m')
ap.add_argument('--blimp', default=None)
ap.add_argument('--tasks', default='demo')
ap.add_argument('--steps', default='40')
ap.add_argument('--out', default='runs/demo_bench')
a = ap.parse_args()

cmd = [str(Path(sys.executable).parent/'lts_task_space'), '--model', a.model, '--tasks', a.tasks, '--steps', a.steps,
       '--out', a.out, '--quiet'] + (['--blimp', a.blimp] if a.blimp else [])
t0 = time.perf_counter()
r = subprocess.run(cmd, text=True, capture_output=True)
wall = time.perf_counter() - t0
peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
print(r.stdout); print(r.stderr[-2000:], file=sys.stderr)
res = {'cmd': ' '.join(cmd), 'returncode': r.returncode, 'wall_s': round(wall, 1), 'peak_rss_gb': round(peak_gb, 2),
       'cpu_count': os.cpu_count()}
print(json.dumps(res, indent=1))
Path('bench/results').mkdir(parents=True, exist_ok=True)
Path(f'bench/results/task_space_bench_{Path(a.out).name}.json').write_text(json.dumps(res, indent=1))
sys.exit(r.returncode)
