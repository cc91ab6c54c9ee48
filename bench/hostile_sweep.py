"""Hostile inputs and states beyond issue 19's list, against the commands and the library, each classified.

    python bench/hostile_sweep.py --label after            # every case; results into bench/results/hostile_sweep.json
    python bench/hostile_sweep.py --label before --code DIR # the same cases against another checkout of lts_nb (DIR)
    python bench/hostile_sweep.py --only NAME,NAME --dry    # a few cases, printed, nothing written

Each case sets up one hostile input or state (odd files and encodings, symlinks, odd option values, disk full,
concurrent runs, signals, NaN/inf in user matrices, duplicate or mixed task ids...) and runs a command in-process
through its own argument parser, or a library call, or (for signals, concurrency and disk limits) the command in a
subprocess. Every case runs in a forked child of one warm process, with a timeout, on tiny models, so the sweep
needs little CPU. Verdicts:

  clear error         exit 2 (or the package's LtsError) and a message that names the cause
  handled correctly   exit 0 and the output checked to be right
  unclear error       an error, but the message does not name the cause, or the wrong class or exit code
  traceback           an uncaught exception (a user's mistake shown as a crash)
  silent wrong result exit 0, but the output is wrong (or destroyed, or meaningless without a word)
  hang                still running after the case's timeout
"""
from __future__ import annotations
import argparse, contextlib, importlib, io, json, math, multiprocessing as mp, os, re, shutil, signal, socketserver
import subprocess, sys, tempfile, threading, time, traceback, warnings, http.server
from configparser import ConfigParser
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = ('clear error', 'handled correctly', 'unclear error', 'traceback', 'silent wrong result', 'hang')
TASKS4 = 'gen_sva_simple,gen_sva_attractor,gen_npi_never,gen_npi_only'
SMALL = ['--steps', 2, '--n_train', 8, '--n_test', 12, '--batch_size', 4, '--sketch_m', 256, '--quiet']
NOMODEL = '/no/such/model'


# ------------------------------------------------------------------------------------------------ running a case
@dataclass
class R:
    "What a case produced: exit code (int, 'traceback'), stdout, stderr (+ warnings), and anything the case adds."
    code: object
    out: str = ''
    err: str = ''
    extra: dict = field(default_factory=dict)

def entry_points(code_root: Path) -> dict:
    cfg = ConfigParser(); cfg.read(code_root/'settings.ini')
    return {k: v.split(':') for k, v in (e.split('=') for e in cfg['DEFAULT']['console_scripts'].split())}

def cli(cmd: str, *args) -> R:
    "Run a console script in this process through its argument parser."
    mod, fn = CTX['entry'][cmd]
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, 'argv', [cmd, *map(str, args)]), contextlib.redirect_stdout(out), \
         contextlib.redirect_stderr(err), warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try:
            f = getattr(importlib.import_module(mod), fn); f(); code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
            if isinstance(e.code, str): err.write(e.code + '\n')
        except BaseException:
            code = 'traceback'; err.write(traceback.format_exc())
    return R(code, out.getvalue(), err.getvalue() + ''.join(f"warning: {w.category.__name__}: {w.message}\n" for w in ws))

def lib(fn) -> R:
    "Call `fn()`: an LtsError is exit 2 (its message as stderr), another exception a 'library' error, else exit 0."
    try: value = fn()
    except Exception as e:
        from lts_nb.utils import LtsError
        kind = 2 if isinstance(e, LtsError) else 'library'
        return R(kind, '', f"{type(e).__name__}: {e}", {'exc': type(e).__name__})
    return R(0, '', '', {'value': value})

def sub(cmd: str, *args, timeout=120, preexec=None, env=None, background=False):
    "Run a console script in a subprocess (the code under test first on the path)."
    mod, fn = CTX['entry'][cmd]
    runner = Path(CTX['base'])/f'{cmd}.py'           # a file, not `python -c`: fastcore's call_parse ignores argv under -c
    if not runner.exists(): runner.write_text(f"from {mod} import {fn}\n{fn}()\n")
    e = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': CTX['pythonpath'], **(env or {})}
    argv = [sys.executable, str(runner), *map(str, args)]
    kw = dict(text=True, env=e, preexec_fn=preexec, cwd=CTX['base'])   # not the repo root: `python -c` puts the cwd first on the path
    if background: return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    p = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    return R(p.returncode, p.stdout, p.stderr)

@dataclass
class Case:
    name: str
    owner: str
    area: str
    doc: str
    run: object
    cause: str | None = None      # regex a clear error must match (None: no error is acceptable)
    ok: object = None             # ok(tmp, r) -> bool for an exit-0 outcome (None: success is not acceptable)
    judge: object = None          # judge(tmp, r) -> (verdict, detail): a custom verdict
    timeout: int = 60

CASES: list[Case] = []
def case(owner, area, cause=None, ok=None, judge=None, timeout=60):
    def reg(f): CASES.append(Case(f.__name__, owner, area, (f.__doc__ or '').strip(), f, cause, ok, judge, timeout)); return f
    return reg

def last_error(err: str) -> str:
    "The line that says what went wrong: the exception line of a traceback, else the last line that is not a warning."
    lines = [l for l in err.strip().splitlines() if l.strip()]
    exc = [l for l in lines if re.match(r'^[\w.]*(Error|Exception|Interrupt|Exit)\b.*:', l)]
    if 'Traceback' in err and exc: return exc[-1]
    plain = [l for l in lines if not l.startswith('warning: ')]
    return (plain or lines or [''])[-1]

def verdict(c: Case, tmp: Path, r: R) -> tuple[str, str]:
    if c.judge is not None: return c.judge(tmp, r)
    msg = last_error(r.err)
    if r.code == 'traceback': return 'traceback', msg
    if r.code == 'library':                                # not the package's error class
        return ('unclear error' if c.cause and re.search(c.cause, r.err, re.I | re.S) else 'traceback'), msg
    if r.code == 0:
        if c.ok is None: return 'silent wrong result', 'exit 0, no error: ' + (msg if msg.startswith('warning') else 'no warning either')
        try: good, why = c.ok(tmp, r), ''
        except Exception as e: good, why = False, f" ({type(e).__name__}: {e})"
        return ('handled correctly', 'exit 0, output checked') if good else ('silent wrong result', 'exit 0, the output is wrong' + why)
    if r.code == 2 and c.cause and re.search(c.cause, r.err, re.I | re.S): return 'clear error', msg
    return 'unclear error', f"exit {r.code}: {msg}"

def _child(c: Case, tmp: str, conn):
    os.setsid()                                   # its own process group: a hang is killed with every subprocess it started
    os.environ['LTS_NB_CACHE'] = str(Path(tmp)/'cache')
    try:
        r = c.run(Path(tmp))
        v, detail = verdict(c, Path(tmp), r)
        conn.send({'verdict': v, 'detail': detail[:400], 'code': str(r.code), 'stderr': r.err[-1500:]})
    except BaseException:
        conn.send({'verdict': 'sweep error', 'detail': traceback.format_exc()[-1500:], 'code': None, 'stderr': ''})
    conn.close()

