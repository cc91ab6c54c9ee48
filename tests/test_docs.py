"""The docs pipeline's parts, without building the site: the light nbdev pass (scripts/docs_prep.py), the site
checks (scripts/docs_check.py) and the stale-output check (scripts/docs_stale.py). The built site itself is checked
by scripts/docs.sh (in scripts/test.sh) and in a browser by tests/test_docs_browser.py."""
import json, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
import docs_check, docs_prep, docs_stale, make_readme

# ---------------------------------------------------------------- the light pass
def test_page_names_follow_nbdev():
    assert docs_prep.page_name(ROOT/'nbs'/'03_scoring.ipynb') == 'scoring'
    assert docs_prep.page_name(ROOT/'nbs'/'11a_views_vds.ipynb') == 'views_vds'
    assert docs_prep.page_name(ROOT/'nbs'/'tutorials'/'01_task_space.ipynb') == 'tutorials/task_space'

def test_discover_orders_by_file_name():
    found = docs_prep.discover()
    assert found['home'].name == 'index.ipynb'
    names = [p.name for p in found['reference']]
    assert names == sorted(names) and 'index.ipynb' not in names and len(names) >= 10
    assert [p.name for p in found['tutorials']] == sorted(p.name for p in found['tutorials'])

def _altair_html():
    alt = pytest.importorskip('altair')
    import pandas as pd
    ch = alt.Chart(pd.DataFrame({'x': [1, 2, 3], 'y': [0.5, 0.25, 1.0]})).mark_bar().encode(x='x:O', y='y:Q')
    with alt.renderers.enable('html'):
        b = ch._repr_mimebundle_()
    b = b[0] if isinstance(b, tuple) else b
    return ch, b['text/html']

def test_altair_output_is_redrawn_from_the_site():
    "A stored Altair output loads vega from a CDN; the pass keeps its spec and drops the loader."
    ch, html = _altair_html()
    assert 'cdn.jsdelivr.net' in html
    spec, opt = docs_prep.altair_spec(html)
    assert spec['mark'] == ch.to_dict()['mark'] and opt.get('mode') == 'vega-lite'
    new = docs_prep.chart_html(spec, opt)
    assert 'cdn' not in new and 'class="lts-chart"' in new
    js = new.split('class="lts-chart-spec">', 1)[1].rsplit('</script>', 1)[0]
    assert json.loads(js)['spec'] == spec
    assert docs_prep.altair_spec('<div>not a chart</div>') is None

def test_widget_outputs_are_dropped_and_charts_counted():
    _, html = _altair_html()
    from fastcore.basics import AttrDict
    cell = AttrDict(cell_type='code', outputs=[
        {'output_type': 'display_data', 'data': {'application/vnd.jupyter.widget-view+json': {'model_id': 'x'}}},
        {'output_type': 'display_data', 'data': {'text/html': html, 'text/plain': 'alt.Chart(...)'}}])
    stats = {'charts': 0}
    docs_prep.fix_outputs(cell, stats)
    assert len(cell.outputs) == 1 and stats['charts'] == 1 and 'lts-chart' in cell.outputs[0]['data']['text/html']

def test_progress_bars_are_dropped_from_stderr_not_warnings():
    txt = ("Loading weights:   0%|          | 0/272 [00:00<?, ?it/s]\rLoading weights: 100%|##########| 272/272 [00:00<00:00, 2734.65it/s]\n"
           "UserWarning: something worth reading\n")
    assert docs_prep.strip_bars(txt) == 'UserWarning: something worth reading\n'
    assert docs_prep.strip_bars("pairs: 100%|##| 3/3 [00:01<00:00]\n") == ''

def test_linkify_only_documented_names_outside_code():
    lookup = {'run_task_space': ('obj', 'lts_nb.probes.run_task_space'), 'lts_nb.scoring': ('mod', 'lts_nb.scoring')}
    md = "Call `run_task_space()` (in `lts_nb.scoring`), not `unknown`.\n```python\n`run_task_space`\n```"
    out = docs_prep.linkify(md, lookup)
    assert '{py:obj}`run_task_space() <lts_nb.probes.run_task_space>`' in out
    assert '{py:mod}`lts_nb.scoring <lts_nb.scoring>`' in out and '`unknown`' in out
    assert out.endswith('```python\n`run_task_space`\n```')            # code blocks untouched

