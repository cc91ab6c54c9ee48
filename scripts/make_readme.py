#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as fenced Python, and their saved
outputs (markdown if the cell produced it, else plain text). nbdev's own `nbdev_readme` needs quarto, which cannot
be installed offline here; this keeps the README generated from the index notebook all the same.

Usage: python scripts/make_readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import re, sys
from pathlib import Path
from execnb.nbio import read_nb

ROOT = Path(__file__).resolve().parents[1]

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
            parts.append(src)
        elif c.cell_type == 'code' and not re.match(r'#\|\s*(hide|export)', src):
            parts.append('```python\n' + src + '\n```')
            parts += [t for o in c.get('outputs', []) if (t := _out_text(o))]
    return '\n\n'.join(parts).replace('](images/', '](nbs/images/') + '\n'

text = render(read_nb(ROOT/'nbs'/'index.ipynb'))
readme = ROOT/'README.md'
if '--check' in sys.argv:
    ok = readme.exists() and readme.read_text() == text
    print('README.md is up to date' if ok else 'README.md is out of date: run python scripts/make_readme.py')
    sys.exit(0 if ok else 1)
readme.write_text(text)
print(f'wrote {readme} ({len(text)} chars)')
