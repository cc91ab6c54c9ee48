import json, zipfile
import pytest
from lts_nb.data import load_blimp, split, DataError, MinimalPair, BLIMP_IDENTICAL_PAIRS

REC = dict(sentence_good='Who did Amy see?', sentence_bad='Who did Amy see Bo?', UID='wh_questions_object_gap', pairID='0')

def write(path, lines): path.write_text('\n'.join(lines) + '\n'); return path

def test_all_blimp_forms_agree(blimp_dir, tmp_path):
    d = load_blimp(blimp_dir, tasks='passive_1,principle_A_case_2', n_per_task=50)
    z = load_blimp(blimp_dir/'BLiMP.zip', tasks=['passive_1', 'principle_A_case_2'], n_per_task=50)
    assert d == z and list(d) == ['passive_1', 'principle_A_case_2']

def test_known_identical_pairs_skipped(blimp_dir):
    ts = load_blimp(blimp_dir, tasks='passive_1,principle_A_case_2')
    assert sum(map(len, ts.values())) == 2000 - len(BLIMP_IDENTICAL_PAIRS)
    assert all(p.good != p.bad for p in ts.pairs)

@pytest.mark.parametrize('line,msg', [
    ('{"sentence_good": ', 'bad.jsonl:2: malformed JSON'),
    (json.dumps({**REC, 'sentence_bad': None} | {'sentence_bad': ''}), 'bad.jsonl:2: empty bad'),
    (json.dumps({k: v for k, v in REC.items() if k != 'UID'}), "bad.jsonl:2: missing field(s) ['UID']"),
    (json.dumps({**REC, 'sentence_bad': REC['sentence_good']}), 'bad.jsonl:2: good == bad'),
    (json.dumps({**REC, 'UID': 'made_up'}), "bad.jsonl:2: unknown UID 'made_up'"),
    (json.dumps({**REC, 'pairID': 'x'}), "bad.jsonl:2: pairID 'x' is not an integer")])
def test_bad_input_names_file_and_line(tmp_path, line, msg):
    p = write(tmp_path/'bad.jsonl', [json.dumps(REC), line])
    before = p.read_bytes()
    with pytest.raises(DataError) as e: load_blimp(p)
    assert msg in str(e.value)
    assert p.read_bytes() == before  # loses nothing

def test_own_tasks_with_strict_uid_off(tmp_path):
    p = write(tmp_path/'mine.jsonl', [json.dumps({**REC, 'UID': 'my_task', 'linguistics_term': 's-selection', 'field': 'syntax/semantics'})])
    ts = load_blimp(p, strict_uid=False)
    assert ts.taxonomy().loc['my_task'].tolist() == ['argument_structure', 'syntax_semantics']

def test_empty_and_wrong_sources(tmp_path):
    with pytest.raises(DataError, match='no minimal pairs'): load_blimp(write(tmp_path/'e.jsonl', ['']))
    (tmp_path/'empty_dir').mkdir()
    with pytest.raises(DataError, match='no \\*.jsonl files'): load_blimp(tmp_path/'empty_dir')
    with pytest.raises(DataError, match='not a directory, .zip or .jsonl'): load_blimp(write(tmp_path/'x.txt', ['a']))

def test_url_offline_is_clear(tmp_path, monkeypatch):
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path))
    with pytest.raises(DataError, match='could not download'): load_blimp('http://127.0.0.1:9/data/', tasks='passive_1')
    assert not list(tmp_path.rglob('*.jsonl'))  # nothing half-downloaded left in the cache

def test_url_download_cached(tmp_path, monkeypatch, blimp_dir):
    "A file:// URL exercises the download-once path without a network."
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    url = (blimp_dir/'BLiMP.zip').as_uri()
    a = load_blimp(url, tasks='passive_2', n_per_task=10)
    cached = list((tmp_path/'cache').rglob('BLiMP.zip'))
    assert len(cached) == 1
    assert load_blimp(url, tasks='passive_2', n_per_task=10) == a

def test_split_seeded_disjoint(blimp_dir):
    ts = load_blimp(blimp_dir, tasks='passive_1,causative')
    tr, te = split(ts, 100, 300, seed=3)
    tr2, te2 = split(ts, 100, 300, seed=3)
    assert tr == tr2 and te == te2
    for u in ts:
        assert len(tr[u]) == 100 and len(te[u]) == 300
        train_sents = {s for p in tr[u] for s in (p.good, p.bad)}
        assert not any(p.good in train_sents or p.bad in train_sents for p in te[u])
