"Pretraining checkpoints and the series CLI, on a miniature (the full recipe is bench/series_bench.py)."
import contextlib, io, json, sys
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
import pandas as pd
import pytest

TASKS = 'gen_sva_simple,gen_anaphor_gender,gen_npi_never'

def run(cmd, *args):
    "The console script `cmd` in this process, through its argument parser: returncode, stdout, stderr."
    from lts_nb.pretrain import lts_pretrain
    from lts_nb.series import lts_series
    f = {'lts_pretrain': lts_pretrain, 'lts_series': lts_series}[cmd]
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, 'argv', [cmd, *map(str, args)]), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: f(); code = 0
        except SystemExit as e: code = e.code
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())

@pytest.fixture(scope='module')
def pretrained(tmp_path_factory):
    out = tmp_path_factory.mktemp('pre')/'xs'
    r = run('lts_pretrain', '--size', 'xs', '--steps', 8, '--batch_size', 8, '--n_sentences', 500, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    return out

def test_pretrain_log_schedule(pretrained):
    assert sorted(p.name for p in pretrained.glob('step*')) == ['step0', 'step1', 'step2', 'step4', 'step8']
    assert not list(pretrained.glob('*.tmp'))
    assert json.loads((pretrained/'step8'/'provenance.json').read_text())['model']['weights_sha256'].startswith('sha256:')
    log = [json.loads(l) for l in (pretrained/'train_log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in log] == [1, 2, 4, 8]

def test_pretrain_bad_input(pretrained, tmp_path):
    r = run('lts_pretrain', '--size', 'xxl', '--out', tmp_path/'x', '--quiet')
    assert r.returncode == 2 and "--size must be one of 'xs', 's', 'm'; got 'xxl'" in r.stderr
    r = run('lts_pretrain', '--size', 'xs', '--steps', 16, '--out', pretrained, '--quiet')
    assert r.returncode == 2 and 'other settings' in r.stderr

def test_series_cli(pretrained, tmp_path):
    models = ','.join(str(pretrained/f'step{s}') for s in (2, 4, 8))
    cmd = ['--models', models, '--tasks', TASKS, '--steps', 3, '--n_train', 8, '--n_test', 16, '--out', tmp_path/'ser', '--quiet']
    r = run('lts_series', *cmd)
    assert r.returncode == 0, r.stderr
    tab = pd.read_csv(tmp_path/'ser'/'series.csv', index_col=0)
    assert tab.step.tolist() == [2, 4, 8] and set(tab.family) == {'xs'}
    assert tab.stab_gradsim.isna().tolist() == [True, False, False]
    assert (tmp_path/'ser'/'series.html').exists()
    from lts_nb.provenance import missing_provenance, read_provenance
    for f in ('series.csv', 'series.html', 'series.json'):
        assert missing_provenance(read_provenance(tmp_path/'ser'/f)) == [], f
    assert len(read_provenance(tmp_path/'ser'/'series.csv')['model']) == 3
    from lts_nb.series import Series
    logs = {k: (d/'log.txt').read_text() for k, d in Series.load(tmp_path/'ser').runs.items()}
    assert len(logs) == 3
    r2 = run('lts_series', *cmd)   # all done: no member is recomputed
    assert r2.returncode == 0, r2.stderr
    assert {k: (d/'log.txt').read_text() for k, d in Series.load(tmp_path/'ser').runs.items()} == logs
    assert pd.read_csv(tmp_path/'ser'/'series.csv', index_col=0).equals(tab)

def test_series_bad_model(tmp_path):
    r = run('lts_series', '--models', '/no/such/model', '--tasks', TASKS, '--out', tmp_path/'s', '--quiet')
    assert r.returncode == 2 and 'no such model directory' in r.stderr

def test_series_needs_models(tmp_path):
    r = run('lts_series', '--out', tmp_path/'s', '--quiet')
    assert r.returncode == 2 and '--models is required' in r.stderr
