#!/usr/bin/env python
"""The light nbdev pass of the docs build: notebooks in nbs/ -> MyST-NB sources in docs/_build/src/.

Run by scripts/docs.sh with the project's venv (it imports lts_nb to document it); Sphinx then builds the site from
docs/_build/src with docs/conf.py, in a venv of its own. No network, and no notebook cell is executed except
`import` cells and `show_doc` cells, so slow real-model cells keep their committed outputs.

What it does to each notebook (discovered in nbs/ and nbs/tutorials/, ordered by file name):
- nbdev's own processors insert a `show_doc` cell after every exported definition and remove `#| export`,
  `#| hide` and `default_exp` cells; it also documents the public methods of exported classes that the notebook
  does not `show_doc` itself;
- each `show_doc` becomes a Sphinx API entry (`py:function`, `py:class`, `py:method`...): signature, source link
  (the line number mended: nbdev 2.4.7 writes `#LNone`), docstring, parameter table; entries feed the API index
  and the search;
- nbdev directives map to MyST-NB cell tags (`echo: false` -> remove-input, `output: false` -> remove-output,
  `include: false` -> remove-cell, `exports`/`code-fold` -> hide-input, `slow` -> a "slow" badge);
- front matter: `# Title` stays the page title, `> summary` its description;
- stored Altair charts, which load vega from a CDN, are rewritten to use the vega bundle shipped with the site
  (from `vl_convert.javascript_bundle()`); widget outputs are dropped (no widget manager offline);
- backticked names of documented objects become cross-references; links to other notebooks follow their renames.
It also writes the Commands page (each console script's --help), the API index and the vega bundle.

Usage: python scripts/docs_prep.py [--out DIR]
"""
import argparse, ast, configparser, contextlib, importlib, inspect, io, json, os, re, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
sys.path.insert(0, str(ROOT/'scripts'))

from execnb.nbio import read_nb, mk_cell
from fastcore.basics import AttrDict
from nbdev.process import NBProcessor
from nbdev.processors import populate_language, strip_ansi, hide_line, filter_stream_, rm_header_dash, rm_export, \
    clean_magics, hide_, strip_hidden_metadata, _def_names, _show_docs, _get_nm, cell_lang
from nbdev.doclinks import _get_exps
from fastcore.docments import ShowDocRenderer, docments, _fmt_sig, _fmt_anno, _f_name

# --------------------------------------------------------------------------------------------- the notebooks
def page_name(p: Path) -> str:
    "nbdev's page name for a notebook: `03_scoring.ipynb` -> `scoring`, relative to nbs/ (tutorials keep their folder)."
    rel = p.relative_to(NBS)
    return (rel.parent/re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.stem.lower())).as_posix()

def discover() -> dict:
    "The notebooks of the site in reading order: {'home': index, 'tutorials': [...], 'reference': [...]}"
    skip = lambda p: any(s.startswith(('_', '.')) for s in p.relative_to(NBS).parts)
    ref = sorted(p for p in NBS.glob('*.ipynb') if p.name != 'index.ipynb' and not skip(p))
    tut = sorted(p for p in (NBS/'tutorials').glob('*.ipynb') if not skip(p))
    names = [page_name(p) for p in ref + tut]
    dup = {n for n in names if names.count(n) > 1}
    if dup: sys.exit(f"docs: notebooks map to the same page name {sorted(dup)}: rename one")
    return {'home': NBS/'index.ipynb', 'tutorials': tut, 'reference': ref}

_re_exp = re.compile(r'^\s*#\|\s*(default_exp|export|exports|exporti)\b[ \t]*(\S*)', re.M)

def nb_modules(nb) -> list[str]:
    "The modules a notebook exports to (`default_exp`, and `export MODULE` targets)."
    default, mods = None, []
    for c in nb.cells:
        if c.cell_type != 'code': continue
        for kind, arg in _re_exp.findall(c.source):
            if kind == 'default_exp': default = arg
            elif arg: mods.append(arg)
    mods = ([default] if default else []) + mods
    cfg = config()
    return list(dict.fromkeys(m if m.startswith(cfg['lib_name'] + '.') else f"{cfg['lib_name']}.{m}" for m in mods))

