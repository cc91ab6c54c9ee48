#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as fenced Python, and their saved
outputs (markdown if the cell produced it, else plain text). nbdev's own `nbdev_readme` needs quarto, which cannot
be installed offline here; this keeps the README generated from the index notebook all the same.

Two markers in the notebook's markdown are filled from the code, so the README cannot drift from it (the docs
build, scripts/docs_prep.py, fills them the same way):
- `<!-- commands -->`: a table of the console scripts in settings.ini, each with the first line of its docstring
  (imported as the installed command imports it);
- `<!-- first-run -->`: what the first load of the default model costs, from docs/first_run.json (written by
  scripts/docs_first_run.py, which measures it).

Usage: python scripts/make_readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import configparser, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def console_scripts() -> list[tuple[str, str, str, str]]:
    "(command, module, function, first line of its docstring) for each console script in settings.ini, as installed."
    import importlib
    cp = configparser.ConfigParser(); cp.read(ROOT/'settings.ini')
    res = []
    for spec in cp['DEFAULT'].get('console_scripts', '').split():
        name, target = spec.split('=')
        mod, fn = target.split(':')
        try: f = getattr(importlib.import_module(mod), fn)
        except Exception as e: raise SystemExit(f"make_readme: console script {name}: cannot import {target}: {type(e).__name__}: {e}")
        doc = (getattr(f, '__doc__', None) or '').strip().split('\n')[0]
        if not doc: raise SystemExit(f"make_readme: console script {name}: {target} has no docstring")
        res.append((name, mod, fn, doc))
    return res

def commands_md(site: bool = False) -> str:
    "The table of commands (on the docs site each name links to its --help on the Commands page)."
    rows = ['| command | what it does |', '|---|---|']
    for name, mod, fn, doc in console_scripts():
        cmd = f'[`{name}`](commands.md#{name.replace("_", "-")})' if site else f'`{name}`'
        rows.append(f'| {cmd} | {doc.replace("|", chr(92) + "|")} |')
    return '\n'.join(rows)

def first_run_md() -> str:
    "The first-run facts, from the measurement in docs/first_run.json."
    p = ROOT/'docs'/'first_run.json'
    if not p.exists(): return '(not measured yet: run `python scripts/docs_first_run.py`)'
    r = json.loads(p.read_text())
    types = ', '.join(f'{n} {t}' for t, n in sorted(r['gguf_tensor_types'].items(), key=lambda kv: -kv[1]))
    return (f"The first `load_model('{r['model']}')` converts the embedded GGUF file ({r['gguf']}, {r['gguf_mb']:.0f} MB; "
            f"tensors: {types}) to float32 safetensors and caches them: it took {r['convert_s']:.0f} s and wrote "
            f"{r['cache_mb']:.0f} MB to the cache (`~/.cache/lts_nb`, or `$LTS_NB_CACHE`). Later loads read the cache "
            f"({r['cached_load_s']:.1f} s). Measured by `python scripts/docs_first_run.py` on {r['date']}, "
            f"{r['machine']}, with an empty cache"
            + (f" (1-minute load average {max(r['load_avg_1min']):.0f}: other jobs shared the cores)"
               if max(r.get('load_avg_1min', [0])) >= 1.5 else '') + '.')

MARKERS = {'<!-- commands -->': commands_md, '<!-- first-run -->': lambda site=False: first_run_md()}

def expand(md: str, site: bool = False) -> str:
    "Fill the markers of a markdown cell."
    for k, f in MARKERS.items():
        if k in md: md = md.replace(k, f(site=site))
    return md

def _out_text(o) -> str | None:
    d = o.get('data', {})
    if 'text/markdown' in d: return ''.join(d['text/markdown'])
    if 'text/plain' in d: return '```\n' + ''.join(d['text/plain']).rstrip() + '\n```'
    if o.get('output_type') == 'stream': return '```\n' + ''.join(o.get('text', '')).rstrip() + '\n```'
    return None

def render(nb) -> str:
    parts = ['<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->']
    for c in nb.cells:
        src = c.source.strip()
        if c.cell_type == 'markdown':
            # nbdev's "> summary" under the title becomes a quote, as on the docs site
            parts.append(expand(src))
        elif c.cell_type == 'code' and not re.match(r'#\|\s*(hide|export)', src):
            if not re.search(r'^#\|\s*echo:\s*false', src, re.M):
                parts.append('```python\n' + re.sub(r'^#\|.*\n', '', src, flags=re.M) + '\n```')
            parts += [t for o in c.get('outputs', []) if (t := _out_text(o))]
    text = '\n\n'.join(parts)
    return re.sub(r'\]\((?!https?:|#|/)([^)]+)\)', r'](nbs/\1)', text) + '\n'     # links are relative to nbs/

def main():
    from execnb.nbio import read_nb
    text = render(read_nb(ROOT/'nbs'/'index.ipynb'))
    readme = ROOT/'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text() == text
        print('README.md is up to date' if ok else 'README.md is out of date: run python scripts/make_readme.py')
        sys.exit(0 if ok else 1)
    readme.write_text(text)
    print(f'wrote {readme} ({len(text)} chars)')

if __name__ == '__main__': main()
