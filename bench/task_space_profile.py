#!/usr/bin/env python
"""Where the time of a task-space run goes: each phase timed, on the embedded model, in one process.

    python bench/task_space_profile.py --label before --out runs/profile_before [--blimp ../shared/data/blimp]
        [--tasks demo] [--steps 40] [--n_train 64] [--n_test 100] [-- extra run_task_space keyword=value ...]

Runs `run_task_space` in this process, as `lts_task_space` would (same task presets, splits and FTGD settings),
with a timer wrapped around each library function that makes up a phase:

- load: `load_model`;
- eval1: the untuned model's evaluation of every task;
- grads: the gradient differentials of the tasks; sketch: their CountSketches;
- ftgd_steps: each task's optimizer steps (per task);
- eval2: each tuned copy's evaluation of every task (per task);
- masks: the deltas, top-k masks and their files; restore: putting the untuned weights back;
- spaces: the transfer/gradsim/sharing matrices; stats: the statistics and files of the space;
- other: the rest of the wall time (checkpoints, logs, Python).

Functions that a version of the library does not have are skipped with a note, so the same script profiles an
older commit (the "before" figures) and the current one. The result for `--label` is merged, atomically, into
bench/results/task_space_profile.json with the git commit, load average, threads, wall time and peak RSS.
"""
import argparse, functools, importlib, json, os, platform, resource, subprocess, sys, tempfile, time
from collections import defaultdict
from pathlib import Path


class Profiler:
    "Accumulates exclusive seconds per phase (and per task for per-task phases) from wrapped functions."
    def __init__(self):
        self.total, self.calls, self.per_task = defaultdict(float), defaultdict(int), defaultdict(lambda: defaultdict(float))
        self.task, self.active, self.skipped = None, [], []

    def wrap(self, modname, attr, phase, per_task=False, sets_task=None):
        "Replace `module.attr` (or `module.Class.attr`) by a timed version; skip it if this library version lacks it."
        try: obj = importlib.import_module(modname)
        except ImportError: self.skipped.append(f'{modname}.{attr}'); return
        *path, name = attr.split('.')
        for p in path: obj = getattr(obj, p, None)
        if obj is None or not hasattr(obj, name): self.skipped.append(f'{modname}.{attr}'); return
        f = getattr(obj, name)
        raw = f.__func__ if isinstance(f, classmethod) else f
        prof = self

        @functools.wraps(raw)
        def timed(*a, **kw):
            if sets_task is not None: prof.task = kw.get('uid', a[sets_task] if len(a) > sets_task else None)
            prof.active.append([phase, 0.0]); t0 = time.perf_counter()   # [phase, time spent in timed calls inside]
            try: return raw(*a, **kw)
            finally:
                dt = time.perf_counter() - t0; _, inner = prof.active.pop()
                if prof.active: prof.active[-1][1] += dt                  # the caller's own time excludes this call
                prof.total[phase] += dt - inner; prof.calls[phase] += 1   # exclusive time: nothing counted twice
                if per_task and prof.task is not None: prof.per_task[phase][prof.task] += dt - inner
        setattr(obj, name, classmethod(timed) if isinstance(f, classmethod) else timed)
        # modules that imported the function by name get the timed one too
        for m in list(sys.modules.values()):
            if getattr(m, '__name__', '').startswith('lts_nb') and getattr(m, name, None) is f and m is not obj: setattr(m, name, timed)


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--label', required=True, help='name of this profile in the results file, e.g. before / after')
    ap.add_argument('--out', required=True, help='a fresh run folder')
    ap.add_argument('--model', default='smollm2-135m')
    ap.add_argument('--blimp', default=None)
    ap.add_argument('--tasks', default='demo')
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--n_train', type=int, default=64)
    ap.add_argument('--n_test', type=int, default=100)
    ap.add_argument('--threads', default=None, help="torch threads: a number, 'auto' (lts_nb's policy), or unset (torch's default)")
    ap.add_argument('--results', default='bench/results/task_space_profile.json')
    ap.add_argument('extra', nargs='*', help='run_task_space keyword=value pairs (values parsed as JSON when they can be)')
    return ap.parse_args()


def git_commit():
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except OSError: return None


