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


# --- issue 17: pairs from anywhere -----------------------------------------------------------------------------------
import pandas as pd
from lts_nb.data import TaskSet

def test_from_frame_roundtrip_and_taxonomy(blimp_dir):
    ts = load_blimp(blimp_dir, tasks='passive_1,adjunct_island', n_per_task=5)
    assert TaskSet.from_frame(ts.to_frame()) == ts
    csv_like = pd.DataFrame({'grammatical': ['Ils dorment.', 'Elle dort.'], 'ungrammatical': ['Ils dort.', 'Elle dorment.'],
                             'task': ['fr_sva', 'fr_sva']})
    mine = TaskSet.from_frame(csv_like, taxonomy={'fr_sva': ('subject_verb_agreement', 'morphology')})
    assert mine.taxonomy().loc['fr_sva'].tolist() == ['subject_verb_agreement', 'morphology']
    assert [p.pair_id for p in mine['fr_sva']] == [0, 1] and mine['fr_sva'][0].source == 'frame'
    with pytest.raises(DataError, match=r"row 1: empty bad"): TaskSet.from_frame(csv_like.assign(ungrammatical=['x.', ' ']))
    with pytest.raises(DataError, match=r"column 'sen' \(for good\) is not in the table"): TaskSet.from_frame(csv_like, good='sen')
    with pytest.raises(DataError, match='has no rows'): TaskSet.from_frame(csv_like.iloc[:0])

def test_from_hf_on_a_local_dataset(blimp_dir):
    datasets = pytest.importorskip('datasets')
    ts = load_blimp(blimp_dir, tasks='passive_1', n_per_task=4)
    recs = [{'sentence_good': p.good, 'sentence_bad': p.bad, 'UID': p.uid, 'pairID': p.pair_id} for p in ts.pairs]
    ds = datasets.Dataset.from_list(recs)
    got = TaskSet.from_hf(ds)
    key = lambda t: [(p.uid, p.pair_id, p.good, p.bad, p.phenomenon, p.field) for p in t.pairs]
    assert key(got) == key(ts) and got['passive_1'][0].source == 'hf' and got.field('passive_1') == 'syntax'
    with pytest.raises(DataError, match='DatasetDict'): TaskSet.from_hf(datasets.DatasetDict(test=ds))

def test_from_hf_imports_datasets_lazily():
    import subprocess, sys
    code = "import sys, lts_nb.data; assert 'datasets' not in sys.modules, 'imported datasets'"
    assert subprocess.run([sys.executable, '-c', code], capture_output=True).returncode == 0


# --- issue 19: files that cannot be read as they are --------------------------------------------------------------------
import os

def test_fifo_and_folder_named_jsonl(tmp_path):
    fifo = tmp_path/'passive_1.jsonl'; os.mkfifo(fifo)
    with pytest.raises(DataError, match='passive_1.jsonl is not a regular file'): load_blimp(tmp_path)   # no hang
    fifo.unlink(); fifo.mkdir()
    with pytest.raises(DataError, match='no \\*.jsonl files|is a folder'): load_blimp(tmp_path)

@pytest.mark.parametrize('data,msg', [(json.dumps(REC).encode('utf-16'), 'is UTF-16 text'),
                                      (bytes(range(256)) * 4, 'binary data'), (b'\xff\xfe\x00', 'UTF-16')])
def test_encodings_named(tmp_path, data, msg):
    f = tmp_path/'wh_questions_object_gap.jsonl'; f.write_bytes(data)
    with pytest.raises(DataError, match=f'{f.name} .*{msg}'): load_blimp(f)

def test_truncated_and_fake_zip(tmp_path, blimp_dir):
    z = tmp_path/'cut.zip'; z.write_bytes((blimp_dir/'BLiMP.zip').read_bytes()[:300_000])
    with pytest.raises(DataError, match='cut.zip is not a valid zip file'): load_blimp(z)
    f = tmp_path/'fake.zip'; f.write_text('hello')
    with pytest.raises(DataError, match='fake.zip is not a valid zip file'): load_blimp(f)

def test_damaged_zip_member(tmp_path, blimp_dir):
    "A zip whose directory is intact but a member's bytes are damaged: the member is named."
    src = tmp_path/'one.zip'
    with zipfile.ZipFile(src, 'w', zipfile.ZIP_DEFLATED) as z: z.write(blimp_dir/'passive_1.jsonl', 'passive_1.jsonl')
    data = bytearray(src.read_bytes()); data[100:400] = bytes(300); src.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r'one.zip!passive_1.jsonl cannot be read'): load_blimp(src)

@pytest.mark.skipif(hasattr(os, 'geteuid') and os.geteuid() == 0, reason='root reads any file')
def test_unreadable_file(tmp_path):
    f = write(tmp_path/'wh_questions_object_gap.jsonl', [json.dumps(REC)]); f.chmod(0)
    try:
        with pytest.raises(DataError, match='not readable'): load_blimp(f)
    finally: f.chmod(0o644)

def test_cut_download_fails_and_caches_nothing(tmp_path, monkeypatch, blimp_dir):
    import http.server, socketserver, threading
    body = (blimp_dir/'passive_1.jsonl').read_bytes()
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            self.wfile.write(body[:len(body) // 3]); self.close_connection = True
        def log_message(self, *a): pass
    srv = socketserver.TCPServer(('127.0.0.1', 0), H); threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    try:
        for _ in range(2):
            with pytest.raises(DataError, match=r'is incomplete: [\d,]+ of the [\d,]+ bytes'):
                load_blimp(f'http://127.0.0.1:{srv.server_address[1]}/passive_1.jsonl')
    finally: srv.shutdown(); srv.server_close()
    assert [p for p in (tmp_path/'cache').rglob('*') if p.is_file()] == []
