"Widget logic, charts and the standalone report of lts_nb.views (no browser: see test_report_browser.py)."
import json, re, shutil, subprocess, sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lts_nb.task_space import TaskSpace
from lts_nb.views import (Run, TaskSpaceExplorer, VDSExplorer, build_report, fake_run_dir, lens_frame, load_run,
                          lts_report, report_charts, space_frame, spec_data, task_order)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('views')
    return fake_run_dir(d/'a', n_tasks=8, seed=0, model='m-a'), fake_run_dir(d/'b', n_tasks=8, seed=1, model='m-b')


def cells(chart) -> pd.DataFrame:
    "The heatmap cells' data of a chart, indexed by (tuned, evaluated)."
    return pd.DataFrame(spec_data(chart.to_dict())).set_index(['tuned', 'evaluated'])


def test_run_dir_roundtrip(runs):
    r = load_run(runs[0])
    assert r.label == 'm-a' and len(r.space.tasks) == 8 and set(r.runs) == set(r.space.tasks)
    t = r.space.tasks
    # the fake run is consistent: transfer = eval_after - eval_before
    for u in t[:3]:
        for v in t:
            assert r.acc_after(u)[v] - r.before['acc'][v] == pytest.approx(r.space['transfer'].loc[u, v])
    # stats read from task_space.json, not recomputed
    js = json.loads((runs[0]/'task_space.json').read_text())
    assert r.statistics().loc['gradsim', 'spearman'] == pytest.approx(js['stats']['gradsim']['spearman'])


def test_run_without_npz_or_runs(runs, tmp_path):
    d = tmp_path/'bare'; d.mkdir()
    shutil.copy(runs[0]/'task_space.json', d)          # only the json: matrices from nested lists
    r = load_run(d)
    assert r.runs == {} and r.before == {}
    np.testing.assert_allclose(r.space['sharing'].to_numpy(), load_run(runs[0]).space['sharing'].to_numpy())
    ex = TaskSpaceExplorer(d)
    ex.select(r.space.tasks[0], r.space.tasks[1])
    assert ex.detail()['acc_after'] is None and ex.detail()['curve'] == []
    assert 'curve' not in ex.charts()
    with pytest.raises(FileNotFoundError, match='no task_space.json'): load_run(tmp_path)


def test_explorer_controls_change_the_chart(runs):
    ex = TaskSpaceExplorer(list(runs))
    a, b = (load_run(p) for p in runs)
    t0, t3 = a.space.tasks[0], a.space.tasks[3]
    assert list(ex.runs) == ['m-a', 'm-b'] and ex.space.options == tuple(a.space.matrices)
    # space
    for name in ('sharing', 'transfer_margin'):
        ex.space.value = name
        assert cells(ex.chart()).value.loc[(t0, t3)] == pytest.approx(a.space[name].loc[t0, t3])
    # order: taxonomy, then cluster (with cluster bands)
    spec = ex.chart().to_dict()['layer'][0]
    assert spec['encoding']['y']['sort'] == ['[phenomenon]'] + task_order(a.space, 'transfer_margin', 'taxonomy')
    ex.order.value = 'cluster'
    spec = ex.chart().to_dict()['layer'][0]
    assert spec['encoding']['y']['sort'] == ['[phenomenon]', '[cluster]'] + task_order(a.space, 'transfer_margin', 'cluster')
    # overlay: residual colours by the residual; hypothesis adds a point layer sized by the level
    ex.overlay.value = 'residual'
    d = ex.chart().to_dict()
    assert d['layer'][0]['encoding']['color']['field'] == 'residual'
    sf = space_frame(a.space, 'transfer_margin').set_index(['tuned', 'evaluated'])
    assert cells(ex.chart()).residual.loc[(t0, t3)] == pytest.approx(sf.residual.loc[(t0, t3)])
    ex.overlay.value = 'hypothesis'
    pts = [l for l in ex.chart().to_dict()['layer'] if l['mark']['type'] == 'point']
    assert len(pts) == 1 and pts[0]['encoding']['size']['field'] == 'hypothesis'
    ex.overlay.value = 'none'
    assert not [l for l in ex.chart().to_dict()['layer'] if l['mark']['type'] == 'point']
    # slider: data, title and statistics follow the model; the space choice is kept
    ex.model.value = 'm-b'
    assert ex.space.value == 'transfer_margin'
    assert cells(ex.chart()).value.loc[(t0, t3)] == pytest.approx(b.space['transfer_margin'].loc[t0, t3])
    assert ex.chart().to_dict()['title'].startswith('m-b: transfer_margin')
    assert f"{b.statistics().loc['sharing', 'within_across_ratio']:.3f}" in ex.stats_out.value
    sr = ex.series_frame().query("statistic == 'spearman'")
    assert sr.model.tolist() == ['m-a', 'm-b']
    assert sr.value.tolist() == pytest.approx([a.statistics().loc['transfer_margin', 'spearman'],
                                              b.statistics().loc['transfer_margin', 'spearman']])
    # compare: two heatmaps in one order, and the scatter
    ex.compare.value = ('m-a', 'gradsim')
    h = ex.chart().to_dict()['hconcat']
    assert [x['title'] for x in h[:2]] == ['m-b: transfer_margin', 'm-a: gradsim']
    assert h[0]['layer'][0]['encoding']['x']['sort'] == h[1]['layer'][0]['encoding']['x']['sort']
    assert h[2]['mark']['type'] == 'circle'