def test_relink_follows_renamed_pages():
    names = {(ROOT/'nbs'/'03_scoring.ipynb').resolve(): 'scoring'}
    assert docs_prep.relink('[s](../03_scoring.ipynb#x)', 'tutorials/task_space', names) == '[s](../scoring.ipynb#x)'
    assert docs_prep.relink('[s](03_scoring.ipynb)', 'index', names) == '[s](scoring.ipynb)'

def documented_example(a: int,  # the first number
                       b: float = 2.0):  # the second
    "Add `a` and `b`."
    return a + b

def test_api_entry_has_signature_table_and_a_mended_source_link(monkeypatch):
    monkeypatch.setattr(docs_prep, 'DOCUMENTED', {})
    from lts_nb.utils import atomic_write
    md = docs_prep.show_doc(atomic_write).markdown('utils')
    assert md.startswith('````{py:function} atomic_write(') and ':module: lts_nb.utils' in md
    assert '#LNone' not in md and '/lts_nb/utils.py#L' in md
    line = int(md.split('/lts_nb/utils.py#L')[1].split('"')[0])
    assert 'def atomic_write' in (ROOT/'lts_nb'/'utils.py').read_text().splitlines()[line - 1]
    md2 = docs_prep.show_doc(documented_example).markdown('x')
    assert '| a | `int` |  | the first number |' in md2 and "| b | `float` | `2.0` | the second |" in md2
    assert 'Add `a` and `b`.' in md2
    def undocumented(x: str | None = None, *args, **kw) -> int: "No comments on the parameters."
    t = docs_prep.param_table(undocumented, __import__('inspect').signature(undocumented))
    assert '| x | `str\\|None` | `None` |  |' in t and '| \\*args |' in t and '| \\*\\*kw |' in t and '| **Returns** | `int` |' in t
    assert ':no-index:' in md2                                           # not ours: described, not indexed
    assert ':no-index:' in docs_prep.show_doc(atomic_write).markdown('other_page')   # documented twice: once indexed

def test_directives_become_tags():
    from fastcore.basics import AttrDict
    c = AttrDict(cell_type='code', source='x', metadata={}, directives_={'echo:': ['false'], 'slow': []})
    docs_prep.map_directives(c)
    assert c.metadata['tags'] == ['remove-input', 'slow']

# ---------------------------------------------------------------- the site checks
def _page(site: Path, name: str, body: str):
    (site/'_static').mkdir(parents=True, exist_ok=True)
    (site/'_static'/'ok.js').write_text('')
    (site/name).write_text(f'<html><head><script src="_static/ok.js"></script></head><body>{body}</body></html>')

def test_check_passes_a_self_contained_page(tmp_path):
    spec = json.dumps({'spec': {'$schema': 'https://vega.github.io/schema/vega-lite/v6.json'}})
    _page(tmp_path, 'index.html', f'<a href="https://example.org">a link is fine</a>'
                                  f'<script type="application/json" class="lts-chart-spec">{spec}</script>')
    assert docs_check.page_problems(tmp_path/'index.html', tmp_path) == []

@pytest.mark.parametrize('body,what', [
    ('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>', 'script from outside'),
    ('<link rel="stylesheet" href="//fonts.example.com/a.css">', 'stylesheet from outside'),
    ('<script>s.src = "https://cdn.jsdelivr.net/npm/vega-lite@6";</script>', 'inline js refers to'),
    ('<style>@import url("https://fonts.example.com/x.css");</style>', 'inline css refers to'),
    ('<script src="_static/missing.js"></script>', 'is missing'),
    ('<img src="http://example.org/x.png">', 'img from outside')])