def config() -> dict:
    cp = configparser.ConfigParser(); cp.read(ROOT/'settings.ini')
    return dict(cp['DEFAULT'])

# --------------------------------------------------------------------------------------------- API entries
DOCUMENTED = {}   # full name -> page (the first page that documents it; later ones are :no-index:)
SUMMARY = {}      # full name -> first line of its docstring

def _source_link(obj) -> str | None:
    "GitHub link to the definition, with its line number (nbdev 2.4.7's own ends in `#LNone`)."
    cfg = config()
    obj = inspect.unwrap(getattr(obj, 'fget', None) or obj)
    try: f, line = inspect.getsourcefile(obj), inspect.getsourcelines(obj)[1]
    except (TypeError, OSError): return None
    try: rel = Path(f).resolve().relative_to(ROOT).as_posix()
    except ValueError: return None
    if not rel.startswith(cfg['lib_path'] + '/'): return None
    if line == 0 or line is None:   # fall back on nbdev's own table of definitions
        line = _get_exps(rel).get(getattr(obj, '__qualname__', ''), None)
    return f"{cfg['git_url']}/blob/{cfg['branch']}/{rel}#L{line}" if line else None

def _kind(obj, owner) -> tuple[str, list[str]]:
    "The Sphinx directive (and options) for an object."
    if inspect.isclass(obj): return 'class', []
    if owner is not None:
        raw = inspect.getattr_static(owner, obj.__name__ if hasattr(obj, '__name__') else '', None)
        if isinstance(raw, property): return 'property', []
        if isinstance(raw, staticmethod): return 'method', [':staticmethod:']
        if isinstance(raw, classmethod): return 'method', [':classmethod:']
        return 'method', []
    if isinstance(obj, property): return 'property', []
    return 'function', []

def _owner(sym):
    "The class of a method (from its qualified name), else None."
    qual = getattr(sym, '__qualname__', '') or ''
    if '.' not in qual or '<locals>' in qual: return None
    o = sys.modules.get(getattr(sym, '__module__', None) or '')
    for part in qual.split('.')[:-1]: o = getattr(o, part, None)
    return o if inspect.isclass(o) else None

class ApiEntry:
    "What `show_doc(sym)` becomes on the site: a Sphinx object description in MyST."
    def __init__(self, sym, name=None, title_level=3):
        self.r = ShowDocRenderer(sym, name=name, title_level=title_level)
        self.obj = sym.fget if isinstance(sym, property) else sym
        self.owner = _owner(self.obj)
        self.module = getattr(self.owner or self.obj, '__module__', None) or ''

    def markdown(self, page: str) -> str:
        r, cfg = self.r, config()
        kind, opts = _kind(self.obj, self.owner)
        nm = r.nm
        full = f'{self.module}.{nm}' if self.module else nm
        ours = self.module.split('.')[0] == cfg['lib_name']
        if not ours or full in DOCUMENTED and DOCUMENTED[full] != (page, id(self.obj)): opts = opts + [':no-index:']
        else:
            DOCUMENTED.setdefault(full, (page, id(self.obj)))
            SUMMARY.setdefault(full, (r.docs or '').strip().split('\n')[0])
        sig = ''
        if kind != 'property' and r.sig is not None:
            sig = _fmt_sig(r.sig)
            ra = r.sig.return_annotation
            if ra is not inspect.Signature.empty and ra is not None and not inspect.isclass(self.obj):
                sig += f' -> {_fmt_anno(ra)}'
        if kind == 'class' and sig == '()': sig = ''
        head = f'{nm}{sig}'.replace('\n', ' ')
        body = []
        if kind == 'property' and r.sig is not None and r.sig.return_annotation is not inspect.Signature.empty:
            opts.append(f':type: {_fmt_anno(r.sig.return_annotation)}')
        src = _source_link(self.obj)
        if src: body.append(f'<a class="lts-source reference external" href="{src}">[source]</a>\n')
        if r.docs: body.append(r.docs.strip() + '\n')
        tbl = param_table(self.obj, r.sig, kind)
        if tbl: body.append(tbl + '\n')
        mod = [f':module: {self.module}'] if self.module else []
        fence = '````'
        return '\n'.join([f'{fence}{{py:{kind}}} {head}', *mod, *opts, '', *body, fence]) + '\n'

