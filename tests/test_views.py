"Widget logic, charts and the standalone report of lts_nb.views, views_vds and views_report (no browser: see test_report_browser.py and test_lab_browser.py)."
import json, re, shutil, subprocess, sys, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lts_nb.runs import Run, fake_run_dir, load_run
from lts_nb.task_space import TaskSpace
from lts_nb.utils import ConfigError, RunFolderError
from lts_nb.views import (TaskSpaceExplorer, space_frame, space_heatmap, spec_data, stats_table, task_flags, task_labels,
                          task_order, use_offline)
from lts_nb.views_report import build_report, lts_report, report_charts
from lts_nb.views_vds import VDSExplorer, lens_frame


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('views')
    return fake_run_dir(d/'a', n_tasks=8, seed=0, model='m-a'), fake_run_dir(d/'b', n_tasks=8, seed=1, model='m-b')


def cells(chart) -> pd.DataFrame:
    "The heatmap cells' data of a chart, indexed by (tuned, evaluated)."
    return pd.DataFrame(spec_data(chart.to_dict())).set_index(['tuned', 'evaluated'])


def labels_in(run, order) -> list:
    lab = task_labels(run)
    return [lab[u] for u in order]


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
    with pytest.raises(RunFolderError, match='no task_space.json'): load_run(tmp_path)


def test_bad_run_folders_name_the_file(runs, tmp_path):
    with pytest.raises(RunFolderError, match='no such run folder'): load_run(tmp_path/'missing')
    for f, data, msg in [('task_space.json', '{"tasks": [', 'task_space.json is damaged'),
                         ('task_space.npz', b'garbage', 'task_space.npz is damaged'),
                         ('eval_before.json', '[1,', 'eval_before.json is damaged')]:
        d = shutil.copytree(runs[0], tmp_path/f.replace('.', '_'))
        (d/f).write_bytes(data if isinstance(data, bytes) else data.encode())
        with pytest.raises(RunFolderError, match=re.escape(str(d/f).split('/')[-2] + '/' + msg)): load_run(d)


def test_explorer_controls_change_the_chart(runs):
    ex = TaskSpaceExplorer(list(runs))
    a, b = (load_run(p) for p in runs)
    t0, t3 = a.space.tasks[0], a.space.tasks[3]
    assert list(ex.runs) == ['m-a', 'm-b'] and [v for _, v in ex.space.options] == a.space.spaces
    # space
    for name in ('sharing', 'transfer_margin'):
        ex.space.value = name
        assert cells(ex.chart()).value.loc[(t0, t3)] == pytest.approx(a.space[name].loc[t0, t3])
    # order: taxonomy, then cluster (with cluster bands); axes carry the tasks' names, bands labelled as bands
    spec = ex.chart().to_dict()['layer'][0]
    assert spec['encoding']['y']['sort'] == ['phenomenon band'] + labels_in(a, task_order(a.space, 'transfer_margin', 'taxonomy'))
    ex.order.value = 'cluster'
    spec = ex.chart().to_dict()['layer'][0]
    assert spec['encoding']['y']['sort'] == ['phenomenon band', 'cluster band'] + labels_in(a, task_order(a.space, 'transfer_margin', 'cluster'))
    # overlay: residual colours by the residual; hypothesis adds a point layer sized by the taxonomy relation
    ex.overlay.value = 'residual'
    d = ex.chart().to_dict()
    assert d['layer'][0]['encoding']['color']['field'] == 'residual'
    sf = space_frame(a.space, 'transfer_margin').set_index(['tuned', 'evaluated'])
    assert cells(ex.chart()).residual.loc[(t0, t3)] == pytest.approx(sf.residual.loc[(t0, t3)])
    ex.overlay.value = 'hypothesis'
    pts = [l for l in ex.chart().to_dict()['layer'] if l['mark']['type'] == 'point']
    assert len(pts) == 1 and pts[0]['encoding']['size']['field'] == 'relation'
    ex.overlay.value = 'none'
    assert not [l for l in ex.chart().to_dict()['layer'] if l['mark']['type'] == 'point']
    # slider: data, title and statistics follow the model; the space choice and the colour range are kept
    dom = ex.chart().to_dict()['layer'][0]['encoding']['color']['scale']['domain']
    ex.model.value = 'm-b'
    assert ex.space.value == 'transfer_margin'
    assert cells(ex.chart()).value.loc[(t0, t3)] == pytest.approx(b.space['transfer_margin'].loc[t0, t3])
    assert ex.chart().to_dict()['title']['text'].startswith('m-b: transfer (margin)')
    assert ex.chart().to_dict()['layer'][0]['encoding']['color']['scale']['domain'] == dom
    assert f"{b.statistics().loc['sharing', 'within_minus_across']:.3f}" in ex.stats_out.value
    sr = ex.series_frame().query("statistic == 'Spearman ρ'")
    assert sr.model.tolist() == ['m-a', 'm-b']
    assert sr.value.tolist() == pytest.approx([a.statistics().loc['transfer_margin', 'spearman'],
                                              b.statistics().loc['transfer_margin', 'spearman']])
    # compare: two heatmaps in one order, and the scatter
    ex.compare.value = ('m-a', 'gradsim')
    h = ex.chart().to_dict()['hconcat']
    assert [x['title']['text'] for x in h[:2]] == ['m-b: transfer (margin)', 'm-a: gradient similarity']
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
    assert d['pairs'][t5][0].good in ex.detail_out.value


