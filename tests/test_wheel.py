"""A light install from a built wheel (issue 17): `python -m build`, a fresh virtual environment with nothing but
torch==2.13.0 (the CPU build, from the local wheel store) and the wheel without extras; there, outside the source tree,
the library imports and scores, `lts_score` runs, and each optional part names the extra that adds it.

Slow (`pytest -m slow`): creating the environment and installing the wheel's dependencies takes 2-5 minutes."""
import json, os, shutil, subprocess, sys, textwrap, zipfile
from configparser import ConfigParser
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=1500, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r

@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    "The wheel, built from a copy of the files a build needs (so nothing stale in build/ or the tree can sneak in)."
    src = tmp_path_factory.mktemp('src')
    for f in ('setup.py', 'settings.ini', 'pyproject.toml', 'README.md'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'lts_nb', src/'lts_nb', ignore=shutil.ignore_patterns('__pycache__'))
    out = tmp_path_factory.mktemp('dist')
    run([sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', out, src])
    (whl,) = out.glob('lts_nb-*.whl')
    return whl

@pytest.fixture(scope='module')
def venv(wheel, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp('venv')/'env'
    run([sys.executable, '-m', 'venv', d])
    pip = [d/'bin'/'python', '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
    run([*pip, 'torch==2.13.0'])          # the CPU build, from the local wheel store (an unpinned torch pulls GBs of CUDA)
    run([*pip, wheel])                    # no extras
    return d

def test_wheel_carries_every_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    mods = sorted(p.name for p in (ROOT/'lts_nb').glob('*.py'))
    assert sorted(Path(n).name for n in names if n.startswith('lts_nb/')) == mods
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('METADATA'))).decode()
    cfg = ConfigParser(); cfg.read(ROOT/'settings.ini')
    for extra in ('views', 'gguf', 'lora', 'ray', 'all', 'gemma'): assert f'Provides-Extra: {extra}' in meta
    core = [l for l in meta.splitlines() if l.startswith('Requires-Dist:') and 'extra ==' not in l]
    for heavy in ('altair', 'ipywidgets', 'anywidget', 'vl-convert', 'gguf', 'peft', 'ray', 'datasets', 'gemma3'):
        assert not any(heavy in l for l in core), (heavy, core)
    eps = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('entry_points.txt'))).decode()
    assert all(c in eps for c in ('lts_score', 'lts_task_space', 'lts_ftgd', 'lts_report', 'lts_series', 'lts_pretrain', 'lts_vds'))

CHECK = textwrap.dedent('''
    import json, sys, importlib.util
    from pathlib import Path
    import lts_nb
    from lts_nb.models import tiny_lm, load_model
    from lts_nb.scoring import score_pairs
    from lts_nb.surprisal import word_scores
    from lts_nb.generate import generate_pairs
    import lts_nb.ftgd, lts_nb.task_space, lts_nb.probes, lts_nb.provenance, lts_nb.cli, lts_nb.data
    from lts_nb.utils import MissingExtra
    res = {'file': lts_nb.__file__, 'missing': {}}
    lm = tiny_lm(); lm.model.save_pretrained('tiny'); lm.tokenizer.save_pretrained('tiny')
    s = score_pairs(load_model('tiny'), generate_pairs(['gen_sva_simple'], n_per_task=3), progress=False)
    res['scores'] = s.good.tolist(); res['words'] = len(word_scores(lm, ['The cat sleeps.'], progress=False))
    res['absent'] = [m for m in ('altair', 'ipywidgets', 'gguf', 'peft', 'ray', 'datasets') if importlib.util.find_spec(m)]
    def missing(f):
        try: f(); return None
        except MissingExtra as e: return str(e)
    res['missing']['views'] = missing(lambda: __import__('lts_nb.views'))
    Path('m.gguf').write_bytes(b'GGUF' + bytes(64))
    res['missing']['gguf'] = missing(lambda: load_model('m.gguf'))
    from lts_nb.data import TaskSet
    res['missing']['hf'] = missing(lambda: TaskSet.from_hf('blimp'))
    print(json.dumps(res))
''')

def test_light_install_imports_scores_and_names_extras(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    env |= {'LTS_NB_CACHE': str(tmp_path/'cache'), 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1'}
    r = run([venv/'bin'/'python', '-c', CHECK], cwd=tmp_path, env=env)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['file'].startswith(str(venv)) and not res['file'].startswith(str(ROOT))     # the installed copy, not the tree
    assert len(res['scores']) == 3 and all(x < 0 for x in res['scores']) and res['words'] == 3
    assert res['absent'] == [], f"an extra's package came with the plain install: {res['absent']}"
    assert "pip install 'lts_nb[views]'" in res['missing']['views']
    assert "pip install 'lts_nb[gguf]'" in res['missing']['gguf']
    assert 'pip install datasets' in res['missing']['hf']
    r = run([venv/'bin'/'lts_score', '--model', tmp_path/'tiny', '--n_per_task', 2, '--out', tmp_path/'s.jsonl', '--quiet'], cwd=tmp_path, env=env)
    meta = json.loads((tmp_path/'s.meta.json').read_text())['provenance']
    assert meta['git'] is None and meta['lts_nb'] and meta['model']['weights_sha256'].startswith('sha256:')