def _cell(s: str) -> str: return s.replace('|', '\\|').replace('\n', ' ')

def param_table(obj, sig, kind='function') -> str:
    "Markdown table of the parameters (type, default, the docment comment) and the return annotation; '' if none."
    if sig is None or kind == 'property': return ''
    try: dm = docments(obj, full=True, returns=True)
    except Exception: dm = {}
    code = lambda x: f'`{_cell(x)}`' if x else ''
    rows = []
    for n, p in sig.parameters.items():
        if n in ('self', 'cls') and not rows: continue
        star = '\\*' if p.kind == p.VAR_POSITIONAL else '\\*\\*' if p.kind == p.VAR_KEYWORD else ''
        anno = '' if p.annotation is p.empty else _fmt_anno(p.annotation)
        default = '' if p.default is p.empty else (_f_name(p.default) or repr(p.default))
        rows.append(f'| {star}{n} | {code(anno)} | {code(default)} | {_cell((dm.get(n) or {}).get("docment") or "")} |')
    ra, rdoc = sig.return_annotation, (dm.get('return') or {}).get('docment') or ''
    if kind != 'class' and (rdoc or ra not in (inspect.Signature.empty, None)):
        rows.append(f'| **Returns** | {code("" if ra is inspect.Signature.empty else _fmt_anno(ra))} | | {_cell(rdoc)} |')
    if not rows: return ''
    return '\n'.join(['| | **Type** | **Default** | **Details** |', '|---|---|---|---|', *rows])

def show_doc(sym, renderer=None, name=None, title_level=3):
    "Stand-in for nbdev's `show_doc` during the light pass (same arguments; `renderer` is ignored): an `ApiEntry`."
    return ApiEntry(sym, name=name, title_level=title_level)

# --------------------------------------------------------------------------------------------- processors
def _want_doc(c):
    d = c.directives_
    return c.source and c.cell_type == 'code' and {'export', 'exports', 'exec_doc'} & set(d) and 'hide' not in d \
        and d.get('include:') != ['false']

class add_show_docs:
    "nbdev's `add_show_docs`, plus the public methods of exported classes that the notebook doesn't document."
    def __init__(self, nb): self.nb = nb
    def begin(self):
        nb = self.nb
        exports = [c for c in nb.cells if _want_doc(c)]
        trees = [t for c in nb.cells for t in (c.parsed_() or [])]
        shown = {_get_nm(t) for t in _show_docs(trees)}
        for cell in reversed(exports):
            if cell_lang(cell) != 'python': raise ValueError(f"{cell.metadata.language} can't export:\n{cell.source}")
            new = []
            for nm in _def_names(cell, shown):          # (nbdev checks a patched `stats` against shown names as 'stats')
                if nm in shown or nm.startswith('__'): continue    # module hooks (`__getattr__` forwarding old names)
                new.append(nm)
            for t in cell.parsed_() or []:
                if isinstance(t, ast.ClassDef) and t.name[0] != '_' and t.name not in shown:
                    meths = [f'{t.name}.{m.name}' for m in t.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                             and not m.name.startswith('_') and f'{t.name}.{m.name}' not in shown]
                    i = new.index(t.name) if t.name in new else len(new) - 1
                    new[i+1:i+1] = list(dict.fromkeys(meths))
            for nm in reversed(new):
                c = mk_cell(f'show_doc({nm})'); c.has_sd = True; c.directives_ = {}
                nb.cells.insert(cell.idx_ + 1, c)

def _pure_import(tree) -> bool:
    return bool(tree) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in tree)