def run_case(c: Case, base: Path) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=c.name + '-', dir=base))
    parent, child = mp.Pipe(duplex=False)
    p = mp.get_context('fork').Process(target=_child, args=(c, str(tmp), child))
    t0 = time.perf_counter(); p.start(); child.close()
    res = None
    if parent.poll(c.timeout): res = parent.recv()
    if res is None:
        with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGKILL)
        res = {'verdict': 'hang', 'detail': f'still running after {c.timeout} s', 'code': None, 'stderr': ''}
    p.join(10)
    shutil.rmtree(tmp, ignore_errors=True)
    for k in ('detail', 'stderr'): res[k] = (res.get(k) or '').replace(str(tmp), '$CASE').replace(str(base), '$TMP')
    return {'name': c.name, 'owner': c.owner, 'area': c.area, 'case': c.doc, **res, 'seconds': round(time.perf_counter() - t0, 1)}


# ------------------------------------------------------------------------------------------------------ fixtures
CTX: dict = {}

def write_jsonl(path, recs, **kw) -> Path:
    Path(path).write_text(''.join(json.dumps(r, **kw) + '\n' for r in recs)); return Path(path)

def recs(uid='passive_1', n=40, start=0):
    return [dict(sentence_good=f'The cat number {i} was seen.', sentence_bad=f'The cat number {i} was slept.', UID=uid,
                 pairID=str(i)) for i in range(start, start + n)]

def scores(path) -> list[dict]: return [json.loads(l) for l in Path(path).read_text().splitlines()]

def finite_scores(path, n=None) -> bool:
    rs = scores(path)
    return bool(rs) and (n is None or len(rs) == n) and all(math.isfinite(x['good']) and math.isfinite(x['bad']) for x in rs)

def stats_of(run) -> dict: return json.loads((Path(run)/'task_space.json').read_text())['stats']

def nan_with_reason(run, space) -> bool:
    row = stats_of(run)[space]
    p = row.get('mantel_p')
    return (p is None or (isinstance(p, float) and math.isnan(p))) and any(isinstance(v, str) and v for v in row.values())

def build_fixtures(base: Path):
    "A tiny model folder, a tiny GGUF, a small BLiMP folder and a finished tiny task-space run."
    import numpy as np, torch
    torch.set_num_threads(1)
    from lts_nb.models import tiny_lm
    lm = tiny_lm(seed=0)
    m = base/'model'; lm.model.save_pretrained(m); lm.tokenizer.save_pretrained(m)
    b = base/'blimp'; b.mkdir()
    for u in ('passive_1', 'adjunct_island', 'anaphor_gender_agreement'): write_jsonl(b/f'{u}.jsonl', recs(u))
    os.environ['LTS_NB_CACHE'] = str(base/'cache')
    r = cli('lts_task_space', '--model', m, '--tasks', TASKS4, '--out', base/'run', *SMALL)
    assert r.code == 0, r
    CTX.update(model=m, blimp=b, run=base/'run', gguf=tiny_gguf(base/'tiny.gguf'))

def tiny_gguf(path) -> Path:
    import gguf, numpy as np
    from lts_nb.models import byte_tokenizer
    d, L, H = 32, 2, 4
    vocab = byte_tokenizer().get_vocab(); toks = sorted(vocab, key=vocab.get)
    w = gguf.GGUFWriter(str(path), 'llama')
    w.add_block_count(L); w.add_context_length(128); w.add_embedding_length(d); w.add_feed_forward_length(2 * d)
    w.add_head_count(H); w.add_head_count_kv(H); w.add_rope_dimension_count(d // H); w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(toks)); w.add_tokenizer_model('gpt2'); w.add_token_list(toks)
    w.add_token_types([1] * 256 + [3] * (len(toks) - 256)); w.add_token_scores([0.0] * len(toks))
    w.add_bos_token_id(256); w.add_eos_token_id(257); w.add_pad_token_id(258)
    rng = np.random.default_rng(0); r = lambda *s: (rng.standard_normal(s) * 0.05).astype(np.float32)
    w.add_tensor('token_embd.weight', r(len(toks), d)); w.add_tensor('output_norm.weight', np.ones(d, np.float32))
    w.add_tensor('output.weight', r(len(toks), d))
    for i in range(L):
        for n, s in [('attn_q', (d, d)), ('attn_k', (d, d)), ('attn_v', (d, d)), ('attn_output', (d, d)),
                     ('ffn_gate', (2 * d, d)), ('ffn_up', (2 * d, d)), ('ffn_down', (d, 2 * d))]:
            w.add_tensor(f'blk.{i}.{n}.weight', r(*s))
        w.add_tensor(f'blk.{i}.attn_norm.weight', np.ones(d, np.float32)); w.add_tensor(f'blk.{i}.ffn_norm.weight', np.ones(d, np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return Path(path)

def score(tmp, *args, out=None):
    out = out or tmp/'o.jsonl'
    return cli('lts_score', '--model', CTX['model'], '--out', out, '--quiet', *args)

def copy_run(tmp) -> Path: return Path(shutil.copytree(CTX['run'], tmp/'run'))


# ================================================================================ data files (owner: api, data)
@case('api', 'data', cause=r'empty\.jsonl.*(empty|no minimal pairs)|(empty|no minimal pairs).*empty\.jsonl')
def empty_jsonl(tmp):
    "--blimp a 0-byte .jsonl file"
    (tmp/'empty.jsonl').write_text('')
    return score(tmp, '--blimp', tmp/'empty.jsonl')

@case('api', 'data', cause=r'blank\.jsonl.*(empty|no minimal pairs)')
def blank_lines_jsonl(tmp):
    "--blimp a .jsonl of blank lines only"
    (tmp/'blank.jsonl').write_text('\n \n\t\n')
    return score(tmp, '--blimp', tmp/'blank.jsonl')

@case('api', 'data', cause=r'BOM|byte.order', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 40))
def utf8_bom_jsonl(tmp):
    "--blimp a UTF-8 .jsonl with a byte-order mark (as Windows editors save it)"
    f = tmp/'passive_1.jsonl'; f.write_bytes('\ufeff'.encode() + write_jsonl(tmp/'x', recs()).read_bytes())
    return score(tmp, '--blimp', f)

@case('api', 'data', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 40))
def crlf_jsonl(tmp):
    "--blimp a .jsonl with CRLF line ends"
    f = tmp/'passive_1.jsonl'; f.write_bytes(write_jsonl(tmp/'x', recs()).read_bytes().replace(b'\n', b'\r\n'))
    return score(tmp, '--blimp', f)

@case('api', 'data', cause=r'passive_1\.jsonl:1.*(string|text|str\b|number|int)')
def non_string_sentence(tmp):
    "a record whose sentence_good is a number"
    rs = recs(); rs[0]['sentence_good'] = 123
    return score(tmp, '--blimp', write_jsonl(tmp/'passive_1.jsonl', rs))

@case('api', 'data', cause=r'passive_1\.jsonl.*transitive|transitive.*passive_1\.jsonl',
      ok=lambda tmp, r: {x['UID'] for x in scores(tmp/'o.jsonl')} == {'passive_1'})
def file_name_uid_mismatch(tmp):
    "--blimp folder whose passive_1.jsonl holds records of UID transitive; --tasks passive_1"
    d = tmp/'b'; d.mkdir(); write_jsonl(d/'passive_1.jsonl', recs('transitive'))
    return score(tmp, '--blimp', d, '--tasks', 'passive_1')

@case('api', 'data', cause=r'duplicate|twice|more than once|pairID',
      ok=lambda tmp, r: re.search(r'duplicate|twice', r.err, re.I) is not None)
def duplicate_pairs(tmp):
    "a .jsonl with the same pair (same pairID, same sentences) on two lines: scored twice without a word?"
    rs = recs(n=10); rs.append(dict(rs[3]))
    return score(tmp, '--blimp', write_jsonl(tmp/'passive_1.jsonl', rs))

@case('lead', 'data', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 4))
def unicode_sentences(tmp):
    "sentences with emoji, combining accents, right-to-left and CJK text (strict_uid off via a generated-style UID)"
    rs = [dict(sentence_good=g, sentence_bad=b, UID='passive_1', pairID=str(i)) for i, (g, b) in enumerate([
        ('The café 🐈 was seen.', 'The café 🐈 was slept.'), ('Zoë’s naïve cat was seen.', 'Zoë’s naïve cat was slept.'),
        ('The cat שלום was seen.', 'The cat שלום was slept.'), ('The 猫 was seen.', 'The 猫 was slept.')])]
    return score(tmp, '--blimp', write_jsonl(tmp/'passive_1.jsonl', rs, ensure_ascii=False))

