import json, os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent

def lts(*args, cwd=None):
    return subprocess.run([str(BIN/'lts_score'), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)

def records(path): return [json.loads(l) for l in Path(path).read_text().splitlines()]

def test_generated_pairs_offline(tiny_dir, tmp_path):
    out = tmp_path/'s.jsonl'
    r = lts('--model', tiny_dir, '--n_per_task', 3, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    recs = records(out)
    from lts_nb.generate import GENERATED_TASKS
    assert len(recs) == 3*len(GENERATED_TASKS)
    assert set(recs[0]) == {'UID', 'pairID', 'good', 'bad'} and recs[0]['UID'].startswith('gen_')
    assert all(r['good'] < 0 and r['bad'] < 0 for r in recs)
    assert 'overall' in r.stdout

def test_blimp_tasks(tiny_dir, tmp_path, blimp_dir):
    out = tmp_path/'b.jsonl'
    r = lts('--model', tiny_dir, '--blimp', blimp_dir, '--tasks', 'passive_1,anaphor_gender_agreement',
            '--n_per_task', 4, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    recs = records(out)
    assert [x['UID'] for x in recs] == ['passive_1']*4 + ['anaphor_gender_agreement']*4
    assert 'argument_structure' in r.stdout and 'anaphor_agreement' in r.stdout

@pytest.mark.parametrize('args,msg', [
    (['--blimp', '/no/such/blimp'], 'no such BLiMP source'),
    (['--tasks', 'gen_nonsense'], 'unknown generated task'),
    (['--n_per_task', '0'], 'n_per_task must be >= 1'),
    (['--model', '/no/such/model'], 'no such model directory')])
def test_bad_input_exits_2_and_keeps_old_output(tmp_path, tiny_dir, args, msg):
    out = tmp_path/'keep.jsonl'; out.write_text('previous results\n')
    base = ['--model', tiny_dir] if '--model' not in args else []
    r = lts(*base, *args, '--out', out, '--quiet')
    assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr
    assert out.read_text() == 'previous results\n'

def test_bad_blimp_line_is_named(tmp_path, tiny_dir):
    bad = tmp_path/'passive_1.jsonl'
    bad.write_text('{"sentence_good": "A dog was seen.", "sentence_bad": "A dog was slept.", "UID": "passive_1"}\n{oops\n')
    r = lts('--model', tiny_dir, '--blimp', bad, '--out', tmp_path/'o.jsonl', '--quiet')
    assert r.returncode == 2 and f'{bad}:2: malformed JSON' in r.stderr
    assert not (tmp_path/'o.jsonl').exists()

@pytest.mark.slow
def test_embedded_model_main_job(tmp_path):
    out = tmp_path/'scores.jsonl'
    r = lts('--model', 'smollm2-135m', '--n_per_task', 20, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    recs = records(out)
    acc = sum(x['good'] > x['bad'] for x in recs)/len(recs)
    assert acc > 0.6, acc   # a trained LM prefers our grammatical sentences well above chance
