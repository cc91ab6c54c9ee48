"""Bad input and damaged state (issue 19): every case gets a clear error (exit 2, or one of the library's `LtsError`
classes, with a message naming the cause) or, for a statistic that cannot be computed, NaN with a stated reason.
Never a traceback for a user's mistake, never a silent wrong result, never a hang.

The commands run in-process (`cli`), through their real argument parsers, so the whole file takes seconds on tiny
models. Cases whose fix lies in another owner's file are marked `xfail(strict=False, reason='awaiting OWNER: ...')`
until the fix lands (requests in /work/coord/requests/OWNER.md)."""
import contextlib, http.server, importlib, io, json, math, os, re, shutil, socketserver, stat, subprocess, sys
import threading, time, traceback, warnings
from configparser import ConfigParser
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROOTUSER = hasattr(os, 'geteuid') and os.geteuid() == 0
TASKS3 = 'gen_sva_simple,gen_anaphor_gender,gen_npi_never'
TASKS4 = 'gen_sva_simple,gen_sva_attractor,gen_npi_never,gen_npi_only'
CONST3 = 'gen_sva_simple,gen_wh_island,gen_npi_never'   # 3 phenomena in 3 fields: the taxonomy hypothesis is constant
SMALL = ['--steps', 2, '--n_train', 8, '--n_test', 12, '--batch_size', 4, '--sketch_m', 256, '--quiet']
SERIES_SMALL = ['--steps', 2, '--n_train', 8, '--n_test', 12, '--quiet']   # lts_series has no --batch_size/--sketch_m
REASON = r'constant|nan|finite|undefined|cannot|degenerate|empty'  # a reason a statistic is NaN
NOMODEL = '/no/such/model'
IS_FILE = r'is a file|not a (folder|directory)|exists'   # what an --out that is a file must be told                              # a model that cannot load: a check that names its option ran first

def awaiting(owner, what): return pytest.mark.xfail(strict=False, reason=f'awaiting {owner}: {what}')

def opt_re(opt: str) -> str:
    "A regex for an option's name, with or without its dashes ('--steps' or 'steps')."
    return r'(?<![\w-])(--)?' + re.escape(opt.lstrip('-')) + r'\b'


# ---------------------------------------------------------------------------------------------------------- helpers
def _entry_points() -> dict:
    cfg = ConfigParser(); cfg.read(ROOT/'settings.ini')
    eps = dict(e.split('=') for e in cfg['DEFAULT']['console_scripts'].split())
    return {k: v.split(':') for k, v in eps.items()}

ENTRY = _entry_points()

class Result:
    def __init__(self, code, out, err): self.code, self.out, self.err = code, out, err
    def __repr__(self): return f"Result(code={self.code!r}, err={self.err[-1500:]!r}, out={self.out[-300:]!r})"

def cli(cmd: str, *args) -> Result:
    "Run console script `cmd` in this process through its own argument parser: exit code, stdout, stderr + warnings."
    mod, fn = ENTRY[cmd]
    f = getattr(importlib.import_module(mod), fn)
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, 'argv', [cmd, *map(str, args)]), contextlib.redirect_stdout(out), \
         contextlib.redirect_stderr(err), warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try: f(); code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
            if isinstance(e.code, str): err.write(e.code + '\n')
        except Exception:
            code = 'traceback'; err.write(traceback.format_exc())
    wtext = ''.join(f"warning: {w.category.__name__}: {w.message}\n" for w in ws)
    return Result(code, out.getvalue(), err.getvalue() + wtext)

def assert_clear(r: Result, *patterns):
    "Exit 2, no traceback, and each regex in `patterns` (case-insensitive) in the error message."
    assert r.code == 2, r
    assert 'Traceback' not in r.err, r
    for p in patterns: assert re.search(p, r.err, re.I | re.S), (p, r)

def lib_error(fn, *patterns, cls=None):
    "`fn()` raises the package's error class (`cls`, default LtsError) with every regex of `patterns` in its message."
    from lts_nb.utils import LtsError
    with pytest.raises(cls or LtsError) as e: fn()
    for p in patterns: assert re.search(p, str(e.value), re.I | re.S), (p, str(e.value))
    return e.value

def save_lm(lm, d) -> Path:
    d = Path(d); lm.model.save_pretrained(d); lm.tokenizer.save_pretrained(d); return d

