#!/usr/bin/env python
"""Checks of the built docs site (standard library only; run by scripts/docs.sh after Sphinx):

1. every page of the site loads scripts and stylesheets from the site only: no `<script src>`, `<link href>`,
   `<img src>`, `<iframe src>`, CSS `@import`/`url()` or URL inside an inline script that points outside `_site/`
   (stored Altair charts load vega from a CDN unless the docs build rewrote them);
2. every local `src`/`href` target of a script or stylesheet exists;
3. every page has its API entries: each public symbol that `lts_nb/_modidx.py` assigns to a page (functions,
   classes, their public methods) has an object description with its id on that page;
4. each page with a chart loads the vega bundle shipped with the site (a chart still loading vega from a CDN is an
   inline script referring to it: check 1).

Usage: python scripts/docs_check.py [SITE_DIR]   (default _site); exit 1 with one line per problem.
"""
import ast, re, sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

class Refs(HTMLParser):
    "Collects what a page loads: scripts, stylesheets, images, frames, and inline script/style text."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads, self.inline, self.ids, self._in = [], [], set(), None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'script':
            if a.get('src'): self.loads.append(('script', a['src']))
            t = (a.get('type') or 'text/javascript').lower()
            self._in = 'js' if not a.get('src') and ('javascript' in t or t == 'module') else None
        elif tag == 'style': self._in = 'css'
        elif tag == 'link' and 'stylesheet' in (a.get('rel') or '').lower() or tag == 'link' and a.get('as') in ('script', 'style'):
            self.loads.append(('stylesheet', a.get('href', '')))
        elif tag in ('img', 'iframe', 'embed', 'source', 'video', 'audio') and a.get('src'):
            self.loads.append((tag, a['src']))
        if 'style' in a: self.inline.append(('css', a['style']))
    def handle_endtag(self, tag):
        if tag in ('script', 'style'): self._in = None
    def handle_data(self, data):
        if self._in: self.inline.append((self._in, data))

_re_url = re.compile(r'''(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s'"<>)]*''')
_re_css_url = re.compile(r'''(?:@import\s+(?:url\()?|url\()\s*['"]?([^'")\s]+)''')
# inline-script URLs that are data, not loads: the Vega-Lite schema id, the XML namespaces of SVG
_DATA_URLS = re.compile(r'^(https?:)?//(vega\.github\.io/schema/|www\.w3\.org/)')

def external(u: str) -> bool:
    return bool(re.match(r'^([a-z][a-z0-9+.-]*:)?//', u, re.I)) and not u.startswith('file://')

def page_problems(page: Path, site: Path) -> list[str]:
    r = Refs(); r.feed(page.read_text(encoding='utf-8'))
    rel, out = page.relative_to(site), []
    for kind, u in r.loads:
        if not u or u.startswith(('data:', '#')): continue
        if external(u): out.append(f'{rel}: {kind} from outside the site: {u}'); continue
        tgt = (page.parent/u.split('?')[0].split('#')[0]).resolve()
        if kind in ('script', 'stylesheet') and not tgt.exists(): out.append(f'{rel}: {kind} {u} is missing')
        elif kind in ('script', 'stylesheet') and site.resolve() not in tgt.parents: out.append(f'{rel}: {kind} {u} is outside the site')
    for kind, text in r.inline:
        urls = _re_css_url.findall(text) if kind == 'css' else _re_url.findall(text)
        for u in urls:
            if external(u) and not _DATA_URLS.match(u): out.append(f'{rel}: inline {kind} refers to {u[:100]}')
    return out

def api_problems(site: Path) -> list[str]:
    "Public symbols of _modidx.py without an entry on their page."
    f = ROOT/'lts_nb'/'_modidx.py'
    if not f.exists(): return [f'{f} missing: run nbdev_export']
    d = ast.literal_eval(f.read_text().split('=', 1)[1].strip())
    out, cache = [], {}
    for mod, syms in d['syms'].items():
        for sym, (doc, _) in syms.items():
            name = sym[len(mod) + 1:]
            if any(p.startswith('_') for p in name.split('.')): continue     # private, and dunder methods
            page = doc.split('#')[0]
            if page not in cache:
                p = site/page
                if not p.exists(): out.append(f'{page}: page missing (documents {sym})'); cache[page] = set(); continue
                r = Refs(); r.feed(p.read_text(encoding='utf-8')); cache[page] = r.ids
            if sym not in cache[page]: out.append(f'{page}: no API entry for {sym}')
    return out

def chart_problems(site: Path) -> list[str]:
    out = []
    for p in site.rglob('*.html'):
        t = p.read_text(encoding='utf-8')
        if 'class="lts-chart"' in t and 'vega-bundle.js' not in t: out.append(f'{p.relative_to(site)}: charts but no vega bundle')
    return out

def main(site='_site') -> int:
    site = Path(site)
    if not (site/'index.html').exists(): print(f'docs_check: {site}/index.html missing: build the site first'); return 1
    pages = sorted(site.rglob('*.html'))
    probs = [x for p in pages for x in page_problems(p, site)] + api_problems(site) + chart_problems(site)
    for x in probs: print('docs_check:', x)
    n = sum('lts-chart-spec' in p.read_text(encoding='utf-8') for p in pages)
    print(f'docs_check: {len(pages)} pages, {n} with charts, {len(probs)} problem(s)')
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main(*sys.argv[1:]))