def test_explorer_cell_detail(runs, blimp_dir):
    ex = TaskSpaceExplorer(runs[0], blimp=blimp_dir, n_pairs=2)
    a = ex.run
    t1, t5 = a.space.tasks[1], a.space.tasks[5]
    assert ex.detail() is None
    ex.tuned.value, ex.evaluated.value = t1, t5           # the drop-downs
    d = ex.detail()
    assert (d['tuned'], d['evaluated']) == (t1, t5)
    assert d['acc_after'] - d['acc_before'] == pytest.approx(a.space['transfer'].loc[t1, t5])
    assert d['values']['gradsim'] == pytest.approx(a.space['gradsim'].loc[t1, t5])
    assert len(d['curve']) == 20 and [len(v) for v in d['pairs'].values()] == [2, 2]
    assert d['pairs'][t5][0].uid == t5
    assert set(ex.charts()) == {'space', 'curve'}


def test_explorer_click_through_jupyterchart(runs):
    pytest.importorskip('anywidget', reason='alt.JupyterChart needs anywidget')
    ex = TaskSpaceExplorer(runs[0])
    t = ex.run.space.tasks
    assert 'cell' in ex.jchart.selections.trait_names()
    # what the browser sends when a cell is clicked
    ex.jchart._vl_selections = {'cell': {'value': {'tuned': [t[2]], 'evaluated': [t[4]], 'vlPoint': {'or': [{'tuned': t[2], 'evaluated': t[4]}]}}, 'store': []}}
    assert (ex.tuned.value, ex.evaluated.value) == (t[2], t[4])
    # the selection keeps working after the chart is redrawn
    ex.space.value = 'gradsim'
    ex.jchart._vl_selections = {'cell': {'value': {'tuned': [t[0]], 'evaluated': [t[1]], 'vlPoint': {'or': [{'tuned': t[0], 'evaluated': t[1]}]}}, 'store': []}}
    assert ex.detail()['tuned'] == t[0] and ex.detail()['values']['gradsim'] == pytest.approx(ex.run.space['gradsim'].loc[t[0], t[1]])