class LightExec:
    "Builds each notebook's namespace (its modules, its import cells) and turns `show_doc` cells into API entries."
    def __init__(self, nb, page):
        self.nb, self.page = nb, page
        self.ns = {'show_doc': show_doc}
        for m in nb.modules_:
            try: mod = importlib.import_module(m)
            except Exception as e:
                raise RuntimeError(f"docs: {nb.path_} documents {m}, which does not import: {type(e).__name__}: {e}") from e
            self.ns.update({k: v for k, v in vars(mod).items() if not (k.startswith('__') and k.endswith('__'))})
        self.ns['show_doc'] = show_doc

    def __call__(self, cell):
        if cell.cell_type != 'code' or not cell.source: return
        d = cell.directives_
        trees = cell.parsed_()
        if not trees: return
        is_sd = bool(_show_docs(trees))
        if _pure_import(trees) and not is_sd:
            if 'slow' in d or d.get('eval:', [''])[0].lower() == 'false': return
            if {'export', 'exporti', 'exports'} & set(d): return      # the module's own imports: already in the namespace
            self._exec(cell, collect=False); return
        if not is_sd: return
        entries = self._exec(cell, collect=True)
        cell.outputs = [AttrDict(output_type='display_data', metadata={},
                                 data={'text/markdown': e.markdown(self.page)}) for e in entries]
        cell.metadata.setdefault('tags', []).append('remove-input')
        cell.metadata['lts_api'] = True

    def _exec(self, cell, collect):
        out = []
        try:
            for t in ast.parse(cell.source).body:
                code = compile(ast.Module([t], []) if not isinstance(t, ast.Expr) else ast.Expression(t.value),
                               f'<{self.page} cell {cell.idx_}>', 'exec' if not isinstance(t, ast.Expr) else 'eval')
                with contextlib.redirect_stdout(io.StringIO()):
                    v = eval(code, self.ns) if isinstance(t, ast.Expr) else exec(code, self.ns)
                self.ns['show_doc'] = show_doc      # `from nbdev.showdoc import show_doc` must not replace ours
                if collect and isinstance(v, ApiEntry): out.append(v)
        except Exception as e:
            raise RuntimeError(f"docs: {self.page}, cell {cell.idx_}: {type(e).__name__}: {e}\n{cell.source}") from e
        return out

_TAGS = {('echo:', 'false'): 'remove-input', ('output:', 'false'): 'remove-output', ('include:', 'false'): 'remove-cell',
         ('code-fold:', 'true'): 'hide-input', ('code-fold:', 'show'): 'hide-input'}

def map_directives(cell):
    "nbdev/quarto cell directives -> MyST-NB tags."
    d = getattr(cell, 'directives_', None) or {}
    tags = cell.metadata.setdefault('tags', [])
    for k, v in d.items():
        t = _TAGS.get((k, (v[0] if v else '').lower()))
        if t: tags.append(t)
    if 'exports' in d: tags.append('hide-input')
    if 'slow' in d: tags.append('slow')
    if d.get('output:', [''])[0] == 'asis': cell.metadata['lts_asis'] = True
    cell.metadata['tags'] = list(dict.fromkeys(tags))
    if not cell.metadata['tags']: del cell.metadata['tags']

# --------------------------------------------------------------------------------------------- outputs
_re_altair_tail = re.compile(r'\}\)\((\{.*\})\s*,\s*(\{[^{}]*\})\s*\);\s*</script>\s*$', re.S)

def altair_spec(html: str):
    "(spec, embed options) of an Altair HTML output, or None."
    if 'vegaEmbed' not in html or 'altair-viz' not in html: return None
    m = _re_altair_tail.search(html)
    if not m: return None
    return json.loads(m.group(1)), json.loads(m.group(2))

def chart_html(spec, opt) -> str:
    "A chart drawn by the site's own vega bundle (docs/_static/lts_charts.js), no CDN."
    js = json.dumps({'spec': spec, 'opt': opt}, allow_nan=False).replace('</', '<\\/').replace('<!--', '<\\!--')
    return f'<div class="lts-chart"></div><script type="application/json" class="lts-chart-spec">{js}</script>'

