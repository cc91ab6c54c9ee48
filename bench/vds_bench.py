#!/usr/bin/env python
"""Text classification benchmark for vocabulary-defined semantics (issue 5).

Runs every method of `lts_nb.textcls` (majority, zero-shot, ICL, kNN prompting on the vocabulary and on the label
words, VDS clustering, LoRA) on SST-2, TREC and AG News with the same model, prompts, label words and training
examples, and writes bench/results/vds_bench.json: one record per data set x method, written atomically after each,
so an interrupted run resumes where it stopped (records whose configuration matches are skipped).

    python bench/vds_bench.py                       # defaults: smollm2-135m, n_train 64, n_test 200, k 4, 1 thread
    python bench/vds_bench.py --datasets sst2 --methods vds,knn --fresh
"""
import argparse, json, time
from pathlib import Path

import pandas as pd
import torch

from lts_nb.models import load_model
from lts_nb.vocab import semantic_bases
from lts_nb.textcls import METHODS, load_textcls, write_json_atomic

ROOT = Path(__file__).resolve().parent.parent
p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--data', default=str(ROOT.parent/'shared/data/textcls'))
p.add_argument('--datasets', default='sst2,trec,agnews')
p.add_argument('--methods', default='majority,zeroshot,icl,knn,knn_lw,vds,lora')
p.add_argument('--n_train', type=int, default=64)
p.add_argument('--n_test', type=int, default=200)
p.add_argument('--k', type=int, default=4, help='ICL demonstrations')
p.add_argument('--epochs', type=int, default=100, help='VDS clustering epochs')
p.add_argument('--lora_epochs', type=int, default=4)
p.add_argument('--max_words', type=int, default=64)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--out', default=str(ROOT/'bench/results/vds_bench.json'))
p.add_argument('--threads', type=int, default=1, help='torch CPU threads (1 is fastest on a shared, busy machine)')
p.add_argument('--fresh', action='store_true', help='ignore existing results')
a = p.parse_args()
torch.set_num_threads(a.threads)

config = dict(model=a.model, threads=a.threads, n_train=a.n_train, n_test=a.n_test, k=a.k, epochs=a.epochs, lora_epochs=a.lora_epochs,
              max_words=a.max_words, seed=a.seed)
out = Path(a.out)
res = json.loads(out.read_text()) if out.exists() and not a.fresh else {}
if res.get('config') != config: res = {'config': config, 'results': {}}

lm = load_model(a.model)
t0 = time.perf_counter(); bases = semantic_bases(lm)
res['bases'] = dict(shape=list(bases.shape), compute_seconds=bases.seconds, load_seconds=time.perf_counter() - t0,
                    from_cache=bases.from_cache)
write_json_atomic(res, out)
for ds in a.datasets.split(','):
    data = load_textcls(ds, a.data, a.n_train, a.n_test, a.seed, a.max_words)
    for m in a.methods.split(','):
        if m in res['results'].get(ds, {}): continue
        kw = dict(k=a.k, seed=a.seed, epochs=a.epochs, lora_epochs=a.lora_epochs, progress=False)
        rec = METHODS[m](lm, data, **kw).metrics(data.test.label)
        res['results'].setdefault(ds, {})[m] = rec
        write_json_atomic(res, out)
        print(f"{ds:7s} {m:9s} acc {rec['accuracy']:.3f}  macro-F1 {rec['macro_f1']:.3f}  "
              f"setup {rec['setup_s']:6.1f} s  inference {rec['infer_s']:6.1f} s", flush=True)

rows = [dict(dataset=ds, **r) for ds, ms in res['results'].items() for r in ms.values()]
print(pd.DataFrame(rows).set_index(['dataset', 'method'])[['accuracy', 'macro_f1', 'seconds']].round(3).to_string())
