import json, subprocess, sys
from pathlib import Path
from types import SimpleNamespace

import pytest, torch

from lts_nb.models import tiny_lm, load_model
from lts_nb.data import MinimalPair, TaskSet, split, load_blimp
from lts_nb.ftgd import (FTGDConfig, ftgd_loss, pair_gradient_differential, pair_logprobs, topk_mask, sparsify,
                         param_snapshot, param_delta, delta_mask, save_mask, load_mask, run_ftgd, toy_tasks, task_data,
                         select_params, load_delta)

# the console script registered in settings.ini (run with this interpreter)
LTS_FTGD = [sys.executable, str(Path(sys.executable).parent/'lts_ftgd')]

PAIRS = [MinimalPair('The cats sleep.', 'The cats sleeps.', 'sva', 0),
         MinimalPair('Who did Amy see?', 'Who did Amy see Bo?', 'gap', 1)]

def _flat(d): return torch.cat([v.flatten() for v in d.values()])

def test_identical_sentences_give_zero_differential():
    lm = tiny_lm()
    same = SimpleNamespace(good='The dog barks.', bad='The dog barks.')
    g0 = _flat(pair_gradient_differential(lm, [same], from_first_diff=False))
    g = _flat(pair_gradient_differential(lm, PAIRS))
    assert g0.abs().max() < 1e-5 * g.abs().max()

def test_shared_prefix_cancels_with_sum():
    lm = tiny_lm('gpt_neox')
    a = pair_gradient_differential(lm, PAIRS, params='.', from_first_diff=False)
    b = pair_gradient_differential(lm, PAIRS, params='.', from_first_diff=True)
    assert torch.allclose(_flat(a), _flat(b), atol=1e-5)
    with torch.no_grad():
        ga, ba = pair_logprobs(lm, PAIRS, from_first_diff=False)
        gb, bb = pair_logprobs(lm, PAIRS, from_first_diff=True)
    assert torch.allclose(ga - ba, gb - bb, atol=1e-4)
    assert not torch.allclose(ga, gb)   # the sentences' own log-probs differ: only the margin is unchanged

def test_differential_leaves_model_untouched():
    lm = tiny_lm()
    before = {n: p.requires_grad for n, p in lm.model.named_parameters()}
    pair_gradient_differential(lm, PAIRS)
    assert all(p.grad is None for p in lm.model.parameters())
    assert {n: p.requires_grad for n, p in lm.model.named_parameters()} == before

@pytest.mark.parametrize('pct', [0.5, 1, 10, 37.5])
def test_topk_keeps_exactly_k_percent(pct):
    lm = tiny_lm()
    g = pair_gradient_differential(lm, PAIRS)
    n = sum(v.numel() for v in g.values())
    m = topk_mask(g, pct, 'global')
    assert sum(int(v.sum()) for v in m.values()) == round(pct / 100 * n)
    kept = torch.cat([v[m[k]].abs() for k, v in g.items()])
    dropped = torch.cat([v[~m[k]].abs() for k, v in g.items()])
    assert kept.min() >= dropped.max()
    mt = topk_mask(g, pct, 'tensor')
    for k, v in g.items(): assert int(mt[k].sum()) == round(pct / 100 * v.numel())
    s = sparsify(g, pct)
    assert sum(int((v != 0).sum()) for v in s.values()) <= round(pct / 100 * n)

def test_bounded_objective_gradient_fades():
    m = torch.linspace(-3, 6, 10, requires_grad=True)
    ftgd_loss(m, 'logistic').backward()
    w = -m.grad * len(m)
    assert torch.all(w[1:] < w[:-1]) and w[-1] < 0.01 and abs(w[3] - 0.5) < 1e-6   # m[3] == 0
    m2 = torch.tensor([1.0, 3.0], requires_grad=True)
    ftgd_loss(m2, 'hinge', gamma=2.0).backward()
    assert m2.grad.tolist() == [-0.5, 0.0]

def test_mask_roundtrip(tmp_path):
    lm = tiny_lm()
    b = param_snapshot(lm)
    a = {k: v + torch.randn_like(v) for k, v in b.items()}
    m = delta_mask(param_delta(b, a), 2.0)
    save_mask(m, tmp_path/'m.npz')
    m2 = load_mask(tmp_path/'m.npz')
    assert list(m2) == list(m) and all(torch.equal(m[k], m2[k]) for k in m)

