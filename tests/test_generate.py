"Tests of lts_nb.generate as installed: determinism, deduplication, minimality, errors, jsonl round trip."
import json
from pathlib import Path

import pytest

from lts_nb.data import FIELDS, PHENOMENA, DataError, MinimalPair, TaskSet, load_blimp, read_jsonl
from lts_nb.generate import (GENERATED_TASKS, TASKS, check_task, edit_kind, generate_jsonl, generate_pairs,
                             grammatical_sentences)


@pytest.fixture(scope='module')
def pairs():
    return generate_pairs(n_per_task=60, seed=0)


def test_task_table():
    assert len(GENERATED_TASKS) >= 8
    assert len({ph for ph, _, _ in GENERATED_TASKS.values()}) >= 8
    for uid, (ph, fi, desc) in GENERATED_TASKS.items():
        assert uid.startswith('gen_') and ph in PHENOMENA and fi in FIELDS and desc


def test_shape_and_labels(pairs):
    assert isinstance(pairs, TaskSet) and list(pairs) == list(GENERATED_TASKS)
    for uid, ps in pairs.items():
        assert len(ps) == 60
        assert all(isinstance(p, MinimalPair) and p.source == 'generated' for p in ps)
        assert [p.pair_id for p in ps] == list(range(60))
        assert {(p.phenomenon, p.field) for p in ps} == {GENERATED_TASKS[uid][:2]}


def test_deterministic(pairs):
    assert generate_pairs(n_per_task=60, seed=0) == pairs
    other = generate_pairs(n_per_task=60, seed=1)
    assert all(other[u] != pairs[u] for u in pairs)
    # a task's pairs do not depend on which other tasks are generated with it
    assert generate_pairs(['gen_npi_any'], 60, seed=0)['gen_npi_any'] == pairs['gen_npi_any']


def test_deduplicated_and_minimal(pairs):
    for uid, ps in pairs.items():
        goods, bads = [p.good for p in ps], [p.bad for p in ps]
        assert len(set(goods)) == len(ps) and len(set(bads)) == len(ps)
        assert all(p.good != p.bad for p in ps)
        assert {edit_kind(p.good, p.bad) for p in ps} == {TASKS[uid].edit}, uid
        assert all(s[0].isupper() and s[-1] in '.?' for s in goods + bads)
    assert not {p.good for p in pairs.pairs} & {p.bad for p in pairs.pairs}


def test_edit_kind():
    assert edit_kind('The cat sleeps.', 'The cat sleep.') == 'substitution'
    assert edit_kind('Which cat did Anna see?', 'Which did Anna see cat?') == 'move'
    assert edit_kind('Anna slept.', 'Anna slept Leo.') == 'insertion'
    assert edit_kind('Anna saw Leo.', 'Leo saw Anna today.') == 'other'


def test_check_task_small_tasks_completely():
    for uid in ('gen_anaphor_gender', 'gen_anaphor_number', 'gen_binding_c_command'):
        r = check_task(uid, max_pairs=None)
        assert r['complete'] and r['checked'] == TASKS[uid].size
        assert r['repeated_good'] == r['repeated_bad'] == r['good_and_bad'] == r['wrong_edit'] == 0


def test_whole_task_is_unique():
    t = TASKS['gen_anaphor_gender']
    ps = generate_pairs('gen_anaphor_gender', n_per_task=t.size)['gen_anaphor_gender']
    assert len({p.good for p in ps}) == len({p.bad for p in ps}) == t.size


def test_errors():
    with pytest.raises(DataError, match=r"unknown generated task\(s\) \['gen_nope'\]"):
        generate_pairs(['gen_sva_simple', 'gen_nope'])
    size = TASKS['gen_anaphor_gender'].size
    with pytest.raises(DataError, match=f"can make at most {size} unique pairs; asked for {size + 1}"):
        generate_pairs('gen_anaphor_gender', n_per_task=size + 1)
    with pytest.raises(DataError, match='distinct sentences'):
        grammatical_sentences(10**6, tasks=['gen_anaphor_gender'], simple=False)


def test_grammatical_sentences(pairs):
    s = grammatical_sentences(3000, seed=0)
    assert len(s) == len(set(s)) == 3000
    assert s == grammatical_sentences(3000, seed=0) and s != grammatical_sentences(3000, seed=1)
    assert not set(s) & {p.bad for p in pairs.pairs}
    held_out = {p.good for p in pairs.pairs}
    assert not held_out & set(grammatical_sentences(3000, exclude=held_out))


def test_jsonl_round_trip(tmp_path):
    path = generate_jsonl(tmp_path / 'sub' / 'gen.jsonl', tasks='gen_wh_island,gen_ellipsis_adj', n_per_task=25, seed=7)
    assert [p.name for p in (tmp_path / 'sub').iterdir()] == ['gen.jsonl']
    recs = [json.loads(l) for l in path.read_text().splitlines()]
    assert len(recs) == 50
    assert {'sentence_good', 'sentence_bad', 'UID', 'pairID', 'linguistics_term', 'field'} <= set(recs[0])
    want = generate_pairs('gen_wh_island,gen_ellipsis_adj', 25, seed=7)
    assert read_jsonl(path, strict_uid=False) == want.pairs
    assert load_blimp(path, strict_uid=False) == want
    with pytest.raises(DataError, match='unknown UID'):
        read_jsonl(path)


def test_counts_and_selections_are_checked_first():
    "Bad counts and selections fail at once with the package's errors (a negative count used to mean 'everything')."
    from lts_nb.generate import select_tasks, task_pairs
    from lts_nb.utils import ConfigError
    for bad in ('', ' , ', []):
        with pytest.raises(ConfigError, match='the task list is empty'): generate_pairs(bad, 5)
    with pytest.raises(ConfigError, match=r"given more than once: \['gen_npi_only'\]"): select_tasks('gen_npi_only,gen_npi_only')
    assert select_tasks(' gen_npi_only , gen_npi_any ,') == ['gen_npi_only', 'gen_npi_any']
    with pytest.raises(ConfigError, match='n_per_task must be >= 1, got -1'): generate_pairs('gen_sva_attractor', -1)
    with pytest.raises(ConfigError, match='n must be >= 0, got -2'): task_pairs('gen_sva_attractor', -2)
    with pytest.raises(ConfigError, match='seed must be >= 0'): generate_pairs('gen_npi_only', 5, seed=-3)
    with pytest.raises(ConfigError, match='n must be an integer'): grammatical_sentences(2.0)
    with pytest.raises(ConfigError, match='is a folder'): generate_jsonl(Path(__file__).parent, 'gen_npi_only', 5)