def test_explorer_click_through_jupyterchart(runs):
    pytest.importorskip('anywidget', reason='alt.JupyterChart needs anywidget')
    ex = TaskSpaceExplorer(runs[0])
    t = ex.run.space.tasks
    jc = ex.heat.jchart
    assert 'cell' in jc.selections.trait_names() and jc.embed_options['renderer'] == 'svg'
    # what the browser sends when a cell is clicked
    jc._vl_selections = {'cell': {'value': {'tuned': [t[2]], 'evaluated': [t[4]], 'vlPoint': {'or': [{'tuned': t[2], 'evaluated': t[4]}]}}, 'store': []}}
    assert (ex.tuned.value, ex.evaluated.value) == (t[2], t[4])
    # the selection keeps working after the chart is redrawn, in the same widget
    ex.space.value = 'gradsim'
    assert ex.heat.jchart is jc
    jc._vl_selections = {'cell': {'value': {'tuned': [t[0]], 'evaluated': [t[1]], 'vlPoint': {'or': [{'tuned': t[0], 'evaluated': t[1]}]}}, 'store': []}}
    assert ex.detail()['tuned'] == t[0] and ex.detail()['values']['gradsim'] == pytest.approx(ex.run.space['gradsim'].loc[t[0], t[1]])


def test_explorer_static_fallback_and_inputs(runs):
    sp = load_run(runs[0]).space
    ex = TaskSpaceExplorer({'x': sp, 'y': TaskSpace(sp.tasks, {'transfer': sp['transfer'] * 2}, sp.taxonomy)}, n_perm=99)
    assert list(ex.runs) == ['x', 'y']
    ex.model.value = 'y'                                  # fewer spaces: the drop-down follows
    assert [v for _, v in ex.space.options] == ['transfer']
    assert ex.stats_frame().loc['transfer', 'spearman'] == pytest.approx(sp.stats(n_perm=99).loc['transfer', 'spearman'])
    mb = ex._repr_mimebundle_()                            # no kernel here: static charts, not the widget
    mb = mb[0] if isinstance(mb, tuple) else mb
    assert 'application/vnd.jupyter.widget-view+json' not in mb and any('html' in k or 'vegalite' in k for k in mb)
    with pytest.raises(ConfigError, match='expected a TaskSpace'): TaskSpaceExplorer([3])