_WIDGET = 'application/vnd.jupyter.widget-view+json'
_re_bar = re.compile(r'\d+%\|[^|\n]*\|\s*\d+/\d+')     # a tqdm progress bar ("Loading weights: 100%|###| 272/272 [...]")

def strip_bars(text: str) -> str:
    "stderr without progress bars: transient in a notebook, noise on a page (everything else, e.g. warnings, stays)."
    keep = [l for l in re.split(r'\r|\n', text) if l.strip() and not _re_bar.search(l)]
    return '\n'.join(keep) + ('\n' if keep else '')

def fix_outputs(cell, stats):
    if cell.cell_type != 'code': return
    outs = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
            o['text'] = strip_bars(''.join(o['text']) if isinstance(o['text'], list) else o['text'])
            if not o['text']: continue
        d = o.get('data')
        if d:
            d.pop(_WIDGET, None)
            for k in [k for k in d if re.match(r'application/vnd\.vega(lite)?\.v\d+\+json', k)]:
                spec = d.pop(k)
                if 'vegalite' in k: d['text/html'] = chart_html(spec, {'mode': 'vega-lite'}); stats['charts'] += 1
            h = d.get('text/html')
            if h is not None:
                h = ''.join(h) if isinstance(h, list) else h
                sp = altair_spec(h)
                if sp: d['text/html'] = chart_html(*sp); stats['charts'] += 1
            if not d: continue
        outs.append(o)
    if 'outputs' in cell: cell.outputs = outs

# --------------------------------------------------------------------------------------------- markdown
_re_fence = re.compile(r'^\s*(```|~~~)')
_re_tick = re.compile(r'(?<![`\w])`([A-Za-z_][\w.]*?)(\(\))?`(?!`)')

def linkify(md: str, lookup: dict) -> str:
    "Backticked names of documented objects -> `{py:obj}` cross-references (outside code blocks)."
    out, fenced = [], False
    for line in md.split('\n'):
        if _re_fence.match(line): fenced = not fenced; out.append(line); continue
        if fenced or line.startswith('    '): out.append(line); continue
        def sub(m):
            nm, par = m.group(1), m.group(2) or ''
            hit = lookup.get(nm)
            if not hit: return m.group(0)
            role, full = hit
            return f'{{py:{role}}}`{nm}{par} <{full}>`'
        out.append(_re_tick.sub(sub, line))
    return '\n'.join(out)

def relink(md: str, here: str, names: dict) -> str:
    "Links to other notebooks (`03_scoring.ipynb#x`) -> their pages on the site."
    def sub(m):
        tgt = (NBS/Path(here).parent/m.group(1)).resolve()
        new = names.get(tgt)
        if not new: return m.group(0)
        rel = os.path.relpath(new, Path(here).parent.as_posix() or '.')
        return f']({rel}.ipynb{m.group(2) or ""})'
    return re.sub(r'\]\(([^)#\s]+?\.ipynb)(#[^)\s]*)?\)', sub, md)

def front_matter(nb) -> dict:
    "nbdev front matter of the first markdown cell: `# Title`, `> summary`, `- key: value` lines (dropped)."
    for c in nb.cells:
        if c.cell_type != 'markdown': continue
        m = re.search(r'^#\s+(\S.*?)\s*$', c.source, re.M)
        if not m: return {}
        fm = {'title': m.group(1)}
        d = re.search(r'^>\s+(\S.*?)\s*$', c.source, re.M)
        if d: fm['description'] = d.group(1)
        c.source = re.sub(r'^-\s+\w[\w-]*:\s.*$\n?', '', c.source, flags=re.M)
        if d: c.source = c.source.replace(d.group(0), '{.lts-summary}\n' + d.group(0), 1)
        return fm
    return {}

