#!/usr/bin/env python
"""Stored outputs are never stale: re-execute the fast cells of nbs/index.ipynb and the tutorials (nbs/tutorials/)
and compare each stored output with the fresh one, allowing for floating-point noise.

"Fast cells" are the cells `nbdev_test` runs: not flagged with a test flag of settings.ini (`slow`), not
`eval: false`. They run in the notebook's folder, in one shell per notebook, as nbdev_test runs them. Compared:
stdout streams, `text/plain` and `text/markdown` results, and the Vega-Lite spec of stored Altair charts; numbers
within `--rtol`/`--atol` are equal, object addresses and chart ids are ignored, runs of white space count as one.
stderr (warnings, progress bars) and images are not compared. A cell that now fails is stale too.

Usage: python scripts/docs_stale.py [NOTEBOOK ...] [--update] [--rtol 1e-4] [--atol 1e-6]
  --update   write the fresh outputs of the fast cells into the notebooks (slow cells keep theirs), then run
             `nbdev_clean --fname` on them and `python scripts/make_readme.py` yourself.
Exit 1 with one report per stale cell.
"""
import argparse, configparser, json, math, os, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))

def targets() -> list[Path]:
    nbs = ROOT/'nbs'
    return [nbs/'index.ipynb'] + sorted(p for p in (nbs/'tutorials').glob('*.ipynb') if not p.name.startswith(('_', '.')))

def skip_flags() -> set[str]:
    cp = configparser.ConfigParser(); cp.read(ROOT/'settings.ini')
    return set(cp['DEFAULT'].get('tst_flags', '').split())

_re_num = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|NaN|-?inf')
_re_addr = re.compile(r'0x[0-9a-fA-F]{6,}')
_re_vizid = re.compile(r'altair-viz-[0-9a-f]+|view_\d+|param_\d+')

def _text(v) -> str: return ''.join(v) if isinstance(v, list) else str(v)

def _html_text(h: str) -> str:
    "The text of an HTML table, one line per row, cells separated by ' | '."
    h = ' '.join(re.sub(r'(?s)<style.*?</style>', '', h).split())
    h = re.sub(r'</t[dh]>', ' | ', re.sub(r'</tr>', '\n', h))
    return '\n'.join(' '.join(l.split()) for l in re.sub(r'<[^>]+>', ' ', h).splitlines() if l.strip())

def norm_outputs(outs) -> list[tuple[str, str]]:
    "What is compared of a cell's outputs: [(kind, text)]."
    from docs_prep import altair_spec
    res = []
    for o in outs:
        t = o.get('output_type')
        if t == 'stream':
            if o.get('name') == 'stdout': res.append(('stdout', _text(o.get('text', ''))))
        elif t in ('execute_result', 'display_data'):
            d = o.get('data', {})
            html = _text(d.get('text/html', ''))
            spec = altair_spec(html) if html else None
            if spec: res.append(('chart', json.dumps(spec[0], sort_keys=True)))
            elif '<table' in html: res.append(('table', _html_text(html)))     # whatever the display width
            elif 'text/markdown' in d: res.append(('markdown', _text(d['text/markdown'])))
            elif 'text/plain' in d: res.append(('plain', _text(d['text/plain'])))
        elif t == 'error': res.append(('error', f"{o.get('ename')}: {o.get('evalue')}"))
    merged = []                       # consecutive stdout chunks are one stream, however they were flushed
    for k, v in res:
        if merged and k == 'stdout' and merged[-1][0] == 'stdout': merged[-1] = ('stdout', merged[-1][1] + v)
        else: merged.append((k, v))
    return merged

def _tokens(s: str) -> list:
    s = _re_vizid.sub('ID', _re_addr.sub('0x?', s))
    out, pos = [], 0
    for m in _re_num.finditer(s):
        out += s[pos:m.start()].split()
        out.append(float(m.group()))
        pos = m.end()
    return out + s[pos:].split()

def same_text(a: str, b: str, rtol=1e-4, atol=1e-6) -> bool:
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) != len(tb): return False
    for x, y in zip(ta, tb):
        if isinstance(x, float) and isinstance(y, float):
            if math.isnan(x) and math.isnan(y): continue
            if not math.isclose(x, y, rel_tol=rtol, abs_tol=atol): return False
        elif x != y: return False
    return True

def diff(stored, fresh, rtol, atol) -> str | None:
    "None when the outputs agree, else a short description of the first difference."
    if [k for k, _ in stored] != [k for k, _ in fresh]:
        return f"outputs {[k for k, _ in stored]} stored, {[k for k, _ in fresh]} now"
    for (k, a), (_, b) in zip(stored, fresh):
        if not same_text(a, b, rtol, atol):
            la, lb = a.splitlines(), b.splitlines()
            for i, (x, y) in enumerate(zip(la, lb)):
                if not same_text(x, y, rtol, atol):
                    return f"{k} line {i + 1}:\n      stored: {x.strip()[:160]}\n      now:    {y.strip()[:160]}"
            return f"{k}: {len(la)} lines stored, {len(lb)} now"
    return None

def _rel(p: Path) -> str:
    try: return str(Path(p).resolve().relative_to(ROOT))
    except ValueError: return str(p)

def check(path: Path, rtol=1e-4, atol=1e-6, update=False) -> list[str]:
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import extract_directives
    from fastcore.xtras import working_directory
    nb = read_nb(path)
    flags, problems = skip_flags(), []
    os.environ.setdefault('IN_TEST', '1')
    sh = CaptureShell(path)
    with working_directory(path.parent):
        for i, c in enumerate(nb.cells):
            if c.cell_type != 'code' or not c.source.strip(): continue
            d = extract_directives(c, remove=False)
            if flags & d.keys() or d.get('eval:', [''])[0].lower() == 'false': continue
            stored = norm_outputs(c.get('outputs', []))
            fresh_raw = sh.run(c.source)
            fresh = norm_outputs(fresh_raw)
            where = f"{_rel(path)} cell {i} ({c.source.strip().splitlines()[-1][:60]!r})"
            if any(k == 'error' for k, _ in fresh):
                problems.append(f"{where}: fails now: {[v for k, v in fresh if k == 'error'][0]}")
                break
            why = diff(stored, fresh, rtol, atol)
            if why: problems.append(f"{where}: stale {why}")
            if update: c.outputs = fresh_raw
    if update: write_nb(nb, path)
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*')
    ap.add_argument('--update', action='store_true')
    ap.add_argument('--rtol', type=float, default=1e-4)
    ap.add_argument('--atol', type=float, default=1e-6)
    a = ap.parse_args()
    paths = [Path(p).resolve() for p in a.notebooks] or targets()
    probs = []
    for p in paths:
        pr = check(p, a.rtol, a.atol, a.update)
        print(f"docs_stale: {_rel(p)}: {'ok' if not pr else f'{len(pr)} stale cell(s)'}"
              + (' (outputs updated)' if a.update and pr else ''))
        probs += pr
    for x in probs: print('  ' + x)
    if probs and not a.update:
        print("docs_stale: re-run them (python scripts/docs_stale.py --update NB for fast cells; scripts/run_nb.py for slow ones)")
    sys.exit(1 if probs and not a.update else 0)

if __name__ == '__main__': main()