def tiny_gguf(path, seed=0, d=32, n_layers=2, n_heads=4) -> Path:
    "A tiny random Llama as a GGUF file (byte-level vocabulary of `lts_nb.models.byte_tokenizer`), ~150 KB."
    import gguf
    from lts_nb.models import byte_tokenizer
    vocab = byte_tokenizer().get_vocab(); toks = sorted(vocab, key=vocab.get)
    w = gguf.GGUFWriter(str(path), 'llama')
    w.add_block_count(n_layers); w.add_context_length(128); w.add_embedding_length(d); w.add_feed_forward_length(2 * d)
    w.add_head_count(n_heads); w.add_head_count_kv(n_heads); w.add_rope_dimension_count(d // n_heads)
    w.add_layer_norm_rms_eps(1e-5); w.add_vocab_size(len(toks))
    w.add_tokenizer_model('gpt2'); w.add_token_list(toks); w.add_token_types([1] * 256 + [3] * (len(toks) - 256))
    w.add_token_scores([0.0] * len(toks)); w.add_bos_token_id(256); w.add_eos_token_id(257); w.add_pad_token_id(258)
    rng = np.random.default_rng(seed)
    r = lambda *s: (rng.standard_normal(s) * 0.05).astype(np.float32)
    one = lambda: np.ones(d, np.float32)
    w.add_tensor('token_embd.weight', r(len(toks), d)); w.add_tensor('output_norm.weight', one())
    w.add_tensor('output.weight', r(len(toks), d))
    for i in range(n_layers):
        for n, s in [('attn_q', (d, d)), ('attn_k', (d, d)), ('attn_v', (d, d)), ('attn_output', (d, d)),
                     ('ffn_gate', (2 * d, d)), ('ffn_up', (2 * d, d)), ('ffn_down', (d, 2 * d))]:
            w.add_tensor(f'blk.{i}.{n}.weight', r(*s))
        w.add_tensor(f'blk.{i}.attn_norm.weight', one()); w.add_tensor(f'blk.{i}.ffn_norm.weight', one())
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return Path(path)

def blimp_records(uid='passive_1', n=100):
    return [dict(sentence_good=f'The cat number {i} was seen.', sentence_bad=f'The cat number {i} was slept.', UID=uid,
                 pairID=str(i), linguistics_term='s-selection', field='syntax') for i in range(n)]

def write_jsonl(path, recs) -> Path:
    Path(path).write_text(''.join(json.dumps(r) + '\n' for r in recs)); return Path(path)

@contextlib.contextmanager
def unreadable(path):
    "Make `path` unreadable: chmod 000, or (as root, who reads anyway) opening it raises PermissionError."
    path = Path(path).resolve()
    if not ROOTUSER:
        mode = path.stat().st_mode; path.chmod(0)
        try: yield
        finally: path.chmod(mode)
        return
    import builtins
    real = builtins.open
    def fake(f, *a, **k):
        if isinstance(f, (str, os.PathLike)) and Path(f).resolve() == path:
            raise PermissionError(13, 'Permission denied', str(f))
        return real(f, *a, **k)
    with mock.patch('builtins.open', fake), mock.patch('io.open', fake): yield

def unwritable_dir(tmp_path) -> Path:
    "A folder nobody can create files in: a chmod 555 folder, or (as root, who may write anywhere) one under /sys."
    if ROOTUSER: return Path('/sys/lts_nb_test_readonly')
    d = tmp_path/'ro'; d.mkdir(); d.chmod(0o555); return d


# --------------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    "No test reads or writes the user's cache."
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')

@pytest.fixture
def model_dir(tiny_dir, tmp_path) -> Path:
    "A private copy of the tiny model folder, free to be changed."
    return Path(shutil.copytree(tiny_dir, tmp_path/'model'))

@pytest.fixture(scope='module')
def done_run(tmp_path_factory):
    "A finished task-space run of a tiny model on 4 generated tasks (copy it before damaging it)."
    from lts_nb.models import tiny_lm
    d = tmp_path_factory.mktemp('done')
    m = save_lm(tiny_lm(seed=0), d/'model')
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', d/'run', *SMALL)
    assert r.code == 0, r
    return d/'model', d/'run'

@pytest.fixture
def run_copy(done_run, tmp_path):
    m, run = done_run
    return m, Path(shutil.copytree(run, tmp_path/'run'))

@pytest.fixture(scope='module')
def gguf_file(tmp_path_factory) -> Path:
    return tiny_gguf(tmp_path_factory.mktemp('gguf')/'tiny.gguf')

@pytest.fixture
def blimp_dir_small(tmp_path) -> Path:
    d = tmp_path/'blimp'; d.mkdir()
    write_jsonl(d/'passive_1.jsonl', blimp_records('passive_1', 40))
    write_jsonl(d/'transitive.jsonl', blimp_records('transitive', 40))
    return d


# ============================================================================ 1. degenerate statistics (lead)
def _stats(run) -> dict: return json.loads((Path(run)/'task_space.json').read_text())['stats']

def _nan_with_reason(st: dict, space: str):
    "The space's Mantel p (and Spearman) are NaN/None and a reason is given in its row."
    row = st[space]
    assert row['mantel_p'] is None or (isinstance(row['mantel_p'], float) and math.isnan(row['mantel_p'])), row
    reasons = [v for k, v in row.items() if isinstance(v, str)]
    assert any(re.search(REASON, v, re.I) for v in reasons), row

def test_constant_space_stats_are_nan_with_reason():
    from lts_nb.task_space import TaskSpace
    tasks = ['anaphor_gender_agreement', 'anaphor_number_agreement', 'passive_1', 'passive_2', 'transitive']
    st = TaskSpace(tasks, {'flat': np.zeros((5, 5))}).stats(n_perm=99)
    assert math.isnan(st.loc['flat', 'mantel_p']) and math.isnan(st.loc['flat', 'spearman'])
    assert any(isinstance(v, str) and re.search('constant', v, re.I) for v in st.loc['flat'].values), st.loc['flat']

def test_all_nan_space_stats_are_nan_with_reason():
    from lts_nb.task_space import TaskSpace
    tasks = ['anaphor_gender_agreement', 'anaphor_number_agreement', 'passive_1', 'passive_2', 'transitive']
    st = TaskSpace(tasks, {'void': np.full((5, 5), np.nan)}).stats(n_perm=99)
    assert math.isnan(st.loc['void', 'mantel_p'])
    assert any(isinstance(v, str) and re.search(REASON, v, re.I) for v in st.loc['void'].values), st.loc['void']

def test_constant_hypothesis_library():
    from lts_nb.task_space import TaskSpace
    tasks = ['anaphor_number_agreement', 'wh_vs_that_no_gap', 'expletive_it_object_raising']   # the example
    st = TaskSpace(tasks, {'x': np.random.default_rng(0).random((3, 3))}).stats(n_perm=99)
    assert math.isnan(st.loc['x', 'mantel_p'])
    assert any(isinstance(v, str) and re.search('constant', v, re.I) for v in st.loc['x'].values), st.loc['x']

def test_task_space_steps_0(tmp_path, tiny_dir):
    r = cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL, '--steps', 0)
    if r.code == 2: return assert_clear(r, opt_re('--steps'))             # rejected before compute: fine
    assert r.code == 0, r
    _nan_with_reason(_stats(tmp_path/'r'), 'transfer')             # else: a space of zeros has no p-value

def test_task_space_constant_transfer_has_no_p(done_run):
    st = _stats(done_run[1])
    if st['transfer']['spearman'] is None: _nan_with_reason(st, 'transfer')

def test_task_space_mask_pct_0(tmp_path):
    assert_clear(cli('lts_task_space', '--model', NOMODEL, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL,
                     '--mask_pct', 0), opt_re('--mask_pct'))

def test_task_space_constant_hypothesis_cli(tmp_path, tiny_dir):
    r = cli('lts_task_space', '--model', tiny_dir, '--tasks', CONST3, '--out', tmp_path/'r', *SMALL)
    assert r.code == 0, r
    assert re.search('constant', r.err, re.I), r                   # said up front (a warning)
    st = _stats(tmp_path/'r')
    for k in st: _nan_with_reason(st, k)


# =================================================================================== 2. resume checks (lead)
def _kill_mid_run(run: Path):
    "Make a finished run look killed after its gradient step: no space, no tuned task."
    for f in ('task_space.json', 'task_space.npz'): (run/f).unlink()
    for d in (run/'runs').iterdir(): shutil.rmtree(d)

def test_resume_refuses_other_weights(run_copy):
    from lts_nb.models import tiny_lm
    m, run = run_copy
    m = Path(shutil.copytree(m, run.parent/'model'))
    _kill_mid_run(run)
    save_lm(tiny_lm(seed=1), m)                                    # same folder, other weights
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', run, *SMALL)
    assert_clear(r, r'weight|fingerprint|model')
    assert not (run/'task_space.json').exists()

