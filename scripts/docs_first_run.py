#!/usr/bin/env python
"""Measure what a new user meets on the first `load_model('smollm2-135m')`: the GGUF conversion time and what it
writes to the cache, then a second (cached) load. The cache is redirected to a fresh temporary folder with
`LTS_NB_CACHE`, so the user's own cache is neither used nor touched. Writes docs/first_run.json, which
scripts/make_readme.py turns into the README's first-run sentence.

Run it under the CPU lock for a figure to report:  flock /tmp/lts_cpu.lock .venv/bin/python scripts/docs_first_run.py
"""
import json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = 'smollm2-135m'

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from lts_nb.models import load_model
t1 = time.perf_counter()
lm = load_model(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'dtype': str(lm.dtype), 'n_params': lm.n_params}))
"""

def du(p: Path) -> int: return sum(f.stat().st_size for f in p.rglob('*') if f.is_file())

def load_once(cache: Path) -> dict:
    "One load in a fresh process (so nothing is cached in memory), cache at `cache`."
    env = {**os.environ, 'LTS_NB_CACHE': str(cache), 'HF_HUB_OFFLINE': '1'}
    out = subprocess.run([sys.executable, '-c', CHILD, MODEL], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])

def gguf_type(path: Path) -> str:
    "The GGUF's file type (e.g. MOSTLY_Q4_1) and its tensors' types, read from the file."
    import gguf
    r = gguf.GGUFReader(str(path))
    f = r.fields.get('general.file_type')
    ft = gguf.LlamaFileType(int(f.parts[f.data[0]][0])).name if f is not None else '?'
    types = {}
    for t in r.tensors: types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    return ft.replace('MOSTLY_', ''), types

def main():
    import torch
    from lts_nb.models import alias_gguf
    g = alias_gguf(MODEL)
    ft, types = gguf_type(g)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix='lts_first_run_') as d:
        cache = Path(d)/'cache'
        first = load_once(cache)
        size = du(cache)
        second = load_once(cache)
    res = {'model': MODEL, 'gguf': g.name, 'gguf_mb': g.stat().st_size / 1e6, 'gguf_type': ft, 'gguf_tensor_types': types,
           'convert_s': first['load_s'], 'cache_mb': size / 1e6, 'cached_load_s': second['load_s'],
           'import_s': second['import_s'], 'dtype': first['dtype'], 'n_params': first['n_params'],
           'machine': f"{os.cpu_count()} CPU cores ({platform.machine()}), torch {torch.__version__}, "
                      f"{torch.get_num_threads()} threads",
           'load_avg_1min': [round(load0, 1), round(os.getloadavg()[0], 1)],
           'command': 'python scripts/docs_first_run.py', 'date': time.strftime('%Y-%m-%d')}
    from lts_nb.utils import save_json
    save_json(res, ROOT/'docs'/'first_run.json')
    print(json.dumps(res, indent=1))

if __name__ == '__main__': main()
