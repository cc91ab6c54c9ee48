#!/usr/bin/env python
"""The README's main job (a 12-task space on the embedded model) with today's code and settings and with the new
defaults, in one run on the same machine, each profiled phase by phase.

    python bench/task_space_bench.py [--configs today,new] [--blimp ../shared/data/blimp] [--tag demo]

Configurations (each a fresh run folder under runs/bench_<tag>_<config>, run as a child process one after the other):

- today:     the code of commit --today_commit (81e6f79, before this work: dense FTGD, torch's default threads), checked
             out in a git worktree and put first on PYTHONPATH, with the settings of that day's README job;
- new:       the current code with its defaults (sparse FTGD, fixed top-1% subnetwork; threads 'auto'; float32);
- new_dense: the current code with dense FTGD (today's method) and torch's default threads: separates the code's
             speed-ups from the change of method.

All run the same tasks, steps (40), n_train (64) and n_test (100). Each child is bench/task_space_profile.py, which
times every phase and reports wall time and peak RSS. Writes bench/results/task_space_bench_<tag>.json (atomically)
with each configuration's figures and the wall-time ratios, and the FLOP-count lower bound of the job at this
machine's measured fp32 matmul peak (2048^3, best of 5, measured in this run before and after).
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def matmul_peak(threads=None, n=2048, reps=5) -> float:
    code = (f"import torch, time\n{'torch.set_num_threads(%d)' % threads if threads else ''}\n"
            f"a, b = torch.randn({n}, {n}), torch.randn({n}, {n}); a @ b\nbest = 1e9\n"
            f"for _ in range({reps}):\n    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)\n"
            f"print(2 * {n}**3 / best)")
    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout)

def worktree(commit: str) -> Path:
    d = Path(tempfile.gettempdir())/f'lts_nb_{commit}'
    if not (d/'lts_nb').exists():
        subprocess.run(['git', 'worktree', 'add', '--detach', str(d), commit], cwd=ROOT, check=True, capture_output=True)
    return d

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--configs', default='today,new')
    ap.add_argument('--blimp', default=None)
    ap.add_argument('--tag', default='demo')
    ap.add_argument('--today_commit', default='81e6f79')
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--model', default='smollm2-135m')
    a = ap.parse_args()
    results = ROOT/'bench'/'results'/f'task_space_bench_{a.tag}.json'
    prof = ROOT/'bench'/'results'/f'task_space_profile_{a.tag}.json'
    res = json.loads(results.read_text()) if results.exists() else {}
    res.setdefault('configs', {})
    res['peak_before'] = {'threads_2': matmul_peak(2), 'threads_1': matmul_peak(1)}
    base = [sys.executable, str(ROOT/'bench'/'task_space_profile.py'), '--steps', str(a.steps), '--results', str(prof), '--model', a.model] + \
           (['--blimp', a.blimp] if a.blimp else [])
    for c in a.configs.split(','):
        out = ROOT/'runs'/f'bench_{a.tag}_{c}'
        if out.exists(): subprocess.run(['rm', '-rf', str(out)], check=True)
        env = dict(os.environ)
        cmd = base + ['--label', c, '--out', str(out)]
        if c == 'today': env['PYTHONPATH'] = str(worktree(a.today_commit)); env.pop('OMP_WAIT_POLICY', None)
        elif c == 'new': cmd += ['--threads', 'auto']
        elif c == 'new_dense': cmd += ['ftgd={"topk": null}']
        else: sys.exit(f"unknown config {c!r}")
        t0 = time.perf_counter(); l0 = os.getloadavg()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if r.returncode: print(r.stderr[-3000:], file=sys.stderr); sys.exit(f"{c}: failed")
        p = json.loads(prof.read_text())[c]
        res['configs'][c] = {'wall_s': wall, 'run_task_space_s': p['run_task_space_s'], 'peak_rss_gb': p['peak_rss_gb'],
                             'phases_s': p['phases_s'], 'threads': p['threads'], 'commit': p['commit'], 'lts_nb_path': p['lts_nb_path'],
                             'loadavg_start': l0, 'loadavg_end': os.getloadavg(), 'cmd': ' '.join(cmd)}
        print(f"{c}: {wall:.0f} s wall, {p['peak_rss_gb']:.2f} GB, {p['threads']} threads, load {l0[0]:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
        write(results, res)
    res['peak_after'] = {'threads_2': matmul_peak(2), 'threads_1': matmul_peak(1)}
    cf = res['configs']
    if 'today' in cf and 'new' in cf: res['speedup_new_vs_today'] = cf['today']['wall_s'] / cf['new']['wall_s']
    if 'today' in cf and 'new_dense' in cf: res['speedup_new_dense_vs_today'] = cf['today']['wall_s'] / cf['new_dense']['wall_s']
    res['time'] = time.strftime('%Y-%m-%d %H:%M:%S'); res['cpu_count'] = os.cpu_count()
    write(results, res)
    print(json.dumps({k: v for k, v in res.items() if k != 'configs'}, indent=1))

def write(path, obj):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: json.dump(obj, f, indent=1)
    os.replace(tmp, path)

if __name__ == '__main__':
    main()