def test_resume_refuses_other_data(tmp_path, tiny_dir, blimp_dir_small):
    d3 = tmp_path/'b3'; d3.mkdir()
    uids = ['passive_1', 'adjunct_island', 'anaphor_gender_agreement']   # the hypothesis is not constant
    for u in uids: write_jsonl(d3/f'{u}.jsonl', blimp_records(u, 40))
    args = ['--model', tiny_dir, '--blimp', d3, '--tasks', ','.join(uids), '--out', tmp_path/'r',
            *SMALL, '--n_train', 8, '--n_test', 12]
    assert cli('lts_task_space', *args).code == 0
    _kill_mid_run(tmp_path/'r')
    recs = blimp_records('passive_1', 40)
    for r in recs: r['sentence_good'] = r['sentence_good'].replace('cat', 'dog')
    write_jsonl(d3/'passive_1.jsonl', recs)                        # same path, other pairs
    assert_clear(cli('lts_task_space', *args), r'data|pairs|fingerprint')


# ================================================================================ 3. damaged caches (api, lead)
def test_damaged_cache_rebuilds_or_fails(gguf_file, tmp_path):
    out = tmp_path/'s.jsonl'
    assert cli('lts_score', '--model', gguf_file, '--n_per_task', 2, '--out', out, '--quiet').code == 0
    (st,) = (tmp_path/'cache').rglob('model.safetensors')
    n = st.stat().st_size
    with open(st, 'r+b') as f: f.seek(n // 3); f.write(b'\xff' * (n // 3))   # NaN bytes over a third of the weights
    out.unlink()
    r = cli('lts_score', '--model', gguf_file, '--n_per_task', 2, '--out', out, '--quiet')
    if r.code == 0:                                                # rebuilt: every score is a real number
        recs = [json.loads(l) for l in out.read_text().splitlines()]
        assert recs and all(math.isfinite(x['good']) and math.isfinite(x['bad']) for x in recs)
    else:
        assert_clear(r, r'cache|damaged|corrupt')
        assert not out.exists()

def test_nan_scores_are_an_error_naming_the_pair(tiny_dir, tmp_path):
    "Finite weights whose logits overflow: every score is NaN, which must stop the run and name a pair."
    from lts_nb.models import load_model
    lm = load_model(str(tiny_dir))
    with torch.no_grad(): lm.model.model.norm.weight.fill_(3e38); lm.model.lm_head.weight.mul_(1e10)   # tied: embeddings too
    m = save_lm(lm, tmp_path/'overflow_model')
    out = tmp_path/'s.jsonl'
    r = cli('lts_score', '--model', m, '--tasks', 'gen_sva_simple', '--n_per_task', 3, '--out', out, '--quiet')
    assert_clear(r, 'nan|inf|finite', 'gen_sva_simple')
    assert not out.exists()

def test_nan_weights_are_refused_at_load(tiny_dir, tmp_path):
    from lts_nb.models import load_model
    lm = load_model(str(tiny_dir))
    with torch.no_grad(): lm.model.model.norm.weight.fill_(float('nan'))
    m = save_lm(lm, tmp_path/'nan_model')
    out = tmp_path/'s.jsonl'
    r = cli('lts_score', '--model', m, '--tasks', 'gen_sva_simple', '--n_per_task', 3, '--out', out, '--quiet')
    assert_clear(r, 'nan', 'nan_model')
    assert not out.exists()


# ================================================================================== 4. short downloads (api)
class _CutServer:
    "A local HTTP server that announces the full length of `body` and closes the connection after `cut` bytes."
    def __init__(self, body: bytes, cut: int):
        srv = self
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                srv.hits += 1
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                self.wfile.write(body[:cut]); self.wfile.flush(); self.close_connection = True
            def log_message(self, *a): pass
        self.hits = 0
        self.httpd = socketserver.TCPServer(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture
def cut_server():
    body = ''.join(json.dumps(r) + '\n' for r in blimp_records('passive_1', 1000)).encode()
    cut = body.index(b'\n', len(body) // 2) + 1                   # cut at a line end: what arrives parses fine
    s = _CutServer(body, cut); yield s; s.close()

def test_short_download_fails_and_is_not_cached(cut_server, tmp_path):
    from lts_nb.data import load_blimp
    url = cut_server.url + 'passive_1.jsonl'
    for _ in range(2):                                             # and the second load does not reuse a cut copy
        lib_error(lambda: load_blimp(url), r'incomplete|short|truncat|bytes|length', cls=None)
    files = [p for p in (tmp_path/'cache').rglob('*') if p.is_file()] if (tmp_path/'cache').exists() else []
    assert files == [], files
    assert cut_server.hits == 2

def test_short_download_cli(cut_server, tmp_path, tiny_dir):
    r = cli('lts_score', '--model', tiny_dir, '--blimp', cut_server.url + 'passive_1.jsonl', '--out', tmp_path/'o.jsonl', '--quiet')
    assert_clear(r, r'incomplete|short|truncat|bytes|length')


# ============================================================================================ 5. hangs
def _in_thread(fn, timeout, unblock):
    "Run `fn` in a thread; if it is still running after `timeout` s, call `unblock()` and fail (a hang)."
    res = {}
    def run():
        try: res['value'] = fn()
        except BaseException as e: res['error'] = e
    t = threading.Thread(target=run, daemon=True); t.start(); t.join(timeout)
    if t.is_alive():
        unblock(); t.join(10)
        pytest.fail(f'hung for {timeout} s')
    return res

def test_fifo_in_blimp_folder(blimp_dir_small):
    from lts_nb.data import load_blimp
    from lts_nb.utils import LtsError
    fifo = blimp_dir_small/'wh_island.jsonl'; os.mkfifo(fifo)
    def unblock():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK); os.close(fd)
    res = _in_thread(lambda: load_blimp(blimp_dir_small), 15, unblock)
    if 'error' in res:
        assert isinstance(res['error'], LtsError) and 'wh_island.jsonl' in str(res['error']), res
    else:                                                          # or skipped, with the other tasks loaded
        assert set(res['value']) == {'passive_1', 'transitive'}

def test_negative_count_in_generator_is_an_error():
    from lts_nb.generate import generate_pairs, grammatical_sentences, task_pairs
    from lts_nb.utils import ConfigError
    lib_error(lambda: generate_pairs(['gen_sva_attractor'], n_per_task=-1), 'n_per_task', '-1', cls=ConfigError)
    lib_error(lambda: task_pairs('gen_sva_attractor', -5), r'\bn\b', '-5', cls=ConfigError)
    lib_error(lambda: grammatical_sentences(-3), r'\bn\b', '-3', cls=ConfigError)
    lib_error(lambda: generate_pairs(['gen_sva_simple'], n_per_task=2.5), 'integer', cls=ConfigError)

def test_negative_count_via_task_space(tmp_path):
    r = cli('lts_task_space', '--model', NOMODEL, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL, '--n_test', -500)
    assert_clear(r, opt_re('--n_test'))


# ======================================================= 6. every count, size and rate checked before compute
TS_BAD = [('--steps', -1), ('--n_train', 0), ('--n_train', -5), ('--n_test', 0), ('--n_test', -1), ('--mask_pct', 150),
          ('--mask_pct', -1), ('--sketch_m', 0), ('--batch_size', 0), ('--lr', -1e-4), ('--lr', 'nan'), ('--seed', -1)]

@pytest.mark.parametrize('opt,val', TS_BAD, ids=[f'{o}={v}' for o, v in TS_BAD])
def test_task_space_options_checked_first(tmp_path, opt, val):
    r = cli('lts_task_space', '--model', NOMODEL, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL, opt, val)
    assert_clear(r, opt_re(opt))
    assert not (tmp_path/'r').exists()

def test_task_space_empty_tasks(tmp_path):
    assert_clear(cli('lts_task_space', '--model', NOMODEL, '--tasks', '', '--out', tmp_path/'r', '--quiet'), opt_re('--tasks'), 'empty')

SCORE_BAD = [('--n_per_task', -1), ('--batch_size', 0), ('--seed', -1)]

@pytest.mark.parametrize('opt,val', SCORE_BAD, ids=[f'{o}={v}' for o, v in SCORE_BAD])
def test_score_options_checked_first(tmp_path, opt, val):
    assert_clear(cli('lts_score', '--model', NOMODEL, '--out', tmp_path/'o.jsonl', '--quiet', opt, val), opt_re(opt))

def test_score_empty_tasks(tmp_path):
    assert_clear(cli('lts_score', '--model', NOMODEL, '--tasks', '', '--out', tmp_path/'o.jsonl', '--quiet'), opt_re('--tasks'), 'empty')

FTGD_BAD = [('--steps', -1), ('--n_train', 0), ('--n_test', 0), ('--lr', -1e-4), ('--batch_size', 0), ('--seed', -1),
            ('--topk', 150)]

@pytest.mark.parametrize('opt,val', FTGD_BAD, ids=[f'{o}={v}' for o, v in FTGD_BAD])
def test_ftgd_options_checked_first(tmp_path, blimp_dir_small, opt, val):
    r = cli('lts_ftgd', '--model', NOMODEL, '--blimp', blimp_dir_small, '--task', 'passive_1', '--out', tmp_path/'f',
            '--quiet', opt, val)
    assert_clear(r, opt_re(opt))

SERIES_BAD = [('--steps', -1), ('--n_train', 0), ('--n_test', -1), ('--seed', -1)]

@pytest.mark.parametrize('opt,val', SERIES_BAD, ids=[f'{o}={v}' for o, v in SERIES_BAD])
def test_series_options_checked_first(tmp_path, opt, val):
    r = cli('lts_series', '--models', NOMODEL, '--tasks', TASKS4, '--out', tmp_path/'s', '--quiet', opt, val)
    assert_clear(r, opt_re(opt))
    assert not (tmp_path/'s').exists()

def test_series_empty_tasks(tmp_path):
    assert_clear(cli('lts_series', '--models', NOMODEL, '--tasks', '', '--out', tmp_path/'s', '--quiet'), opt_re('--tasks'), 'empty')

PRETRAIN_BAD = [('--steps', -1), ('--steps', 0), ('--batch_size', 0), ('--lr', -1e-3), ('--lr', 'inf'), ('--n_sentences', 0),
                ('--seed', -1), ('--size', 'xxl')]

@pytest.mark.parametrize('opt,val', PRETRAIN_BAD, ids=[f'{o}={v}' for o, v in PRETRAIN_BAD])
def test_pretrain_options_checked_first(tmp_path, opt, val):
    r = cli('lts_pretrain', '--size', 'xs', '--out', tmp_path/'p', '--quiet', opt, val)
    assert_clear(r, opt_re(opt))
    assert not (tmp_path/'p').exists()

def test_report_n_pairs_negative(done_run, tmp_path):
    assert_clear(cli('lts_report', done_run[1], '--out', tmp_path/'r.html', '--n_pairs', -1), opt_re('--n_pairs'))

VDS_BAD = [('--n_train', 0), ('--n_test', -1), ('--k', -1), ('--epochs', 0), ('--max_words', 0)]

@pytest.mark.parametrize('opt,val', VDS_BAD, ids=[f'{o}={v}' for o, v in VDS_BAD])
def test_vds_options_checked_first(tmp_path, opt, val):
    assert_clear(cli('lts_vds', '--model', NOMODEL, '--out', tmp_path/'v', opt, val), opt_re(opt))


# ================================================================= 7. no traceback for a user's mistake
def test_ftgd_offline_default_blimp(tmp_path, tiny_dir, monkeypatch):
    import urllib.request
    def offline(*a, **k): raise urllib.error.URLError('[Errno -2] Name or service not known')
    monkeypatch.setattr(urllib.request, 'urlopen', offline)
    r = cli('lts_ftgd', '--model', tiny_dir, '--task', 'passive_1', '--out', tmp_path/'f', '--quiet')
    assert_clear(r, 'download|offline', opt_re('--blimp'))

def test_ftgd_help_marks_task_required():
    r = cli('lts_ftgd', '--help')
    assert r.code == 0
    usage = r.out.split('\n\n')[0]
    task_line = next((l for l in r.out.splitlines() if l.strip().startswith('--task')), '')
    assert re.search(r'\btask\b', usage.replace('--task', '')) or 'required' in task_line, r.out

def test_ftgd_without_task(tmp_path):
    assert_clear(cli('lts_ftgd', '--model', NOMODEL, '--out', tmp_path/'f'), 'task')

def test_truncated_zip(tmp_path, blimp_dir_small):
    z = shutil.make_archive(str(tmp_path/'blimp'), 'zip', blimp_dir_small)
    data = Path(z).read_bytes(); Path(z).write_bytes(data[:len(data) // 2])
    assert_clear(cli('lts_score', '--model', NOMODEL, '--blimp', z, '--out', tmp_path/'o.jsonl', '--quiet'), 'blimp.zip', 'zip')

def test_fake_zip(tmp_path):
    z = tmp_path/'fake.zip'; z.write_text('this is not a zip file\n')
    assert_clear(cli('lts_score', '--model', NOMODEL, '--blimp', z, '--out', tmp_path/'o.jsonl', '--quiet'), 'fake.zip', 'zip')

def test_jsonl_that_is_a_folder_inside_blimp_dir(tmp_path, blimp_dir_small):
    (blimp_dir_small/'wh_island.jsonl').mkdir()
    r = cli('lts_score', '--model', NOMODEL, '--blimp', blimp_dir_small, '--out', tmp_path/'o.jsonl', '--quiet')
    assert r.code == 2 and 'Traceback' not in r.err, r
    assert re.search('wh_island.jsonl', r.err) or re.search('no such model', r.err), r   # named, or skipped

def test_jsonl_that_is_a_folder_as_blimp(tmp_path):
    d = tmp_path/'passive_1.jsonl'; d.mkdir()
    assert_clear(cli('lts_score', '--model', NOMODEL, '--blimp', d, '--out', tmp_path/'o.jsonl', '--quiet'), 'passive_1.jsonl')

def test_unreadable_jsonl(tmp_path, blimp_dir_small):
    f = blimp_dir_small/'passive_1.jsonl'
    with unreadable(f):
        r = cli('lts_score', '--model', NOMODEL, '--blimp', f, '--out', tmp_path/'o.jsonl', '--quiet')
    assert_clear(r, 'passive_1.jsonl', r'permission|readable|read')

def _long_pair_file(path, n_words):
    sent = ' '.join(['very'] * n_words)
    write_jsonl(path, [dict(sentence_good=f'The cat was {sent} seen.', sentence_bad=f'The cat was {sent} slept.',
                            UID='passive_1', pairID='7')])
    return path

def test_sentence_longer_than_context(tmp_path, tiny_dir):
    f = _long_pair_file(tmp_path/'passive_1.jsonl', 200)        # ~1000 byte tokens; the tiny model's context is 512
    r = cli('lts_score', '--model', tiny_dir, '--blimp', f, '--out', tmp_path/'o.jsonl', '--quiet')
    assert re.search('context|too long|longer', r.err, re.I), r
    assert re.search(r'passive_1', r.err) and (r.code == 2 or r.code == 0), r

def test_huge_sentence_has_length_check(tmp_path, tiny_dir):
    f = _long_pair_file(tmp_path/'passive_1.jsonl', 20_000)
    mod, fn = ENTRY['lts_score']
    runner = tmp_path/'run_score.py'                 # a file, not `python -c`: fastcore's call_parse ignores argv under -c
    runner.write_text(f"import resource\nresource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))\nfrom {mod} import {fn}\n{fn}()\n")
    try:
        r = subprocess.run([sys.executable, str(runner), '--model', str(tiny_dir), '--blimp', str(f), '--out', str(tmp_path/'o.jsonl'),
                            '--quiet'], capture_output=True, text=True, timeout=150, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    except subprocess.TimeoutExpired: pytest.fail('no length check: still scoring a 20,000-word sentence after 150 s')
    assert_clear(Result(r.returncode, r.stdout, r.stderr), 'passive_1', r'context|too long|tokens')

@pytest.mark.parametrize('cmd', ['lts_score', 'lts_task_space'])
def test_device_bogus(tmp_path, tiny_dir, cmd):
    r = cli(cmd, '--model', tiny_dir, '--device', 'bogus', '--out', tmp_path/'o', '--quiet', '--tasks', TASKS4)
    assert_clear(r, 'bogus', 'device')

@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available here')
def test_device_cuda_without_cuda(tmp_path, tiny_dir):
    assert_clear(cli('lts_score', '--model', tiny_dir, '--device', 'cuda', '--out', tmp_path/'o.jsonl', '--quiet'), 'cuda')

def test_score_out_is_a_folder(tmp_path):
    (tmp_path/'o').mkdir()
    assert_clear(cli('lts_score', '--model', NOMODEL, '--out', tmp_path/'o', '--quiet'), '--out', 'folder|directory')

def test_score_out_unwritable(tmp_path):
    d = unwritable_dir(tmp_path)
    assert_clear(cli('lts_score', '--model', NOMODEL, '--out', d/'o.jsonl', '--quiet'), '--out')

def test_task_space_out_is_a_file(tmp_path, tiny_dir):
    f = tmp_path/'file'; f.write_text('keep me\n')
    assert_clear(cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', f, *SMALL), re.escape(str(f)), IS_FILE)
    assert f.read_text() == 'keep me\n'

def test_task_space_out_unwritable(tmp_path, tiny_dir):
    assert_clear(cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', unwritable_dir(tmp_path)/'r', *SMALL),
                 '--out|writ|permi')

def test_ftgd_out_is_a_file(tmp_path, blimp_dir_small, tiny_dir):
    f = tmp_path/'file'; f.write_text('keep me\n')
    assert_clear(cli('lts_ftgd', '--model', tiny_dir, '--blimp', blimp_dir_small, '--task', 'passive_1', '--out', f, '--quiet'),
                 re.escape(str(f)), IS_FILE)

def test_pretrain_out_is_a_file(tmp_path):
    f = tmp_path/'file'; f.write_text('keep me\n')
    assert_clear(cli('lts_pretrain', '--size', 'xs', '--steps', 2, '--out', f, '--quiet'), re.escape(str(f)), IS_FILE)
    assert f.read_text() == 'keep me\n'

def test_series_out_is_a_file(tmp_path):
    f = tmp_path/'file'; f.write_text('keep me\n')
    assert_clear(cli('lts_series', '--models', NOMODEL, '--tasks', TASKS4, '--out', f, '--quiet'), re.escape(str(f)), IS_FILE)
    assert f.read_text() == 'keep me\n'

def test_series_out_unwritable(tmp_path):
    assert_clear(cli('lts_series', '--models', NOMODEL, '--tasks', TASKS4, '--out', unwritable_dir(tmp_path)/'s', '--quiet'), '--out')

def test_vds_out_is_a_file(tmp_path, tiny_dir):
    f = tmp_path/'file'; f.write_text('keep me\n')
    assert_clear(cli('lts_vds', '--model', tiny_dir, '--data', tmp_path/'nodata', '--out', f), re.escape(str(f)), IS_FILE)

def test_report_out_unwritable(done_run, tmp_path):
    assert_clear(cli('lts_report', done_run[1], '--out', unwritable_dir(tmp_path)/'r.html'), '--out|writ|permi')


# ------------------------------------------------------------- damaged run-folder files: name the file and the fix
def _truncate(p: Path):
    b = p.read_bytes(); p.write_bytes(b[:max(1, len(b) // 2)])

def _resume_clear_or_recomputed(r, damaged: Path, loader):
    "Either a clear error naming the damaged file, or a successful rerun after which the file loads."
    if r.code == 0: loader(damaged); return
    assert_clear(r, re.escape(damaged.name))

def test_truncated_grads_pt(run_copy):
    m, run = run_copy
    _kill_mid_run(run)
    g = sorted((run/'grads').iterdir())[0]; _truncate(g)
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', run, *SMALL)
    _resume_clear_or_recomputed(r, g, lambda p: torch.load(p, weights_only=True))

def test_truncated_mask_npz(run_copy):
    m, run = run_copy
    for f in ('task_space.json', 'task_space.npz'): (run/f).unlink()
    mk = run/'runs'/'gen_sva_simple'/'mask.npz'; _truncate(mk)
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', run, *SMALL)
    _resume_clear_or_recomputed(r, mk, lambda p: np.load(p)['names'])

def test_truncated_ckpt_pt(tmp_path, tiny_dir, blimp_dir_small):
    args = ['--model', tiny_dir, '--blimp', blimp_dir_small, '--task', 'passive_1', '--out', tmp_path/'f', '--steps', 2,
            '--n_train', 8, '--n_test', 8, '--n_other', 4, '--n_ppl', 4, '--batch_size', 4, '--quiet']
    assert cli('lts_ftgd', *args).code == 0
    (tmp_path/'f'/'metrics.json').unlink()
    ck = tmp_path/'f'/'ckpt.pt'; ck.write_bytes(b'PK\x03\x04 truncated checkpoint')
    _resume_clear_or_recomputed(cli('lts_ftgd', *args), ck, lambda p: (tmp_path/'f'/'metrics.json').read_text())

def test_report_truncated_task_space_npz(run_copy, tmp_path):
    _, run = run_copy
    _truncate(run/'task_space.npz')
    assert_clear(cli('lts_report', run, '--out', tmp_path/'r.html'), 'task_space.npz')

def test_task_space_load_truncated_npz(run_copy):
    from lts_nb.task_space import TaskSpace
    _, run = run_copy
    _truncate(run/'task_space.npz')
    lib_error(lambda: TaskSpace.load(run), 'task_space.npz')

def test_truncated_state_pt(tmp_path):
    args = ['--size', 'xs', '--steps', 4, '--batch_size', 4, '--n_sentences', 200, '--out', tmp_path/'p', '--quiet']
    from lts_nb.pretrain import PretrainConfig, pretrain
    pretrain(tmp_path/'p', PretrainConfig(size='xs', steps=4, batch_size=4, n_sentences=200), progress=False, stop_after=2)
    _truncate(tmp_path/'p'/'state.pt')
    r = cli('lts_pretrain', *args)
    if r.code == 0: torch.load(tmp_path/'p'/'state.pt', weights_only=False); return
    assert_clear(r, 'state.pt', 'lts_pretrain|delete|remove')

def test_series_truncated_member_npz(tmp_path, tiny_dir):
    "A damaged member of a finished series is named, with what recomputes it."
    args = ['--models', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'s', *SERIES_SMALL]
    assert cli('lts_series', *args).code == 0
    (npz,) = (tmp_path/'s').glob('*/task_space.npz')
    _truncate(npz)
    assert_clear(cli('lts_series', *args), 'task_space.npz', 'delete|remove|rerun')

def test_cache_env_is_a_file(tmp_path, gguf_file, monkeypatch):
    f = tmp_path/'cachefile'; f.write_text('x')
    monkeypatch.setenv('LTS_NB_CACHE', str(f))
    assert_clear(cli('lts_score', '--model', gguf_file, '--out', tmp_path/'o.jsonl', '--quiet'), 'LTS_NB_CACHE')

def test_cached_bases_wrong_shape(tmp_path):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    from lts_nb.models import tiny_lm
    from lts_nb.vds import semantic_bases
    lm = tiny_lm(seed=0)
    good = semantic_bases(lm)
    (p,) = (tmp_path/'cache').rglob('*.safetensors')
    with safe_open(str(p), 'pt') as f: meta = f.metadata()
    save_file({'bases': torch.randn(7, 3)}, str(p), metadata=meta)
    try: res = semantic_bases(lm)
    except Exception as e:
        from lts_nb.utils import LtsError
        assert isinstance(e, LtsError) and p.name in str(e), repr(e); return
    assert res.shape == good.shape and not res.from_cache

def test_cached_bases_nan(tmp_path):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    from lts_nb.models import tiny_lm
    from lts_nb.vds import semantic_bases
    lm = tiny_lm(seed=0)
    good = semantic_bases(lm)
    (p,) = (tmp_path/'cache').rglob('*.safetensors')
    with safe_open(str(p), 'pt') as f: meta = f.metadata()
    t = load_file(str(p))['bases'].clone(); t[0, 0] = float('nan')
    save_file({'bases': t}, str(p), metadata=meta)
    try: res = semantic_bases(lm)
    except Exception as e:
        from lts_nb.utils import LtsError
        assert isinstance(e, LtsError) and p.name in str(e), repr(e); return
    assert torch.isfinite(res.vectors).all()


# ======================================================================= 8. messages that name the cause
def test_utf16_input(tmp_path):
    f = tmp_path/'passive_1.jsonl'; f.write_bytes(''.join(json.dumps(r) + '\n' for r in blimp_records()).encode('utf-16'))
    assert_clear(cli('lts_score', '--model', NOMODEL, '--blimp', f, '--out', tmp_path/'o.jsonl', '--quiet'),
                 'passive_1.jsonl', 'utf-16')

def test_binary_input(tmp_path):
    f = tmp_path/'passive_1.jsonl'; f.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert_clear(cli('lts_score', '--model', NOMODEL, '--blimp', f, '--out', tmp_path/'o.jsonl', '--quiet'),
                 'passive_1.jsonl', 'utf-8|binary|encoding')

@pytest.mark.parametrize('name', ['probe.json', 'eval_before.json', 'runs/gen_npi_only/metrics.json'])
def test_corrupt_run_json(run_copy, name):
    m, run = run_copy
    for f in ('task_space.json', 'task_space.npz'): (run/f).unlink()
    (run/name).write_text('{"truncated": ')
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', run, *SMALL)
    assert_clear(r, re.escape(Path(name).name))

def test_report_corrupt_task_space_json(run_copy, tmp_path):
    _, run = run_copy
    (run/'task_space.json').write_text('{"tasks": [')
    assert_clear(cli('lts_report', run, '--out', tmp_path/'r.html'), 'task_space.json')

def test_series_corrupt_series_json(tmp_path):
    from lts_nb.series import Series
    (tmp_path/'series.json').write_text('{"runs": ')
    lib_error(lambda: Series.load(tmp_path), 'series.json')

def test_truncated_gguf(tmp_path, gguf_file):
    g = tmp_path/'cut.gguf'; b = gguf_file.read_bytes(); g.write_bytes(b[:len(b) // 2])
    assert_clear(cli('lts_score', '--model', g, '--out', tmp_path/'o.jsonl', '--quiet'), 'cut.gguf', r'truncat|damaged|incomplete|corrupt')
    assert not list((tmp_path/'cache').rglob('config.json')) if (tmp_path/'cache').exists() else True

def test_task_space_duplicate_tasks():
    from lts_nb.task_space import TaskSpace
    lib_error(lambda: TaskSpace(['passive_1', 'transitive', 'passive_1'], {'x': np.eye(3)}), 'duplicate|twice|more than once', 'passive_1')

def test_task_space_zero_tasks():
    from lts_nb.task_space import TaskSpace
    lib_error(lambda: TaskSpace([], {}), r'no tasks|empty|at least|needs tasks')

def test_task_space_unknown_task():
    from lts_nb.task_space import TaskSpace
    lib_error(lambda: TaskSpace(['passive_1', 'transitive', 'not_a_task'], {'x': np.eye(3)}), 'not_a_task')

def test_vds_without_lm_head():
    from lts_nb.models import LM, tiny_lm
    from lts_nb.vds import semantic_bases
    t = tiny_lm(seed=0)
    headless = LM(t.model.model, t.tokenizer, name='headless')   # the base model, no LM head
    lib_error(lambda: semantic_bases(headless, cache=False), r'head')


# ===================================================================== 9. hub revisions on local folders
def test_series_revision_on_local_folder(tmp_path, tiny_dir):
    r = cli('lts_series', '--models', f'{tiny_dir}@step5', '--tasks', TASKS4, '--out', tmp_path/'s', '--quiet')
    assert_clear(r, 'step5', r'revision|local')
    assert not (tmp_path/'s').exists()

def test_load_model_revision_on_local_folder(tiny_dir):
    from lts_nb.models import load_model
    lib_error(lambda: load_model(str(tiny_dir), revision='step5'), 'step5', r'revision|local')


# =========================================================================== 10. outputs keep the umask
@contextlib.contextmanager
def umask(m):
    old = os.umask(m)
    try: yield
    finally: os.umask(old)

def test_score_output_keeps_umask(tmp_path, tiny_dir):
    with umask(0o022): assert cli('lts_score', '--model', tiny_dir, '--n_per_task', 1, '--out', tmp_path/'o.jsonl', '--quiet').code == 0
    assert stat.S_IMODE((tmp_path/'o.jsonl').stat().st_mode) == 0o644

def test_task_space_outputs_keep_umask(tmp_path, tiny_dir):
    with umask(0o022): assert cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL).code == 0
    modes = {p.relative_to(tmp_path).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path/'r').rglob('*') if p.is_file()}
    assert set(modes.values()) == {'0o644'}, modes

def test_pretrain_outputs_keep_umask(tmp_path):
    with umask(0o027):
        assert cli('lts_pretrain', '--size', 'xs', '--steps', 2, '--batch_size', 4, '--n_sentences', 200, '--out', tmp_path/'p', '--quiet').code == 0
    modes = {p.relative_to(tmp_path).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path/'p').rglob('*')}
    files = {k: v for k, v in modes.items() if (tmp_path/k).is_file()}
    dirs = {k: v for k, v in modes.items() if (tmp_path/k).is_dir()}
    assert set(files.values()) == {'0o640'}, files
    assert set(dirs.values()) == {'0o750'}, dirs


# ============================================================= 11. one error policy: a bug is a traceback
def _bug(*a, **k): raise KeyError('a bug in the library')

def test_score_bug_is_a_traceback(tmp_path, tiny_dir, monkeypatch):
    import lts_nb.cli
    monkeypatch.setattr(lts_nb.cli, 'score_pairs', _bug)
    r = cli('lts_score', '--model', tiny_dir, '--n_per_task', 1, '--out', tmp_path/'o.jsonl', '--quiet')
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_task_space_bug_is_a_traceback(tmp_path, tiny_dir, monkeypatch):
    import lts_nb.probes
    monkeypatch.setattr(lts_nb.probes, 'run_task_space', _bug)
    r = cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL)
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_series_bug_is_a_traceback(tmp_path, tiny_dir, monkeypatch):
    import lts_nb.series
    monkeypatch.setattr(lts_nb.series, 'run_task_space', _bug)
    r = cli('lts_series', '--models', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'s', *SERIES_SMALL)
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_pretrain_bug_is_a_traceback(tmp_path, monkeypatch):
    import lts_nb.pretrain
    monkeypatch.setattr(lts_nb.pretrain, 'pretrain_corpus', _bug)
    r = cli('lts_pretrain', '--size', 'xs', '--steps', 2, '--out', tmp_path/'p', '--quiet')
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_pretrain_interrupt_exits_130(tmp_path, monkeypatch):
    import lts_nb.pretrain
    def ctrl_c(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(lts_nb.pretrain, 'pretrain_corpus', ctrl_c)
    r = cli('lts_pretrain', '--size', 'xs', '--steps', 2, '--out', tmp_path/'p', '--quiet')
    assert r.code == 130 and 'resume' in r.err, r

def test_ftgd_bug_is_a_traceback(tmp_path, tiny_dir, blimp_dir_small, monkeypatch):
    import lts_nb.ftgd
    monkeypatch.setattr(lts_nb.ftgd, 'run_ftgd', _bug)
    r = cli('lts_ftgd', '--model', tiny_dir, '--blimp', blimp_dir_small, '--task', 'passive_1', '--out', tmp_path/'f', '--quiet',
            '--n_train', 8, '--n_test', 8, '--n_other', 4, '--n_ppl', 4)
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_vds_bug_is_a_traceback(tmp_path, tiny_dir, monkeypatch):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_vds import write_tiny_textcls
    import lts_nb.textcls
    write_tiny_textcls(tmp_path/'data')
    monkeypatch.setattr(lts_nb.textcls, 'load_model', _bug)
    r = cli('lts_vds', '--model', tiny_dir, '--dataset', 'trec', '--data', tmp_path/'data', '--n_train', 6, '--n_test', 6,
            '--out', tmp_path/'v', '--methods', 'majority')
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r

def test_report_bug_is_a_traceback(tmp_path, done_run, monkeypatch):
    mod = importlib.import_module(ENTRY['lts_report'][0])
    monkeypatch.setattr(mod, 'build_report', _bug)
    r = cli('lts_report', done_run[1], '--out', tmp_path/'r.html')
    assert r.code == 'traceback' and 'a bug in the library' in r.err, r


# ================================================= 7. cases the hostile sweep found (bench/hostile_sweep.py)
def test_non_string_sentence(tmp_path, tiny_dir):
    recs = blimp_records(n=20); recs[0]['sentence_good'] = 123
    f = write_jsonl(tmp_path/'passive_1.jsonl', recs)
    assert_clear(cli('lts_score', '--model', tiny_dir, '--blimp', f, '--out', tmp_path/'o.jsonl', '--quiet'),
                 r'passive_1\.jsonl:1: the good sentence .* is a int \(123\), not a string')

def test_file_name_uid_mismatch(tmp_path, tiny_dir):
    d = tmp_path/'b'; d.mkdir(); write_jsonl(d/'passive_1.jsonl', blimp_records('transitive', 20))
    r = cli('lts_score', '--model', tiny_dir, '--blimp', d, '--tasks', 'passive_1', '--out', tmp_path/'o.jsonl', '--quiet')
    assert_clear(r, r"passive_1\.jsonl holds pairs of task\(s\) \['transitive'\], not of 'passive_1'")
    assert not (tmp_path/'o.jsonl').exists()

def test_duplicate_pairs(tmp_path, tiny_dir):
    recs = blimp_records(n=10); recs.append(dict(recs[3]))
    r = cli('lts_score', '--model', tiny_dir, '--blimp', write_jsonl(tmp_path/'passive_1.jsonl', recs), '--out', tmp_path/'o.jsonl', '--quiet')
    assert_clear(r, r'passive_1\.jsonl:11: duplicate pair, the same sentences as line 4')

def test_score_out_is_input(tmp_path, tiny_dir):
    f = write_jsonl(tmp_path/'passive_1.jsonl', blimp_records(n=20)); before = f.read_text()
    assert_clear(cli('lts_score', '--model', tiny_dir, '--blimp', f, '--out', f, '--quiet'), r'is the input .*destroy the data')
    assert f.read_text() == before
    d = tmp_path/'b'; d.mkdir(); write_jsonl(d/'passive_1.jsonl', blimp_records(n=20))
    assert_clear(cli('lts_score', '--model', tiny_dir, '--blimp', d, '--out', d/'scores.jsonl', '--quiet'), r'inside the input folder')

def test_report_out_over_run_file(tmp_path, run_copy):
    _, run = run_copy; before = (run/'task_space.json').read_text()
    assert_clear(cli('lts_report', run, '--out', run/'task_space.json'), r"run's own file task_space\.json")
    assert (run/'task_space.json').read_text() == before

@pytest.mark.parametrize('damage, pattern', [
    ('weights', r'holds no weights file'), ('config', r'config\.json is not valid JSON'), ('tokenizer', r'holds no tokenizer files')])
def test_model_folder_incomplete(tmp_path, model_dir, damage, pattern):
    if damage == 'weights': (model_dir/'model.safetensors').unlink()
    if damage == 'config': (model_dir/'config.json').write_text('{"model_type": ')
    if damage == 'tokenizer':
        for f in model_dir.iterdir():
            if 'token' in f.name: f.unlink()
    assert_clear(cli('lts_score', '--model', model_dir, '--n_per_task', 1, '--out', tmp_path/'o.jsonl', '--quiet'), pattern)

def test_model_empty_string(tmp_path):
    assert_clear(cli('lts_score', '--model', '', '--n_per_task', 1, '--out', tmp_path/'o.jsonl', '--quiet'), r'empty model reference')

def test_tokenizer_larger_than_embedding(tmp_path, model_dir):
    from lts_nb.models import tiny_lm
    lm = tiny_lm(seed=0); lm.model.resize_token_embeddings(100)
    lm.model.config.update(dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)); lm.model.save_pretrained(model_dir)
    r = cli('lts_score', '--model', model_dir, '--n_per_task', 1, '--out', tmp_path/'o.jsonl', '--quiet')
    assert_clear(r, r"token id \d+, beyond the model's embedding of 100 rows")

def test_out_name_too_long(tmp_path, tiny_dir):
    r = cli('lts_score', '--model', tiny_dir, '--n_per_task', 1, '--out', tmp_path/('x' * 300 + '.jsonl'), '--quiet')
    assert_clear(r, r'306 bytes long, more than the \d+ this file system allows')

def test_disk_full_keeps_old_output(tmp_path, tiny_dir):
    import resource
    (tmp_path/'o.jsonl').write_text('previous results\n')
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    p = subprocess.run([str(a) for a in (BIN/'lts_score', '--model', tiny_dir, '--n_per_task', 20, '--out', tmp_path/'o.jsonl', '--quiet')],
                       capture_output=True, text=True, preexec_fn=limit, env={**os.environ, 'LTS_NB_CACHE': str(tmp_path/'cache')})
    assert p.returncode == 2 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    assert re.search(r'cannot write .*o\.jsonl: File too large \(EFBIG\); the previous file is unchanged', p.stderr), p.stderr
    assert (tmp_path/'o.jsonl').read_text() == 'previous results\n'

def test_task_space_seed_too_large(tmp_path, tiny_dir):
    r = cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL, '--seed', 2**64)
    assert_clear(r, r'seed must be <= 4294967295')

def test_task_space_mask_pct_without_dense_warns(tmp_path, tiny_dir):
    r = cli('lts_task_space', '--model', tiny_dir, '--tasks', TASKS4, '--out', tmp_path/'r', *SMALL, '--mask_pct', 50)
    assert r.code == 0 and re.search(r'--mask_pct 50\.0 is ignored', r.err), r

@pytest.mark.parametrize('make, pattern', [
    (lambda TS, t, m: TS(t, {'x': m[:, :4]}), r"matrix 'x' has shape \(5, 4\)"),
    (lambda TS, t, m: TS(t, {'x': np.where(np.eye(5, k=1) > 0, np.inf, m)}), r"matrix 'x' holds inf at"),
    (lambda TS, t, m: TS(t, {'x': m}).stats(n_perm=0), r'n_perm must be a positive integer')])
def test_task_space_bad_matrices(make, pattern):
    from lts_nb.task_space import TaskSpace
    tasks = ['anaphor_gender_agreement', 'anaphor_number_agreement', 'passive_1', 'passive_2', 'adjunct_island']
    lib_error(lambda: make(TaskSpace, tasks, np.random.default_rng(0).normal(size=(5, 5))), pattern)

def test_hypothesis_duplicate_tasks():
    from lts_nb.task_space import matrix_hypothesis
    lib_error(lambda: matrix_hypothesis(np.ones((3, 3)), ['passive_1', 'passive_2', 'passive_1']), r"\['passive_1'\] more than once")
