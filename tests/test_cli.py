import json, os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent

def lts(*args, cwd=None):
    return subprocess.run([str(BIN/'lts_score'), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)

def records(path): return [json.loads(l) for l in Path(path).read_text().splitlines()]

def lts_inproc(*args):
    "lts_score's console entry run in this process (no torch re-import): a CompletedProcess-like result."
    import contextlib, io, types
    from unittest import mock
    from lts_nb.cli import main
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, 'argv', ['lts_score', *map(str, args)]), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: main(); code = 0
        except SystemExit as e: code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())

def test_generated_pairs_offline(tiny_dir, tmp_path):
    out = tmp_path/'s.jsonl'
    r = lts('--model', tiny_dir, '--n_per_task', 3, '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    recs = records(out)
    from lts_nb.generate import GENERATED_TASKS
    assert len(recs) == 3*len(GENERATED_TASKS)
    assert set(recs[0]) == {'UID', 'pairID', 'good', 'bad', 'sentence_good', 'sentence_bad'} and recs[0]['UID'].startswith('gen_')
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
    (['--batch_size', '0'], '--batch_size must be >= 1'),
    (['--seed', '-1'], '--seed must be >= 0'),
    (['--tasks', ''], '--tasks is empty'),
    (['--prefix', 'cls'], '--prefix must be one of'),
    (['--device', 'bogus'], "unknown device 'bogus'"),
    (['--model', '/no/such/model'], 'no such model directory')])
def test_bad_input_exits_2_and_keeps_old_output(tmp_path, tiny_dir, args, msg):
    out = tmp_path/'keep.jsonl'; out.write_text('previous results\n')
    base = ['--model', tiny_dir] if '--model' not in args else []
    r = lts_inproc(*base, *args, '--out', out, '--quiet')
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


# --- issue 17: provenance, sentences, prefix, per-token ---------------------------------------------------------------
def test_sidecar_provenance_and_sentences(tiny_dir, tmp_path):
    from lts_nb.provenance import read_provenance, missing_provenance, content_hash, weights_hash
    from lts_nb.models import load_model
    from lts_nb.cli import select_pairs
    out = tmp_path/'s.jsonl'
    r = lts_inproc('--model', tiny_dir, '--tasks', 'gen_sva_simple,gen_npi_never', '--n_per_task', 3, '--seed', 4, '--prefix', 'eos', '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    prov = read_provenance(out)
    assert missing_provenance(prov) == [] and (tmp_path/'s.meta.json').is_file()
    assert prov['model']['prefix'] == 'eos' and prov['model']['prefix_ids'] == [257] and prov['model']['prefix_tokens'] == ['<eos>']
    assert prov['model']['weights_sha256'] == weights_hash(load_model(str(tiny_dir)))
    assert prov['seeds'] == {'seed': 4} and prov['data']['source'] == 'lts_nb.generate'
    assert prov['data']['sha256'] == content_hash(select_pairs(None, 'gen_sva_simple,gen_npi_never', 3, 4))
    assert prov['command'].startswith('lts_score --model') and '--prefix eos' in prov['command']
    recs = records(out)
    ts = select_pairs(None, 'gen_sva_simple,gen_npi_never', 3, 4)
    assert [(x['sentence_good'], x['sentence_bad']) for x in recs] == [(p.good, p.bad) for p in ts.pairs]

def test_prefix_changes_scores(tiny_dir, tmp_path):
    outs = {}
    for pre in ('bos', 'eos', 'none', '65'):
        r = lts_inproc('--model', tiny_dir, '--tasks', 'gen_sva_simple', '--n_per_task', 2, '--prefix', pre, '--out', tmp_path/f'{pre}.jsonl', '--quiet')
        assert r.returncode == 0, r.stderr
        outs[pre] = [x['good'] for x in records(tmp_path/f'{pre}.jsonl')]
    assert len({tuple(v) for v in outs.values()}) == 4      # four prefixes, four different scores
    from lts_nb.provenance import read_provenance
    assert read_provenance(tmp_path/'65.jsonl')['model']['prefix_ids'] == [65]
    assert read_provenance(tmp_path/'none.jsonl')['model']['prefix_ids'] == []

def test_per_token_outputs(tiny_dir, tmp_path):
    out = tmp_path/'s.jsonl'
    r = lts('--model', tiny_dir, '--tasks', 'gen_sva_simple', '--n_per_task', 2, '--per-token', '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    recs, toks, words = records(out), records(tmp_path/'s.tokens.jsonl'), records(tmp_path/'s.words.jsonl')
    for x in recs:
        for which in ('good', 'bad'):
            t = [y for y in toks if (y['UID'], y['pairID'], y['sentence']) == (x['UID'], x['pairID'], which)]
            assert abs(sum(y['logprob'] for y in t) - x[which]) < 1e-4
            w = [y for y in words if (y['UID'], y['pairID'], y['sentence']) == (x['UID'], x['pairID'], which)]
            assert [y['word'] for y in w] == x[f'sentence_{which}'].split()
    assert {'token', 'start', 'end', 'surprisal_bits', 'rank'} <= set(toks[0])
    from lts_nb.provenance import read_provenance, missing_provenance
    for f in ('s.jsonl', 's.tokens.jsonl', 's.words.jsonl'): assert missing_provenance(read_provenance(tmp_path/f)) == []
    meta = json.loads((tmp_path/'s.meta.json').read_text())
    assert meta['files'] == ['s.jsonl', 's.tokens.jsonl', 's.words.jsonl'] and meta['provenance']['settings']['per_token']

@pytest.mark.parametrize('make,msg', [
    (lambda p: (p/'o').mkdir() or p/'o', 'is a folder'),
    (lambda p: (p/'f').write_text('x') and p/'f'/'o.jsonl', 'is a file, not a folder')])
def test_out_checked_before_loading(tmp_path, make, msg):
    r = lts_inproc('--model', '/no/such/model', '--out', make(tmp_path), '--quiet')
    assert r.returncode == 2 and msg in r.stderr and 'no such model' not in r.stderr
