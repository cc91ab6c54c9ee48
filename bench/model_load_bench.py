"""Cost of an alias's first load (assembly + GGUF conversion) and of its later, verified cached loads.

    flock /tmp/lts_cpu.lock python bench/model_load_bench.py gemma3-270m [--fresh]

--fresh converts into a temporary cache (the real one is left alone). Writes bench/results/model_load_<alias>.json.
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument('alias'); ap.add_argument('--fresh', action='store_true'); ap.add_argument('--loads', type=int, default=3)
a = ap.parse_args()
if a.fresh: os.environ['LTS_NB_CACHE'] = tempfile.mkdtemp(prefix='lts_bench_cache')

import torch
from lts_nb.models import ALIASES, MANIFEST, alias_gguf, load_model, cache_dir, _alias_dir, cache_problem
from lts_nb.scoring import score_pairs
from lts_nb.data import MinimalPair
from lts_nb.provenance import library_versions, weights_hash
from lts_nb.utils import load_json, save_json

res = {'alias': a.alias, 'threads': torch.get_num_threads(), 'versions': library_versions(), 'fresh_cache': a.fresh}
t0 = time.perf_counter(); gguf = alias_gguf(a.alias); res['gguf_seconds'] = round(time.perf_counter() - t0, 2)
res['gguf_bytes'] = gguf.stat().st_size
t0 = time.perf_counter(); d = _alias_dir(a.alias); res['first_resolve_seconds'] = round(time.perf_counter() - t0, 2)
man = load_json(Path(d)/MANIFEST)
res['conversion_seconds'] = man.get('seconds'); res['cache_bytes'] = sum(f['size'] for f in man['files'].values())
loads = []
for _ in range(a.loads):
    t0 = time.perf_counter(); lm = load_model(a.alias); loads.append(round(time.perf_counter() - t0, 2))
res['cached_load_seconds'] = loads
res['model'] = repr(lm); res['n_params'] = lm.n_params; res['model_type'] = lm.model.config.model_type
t0 = time.perf_counter(); res['weights_sha256'] = weights_hash(lm); res['weights_hash_seconds'] = round(time.perf_counter() - t0, 2)
pairs = [MinimalPair('The keys to the cabinet are on the table.', 'The keys to the cabinet is on the table.', 'agreement'),
         MinimalPair('The author that the guards like laughs.', 'The author that the guards like laugh.', 'agreement'),
         MinimalPair('Who did you see the man with?', 'Who did you see the man and?', 'island', pair_id=1),
         MinimalPair('What did John say that Mary bought?', 'What did John wonder whether Mary bought?', 'island', pair_id=2)]
s = score_pairs(lm, pairs, progress=False)
res['quick_check'] = s[['uid', 'good', 'bad', 'correct']].to_dict('records')
out = Path(__file__).parent/'results'/f'model_load_{a.alias}.json'
save_json(res, out); print(json.dumps(res, indent=1))