def main():
    a = parse()
    if Path(a.out).exists(): sys.exit(f"{a.out} exists: a profile needs a fresh run folder")
    load0, t_all = os.getloadavg(), time.perf_counter()
    import torch
    import lts_nb, lts_nb.models, lts_nb.probes as probes, lts_nb.ftgd as ftgd
    if a.threads is not None:
        n = 'auto' if a.threads == 'auto' else int(a.threads)
        try:
            from lts_nb.utils import set_threads; set_threads(n)
        except ImportError:   # an older lts_nb: no thread policy, only a fixed number
            torch.set_num_threads(n if n != 'auto' else torch.get_num_threads())
    from lts_nb.ftgd import FTGDConfig
    prof = Profiler()
    W = prof.wrap
    W('lts_nb.models', 'load_model', 'load')
    W('lts_nb.probes', '_tune', 'tune_other', per_task=True, sets_task=1)   # per-task residual inside a tuning
    for mod in ('lts_nb.scoring', 'lts_nb.evaluate', 'lts_nb.ftgd', 'lts_nb.probes'):
        W(mod, 'evaluate', 'eval', per_task=True)
    W('lts_nb.ftgd', 'pair_gradient_differential', 'grads')
    W('lts_nb.probes', 'task_differential', 'grads')
    W('lts_nb.probes', 'GradSketch.of', 'sketch')
    W('lts_nb.ftgd', 'train_step', 'ftgd_steps', per_task=True)
    W('lts_nb.ftgd', '_subnetwork', 'ftgd_mask_select', per_task=True)
    for f in ('param_delta', 'delta_mask', 'save_mask', 'save_delta', '_record'): W('lts_nb.ftgd', f, 'masks', per_task=True)
    for f in ('transfer_space', 'gradsim_space', 'sharing_space', 'sharing_chance', 'assemble'): W('lts_nb.probes', f, 'spaces')
    W('lts_nb.task_space', 'TaskSpace.save', 'stats')

    kw = {}
    for e in a.extra:
        k, v = e.split('=', 1)
        try: kw[k] = json.loads(v)
        except json.JSONDecodeError: kw[k] = v
    lm = lts_nb.models.load_model(a.model, **{k: kw.pop(k) for k in ('dtype',) if k in kw})
    ts = probes.resolve_tasks(a.tasks, a.blimp, probes.pairs_to_draw(a.n_train, a.n_test), kw.get('seed', 0))
    cfg = FTGDConfig(steps=a.steps, seed=kw.get('seed', 0), **kw.pop('ftgd', {}))
    t0 = time.perf_counter()
    probes.run_task_space(lm, ts, a.out, cfg, a.n_train, a.n_test, progress=False, **kw)
    run_s = time.perf_counter() - t0
    wall = time.perf_counter() - t_all

    # eval1 is the call made before any tuning (no task set yet); eval2 the ones made inside a tuning
    ev = prof.per_task.pop('eval', {})
    eval1 = prof.total['eval'] - sum(ev.values())
    per_task = {k: dict(v) for k, v in prof.per_task.items()}
    per_task['eval2'] = dict(ev)
    tune_other = per_task.pop('tune_other', {})
    phases = {'load': prof.total['load'], 'eval1': eval1, 'grads': prof.total['grads'], 'sketch': prof.total['sketch'],
              'ftgd_mask_select': prof.total['ftgd_mask_select'], 'ftgd_steps': prof.total['ftgd_steps'], 'eval2': sum(ev.values()),
              'masks': prof.total['masks'], 'restore': prof.total['restore'], 'spaces': prof.total['spaces'],
              'stats': prof.total['stats'], 'tune_other': prof.total['tune_other']}
    phases['other'] = wall - sum(phases.values())
    res = {'label': a.label, 'commit': git_commit(), 'time': time.strftime('%Y-%m-%d %H:%M:%S'),
           'args': vars(a), 'n_tasks': len(ts), 'wall_s': wall, 'run_task_space_s': run_s,
           'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
           'phases_s': {k: round(v, 2) for k, v in phases.items()},
           'phases_frac': {k: round(v / wall, 4) for k, v in phases.items()},
           'per_task_s': {k: {u: round(s, 2) for u, s in v.items()} for k, v in per_task.items()},
           'tune_total_per_task_s': {u: round(s, 2) for u, s in tune_other.items()},
           'calls': dict(prof.calls), 'not_in_this_version': prof.skipped,
           'threads': torch.get_num_threads(), 'cpu_count': os.cpu_count(), 'loadavg_start': load0,
           'loadavg_end': os.getloadavg(), 'torch': torch.__version__, 'platform': platform.platform(),
           'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS'), 'OMP_WAIT_POLICY': os.environ.get('OMP_WAIT_POLICY'),
           'lts_nb_path': str(Path(lts_nb.__file__).parent), 'extra': kw}
    print(json.dumps({k: res[k] for k in ('label', 'commit', 'wall_s', 'peak_rss_gb', 'phases_s', 'loadavg_end')}, indent=1))
    out = Path(a.results); out.parent.mkdir(parents=True, exist_ok=True)
    allres = json.loads(out.read_text()) if out.exists() else {}
    allres[a.label] = res
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: json.dump(allres, f, indent=1)
    os.replace(tmp, out)
    print(f"wrote {out} [{a.label}]")


if __name__ == '__main__':
    main()