@case('api', 'data', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 40), cause=r'NUL|control|\\x00|\\u0000')
def nul_in_sentence(tmp):
    "a sentence holding a NUL character (JSON \\u0000)"
    rs = recs(); rs[0]['sentence_good'] = 'The cat\u0000 was seen.'
    return score(tmp, '--blimp', write_jsonl(tmp/'passive_1.jsonl', rs))

@case('api', 'data', cause=r'(loop\.jsonl|a\.jsonl|b\.jsonl).*(link|loop|symbolic)|(link|loop).*(a|b)\.jsonl')
def symlink_loop(tmp):
    "--blimp folder with a.jsonl -> b.jsonl -> a.jsonl (a symlink loop)"
    d = tmp/'b'; d.mkdir(); write_jsonl(d/'passive_1.jsonl', recs())
    os.symlink(d/'b.jsonl', d/'a.jsonl'); os.symlink(d/'a.jsonl', d/'b.jsonl')
    return score(tmp, '--blimp', d)

@case('api', 'data', cause=r'gone\.jsonl', ok=lambda tmp, r: {x['UID'] for x in scores(tmp/'o.jsonl')} == {'passive_1'})
def dangling_symlink(tmp):
    "--blimp folder with gone.jsonl, a symlink to a file that no longer exists"
    d = tmp/'b'; d.mkdir(); write_jsonl(d/'passive_1.jsonl', recs()); os.symlink(tmp/'nowhere.jsonl', d/'gone.jsonl')
    return score(tmp, '--blimp', d, '--tasks', 'passive_1')

@case('api', 'data', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 40))
def zip_with_macos_junk(tmp):
    "a BLiMP zip with the data in a subfolder and __MACOSX/._*.jsonl resource forks beside it"
    import zipfile
    z = tmp/'blimp.zip'
    with zipfile.ZipFile(z, 'w') as f:
        f.writestr('blimp/data/passive_1.jsonl', write_jsonl(tmp/'x', recs()).read_text())
        f.writestr('__MACOSX/blimp/data/._passive_1.jsonl', b'\x00\x05\x16\x07 resource fork')
    return score(tmp, '--blimp', z)

@case('api', 'data', cause=r'passive_1\.jsonl.*(utf-16|encoding|utf-8)|(utf-16|encoding).*passive_1\.jsonl')
def zip_utf16_member(tmp):
    "a zip whose passive_1.jsonl is UTF-16"
    import zipfile
    z = tmp/'blimp.zip'
    with zipfile.ZipFile(z, 'w') as f: f.writestr('passive_1.jsonl', write_jsonl(tmp/'x', recs()).read_text().encode('utf-16'))
    return score(tmp, '--blimp', z)

@case('api', 'data', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 40))
def file_url(tmp):
    "--blimp file:///.../passive_1.jsonl (a file URL)"
    f = write_jsonl(tmp/'passive_1.jsonl', recs())
    return score(tmp, '--blimp', f.resolve().as_uri())

class _Server:
    def __init__(self, handler):
        self.httpd = socketserver.ThreadingTCPServer(('127.0.0.1', 0), handler); self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

class _H404(http.server.BaseHTTPRequestHandler):
    def do_GET(self): self.send_error(404, 'Not Found')
    def log_message(self, *a): pass

class _HStall(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Length', '100000'); self.end_headers(); self.wfile.flush()
        time.sleep(120)
    def log_message(self, *a): pass

@case('api', 'data', cause=r'404|not found')
def http_404(tmp):
    "--blimp http://127.0.0.1:PORT/passive_1.jsonl answering 404"
    return score(tmp, '--blimp', _Server(_H404).url + 'passive_1.jsonl')

@case('api', 'data', cause=r'time(d)? ?out|stalled|no data', timeout=100)
def http_stall(tmp):
    "--blimp URL of a server that sends its headers and then nothing (a stalled download)"
    return score(tmp, '--blimp', _Server(_HStall).url + 'passive_1.jsonl')

@case('api', 'data', cause=r'passive_1\.jsonl:2.*(object|dict)')
def jsonl_array_line(tmp):
    "a .jsonl line that is a JSON array, not an object"
    f = tmp/'passive_1.jsonl'; f.write_text(json.dumps(recs(n=1)[0]) + '\n[1, 2, 3]\n')
    return score(tmp, '--blimp', f)

@case('api', 'data', cause=r'(no \*?\.?jsonl|no .jsonl|no minimal pairs).*b\b|b.*(no \*?\.?jsonl|no .jsonl)')
def blimp_only_nested(tmp):
    "--blimp folder whose jsonl files are all one level down"
    d = tmp/'b'/'data'; d.mkdir(parents=True); write_jsonl(d/'passive_1.jsonl', recs())
    return score(tmp, '--blimp', tmp/'b')


# ================================================================================= task selections (api, lead)
@case('api', 'tasks', cause=r'more than once|duplicate|twice',
      ok=lambda tmp, r: [x['UID'] for x in scores(tmp/'o.jsonl')] == ['gen_npi_only'] * 3)
def tasks_duplicate_score(tmp):
    "lts_score --tasks gen_npi_only,gen_npi_only"
    return score(tmp, '--tasks', 'gen_npi_only,gen_npi_only', '--n_per_task', 3)

@case('api', 'tasks', cause=r"' gen_npi_any'|unknown.*gen_npi_any",
      ok=lambda tmp, r: [x['UID'] for x in scores(tmp/'o.jsonl')] == ['gen_npi_only'] * 3 + ['gen_npi_any'] * 3)
def tasks_with_blanks_score(tmp):
    "lts_score --tasks 'gen_npi_only, gen_npi_any' (a blank after the comma)"
    return score(tmp, '--tasks', 'gen_npi_only, gen_npi_any', '--n_per_task', 3)

@case('lead', 'tasks', cause=r'at least 3|3 tasks')
def task_space_two_tasks(tmp):
    "lts_task_space with 2 tasks"
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', 'gen_npi_only,gen_npi_any', '--out', tmp/'r', *SMALL)

@case('lead', 'tasks', cause=r'too few pairs|n_train')
def task_space_small_blimp_tasks(tmp):
    "lts_task_space on BLiMP files of 40 pairs with --n_train 64"
    return cli('lts_task_space', '--model', CTX['model'], '--blimp', CTX['blimp'], '--tasks',
               'passive_1,adjunct_island,anaphor_gender_agreement', '--out', tmp/'r', *SMALL, '--n_train', 64)

@case('lead', 'tasks', cause=r'gen_npi_only')
def task_space_mixed_sources(tmp):
    "lts_task_space --blimp DIR --tasks mixing BLiMP and generated uids"
    return cli('lts_task_space', '--model', NOMODEL, '--blimp', CTX['blimp'], '--tasks', 'passive_1,adjunct_island,gen_npi_only',
               '--out', tmp/'r', *SMALL)


# ====================================================================================== odd option values (lead)
def _finite_space(tmp, r) -> bool:
    import numpy as np
    with np.load(tmp/'r'/'task_space.npz') as z: return all(np.isfinite(z[k][~np.eye(len(z[k]), dtype=bool)]).all() for k in ('transfer', 'gradsim'))

@case('lead', 'options', cause=r'nan|inf|finite|diverg|--lr', ok=_finite_space)
def task_space_lr_huge(tmp):
    "lts_task_space --lr 1e6 (training diverges): NaN must not be reported as a space"
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, '--lr', 1e6)