# --------------------------------------------------------------------------------------------- pages
def command_help(name: str, f) -> str:
    "The `--help` text of console script `name` (function `f`), produced in-process as the installed command does."
    argv, out = sys.argv, io.StringIO()
    sys.argv = [name, '--help']
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try: f()
            except SystemExit: pass
            else: raise RuntimeError(f"docs: `{name} --help` did not exit")
    finally: sys.argv = argv
    if 'usage:' not in out.getvalue(): raise RuntimeError(f"docs: `{name} --help` printed no usage")
    return out.getvalue()

def commands_md() -> str:
    "The Commands page: every console script in settings.ini, its one-line summary and its --help."
    import make_readme
    os.environ['COLUMNS'] = '100'
    parts = ['# Commands', '',
             'Every command of the package, as installed by `pip install lts_nb` (console scripts in `settings.ini`). '
             'The text below is each command\'s own `--help`, generated by the docs build.', '']
    for name, mod, fn, doc in make_readme.console_scripts():
        f = getattr(importlib.import_module(mod), fn)
        ref = next((k for k in (f'{mod}.{fn}', f'{getattr(f, "__module__", "")}.{getattr(f, "__name__", "")}') if k in DOCUMENTED), None)
        parts += [f'## {name}', '', doc, '', f'Defined by {{py:obj}}`{ref}`.' if ref else f'Entry point: `{mod}:{fn}`.',
                  '', '```text', command_help(name, f).rstrip(), '```', '']
    return '\n'.join(parts)

def api_md(by_page: dict, titles: dict, modules: dict) -> str:
    "The API index: every documented object, page by page, with the first line of its docstring."
    parts = ['# API index', '', 'Every function, class and method of the package that the notebooks document, in '
             'reading order. The [general index](genindex) lists them alphabetically; the search box finds them by name.', '']
    for page, syms in by_page.items():
        if not syms: continue
        mods = ', '.join(f'{{py:mod}}`{m}`' for m in modules.get(page, []))
        parts += [f'## {titles.get(page, page)}', '', f'[The page]({page}.ipynb)' + (f', module {mods}' if mods else '') + ':', '',
                  '| | |', '|---|---|']
        for s in syms:
            short = s.split('.', 2)[-1] if s.count('.') >= 2 else s
            doc = SUMMARY.get(s, '').replace('|', '\\|')
            parts.append(f'| {{py:obj}}`{short} <{s}>` | {doc} |')
        parts.append('')
    return '\n'.join(parts)

def toc_md(caption, pages, hidden=True) -> str:
    return '\n'.join(['```{toctree}', f':caption: {caption}', ':maxdepth: 1', *([':hidden:'] if hidden else []), '',
                      *pages, '```'])

def vega_bundle(out: Path):
    "vega + vega-lite (the installed Altair's version) + vega-embed as one classic script, from vl-convert."
    import altair as alt, vl_convert as vlc
    mm = '.'.join(alt.SCHEMA_VERSION.lstrip('v').split('.')[:2])
    vl = mm if mm in vlc.get_vegalite_versions() else None
    cache = ROOT/'docs'/'_build'/'cache'/f'vega-bundle-vlc{vlc.__version__}-vl{vl}.js'
    if not cache.exists():
        js = vlc.javascript_bundle(snippet='window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;',
                                   vl_version=vl)
        from lts_nb.utils import atomic_write
        atomic_write(cache, '(function(){\n' + js + '\n})();\n')
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, out)

