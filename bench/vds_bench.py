#!/usr/bin/env python
"""Vocabulary-defined semantics as its paper runs it (issue 18), on smollm2-135m, scaled to this CPU.

Three data sets (SST-2, TREC, AG News) x methods (majority, zero-shot, class-balanced ICL, kNN prompting with
demonstrations, kNN without them, VDS with each loss and logits, LoRA on q/k/v, IA3) x n_train in {64, 512, all}
x seeds {0, 1, 2}, on the full test sets (SST-2 1,821; TREC 500; AG News a seeded held-out 2,000). Every frozen-model
method reads the model's representations of each text once, cached under runs/vds_bench/features (FeatureStore);
only LoRA/IA3 run the model again. Jobs run in a fixed priority order (the PLAN below) and each writes its record
to bench/results/vds_bench.json atomically, so the benchmark runs in chunks:

    flock /tmp/lts_cpu.lock python bench/vds_bench.py --minutes 18     # exit 0: all done; exit 3: budget spent, rerun
    python bench/vds_bench.py --plan                                      # the plan, what is done, what is not

What did not fit in the CPU budget (--budget_minutes, over all chunks) is listed as 'not run' in the JSON.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numpy as np
import torch

from lts_nb.models import load_model
from lts_nb.provenance import provenance
from lts_nb.textcls import METHODS, FeatureStore, OutOfTime, load_textcls, method_options, summarise, _prompts
from lts_nb.utils import load_json, save_json
from lts_nb.vds import semantic_bases

DATASETS = ('sst2', 'trec', 'agnews')
SEEDS = (0, 1, 2)
VARIANTS = {                      # name -> (method, options over the defaults)
    'majority': ('majority', {}), 'zeroshot': ('zeroshot', {}),
    'icl': ('icl', {}), 'knn': ('knn', {}), 'knn_bare': ('knn_bare', {}),
    'vds_label': ('vds', dict(loss='label')), 'vds_gold': ('vds', dict(loss='gold')), 'vds_vocab': ('vds', dict(loss='vocab')),
    'vds_label_dot': ('vds', dict(loss='label', sim='dot')), 'vds_label_head': ('vds', dict(loss='label', sim='head')),
    'vds_vocab_head': ('vds', dict(loss='vocab', sim='head')),
    'lora': ('lora', {}), 'ia3': ('ia3', {}),
}
CHEAP = ['majority', 'zeroshot', 'knn_bare', 'vds_label', 'vds_gold', 'vds_label_dot', 'vds_label_head', 'vds_vocab', 'vds_vocab_head']


def regime_options(n_train) -> dict:
    """Module training per regime: 100 epochs of batch 32 up to 512 examples; at 'all' the paper's batch of 256 but 10
    epochs, not its 100 (on this CPU the vocabulary loss alone would take ~25 min per run at 100 epochs)."""
    return dict(batch_size=256, epochs=10) if n_train == 'all' else dict(batch_size=32, epochs=100)


def plan() -> list:
    """Jobs (stage, dataset, n_train, seed, variant) in the order they run, breadth first: every method on every data
    set with one seed before more seeds; data sets in the order TREC, SST-2, AG News (cheapest first)."""
    T = [('table', ds, n, s, v) for ds in ('trec', 'sst2', 'agnews') for n in (64, 512) for s in SEEDS
         for v in ('majority', 'zeroshot', 'knn_bare', 'vds_label', 'vds_gold', 'vds_label_dot', 'vds_label_head')]
    T += [('table', ds, 64, s, v) for ds in ('trec', 'sst2', 'agnews') for s in SEEDS for v in ('vds_vocab', 'vds_vocab_head')]
    for s in SEEDS[:1]:
        T += [('table', ds, n, s, v) for ds in ('trec', 'sst2', 'agnews') for n in (64, 512) for v in ('icl', 'knn')]
        T += [('table', ds, 64, s, v) for ds in ('trec', 'sst2', 'agnews') for v in ('lora', 'ia3')]
    T += [('table', ds, 'all', s, v) for ds in ('trec', 'sst2', 'agnews') for s in SEEDS
          for v in ('majority', 'zeroshot', 'knn_bare', 'vds_label', 'vds_gold')]
    for s in SEEDS[1:]:
        T += [('table', ds, n, s, v) for ds in ('trec', 'sst2', 'agnews') for n in (64, 512) for v in ('icl', 'knn')]
        T += [('table', ds, 64, s, v) for ds in ('trec', 'sst2', 'agnews') for v in ('lora', 'ia3')]
    T += [('curve', 'trec', n, s, v) for n in (16, 256) for s in SEEDS for v in ('vds_label', 'vds_vocab')]
    T += [('table', ds, 512, s, 'vds_vocab') for ds in ('trec', 'sst2', 'agnews') for s in SEEDS]
    T += [('table', ds, 'all', s, 'vds_vocab') for ds in ('trec', 'sst2', 'agnews') for s in SEEDS]
    T += [('curve', 'trec', n, s, v) for n in (16, 256) for s in SEEDS for v in ('lora', 'ia3')]
    T += [('table', ds, 512, s, v) for ds in ('trec', 'sst2', 'agnews') for s in SEEDS for v in ('lora', 'ia3')]
    T += [('table', ds, 'all', s, v) for ds in ('trec', 'sst2', 'agnews') for s in SEEDS for v in ('icl', 'knn', 'lora', 'ia3')]
    return T


def job_key(j) -> str: return '/'.join(map(str, j[1:]))


def matmul_peak(threads: int, n: int = 2048, reps: int = 5) -> float:
    "This machine's fp32 matmul rate (GFLOP/s) with `threads`, best of `reps`."
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_t(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def pick_threads(threads) -> int:
    "torch threads: an int, or 'auto' (2 if the 1-minute load, less this process's own threads, leaves a core idle, else 1)."
    if threads != 'auto': n = int(threads)
    else: n = 2 if os.getloadavg()[0] - torch.get_num_threads() < 0.5 else 1
    torch.set_num_threads(n)
    return n


def _t(f):
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='smollm2-135m')
    p.add_argument('--data', default=os.environ.get('LTS_NB_TEXTCLS', str(ROOT.parent/'shared/data/textcls')))
    p.add_argument('--out', default=str(ROOT/'bench/results/vds_bench.json'))
    p.add_argument('--features', default=str(ROOT/'runs/vds_bench/features'))
    p.add_argument('--minutes', type=float, default=18, help='stop after this chunk (the lock hold)')
    p.add_argument('--budget_minutes', type=float, default=150, help='CPU minutes for the whole benchmark, all chunks')
    p.add_argument('--threads', default='auto', help="torch threads, or 'auto': 2 when the machine is otherwise idle, else 1 (2 threads thrash under contention)")
    p.add_argument('--plan', action='store_true', help='print the plan and what is done, run nothing')
    p.add_argument('--only', default='', help='comma-separated job keys (or prefixes) to run, for checks')
    p.add_argument('--fresh', action='store_true', help='discard results of another configuration')
    a = p.parse_args()
    out = Path(a.out)
    res = load_json(out) if out.exists() else {}
    config = dict(model=a.model, seeds=list(SEEDS), datasets=list(DATASETS), max_words=64, test='full (agnews: seeded held-out 2,000)',
                  options=method_options(), regimes={str(n): regime_options(n) for n in (16, 64, 256, 512, 'all')})
    config = json.loads(json.dumps(config))
    if res and res.get('config') != config:
        if not a.fresh: sys.exit(f"{out} holds results of another configuration; pass --fresh to start again")
        res = {}
    res = res or dict(config=config, records={}, chunks=[])
    res['variants'] = {k: list(v) for k, v in VARIANTS.items()}
    jobs, done = plan(), res['records']
    if a.plan:
        for j in jobs: print('done ' if job_key(j) in done else 'todo ', j[0], job_key(j))
        print(f"{sum(job_key(j) in done for j in jobs)}/{len(jobs)} done; CPU minutes used {sum(c['seconds'] for c in res['chunks'])/60:.1f}")
        return 0
    spent = sum(c['seconds'] for c in res['chunks'])
    if spent > a.budget_minutes * 60: print(f"budget of {a.budget_minutes} min spent ({spent/60:.1f})"); return finish(res, out, jobs, 0)
    threads = pick_threads(a.threads)
    t_start = time.monotonic()
    deadline = t_start + min(a.minutes * 60, a.budget_minutes * 60 - spent)
    chunk = dict(started=time.strftime('%Y-%m-%d %H:%M:%S'), threads=threads, load_before=os.getloadavg()[0],
                 matmul_gflops=matmul_peak(threads), seconds=0.0, jobs=0)
    res['chunks'].append(chunk)
    lm = load_model(a.model)
    res['provenance'] = provenance(lm, data={'source': a.data, 'datasets': list(DATASETS)}, seeds={'seeds': list(SEEDS)})
    bases = semantic_bases(lm)
    res['bases'] = dict(shape=list(bases.shape), compute_seconds=bases.seconds, from_cache=bases.from_cache)
    store = FeatureStore(lm, a.features, batch_size=32, chunk=512, deadline=deadline)
    only = [s for s in a.only.split(',') if s]
    code = 0
    try:
        for j in jobs:
            key = job_key(j)
            if key in done or (only and not any(key.startswith(o) for o in only)): continue
            if time.monotonic() > deadline: code = 3; break
            rec_threads = pick_threads(a.threads)
            t0 = time.perf_counter()
            stage, ds, n, seed, var = j
            if True:
                method, opts = VARIANTS[var]
                d = load_textcls(ds, a.data, n, None, seed, 64)
                o = method_options(**{**regime_options(n), **opts, 'seed': seed})
                r = METHODS[method](lm, d, store, **o).metrics(d.test.label)
                rec = dict(stage=stage, dataset=ds, n_train=n, seed=seed, variant=var, **{**r, 'method': var}, n_test=len(d.test),
                           options={k: o[k] for k in ('loss', 'sim', 'epochs', 'batch_size', 'icl_tokens', 'peft_epochs')})
            rec['wall_s'], rec['threads'], rec['load'] = time.perf_counter() - t0, rec_threads, os.getloadavg()[0]
            done[key] = rec
            chunk['seconds'] = time.monotonic() - t_start; chunk['jobs'] += 1
            save_json(res, out)
            print(f"{key:32s} " + (f"acc {rec['accuracy']:.3f} f1 {rec['macro_f1']:.3f} setup {rec['setup_s']:7.1f} s infer {rec['infer_s']:7.1f} s"
                                   if 'accuracy' in rec else '')
                  + f"  (wall {rec['wall_s']:.0f} s)", flush=True)
        else: code = 0
    except OutOfTime: code = 3
    chunk['seconds'] = time.monotonic() - t_start
    chunk['load_after'] = os.getloadavg()[0]
    return finish(res, out, jobs, code)


def finish(res, out, jobs, code):
    "Summary over seeds of every (dataset, n_train, variant) done; the jobs not run; written atomically."
    recs = [r for r in res['records'].values() if 'accuracy' in r]
    if recs: res['summary'] = summarise(recs, by=('dataset', 'n_train', 'method')).to_dict('records')
    res['not_run'] = [job_key(j) for j in jobs if job_key(j) not in res['records']]
    res['cpu_minutes'] = sum(c['seconds'] for c in res['chunks']) / 60
    save_json(res, out)
    print(f"{len(res['records'])}/{len(jobs)} jobs done, {len(res['not_run'])} not run; {res['cpu_minutes']:.1f} CPU minutes in "
          f"{len(res['chunks'])} chunks", flush=True)
    return 0 if not res['not_run'] else code


if __name__ == '__main__': sys.exit(main())