def _toy_run(out, **kw):
    toy = toy_tasks()
    tr, te = split(toy, 20, seed=0)
    cfg = FTGDConfig(steps=6, batch_size=4, lr=1e-2, params='.', seed=kw.pop('seed', 0))
    return run_ftgd(tiny_lm(), tr['toy_agreement'], te, 'toy_agreement', out, cfg, [p.good for p in te['toy_order']],
                    progress=False, **kw)

def _strip(m): return {k: v for k, v in m.items() if k not in ('train_s', 'eval_s', 'provenance')}

def test_same_seed_same_metrics(tmp_path):
    a, b = _toy_run(tmp_path/'a'), _toy_run(tmp_path/'b')
    assert _strip(a) == _strip(b)
    c = _toy_run(tmp_path/'c', seed=1)
    assert c['curve'] != a['curve']

def test_resume_equals_uninterrupted(tmp_path):
    full = _toy_run(tmp_path/'full')
    class Kill(Exception): pass
    def cb(step, rec):
        if step == 4: raise Kill()
    with pytest.raises(Kill): _toy_run(tmp_path/'cut', ckpt_every=3, callback=cb)
    assert not (tmp_path/'cut'/'metrics.json').exists() and (tmp_path/'cut'/'ckpt.pt').exists()
    resumed = _toy_run(tmp_path/'cut', ckpt_every=3)
    assert _strip(resumed) == _strip(full)
    d1, d2 = load_delta(tmp_path/'full'/'delta.safetensors'), load_delta(tmp_path/'cut'/'delta.safetensors')
    assert all(torch.equal(d1[k], d2[k]) for k in d1)

def test_cli_writes_metrics(tmp_path, tiny_dir):
    toy = toy_tasks()
    with open(tmp_path/'d.jsonl', 'w') as f:   # toy_tasks' pairs are distinct: a valid BLiMP jsonl
        for p in toy.pairs:
            f.write(json.dumps({'sentence_good': p.good, 'sentence_bad': p.bad, 'UID': p.uid, 'pairID': p.pair_id}) + '\n')
    cmd = [*LTS_FTGD, '--model', str(tiny_dir), '--blimp', str(tmp_path/'d.jsonl'),
           '--task', 'toy_agreement', '--method', 'ftgd', '--steps', '3', '--out', str(tmp_path/'run'), '--n_train', '10',
           '--n_test', '10', '--n_other', '10', '--n_ppl', '10', '--params', '.', '--quiet']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    for k in ('acc_before', 'acc_after', 'ppl_before', 'ppl_after', 'method', 'steps', 'seed'): assert k in m
    assert (m['method'], m['steps'], m['seed']) == ('ftgd', 3, 0)
    assert set(m['off_target_before']) == {'toy_order'}
    assert (tmp_path/'run'/'mask.npz').exists() and (tmp_path/'run'/'delta.safetensors').exists()
    r2 = subprocess.run(cmd, capture_output=True, text=True, timeout=300)   # finished: returned, not redone
    assert r2.returncode == 0 and json.loads((tmp_path/'run'/'metrics.json').read_text()) == m

def test_cli_requires_task(tmp_path):
    r = subprocess.run([*LTS_FTGD, '--out', str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'the following arguments are required: --task' in r.stderr
    h = subprocess.run([*LTS_FTGD, '--help'], capture_output=True, text=True, timeout=120)
    assert 'usage: lts_ftgd [-h] --task TASK --out OUT' in h.stdout    # required, and shown as such in --help

def test_task_data_split_disjoint(blimp_dir):
    ts = load_blimp(blimp_dir, tasks='passive_1,adjunct_island,npi_present_1')
    tr, te, ppl = task_data(ts, 'passive_1', n_train=100, n_test=50, n_other=20, n_ppl=30)
    assert len(tr) == 100 and len(te['passive_1']) == 50 and len(te['adjunct_island']) == 20 and len(ppl) == 30
    assert not set(tr) & set(te['passive_1'])
    assert not {p.good for p in ts['passive_1']} & set(ppl)   # perplexity on other tasks' sentences only

@pytest.mark.slow
def test_embedded_model_short_run(tmp_path, blimp_dir):
    lm = load_model('smollm2-135m')
    ts = load_blimp(blimp_dir, tasks='adjunct_island,passive_1')
    tr, te, ppl = task_data(ts, 'adjunct_island', n_train=50, n_test=40, n_other=20, n_ppl=20)
    m = run_ftgd(lm, tr, te, 'adjunct_island', tmp_path, FTGDConfig(steps=3, batch_size=4), ppl, record_delta=False, progress=False)
    assert m['steps_done'] == 3 and 0 <= m['acc_after'] <= 1 and m['ppl_after'] > 1
    assert m['n_trained'] == sum(p.numel() for p in select_params(lm).values())