# --------------------------------------------------------------------------------------------- main
def process(path: Path, page: str, names: dict, stats: dict):
    nb = read_nb(path)
    nb.path_ = str(path)
    fm = front_matter(nb)
    nb.modules_ = nb_modules(nb)
    proc = NBProcessor(nb=nb, procs=[])     # extracts (and removes) the `#|` directives of each cell
    procs = [populate_language, add_show_docs, strip_ansi, hide_line, filter_stream_, rm_header_dash,
             LightExec(nb, page), map_directives, rm_export, clean_magics, hide_, strip_hidden_metadata]
    for p in procs:
        if isinstance(p, type): p = p(nb)
        proc._proc(p)
    for c in nb.cells: fix_outputs(c, stats)
    mods = nb.modules_
    if mods:     # the module's target (py-modindex, `{py:mod}` references) after the title cell
        i = next((i for i, c in enumerate(nb.cells) if c.cell_type == 'markdown'), -1) + 1
        nb.cells.insert(i, mk_cell('\n'.join(f'```{{py:module}} {m}\n:no-contents-entry:\n```' for m in mods), 'markdown'))
    nb.metadata = AttrDict(kernelspec={'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                           language_info={'name': 'python', 'pygments_lexer': 'ipython3'})
    if fm.get('description'): nb.metadata['myst'] = {'html_meta': {'description': fm['description']}}
    return nb, fm

def clean_cell(c, i) -> dict:
    d = {'id': f'cell-{i}', 'cell_type': c.cell_type, 'metadata': {k: v for k, v in c.metadata.items() if k in ('tags',)}, 'source': c.source}
    if c.cell_type == 'code':
        d['execution_count'] = None
        d['outputs'] = [dict(o) for o in c.get('outputs', [])]
    return d

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=str(ROOT/'docs'/'_build'/'src'))
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    found = discover()
    order = [found['home'], *found['tutorials'], *found['reference']]
    names = {p.resolve(): ('index' if p == found['home'] else page_name(p)) for p in order}
    stats = {'charts': 0, 'pages': 0, 'entries': 0}
    done, titles, by_page = {}, {}, {}
    for p in order:
        page = names[p.resolve()]
        before = set(DOCUMENTED)
        nb, fm = process(p, page, names, stats)
        done[page] = nb; titles[page] = fm.get('title', page)
        by_page[page] = [k for k in DOCUMENTED if k not in before]
    lookup, seen = {}, {}
    for full in DOCUMENTED:          # `run_task_space`, `TaskSpace.stats` (the name in its module) and the full name
        mod = next(m for m in sorted(sys.modules, key=len, reverse=True) if full.startswith(m + '.'))
        seen.setdefault(full[len(mod) + 1:], set()).add(full)
        lookup[full] = ('obj', full)
    lookup.update({k: ('obj', next(iter(v))) for k, v in seen.items() if len(v) == 1})   # ambiguous short names stay plain
    for nb in done.values(): lookup.update({m: ('mod', m) for m in nb.modules_})
    import make_readme
    for page, nb in done.items():
        for c in nb.cells:
            if c.cell_type == 'markdown':
                c.source = make_readme.expand(c.source, site=True)
                c.source = relink(linkify(c.source, lookup), page, names)
        if page == 'index':
            tut = [names[p.resolve()] for p in found['tutorials']]
            ref = [names[p.resolve()] for p in found['reference']]
            toc = [toc_md('Tutorials', tut), toc_md('Reference', ref), toc_md('Index', ['commands', 'api'])]
            nb.cells.append(mk_cell('\n\n'.join(toc), 'markdown'))
        dst = out/f'{page}.ipynb'
        dst.parent.mkdir(parents=True, exist_ok=True)
        js = {'cells': [clean_cell(c, i) for i, c in enumerate(nb.cells)], 'metadata': dict(nb.metadata), 'nbformat': 4, 'nbformat_minor': 5}
        dst.write_text(json.dumps(js, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
        stats['pages'] += 1
    (out/'commands.md').write_text(commands_md(), encoding='utf-8')
    (out/'api.md').write_text(api_md(by_page, titles, {k: nb.modules_ for k, nb in done.items()}), encoding='utf-8')
    if (NBS/'images').exists(): shutil.copytree(NBS/'images', out/'images')
    vega_bundle(ROOT/'docs'/'_build'/'static'/'vega-bundle.js')
    stats['entries'] = len(DOCUMENTED)
    (out.parent/'prep.json').write_text(json.dumps({**stats, 'pages_api': {k: v for k, v in by_page.items()},
                                                      'titles': titles}, indent=1))
    print(f"docs_prep: {stats['pages']} notebook pages, {stats['entries']} API entries, {stats['charts']} charts -> {out}")

if __name__ == '__main__': main()