def test_explorer_static_fallback_and_inputs(runs):
    sp = load_run(runs[0]).space
    ex = TaskSpaceExplorer({'x': sp, 'y': TaskSpace(sp.tasks, {'transfer': sp['transfer'] * 2}, sp.taxonomy)}, n_perm=99)
    assert list(ex.runs) == ['x', 'y']
    ex.model.value = 'y'                                  # fewer spaces: the drop-down follows
    assert ex.space.options == ('transfer',)
    assert ex.stats_frame().loc['transfer', 'spearman'] == pytest.approx(sp.stats(n_perm=99).loc['transfer', 'spearman'])
    mb = ex._repr_mimebundle_()                            # no kernel here: static charts, not the widget
    mb = mb[0] if isinstance(mb, tuple) else mb
    assert 'application/vnd.jupyter.widget-view+json' not in mb and any('html' in k or 'vegalite' in k for k in mb)
    with pytest.raises(TypeError, match='expected a TaskSpace'): TaskSpaceExplorer([3])


def test_vds_explorer_logic():
    from lts_nb.models import tiny_lm
    from lts_nb.vocab import semantic_bases
    lm = tiny_lm()
    sb = semantic_bases(lm, cache=False)
    vx = VDSExplorer(lm, sb, text='ab')
    f = pd.DataFrame(spec_data(vx.lens_chart().to_dict()))
    assert f.position.nunique() == 3 and f.layer.nunique() == 3          # prefix + 2 bytes; embeddings + 2 layers
    vx.text.value = 'hello there'
    f = pd.DataFrame(spec_data(vx.lens_chart().to_dict()))
    assert f.position.nunique() == 1 + len(lm.encode('hello there'))
    assert f.top_id.tolist() == lens_frame(lm, 'hello there', sb).top_id.tolist()
    vx.lens.value = 'logit'
    g = pd.DataFrame(spec_data(vx.lens_chart().to_dict()))
    assert g.top_id.tolist() == lens_frame(lm, 'hello there', sb, 'logit').top_id.tolist()
    assert vx.lens_chart().to_dict()['title'].startswith('logit lens')
    assert set(vx.charts()) == {'lens'}


def _specs(doc: str) -> list:
    return json.loads(re.search(r'const SPECS = (.*);\n', doc).group(1))


def test_report_is_self_contained(runs, tmp_path):
    out = build_report(runs[0], tmp_path/'r.html')
    doc = out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ['r.html']                     # written atomically
    html_only = re.sub(r'<script>.*?</script>', '', doc, flags=re.S)
    assert not re.findall(r'(?:src|href)\s*=', html_only)                          # nothing to fetch
    assert 'window.vegaEmbed' in doc and 'window.vega=' in doc.replace(' ', '')
    specs = _specs(doc)
    assert len(specs) == doc.count('class="chart"') == len(report_charts(load_run(runs[0])))
    assert all('datasets' in s['spec'] or 'data' in s['spec'] for s in specs)     # data inline
    assert 'spearman' in doc and 'within_across_ratio' in doc


def test_report_specs_render(runs, tmp_path):
    "One chart of each kind in the report renders to SVG with marks (vl-convert's own Vega engine, no browser)."
    vlc = pytest.importorskip('vl_convert')
    from lts_nb.views import _vl_version
    doc = build_report(runs[0], tmp_path/'r.html').read_text()
    specs = _specs(doc)
    kinds = {s['name'].split(' ')[-1] if ' ' in s['name'] else ('heatmap' if s['select'] else s['name']): s for s in specs}
    assert set(kinds) == {'heatmap', 'residual', 'tree', 'accuracy', 'curves'}
    for s in kinds.values():
        svg = vlc.vegalite_to_svg(s['spec'], vl_version=_vl_version())
        assert 'role-mark' in svg, s['name']


def test_lts_report_cli(runs, tmp_path, capsys):
    exe = shutil.which('lts_report') or str(Path(sys.executable).parent/'lts_report')
    if not Path(exe).exists(): pytest.skip('lts_report console script not installed (pip install -e .)')
    r = subprocess.run([exe, str(runs[0]), '--out', str(tmp_path/'cli.html')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'cli.html').stat().st_size > 500_000 and 'wrote' in r.stdout
    with pytest.raises(SystemExit) as e: lts_report.__wrapped__(str(tmp_path/'missing'))   # the function, without argv parsing
    assert e.value.code == 2 and 'no task_space.json' in capsys.readouterr().err