def test_multi_seed_run_and_chance_level(tmp_path):
    "A run aggregated over seeds: sd matrices are not spaces, they show in tooltips, a panel and intervals; sharing against chance."
    r = load_run(fake_run_dir(tmp_path/'ms', n_tasks=6, n_seeds=3, acc_before={'anaphor_gender_agreement': 0.2}))
    ex = TaskSpaceExplorer(r)
    assert [v for _, v in ex.space.options] == ['transfer', 'transfer_margin', 'gradsim', 'sharing']
    assert not ex.sd.disabled
    ex.sd.value = True
    sd_panel = ex.chart().to_dict()['hconcat'][1]
    assert sd_panel['layer'][0]['encoding']['color']['field'] == 'sd'
    assert '[' in stats_table(r).loc['transfer', 'Spearman ρ']                    # "0.70 [0.61, 0.79]"
    ex.space.value = 'sharing'; ex.sd.value = False
    scale = ex.chart().to_dict()['layer'][0]['encoding']['color']['scale']
    assert scale['domainMid'] == pytest.approx(r.chance('sharing')) and scale['scheme'] == 'redblue'
    assert task_flags(r)['anaphor_gender_agreement'] == 'below chance'
    assert '▼' in task_labels(r)['anaphor_gender_agreement']


def test_one_scale_for_every_run(runs):
    "The same space gets the same colour scheme in every run, whatever its data."
    a, b = load_run(runs[0]), load_run(runs[1])
    flat = TaskSpace(a.space.tasks, {'transfer': a.space['transfer'].abs() + 0.01}, a.space.taxonomy)      # no negative entry
    schemes = {space_heatmap(x, 'transfer').to_dict()['layer'][0]['encoding']['color']['scale']['scheme'] for x in (a, b, flat)}
    assert schemes == {'redblue'}
    assert space_heatmap(flat, 'transfer').to_dict()['layer'][0]['encoding']['color']['scale']['domainMid'] == 0


def test_old_import_paths_warn(runs):
    import lts_nb.views as v
    with pytest.warns(DeprecationWarning, match='moved to lts_nb.views_report'):
        assert v.build_report is build_report
    with pytest.warns(DeprecationWarning, match='moved to lts_nb.runs'):
        assert v.fake_run_dir is fake_run_dir
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert v.lts_report is lts_report and v.Run is Run      # the console script's old path, and what views take


def test_offline_renderer_keeps_html_without_a_kernel():
    import altair as alt
    assert use_offline() and alt.renderers.active == 'lts_offline'
    c = alt.Chart(pd.DataFrame({'x': [1, 2]})).mark_point().encode(x='x')
    b = c._repr_mimebundle_()
    b = b[0] if isinstance(b, tuple) else b
    assert 'cdn.jsdelivr.net/npm/vega@6' in b['text/html']                       # stored outputs keep Altair's format


def test_vds_explorer_logic():
    from lts_nb.models import tiny_lm
    from lts_nb.vds import semantic_bases
    lm = tiny_lm()
    sb = semantic_bases(lm, cache=False)
    vx = VDSExplorer(lm, sb, text='ab')
    f = pd.DataFrame(spec_data(vx.lens_chart().to_dict()))
    assert f.position.nunique() == len(lm.prefix_ids) + 2 and f.layer.nunique() == 3      # prefix + 2 bytes; embeddings + 2 layers
    vx.text.value = 'hello there'
    f = pd.DataFrame(spec_data(vx.lens_view.chart.to_dict()))                              # what the widget now draws
    assert f.position.nunique() == len(lm.prefix_ids) + len(lm.encode('hello there'))
    assert f.top_id.tolist() == lens_frame(lm, 'hello there', sb).top_id.tolist()
    vx.lens.value = 'logit'
    g = pd.DataFrame(spec_data(vx.lens_view.chart.to_dict()))
    assert g.top_id.tolist() == lens_frame(lm, 'hello there', sb, 'logit').top_id.tolist()
    assert vx.lens_chart().to_dict()['title']['text'] == 'logit lens'
    assert set(vx.charts()) == {'lens'}


def _specs(doc: str) -> list:
    return json.loads(re.search(r'const SPECS = (.*);\n', doc).group(1))