def _has_flag(cli_cmd, flag) -> bool:
    "Does the command under test have this option (its --help lists it)?"
    return flag in cli(cli_cmd, '--help').out

@case('lead', 'options', cause=r'mask_pct|topk', ok=lambda tmp, r: nan_with_reason(tmp/'r', 'sharing'))
def task_space_full_masks(tmp):
    "lts_task_space with masks of 100% of the entries (--topk 100, or --dense --mask_pct 100 where there is no --topk): sharing is 1 everywhere (constant: no p-value)"
    opt = ['--topk', 100] if _has_flag('lts_task_space', '--topk') else ['--mask_pct', 100]
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, *opt)

@case('lead', 'options', cause=r'mask_pct|topk', ok=lambda tmp, r: nan_with_reason(tmp/'r', 'sharing'))
def task_space_empty_masks(tmp):
    "lts_task_space with masks of 1e-9% of the entries (--topk 1e-9, or --mask_pct 1e-9 where there is no --topk): every mask is empty, sharing is undefined"
    opt = ['--topk', 1e-9] if _has_flag('lts_task_space', '--topk') else ['--mask_pct', 1e-9]
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, *opt)

def _ignored_option(tmp, r):
    if not r.extra.get('applies', True): return 'handled correctly', 'the command has no --dense: --mask_pct always applies'
    if r.code == 2: return ('clear error' if re.search('mask_pct|dense', r.err) else 'unclear error'), last_error(r.err)
    if r.code != 0: return ('traceback' if r.code == 'traceback' else 'unclear error'), last_error(r.err)
    if re.search(r'mask_pct', r.err): return 'handled correctly', 'exit 0 with a warning about --mask_pct'
    return 'silent wrong result', 'exit 0: --mask_pct 50 was ignored (it applies to --dense runs only) without a word'

@case('lead', 'options', judge=_ignored_option)
def task_space_mask_pct_ignored(tmp):
    "lts_task_space --mask_pct 50 without --dense, where --mask_pct applies to dense runs only: ignored without a word?"
    r = cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, '--mask_pct', 50)
    r.extra['applies'] = _has_flag('lts_task_space', '--dense')
    return r

@case('lead', 'options', cause=r'seed', ok=lambda tmp, r: (tmp/'r'/'task_space.json').exists())
def task_space_seed_huge(tmp):
    "lts_task_space --seed 2**64"
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, '--seed', 2**64)

@case('api', 'options', cause=r'at most|unique pairs|n_per_task', timeout=90)
def score_n_per_task_huge(tmp):
    "lts_score --n_per_task 10**9 on the generated tasks"
    return score(tmp, '--n_per_task', 10**9)

@case('lead', 'options', ok=lambda tmp, r: (tmp/'r'/'task_space.json').exists(), cause=r'batch_size')
def task_space_batch_gt_train(tmp):
    "lts_task_space --batch_size 64 with --n_train 8 (a batch larger than the training set)"
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL, '--batch_size', 64)

@case('lead', 'options', cause=r'--lr|lr must|learning rate')
def ftgd_lr_zero(tmp):
    "lts_ftgd --lr 0: nothing is trained, yet a run is reported"
    return cli('lts_ftgd', '--model', CTX['model'], '--blimp', CTX['blimp'], '--task', 'passive_1', '--out', tmp/'f', '--steps', 2,
               '--n_train', 8, '--n_test', 8, '--n_other', 4, '--n_ppl', 4, '--quiet', '--lr', 0)


# ============================================================================================== models (api)
@case('api', 'model', cause=r'weight|safetensors|\.bin|model file')
def model_without_weights(tmp):
    "--model a folder with config.json and tokenizer but no weights file"
    d = Path(shutil.copytree(CTX['model'], tmp/'m')); (d/'model.safetensors').unlink()
    return score(tmp, '--model', d, '--n_per_task', 1)

@case('api', 'model', cause=r'config\.json')
def model_config_corrupt(tmp):
    "--model a folder whose config.json is not valid JSON"
    d = Path(shutil.copytree(CTX['model'], tmp/'m')); (d/'config.json').write_text('{"model_type": ')
    return score(tmp, '--model', d, '--n_per_task', 1)

@case('api', 'model', cause=r'no tokenizer|tokenizer (files? )?(is |are )?(missing|not found)|tokenizer\.json')
def model_without_tokenizer(tmp):
    "--model a folder with weights and config but no tokenizer files"
    d = Path(shutil.copytree(CTX['model'], tmp/'m'))
    for f in d.iterdir():
        if 'token' in f.name: f.unlink()
    return score(tmp, '--model', d, '--n_per_task', 1)

@case('api', 'model', cause=r'fake\.gguf.*(gguf|magic|not a|damaged)|(not a|damaged).*fake\.gguf')
def fake_gguf(tmp):
    "--model fake.gguf, a text file"
    (tmp/'fake.gguf').write_text('not a gguf\n')
    return score(tmp, '--model', tmp/'fake.gguf', '--n_per_task', 1)

@case('api', 'model', cause=r"empty|--model ''|no model (given|reference)")
def model_empty_string(tmp):
    "--model ''"
    return score(tmp, '--model', '', '--n_per_task', 1)

@case('api', 'model', cause=r'vocab|token id|tokenizer.*(size|larger|ids)|embedding')
def tokenizer_vocab_mismatch(tmp):
    "--model a folder whose tokenizer has more ids (a word-level vocabulary) than the model's embedding"
    from lts_nb.models import tiny_lm
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers
    words = ['<pad>', '<s>', '</s>', '<unk>'] + [f'w{i}' for i in range(600)] + ['the', 'cat', 'was', 'seen', 'slept', '.']
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token='<unk>')); tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token='<pad>', bos_token='<s>', eos_token='</s>', unk_token='<unk>')
    lm = tiny_lm(seed=0); d = tmp/'m'; lm.model.save_pretrained(d); tok.save_pretrained(d)
    return score(tmp, '--model', d, '--blimp', write_jsonl(tmp/'passive_1.jsonl', recs(n=3)))