def test_check_reports_what_a_page_loads_from_outside(tmp_path, body, what):
    _page(tmp_path, 'index.html', body)
    probs = docs_check.page_problems(tmp_path/'index.html', tmp_path)
    assert len(probs) == 1 and what in probs[0], probs

def test_check_reports_a_missing_api_entry(tmp_path, monkeypatch):
    idx = tmp_path/'lts_nb'/'_modidx.py'
    idx.parent.mkdir()
    idx.write_text("d = {'settings': {}, 'syms': {'lts_nb.m': {'lts_nb.m.f': ('m.html#f', 'lts_nb/m.py'), "
                   "'lts_nb.m.C.meth': ('m.html#c.meth', 'lts_nb/m.py'), 'lts_nb.m._private': ('m.html#_private', 'lts_nb/m.py')}}}")
    monkeypatch.setattr(docs_check, 'ROOT', tmp_path)
    site = tmp_path/'site'; site.mkdir()
    (site/'m.html').write_text('<dt id="lts_nb.m.f">f</dt>')
    assert docs_check.api_problems(site) == ['m.html: no API entry for lts_nb.m.C.meth']

# ---------------------------------------------------------------- stale outputs
def test_numbers_compare_within_float_noise():
    assert docs_stale.same_text('acc 0.6 margin 1.0647580', 'acc 0.6 margin 1.0647581')
    assert not docs_stale.same_text('acc 0.6 margin 1.064758', 'acc 0.6 margin 1.099595')
    assert not docs_stale.same_text('gen_sva_irregular 0.6', 'gen_sva_aux_attractor 0.6')
    assert docs_stale.same_text('<object at 0x7f00deadbeef>', '<object at 0x7f11cafe0000>')

def test_tables_compare_whatever_the_display_width():
    import pandas as pd
    df = pd.DataFrame({'accuracy': [0.6, 1.0], 'margin': [1.064758, 5.674128]}, index=['gen_a', 'gen_b'])
    out = lambda d: [{'output_type': 'execute_result', 'data': {'text/html': d.to_html(), 'text/plain': d.to_string()}}]
    assert docs_stale.diff(docs_stale.norm_outputs(out(df)), docs_stale.norm_outputs(out(df)), 1e-4, 1e-6) is None
    why = docs_stale.diff(docs_stale.norm_outputs(out(df)), docs_stale.norm_outputs(out(df.assign(margin=[1.1, 5.674128]))), 1e-4, 1e-6)
    assert why and '1.064758' in why and '1.1' in why

def test_stale_check_catches_a_stale_cell(tmp_path):
    "A notebook whose stored output no longer matches: reported; its slow cell is not run."
    nb = {'cells': [{'cell_type': 'code', 'id': 'a', 'metadata': {}, 'execution_count': None, 'source': 'print(1 + 1)',
                     'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': '3\n'}]},
                    {'cell_type': 'code', 'id': 'b', 'metadata': {}, 'execution_count': None, 'source': '#| slow\nraise SystemExit',
                     'outputs': []},
                    {'cell_type': 'code', 'id': 'c', 'metadata': {}, 'execution_count': None, 'source': '2 * 0.5',
                     'outputs': [{'output_type': 'execute_result', 'metadata': {}, 'execution_count': None,
                                  'data': {'text/plain': '1.0'}}]}],
          'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    p = tmp_path/'t.ipynb'; p.write_text(json.dumps(nb))
    probs = docs_stale.check(p)
    assert len(probs) == 1 and 'cell 0' in probs[0] and 'stored: 3' in probs[0] and 'now:    2' in probs[0]

# ---------------------------------------------------------------- README facts from the code
def test_first_run_facts_come_from_the_measurement():
    p = ROOT/'docs'/'first_run.json'
    if not p.exists(): pytest.skip('docs/first_run.json not measured')
    r = json.loads(p.read_text())
    txt = make_readme.first_run_md()
    assert f"{r['convert_s']:.0f} s" in txt and f"{r['cache_mb']:.0f} MB" in txt and r['gguf'] in txt