def test_report_is_self_contained(runs, tmp_path):
    out = build_report(runs[0], tmp_path/'r.html')
    doc = out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['r.html', 'r.meta.json']        # written atomically, provenance beside
    html_only = re.sub(r'<script[^>]*>.*?</script>', '', doc, flags=re.S)
    assert not re.findall(r'(?:src|href)\s*=', html_only)                          # nothing to fetch
    assert 'window.vegaEmbed' in doc and 'window.vega=' in doc.replace(' ', '')
    specs = _specs(doc)
    assert len(specs) == doc.count('class="chart"') == len(report_charts(load_run(runs[0])))
    assert all('datasets' in s['spec'] or 'data' in s['spec'] for s in specs)     # data inline
    assert 'Spearman ρ' in doc and 'within − across' in doc and '"anaphor gender agreement"' in doc


def test_report_specs_render(runs, tmp_path):
    "One chart of each kind in the report renders to SVG with marks (vl-convert's own Vega engine, no browser)."
    vlc = pytest.importorskip('vl_convert')
    from lts_nb.views_report import _vl_version
    doc = build_report(runs[0], tmp_path/'r.html').read_text()
    specs = _specs(doc)
    kinds = {s['name'].split(' ')[-1] if ' ' in s['name'] else ('heatmap' if s['select'] else s['name']): s for s in specs}
    assert set(kinds) == {'heatmap', 'residual', 'tree', 'accuracy', 'curves'}
    for s in kinds.values():
        svg = vlc.vegalite_to_svg(s['spec'], vl_version=_vl_version())
        assert 'role-mark' in svg, s['name']


def _cli() -> str:
    exe = shutil.which('lts_report') or str(Path(sys.executable).parent/'lts_report')
    if not Path(exe).exists(): pytest.skip('lts_report console script not installed (pip install -e .)')
    return exe


def test_lts_report_cli(runs, tmp_path, capsys):
    exe = _cli()
    r = subprocess.run([exe, str(runs[0]), '--out', str(tmp_path/'cli.html')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'cli.html').stat().st_size > 500_000 and 'wrote' in r.stdout
    with pytest.raises(SystemExit) as e: lts_report.__wrapped__(str(tmp_path/'missing'))   # the function, without argv parsing
    assert e.value.code == 2 and 'no such run folder' in capsys.readouterr().err


def test_lts_report_writes_into_the_run_folder(runs, tmp_path, monkeypatch, capsys):
    d = shutil.copytree(runs[1], tmp_path/'run')
    monkeypatch.chdir(tmp_path)
    lts_report.__wrapped__(str(d))                                              # no --out
    assert (d/'report.html').exists() and (d/'report.meta.json').exists() and not (tmp_path/'report.html').exists()
    assert f"wrote {d/'report.html'}" in capsys.readouterr().out


@pytest.mark.parametrize('damage', ['missing', 'no_json', 'bad_json', 'bad_npz'])
def test_lts_report_bad_input_is_one_line_naming_the_file(runs, tmp_path, damage, capsys):
    "The command's error policy (lts_nb.utils.cli_errors), in-process: the console script itself is run in test_lts_report_cli."
    d = tmp_path/'run'
    if damage != 'missing': shutil.copytree(runs[0], d)
    if damage == 'no_json': (d/'task_space.json').unlink()
    if damage == 'bad_json': (d/'task_space.json').write_text('{"tasks": ["a"')
    if damage == 'bad_npz': (d/'task_space.npz').write_bytes(b'PK\x03\x04 cut short')
    with pytest.raises(SystemExit) as e: lts_report.__wrapped__(str(d))
    err = capsys.readouterr().err
    want = {'missing': f'{d}: no such run folder', 'no_json': 'no task_space.json', 'bad_json': f"{d/'task_space.json'} is damaged",
            'bad_npz': f"{d/'task_space.npz'} is damaged"}[damage]
    assert e.value.code == 2 and err.startswith('lts_report: error: ') and want in err, err
    assert err.strip().count('\n') == 0 and 'Traceback' not in err
    assert not (d/'report.html').exists()