@case('api', 'model', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 3))
def model_fp16_weights(tmp):
    "--model a folder saved in float16"
    import torch
    from lts_nb.models import tiny_lm
    lm = tiny_lm(seed=0); d = tmp/'m'; lm.model.to(torch.float16).save_pretrained(d); lm.tokenizer.save_pretrained(d)
    return score(tmp, '--model', d, '--tasks', 'gen_npi_only', '--n_per_task', 3)

@case('api', 'model', ok=lambda tmp, r: finite_scores(tmp/'o.jsonl', 3))
def model_symlink(tmp):
    "--model a symlink to the model folder"
    os.symlink(CTX['model'], tmp/'link')
    return score(tmp, '--model', tmp/'link', '--tasks', 'gen_npi_only', '--n_per_task', 3)


# ============================================================================ outputs and run folders (all)
def _out_is_input(tmp, r):
    intact = (tmp/'passive_1.jsonl').read_text() == write_jsonl(tmp/'copy', recs()).read_text()
    if not intact: return 'silent wrong result', f'exit {r.code}: the input data was overwritten by the scores'
    if r.code == 2 and re.search(r'--out|same file|input|overwrite', r.err): return 'clear error', r.err.strip()[-200:]
    return ('traceback' if r.code == 'traceback' else 'unclear error'), f'exit {r.code}: ' + r.err.strip()[-200:]

@case('api', 'outputs', judge=_out_is_input)
def score_out_is_input(tmp):
    "lts_score --blimp X.jsonl --out X.jsonl: the scores would overwrite the input data"
    f = write_jsonl(tmp/'passive_1.jsonl', recs())
    return score(tmp, '--blimp', f, out=f)

def _report_over_run(tmp, r):
    try: json.loads((tmp/'run'/'task_space.json').read_text()); intact = True
    except Exception: intact = False
    if not intact: return 'silent wrong result', f"exit {r.code}: the run's task_space.json was overwritten by the HTML report"
    if r.code == 2 and re.search(r'--out|input|overwrite|task_space\.json', r.err): return 'clear error', last_error(r.err)
    return ('traceback' if r.code == 'traceback' else 'unclear error'), last_error(r.err)

@case('views', 'outputs', judge=_report_over_run)
def report_out_over_run_file(tmp):
    "lts_report RUN --out RUN/task_space.json: the report would overwrite the run's own result"
    run = copy_run(tmp)
    return cli('lts_report', run, '--out', run/'task_space.json')

@case('api', 'outputs', ok=lambda tmp, r: finite_scores(tmp/'résultats ✓ dir'/'scores ü.jsonl', 3))
def out_unicode_path(tmp):
    "lts_score --out 'résultats ✓ dir/scores ü.jsonl'"
    return score(tmp, '--tasks', 'gen_npi_only', '--n_per_task', 3, out=tmp/'résultats ✓ dir'/'scores ü.jsonl')

@case('api', 'outputs', cause=r'too long|name')
def out_name_too_long(tmp):
    "lts_score --out with a 300-character file name"
    return score(tmp, '--tasks', 'gen_npi_only', '--n_per_task', 1, out=tmp/('x' * 300 + '.jsonl'))

@case('lead', 'outputs', ok=lambda tmp, r: (tmp/'target'/'task_space.json').exists())
def task_space_out_symlink(tmp):
    "lts_task_space --out a symlink to an empty folder"
    (tmp/'target').mkdir(); os.symlink(tmp/'target', tmp/'r')
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL)

@case('views', 'outputs', cause=r'task_space\.json')
def report_empty_folder(tmp):
    "lts_report on an empty folder"
    (tmp/'e').mkdir()
    return cli('lts_report', tmp/'e', '--out', tmp/'r.html')

@case('lead', 'outputs', ok=lambda tmp, r: (tmp/'run'/'task_space.json').exists())
def task_space_resume_with_extra_files(tmp):
    "lts_task_space resumed on its finished run folder holding extra files of the user's"
    run = copy_run(tmp); (run/'my notes.txt').write_text('mine'); (run/'runs'/'extra').mkdir()
    return cli('lts_task_space', '--model', CTX['model'], '--tasks', TASKS4, '--out', run, *SMALL)

def _limit_fsize(n):
    def f():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN); resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    return f

def _disk_full_score(tmp, r):
    intact = (tmp/'o.jsonl').read_text() == 'previous results\n'
    if not intact: return 'silent wrong result', 'the previous output was destroyed'
    if r.code == 2 and re.search(r'space|too large|write|disk|EFBIG', r.err, re.I) and 'Traceback' not in r.err: return 'clear error', r.err.strip()[-200:]
    if 'Traceback' in r.err: return 'traceback', r.err.strip().splitlines()[-1][:200]
    return ('silent wrong result' if r.code == 0 else 'unclear error'), f'exit {r.code}: ' + r.err.strip()[-200:]

@case('api', 'disk', judge=_disk_full_score, timeout=150)
def disk_full_score(tmp):
    "lts_score when the disk fills while writing its output (RLIMIT_FSIZE 4 KB): old output kept, clear error?"
    (tmp/'o.jsonl').write_text('previous results\n')
    return sub('lts_score', '--model', CTX['model'], '--n_per_task', 20, '--out', tmp/'o.jsonl', '--quiet',
               preexec=_limit_fsize(4096), env={'LTS_NB_CACHE': str(tmp/'cache')})

def _disk_full_pretrain(tmp, r):
    half = [p for p in (tmp/'p').glob('*') if p.name.endswith('.tmp') or '.tmp' in p.name] if (tmp/'p').exists() else []
    if half: return 'silent wrong result', f'left temporary files {half[:3]}'
    if r.code == 2 and re.search(r'space|too large|write|disk|EFBIG', r.err, re.I) and 'Traceback' not in r.err: return 'clear error', r.err.strip()[-200:]
    if 'Traceback' in r.err: return 'traceback', r.err.strip().splitlines()[-1][:200]
    return ('silent wrong result' if r.code == 0 else 'unclear error'), f'exit {r.code}: ' + r.err.strip()[-200:]

@case('badinput', 'disk', judge=_disk_full_pretrain, timeout=180)
def disk_full_pretrain(tmp):
    "lts_pretrain when the disk fills while writing a checkpoint (RLIMIT_FSIZE 64 KB)"
    return sub('lts_pretrain', '--size', 'xs', '--steps', 2, '--batch_size', 4, '--n_sentences', 200, '--out', tmp/'p', '--quiet',
               preexec=_limit_fsize(65536), timeout=170)

@case('badinput', 'outputs', cause=r'not empty|holds no pretraining')
def pretrain_out_foreign_folder(tmp):
    "lts_pretrain --out a non-empty folder of the user's (no pretrain.json): would write checkpoints among their files"
    d = tmp/'mine'; d.mkdir(); (d/'thesis.tex').write_text('mine')
    return cli('lts_pretrain', '--size', 'xs', '--steps', 2, '--out', d, '--quiet')

@case('badinput', 'resume', cause=r'step2|checkpoint|cannot be loaded')
def pretrain_missing_checkpoint(tmp):
    "lts_pretrain resumed after the checkpoint folder its state.pt points to was deleted"
    args = ['--size', 'xs', '--steps', 4, '--batch_size', 4, '--n_sentences', 200, '--out', tmp/'p', '--quiet']
    from lts_nb.pretrain import PretrainConfig, pretrain
    pretrain(tmp/'p', PretrainConfig(size='xs', steps=4, batch_size=4, n_sentences=200), progress=False, stop_after=2)
    shutil.rmtree(tmp/'p'/'step2')
    return cli('lts_pretrain', *args)

@case('badinput', 'resume', cause=r'other settings|n_train')
def series_resume_other_settings(tmp):
    "lts_series rerun on its finished folder with another --n_train (its members would be computed two ways)"
    a = ['--models', CTX['model'], '--tasks', TASKS4, '--out', tmp/'s', '--steps', 2, '--n_test', 12, '--quiet']
    r = cli('lts_series', *a, '--n_train', 8)
    if r.code != 0: return r
    return cli('lts_series', *a, '--n_train', 10)

@case('badinput', 'tasks', cause=r'more than once|duplicate|twice|share the folder')
def series_duplicate_models(tmp):
    "lts_series --models M,M/ (the same folder twice)"
    return cli('lts_series', '--models', f"{CTX['model']},{CTX['model']}/", '--tasks', TASKS4, '--out', tmp/'s', '--steps', 2,
               '--n_train', 8, '--n_test', 12, '--quiet')

@case('views', 'outputs', cause=r'task_space\.json|not a task-space run|run folder')
def report_on_series_folder(tmp):
    "lts_report on a series folder (its members are runs; the folder itself is not)"
    d = tmp/'ser'; d.mkdir(); shutil.copytree(CTX['run'], d/'a'); (d/'series.json').write_text(json.dumps({'runs': {'a': 'a'}}))
    return cli('lts_report', d, '--out', tmp/'r.html')


# ========================================================================== concurrency and signals (subprocess)
def _same_spaces(a: Path, b: Path) -> bool:
    import numpy as np
    with np.load(a/'task_space.npz') as x, np.load(b/'task_space.npz') as y:
        return set(x.files) == set(y.files) and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x.files)

def _concurrent_task_space(tmp, r):
    if not all(c == 0 for c in r.extra['codes']): return 'unclear error', f"exit codes {r.extra['codes']}: {r.err[-300:]}"
    if _same_spaces(tmp/'r', CTX['run']): return 'handled correctly', 'both exit 0; the spaces equal a clean run'
    return 'silent wrong result', 'the spaces differ from a clean run'

@case('lead', 'concurrency', judge=_concurrent_task_space, timeout=240)
def concurrent_task_space_same_out(tmp):
    "two lts_task_space at once on one --out (the fixture's settings)"
    args = ['--model', CTX['model'], '--tasks', TASKS4, '--out', tmp/'r', *SMALL]
    env = {'LTS_NB_CACHE': str(tmp/'cache')}
    ps = [sub('lts_task_space', *args, background=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=230) for p in ps]
    return R(0, '', ''.join(e for _, e in outs), {'codes': [p.returncode for p in ps]})

def _weights(d: Path):
    from safetensors.torch import load_file
    return load_file(str(d/'model.safetensors'))

def _same_weights(a: Path, b: Path) -> bool:
    import torch
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)

PRE = ['--size', 'xs', '--steps', 64, '--batch_size', 4, '--n_sentences', 200, '--quiet']

def _clean_pretrain(tmp) -> Path:
    from lts_nb.pretrain import PretrainConfig, pretrain
    pretrain(tmp/'clean', PretrainConfig(size='xs', steps=64, batch_size=4, n_sentences=200), progress=False)
    return tmp/'clean'

def _concurrent_pretrain(tmp, r):
    if not all(c == 0 for c in r.extra['codes']): return 'unclear error', f"exit codes {r.extra['codes']}: {r.err[-300:]}"
    if _same_weights(tmp/'p'/'step64', _clean_pretrain(tmp)/'step64'): return 'handled correctly', 'both exit 0; step64 equals a clean run'
    return 'silent wrong result', 'step64 differs from a clean run'

@case('badinput', 'concurrency', judge=_concurrent_pretrain, timeout=500)
def concurrent_pretrain_same_out(tmp):
    "two lts_pretrain at once on one --out"
    ps = [sub('lts_pretrain', *PRE, '--out', tmp/'p', background=True) for _ in range(2)]
    outs = [p.communicate(timeout=480) for p in ps]
    return R(0, '', ''.join(e for _, e in outs), {'codes': [p.returncode for p in ps]})

def _wait_for(path: Path, p, timeout=200):
    t0 = time.time()
    while not path.exists() and p.poll() is None and time.time() - t0 < timeout: time.sleep(0.05)

def _sigint_pretrain(tmp, r):
    code1, err1 = r.extra['first']
    if code1 != 130 or 'Traceback' in err1:
        return ('traceback' if 'Traceback' in err1 else 'unclear error'), f'Ctrl-C: exit {code1}: {err1.strip()[-200:]}'
    if r.code != 0: return 'unclear error', f'rerun exit {r.code}: {r.err[-200:]}'
    if _same_weights(tmp/'p'/'step64', _clean_pretrain(tmp)/'step64'): return 'handled correctly', 'exit 130, one line; the rerun resumed to the same weights'
    return 'silent wrong result', 'the resumed run differs from a clean run'

@case('badinput', 'signals', judge=_sigint_pretrain, timeout=500)
def sigint_pretrain_then_resume(tmp):
    "Ctrl-C (SIGINT) to lts_pretrain once its step-1 checkpoint exists, then the same command again"
    p = sub('lts_pretrain', *PRE, '--out', tmp/'p', background=True)
    _wait_for(tmp/'p'/'step1', p); p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    r = sub('lts_pretrain', *PRE, '--out', tmp/'p', timeout=300)
    r.extra['first'] = (p.returncode, err)
    return r

def _sigterm_series(tmp, r):
    if r.code != 0: return ('traceback' if 'Traceback' in r.err else 'unclear error'), f'rerun exit {r.code}: {r.err.strip()[-200:]}'
    from lts_nb.series import Series
    runs, clean = Series.load(tmp/'s').runs, r.extra['clean']
    if len(runs) == 2 and all(_same_spaces(d, clean/d.name) for d in runs.values()):
        return 'handled correctly', 'the rerun completed both members; each equals a clean run'
    return 'silent wrong result', 'a member differs from a clean run'

@case('badinput', 'signals', judge=_sigterm_series, timeout=300)
def sigterm_series_then_resume(tmp):
    "SIGTERM to lts_series while its first member runs, then the same command again"
    m2 = tmp/'m2'; shutil.copytree(CTX['model'], m2)
    args = ['--models', f"{CTX['model']},{m2}", '--tasks', TASKS4, '--out', tmp/'s', '--steps', 2, '--n_train', 8, '--n_test', 12, '--quiet']
    env = {'LTS_NB_CACHE': str(tmp/'cache')}
    p = sub('lts_series', *args, background=True, env=env)
    _wait_for(tmp/'s'/'series.json', p); time.sleep(0.5); p.send_signal(signal.SIGTERM); p.communicate(timeout=60)
    r = sub('lts_series', *args, timeout=250, env=env)
    clean = cli('lts_series', *[a if a != tmp/'s' else tmp/'clean' for a in args])
    r.extra['clean'] = tmp/'clean'
    if clean.code != 0: r.code, r.err = 'traceback', 'the clean series failed: ' + clean.err
    return r

def _sigint_score(tmp, r):
    if 'Traceback' in r.err: return 'traceback', r.err.strip().splitlines()[-1][:200]
    if r.code == 130 and (tmp/'o.jsonl').read_text() == 'previous\n': return 'handled correctly', r.err.strip()[-200:]
    return 'unclear error', f'exit {r.code}: {r.err.strip()[-200:]}'

def _signal_when(p, pattern: str, sig, timeout=150) -> str:
    "Send `sig` to `p` once its stderr shows `pattern` (e.g. a progress bar); returns all of its stderr."
    buf, seen = [], threading.Event()
    def read():
        for chunk in iter(lambda: p.stderr.read(64), ''):
            buf.append(chunk)
            if re.search(pattern, ''.join(buf[-50:])): seen.set()
        seen.set()
    threading.Thread(target=read, daemon=True).start()
    seen.wait(timeout)
    if p.poll() is None: p.send_signal(sig)
    p.wait(60); time.sleep(0.2)
    return ''.join(buf)

@case('api', 'signals', judge=_sigint_score, timeout=200)
def sigint_score(tmp):
    "Ctrl-C (SIGINT) to lts_score while its progress bar runs: exit 130 in one line, the old output kept?"
    (tmp/'o.jsonl').write_text('previous\n')
    p = sub('lts_score', '--model', CTX['model'], '--n_per_task', 300, '--out', tmp/'o.jsonl', background=True,
            env={'LTS_NB_CACHE': str(tmp/'cache')})
    err = _signal_when(p, r'scoring.*\d+%\|', signal.SIGINT)
    return R(p.returncode, p.stdout.read(), err)


# ============================================================== the TaskSpace / hypothesis API with user matrices
TASKS5 = ['anaphor_gender_agreement', 'anaphor_number_agreement', 'passive_1', 'passive_2', 'transitive']

def _rand(n=5, seed=0):
    import numpy as np
    return np.random.default_rng(seed).random((n, n))

def _inf_judge(tmp, r):
    if r.code == 2: return ('clear error' if re.search(r'inf|finite', r.err) else 'unclear error'), r.err[-200:]
    if r.code != 0: return ('unclear error' if re.search(r'inf|finite', r.err) else 'traceback'), r.err[-200:]
    import numpy as np
    row = r.extra['value'].loc['x']
    vals = {k: row[k] for k in ('mean', 'within', 'across', 'within_across_ratio') if k in row}
    bad = {k: v for k, v in vals.items() if isinstance(v, float) and not np.isfinite(v)}
    why = ' '.join(str(v) for v in row.values if isinstance(v, str))
    if bad and not re.search(r'inf|finite', why): return 'silent wrong result', f'non-finite statistics without a reason: {bad}'
    return 'handled correctly', f'finite statistics or a stated reason ({why[:80]})'

@case('lead', 'taskspace', judge=_inf_judge)
def space_with_inf(tmp):
    "TaskSpace.stats of a matrix holding +inf"
    from lts_nb.task_space import TaskSpace
    m = _rand(); m[0, 1] = float('inf')
    return lib(lambda: TaskSpace(TASKS5, {'x': m}).stats(n_perm=99))

@case('lead', 'taskspace', cause=r'nan|hypothesis', ok=lambda tmp, r: bool((r.extra['value'].spearman.astype(float).notna()).all()))
def hypothesis_with_nan(tmp):
    "TaskSpace.stats against a user hypothesis with a NaN off the diagonal"
    import numpy as np
    from lts_nb.task_space import TaskSpace, matrix_hypothesis
    h = _rand(seed=1); h[0, 2] = np.nan
    return lib(lambda: TaskSpace(TASKS5, {'x': _rand()}).stats(matrix_hypothesis(h, TASKS5), n_perm=99))

@case('lead', 'taskspace', cause=r'square|shape|4x4|tasks')
def hypothesis_wrong_shape(tmp):
    "matrix_hypothesis of a 4x4 matrix for 5 tasks"
    from lts_nb.task_space import matrix_hypothesis
    return lib(lambda: matrix_hypothesis(_rand(4), TASKS5))

@case('lead', 'taskspace', cause=r'transitive|missing|not in')
def group_hypothesis_missing_task(tmp):
    "stats against a group_hypothesis that leaves out one task of the space"
    from lts_nb.task_space import TaskSpace, group_hypothesis
    h = group_hypothesis({t: i % 2 for i, t in enumerate(TASKS5[:-1])})
    return lib(lambda: TaskSpace(TASKS5, {'x': _rand()}).stats(h, n_perm=99))

@case('lead', 'taskspace', cause=r'square|shape|labelled|5')
def space_not_square(tmp):
    "TaskSpace with a 5x4 matrix"
    from lts_nb.task_space import TaskSpace
    return lib(lambda: TaskSpace(TASKS5, {'x': _rand()[:, :4]}))

@case('lead', 'taskspace', cause=r'common|2 tasks')
def correlate_two_common(tmp):
    "TaskSpace.correlate of two spaces with only 2 tasks in common"
    from lts_nb.task_space import TaskSpace
    a = TaskSpace(TASKS5[:3], {'x': _rand(3)})
    b = TaskSpace(TASKS5[1:3] + ['wh_island'], {'x': _rand(3)})
    return lib(lambda: a.correlate(b, 'x'))

@case('lead', 'taskspace', cause=r'gen_npi_only')
def mixed_taxonomy_without_taxonomy(tmp):
    "TaskSpace over BLiMP and generated uids without a taxonomy"
    from lts_nb.task_space import TaskSpace
    return lib(lambda: TaskSpace(TASKS5[:4] + ['gen_npi_only'], {'x': _rand()}))

@case('lead', 'taskspace', cause=r'transitive|taxonomy')
def taxonomy_missing_a_task(tmp):
    "TaskSpace with a user taxonomy frame that lacks one of its tasks"
    import pandas as pd
    from lts_nb.task_space import TaskSpace
    from lts_nb.data import taxonomy_frame
    return lib(lambda: TaskSpace(TASKS5, {'x': _rand()}, taxonomy=taxonomy_frame(TASKS5[:-1])).stats(n_perm=99))

@case('lead', 'taskspace', cause=r'n_perm')
def stats_n_perm_zero(tmp):
    "TaskSpace.stats(n_perm=0)"
    from lts_nb.task_space import TaskSpace
    return lib(lambda: TaskSpace(TASKS5, {'x': _rand()}).stats(n_perm=0))

@case('lead', 'taskspace', cause=r'duplicate|passive_1')
def hypothesis_duplicate_tasks(tmp):
    "matrix_hypothesis labelled with one task twice"
    from lts_nb.task_space import TaskSpace, matrix_hypothesis
    return lib(lambda: matrix_hypothesis(_rand(), TASKS5[:4] + ['passive_1']))


# =================================================================================== the generator (badinput)
@case('badinput', 'generator', cause=r'n_per_task.*integer')
def generate_n_per_task_bool(tmp):
    "generate_pairs(n_per_task=True)"
    from lts_nb.generate import generate_pairs
    return lib(lambda: generate_pairs('gen_npi_only', n_per_task=True))

@case('badinput', 'generator', cause=r'folder|directory')
def generate_jsonl_into_folder(tmp):
    "generate_jsonl(PATH) where PATH is an existing folder"
    from lts_nb.generate import generate_jsonl
    return lib(lambda: generate_jsonl(tmp, 'gen_npi_only', 5))

@case('badinput', 'generator', cause=r"' gen_npi_only ?'", ok=lambda tmp, r: list(r.extra['value']) == ['gen_npi_only', 'gen_npi_any'])
def generate_tasks_with_blanks(tmp):
    "generate_pairs(' gen_npi_only , gen_npi_any ,')"
    from lts_nb.generate import generate_pairs
    return lib(lambda: generate_pairs(' gen_npi_only , gen_npi_any ,', 3))

@case('badinput', 'generator', cause=r'one string|collection|exclude')
def sentences_exclude_string(tmp):
    "grammatical_sentences(10, exclude='The dog sleeps.') (a string, read as a set of letters)"
    from lts_nb.generate import grammatical_sentences
    return lib(lambda: grammatical_sentences(10, exclude='The dog sleeps.'))


# ====================================================================================== text classification (vds)
@case('vds', 'vds', cause=r'nodata|no such|not found|data')
def vds_data_missing(tmp):
    "lts_vds --data pointing at a folder that does not exist"
    return cli('lts_vds', '--model', CTX['model'], '--data', tmp/'nodata', '--out', tmp/'v', '--methods', 'majority')

@case('vds', 'vds', cause=r'imdb|dataset')
def vds_unknown_dataset(tmp):
    "lts_vds --dataset imdb"
    return cli('lts_vds', '--model', CTX['model'], '--dataset', 'imdb', '--out', tmp/'v', '--methods', 'majority')

@case('vds', 'vds', cause=r'foo|method')
def vds_unknown_method(tmp):
    "lts_vds --methods majority,foo"
    return cli('lts_vds', '--model', NOMODEL, '--out', tmp/'v', '--methods', 'majority,foo')


# -------------------------------------------------------------------------------------------------------- main
def table(res: dict) -> str:
    "Markdown: verdict counts per run, then one row per case with its verdict in each run."
    labels = list(res)
    out = ['| verdict | ' + ' | '.join(labels) + ' |', '|---|' + '---|' * len(labels)]
    out += [f"| {v} | " + ' | '.join(str(res[l]['counts'].get(v, 0)) for l in labels) + ' |' for v in VERDICTS]
    out += [f"| cases | " + ' | '.join(str(res[l]['n_cases']) for l in labels) + ' |', '']
    by = {l: {c['name']: c for c in res[l]['cases']} for l in labels}
    names = list(dict.fromkeys(n for l in labels for n in by[l]))
    out += ['| case | owner | ' + ' | '.join(labels) + ' | what happens (last run) |', '|---|---|' + '---|' * len(labels) + '---|']
    for n in names:
        last = next(by[l][n] for l in reversed(labels) if n in by[l])
        detail = last['detail'].replace('|', '/').replace('\n', ' ')[:110]
        out.append(f"| {n} | {last['owner']} | " + ' | '.join(by[l][n]['verdict'] if n in by[l] else '' for l in labels) + f" | {detail} |")
    return '\n'.join(out)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--label', default='after', help='key of this run in the results (e.g. before, after)')
    ap.add_argument('--code', default=None, help='root of the lts_nb checkout to test (default: this one)')
    ap.add_argument('--only', default=None, help='comma-separated case names')
    ap.add_argument('--commit', default=None, help="the commit --code was exported from, when it is not a git checkout (e.g. `git archive REV | tar -x -C DIR`)")
    ap.add_argument('--out', default=str(ROOT/'bench'/'results'/'hostile_sweep.json'))
    ap.add_argument('--dry', action='store_true', help='print, do not write the results')
    ap.add_argument('--table', action='store_true', help='print the verdict tables (markdown) of the results file and exit')
    a = ap.parse_args()
    if a.table: return print(table(json.loads(Path(a.out).read_text())))
    code = Path(a.code).resolve() if a.code else ROOT
    sys.path.insert(0, str(code))
    os.environ['PYTHONPATH'] = os.pathsep.join([str(code), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    os.environ.update(OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    import lts_nb
    assert Path(lts_nb.__file__).resolve().is_relative_to(code), (lts_nb.__file__, code)
    CTX.update(entry=entry_points(code), pythonpath=os.environ['PYTHONPATH'])
    for m in ('lts_nb.cli', 'lts_nb.probes', 'lts_nb.pretrain', 'lts_nb.series', 'lts_nb.task_space', 'lts_nb.ftgd'):
        importlib.import_module(m)                                       # warm: every forked case starts with them loaded
    cases = [c for c in CASES if not a.only or c.name in a.only.split(',')]
    base = Path(tempfile.mkdtemp(prefix='hostile-'))
    CTX['base'] = base
    t0 = time.perf_counter()
    try:
        build_fixtures(base)
        res = []
        for c in cases:
            r = run_case(c, base); res.append(r)
            print(f"{r['verdict']:20s} {r['seconds']:6.1f}s  {c.owner:8s} {c.name}: {r['detail'][:150]}", flush=True)
    finally: shutil.rmtree(base, ignore_errors=True)
    counts = {v: sum(r['verdict'] == v for r in res) for v in VERDICTS}
    git = a.commit or subprocess.run(['git', '-C', str(code), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip() or None
    dirty = False if a.commit else bool(subprocess.run(['git', '-C', str(code), 'status', '--porcelain', '--untracked-files=no'], capture_output=True, text=True).stdout.strip()) if git else None
    run = {'code': str(code), 'commit': git, 'dirty': dirty, 'n_cases': len(res), 'counts': counts,
           'seconds': round(time.perf_counter() - t0, 1), 'created': time.strftime('%Y-%m-%dT%H:%M:%S'), 'cases': res}
    print(json.dumps(counts))
    if a.dry: return
    p = Path(a.out)
    allres = json.loads(p.read_text()) if p.exists() else {}
    if a.only and a.label in allres:                   # a few cases rerun: replace them in that run, keep the others
        old = allres[a.label]; new = {c['name']: c for c in res}
        names = [c.name for c in CASES]
        merged = {c['name']: c for c in old['cases'] if c['name'] in names}; merged.update(new)
        run = {**old, **{k: run[k] for k in ('code', 'commit', 'dirty', 'created')},
               'cases': [merged[n] for n in names if n in merged]}
        run['counts'] = {v: sum(c['verdict'] == v for c in run['cases']) for v in VERDICTS}; run['n_cases'] = len(run['cases'])
        run['rerun'] = sorted(set(old.get('rerun', [])) | set(new))
    allres[a.label] = run
    from lts_nb.utils import save_json
    save_json(allres, p)
    print(f'-> {p} [{a.label}]')

if __name__ == '__main__': main()
