"Tests of vocabulary-defined semantics: lts_nb.vocab, lts_nb.clustering, lts_nb.textcls and the lts_vds CLI."
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lts_nb.models import tiny_lm
from lts_nb import vocab
from lts_nb.vocab import (final_norm, head_params, is_tied, pinv_bases, semantic_bases, sim_logits, maps_to_self,
                          spearman_rows, divergence_point, lens_margins, onset_layers, layer_reps, compare_logits)
from lts_nb.clustering import (ClusteringModule, n_params_formula, lm_features, select_features, label_centroids,
                               fit_clustering, cluster_ari)
from lts_nb.textcls import (SPECS, TaskSpec, TextClsData, load_textcls, read_agnews, read_sst2, read_trec,
                            knn_vote, run_methods)

E = torch.eye


@pytest.fixture(scope='module')
def lm(): return tiny_lm()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    vocab._BASES_MEMO.clear()
    yield tmp_path/'cache'
    vocab._BASES_MEMO.clear()


# --- bases -------------------------------------------------------------------------------------------------------

def test_bases_are_least_squares_solutions(lm):
    W, _ = head_params(lm)
    S = pinv_bases(W, dtype=torch.float64)
    assert S.shape == (259, 64) and S.dtype == torch.float64
    torch.testing.assert_close(S, torch.linalg.pinv(W.double()).T, atol=1e-9, rtol=0)
    ls = torch.linalg.lstsq(W.double(), E(259, dtype=torch.float64)).solution.T
    torch.testing.assert_close(S, ls, atol=1e-9, rtol=0)
    torch.testing.assert_close(pinv_bases(W, method='svd', dtype=torch.float64), S, atol=1e-9, rtol=0)
    assert pinv_bases(W).dtype == torch.float32


def test_bases_with_bias_solve_onehot_minus_bias(lm):
    W, _ = head_params(lm)
    b = torch.randn(259)
    S = pinv_bases(W, b, dtype=torch.float64)
    target = E(259, dtype=torch.float64) - b.double()[:, None]
    torch.testing.assert_close(S, torch.linalg.lstsq(W.double(), target).solution.T, atol=1e-9, rtol=0)


def test_bases_large_vocab_chunked():
    W = torch.randn(150_000, 64)
    S = pinv_bases(W, chunk=20_000)
    P = torch.linalg.pinv(W[:, :].double())
    torch.testing.assert_close(S[::1499].double(), P.T[::1499], atol=1e-6, rtol=0)


def test_semantic_bases_cached_and_keyed(lm, cache):
    sb = semantic_bases(lm)
    assert not sb.from_cache and sb.tied and not sb.has_bias and 'after the final norm' in sb.representation
    files = list((cache/'bases').iterdir())
    assert len(files) == 1 and files[0].suffix == '.safetensors'
    vocab._BASES_MEMO.clear()
    sb2 = semantic_bases(lm)
    assert sb2.from_cache and torch.equal(sb2.vectors, sb.vectors)
    assert semantic_bases(lm, dtype=torch.float64).vectors.dtype == torch.float64
    other = tiny_lm(seed=3)
    assert vocab.bases_key(other) != vocab.bases_key(lm)


def test_final_norm_and_tied(lm):
    assert type(final_norm(lm)).__name__ == 'LlamaRMSNorm'
    assert type(final_norm(tiny_lm('gpt_neox'))).__name__ == 'LayerNorm'
    assert is_tied(lm) and not is_tied(tiny_lm(tie=False))
    bad = tiny_lm(); bad.model.config.model_type = 'mamba'
    with pytest.raises(NotImplementedError, match='no known final norm'): final_norm(bad)


def test_untied_head_with_bias_gets_shifted_bases(cache):
    m = tiny_lm(tie=False, seed=2)
    head = m.model.lm_head
    m.model.lm_head = torch.nn.Linear(head.in_features, head.out_features, bias=True)
    with torch.no_grad(): m.model.lm_head.weight.copy_(head.weight); m.model.lm_head.bias.normal_()
    sb = semantic_bases(m, dtype=torch.float64)
    W, b = head_params(m)
    assert sb.has_bias and not sb.tied
    torch.testing.assert_close(sb.vectors, pinv_bases(W, dtype=torch.float64) - (torch.linalg.pinv(W.double()) @ b.double()),
                               atol=1e-9, rtol=0)


# --- similarity logits, self-mapping, agreement --------------------------------------------------------------------

def test_sim_logits_differentiable_and_subset(lm):
    sb = semantic_bases(lm, cache=False)
    h = torch.randn(2, 3, 64, requires_grad=True)
    full = sim_logits(h, sb)
    sub = sim_logits(h, sb, ids=[10, 200])
    assert full.shape == (2, 3, 259) and sub.shape == (2, 3, 2)
    torch.testing.assert_close(sub, full[..., [10, 200]])
    assert full.abs().max() <= 1 + 1e-5
    sub.sum().backward()
    assert h.grad is not None and h.grad.abs().sum() > 0


def test_self_mapping_constructed():
    W = torch.tensor([[1., 0.], [2., 0.], [0., 1.]], dtype=torch.float64)
    S = pinv_bases(W, dtype=torch.float64)
    assert maps_to_self(W, S).tolist() == [False, True, True]
    assert maps_to_self(W, S, chunk=1).float().mean().item() == pytest.approx(2/3)


def test_spearman_rows():
    from scipy.stats import spearmanr
    a, b = torch.randn(3, 40), torch.randn(3, 40)
    ref = [spearmanr(x, y).statistic for x, y in zip(a, b)]
    np.testing.assert_allclose(spearman_rows(a, b).numpy(), ref, atol=1e-9)


def test_compare_logits_and_lens(lm):
    sb = semantic_bases(lm, cache=False)
    r = compare_logits(lm, sb, ['abc', 'hello'], progress=False)
    assert r['positions'] == 4 + 6 and 0 <= r['top1_agreement'] <= 1
    R = layer_reps(lm, torch.tensor([[256, 104, 105]]))
    assert R.shape == (3, 1, 3, 64)
    from lts_nb.data import MinimalPair
    pairs = [MinimalPair('The dogs run.', 'The dogs runs.', 'toy', 0), MinimalPair('ab', 'abc', 'toy', 1)]
    mg = lens_margins(lm, pairs, sb, progress=False)
    assert mg.attrs['n_dropped'] == 1 and len(mg) == 3
    on = onset_layers(mg)
    assert {'logit_onset', 'basis_onset', 'logit_acc_last'} <= set(on.columns)
    assert divergence_point(lm, 'ab x', 'ab y') == ([256, 97, 98, 32], ord('x'), ord('y'))


# --- clustering ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('d', [64, 576, 1024])
def test_clustering_param_count(d):
    n = sum(p.numel() for p in ClusteringModule(d).parameters())
    assert n == n_params_formula(d) == 33*d*d//8 + 97*d//16
    assert abs(n / (33/8*d*d) - 1) < 0.025


def test_clustering_trains_only_module(lm):
    sb = semantic_bases(lm, cache=False)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 30)
    texts = [''.join(rng.choice(list('abcde') if c == 0 else list('56789'), 8)) for c in y]
    f = lm_features(lm, texts, progress=False)
    cent = label_centroids(lm, sb, ['a', '5'], space=False)
    before = cent.clone()
    head_before = lm.model.lm_head.weight.clone()
    clf = fit_clustering(f, y, cent, epochs=40, pool='none', token='mean', tau=0.1)
    assert clf.losses[-1] < clf.losses[0]
    assert (clf.predict(f) == y).mean() > 0.9
    assert torch.equal(cent, before) and torch.equal(lm.model.lm_head.weight, head_before)
    assert cluster_ari(clf.transform(f), y) > 0.5
    r, avg, mx = select_features(f, 'last', 'none')
    assert avg is r and mx is r


# --- data and methods ----------------------------------------------------------------------------------------------

def write_tiny_textcls(root: Path):
    (root/'sst2').mkdir(parents=True)
    for split in ('train', 'dev', 'test'):
        (root/'sst2'/f'stsa.binary.{split}').write_text(
            ''.join(f"{i % 2} {'good fine' if i % 2 else 'bad dull'} film number {i}\n" for i in range(20)))
    (root/'trec').mkdir()
    qs = ['ABBR:exp What does NASA stand for ?', 'DESC:def What is love ?', 'ENTY:animal What eats grass ?',
          'HUM:ind Who wrote Hamlet ?', 'LOC:city Where is Paris ?', 'NUM:date When was 1066 ?']
    for split in ('train', 'test'): (root/'trec'/f'{split}.txt').write_text('\n'.join(qs * 3) + '\n')
    (root/'agnews').mkdir()
    rows = ['Class Index,Title,Description'] + [f'{1 + i % 4},Title {i},"Some\\text, number {i}."' for i in range(40)]
    (root/'agnews'/'test.csv').write_text('\n'.join(rows) + '\n')
    (root/'agnews'/'classes.txt').write_text('1-World, 2-Sports, 3-Business, 4-Science/Tech\n')


def test_loaders(tmp_path):
    write_tiny_textcls(tmp_path)
    s = read_sst2(tmp_path/'sst2', 'train')
    assert len(s) == 20 and set(s.label) == {0, 1} and s.text[0] == 'bad dull film number 0'
    t = read_trec(tmp_path/'trec', 'test')
    assert list(t.label[:6]) == list(range(6)) and t.text[0] == 'What does NASA stand for ?'
    a = read_agnews(tmp_path/'agnews')
    assert len(a) == 40 and set(a.label) == {0, 1, 2, 3} and a.text[0] == 'Title 0. Some text, number 0.'
    d = load_textcls('agnews', tmp_path, n_train=8, n_test=10)
    assert d.train.label.value_counts().tolist() == [2]*4 and len(d.test) == 10
    assert not set(d.train.text) & set(d.test.text)
    d2 = load_textcls('trec', tmp_path/'trec', n_train=6, n_test=5, seed=1)
    assert sorted(d2.train.label) == list(range(6))
    with pytest.raises(FileNotFoundError, match='missing data file'): read_trec(tmp_path/'sst2')


def test_knn_vote():
    assert knn_vote(torch.tensor([[0.5, 0.1, 0.2, 0.9]]), [0, 1, 1, 0], 3, 2).tolist() == [1]


def test_run_methods_tiny(lm):
    spec = TaskSpec('toy', ('a', 'b'), ('x', 'y'), 'T: {text}\nL: ', space=False)
    tr = pd.DataFrame({'text': ['aaa', 'aab', 'bbb', 'bba'], 'label': [0, 0, 1, 1]})
    te = pd.DataFrame({'text': ['aba', 'bab', 'aaa'], 'label': [0, 1, 0]})
    res = run_methods(lm, TextClsData(spec, tr, te), methods=['majority', 'zeroshot', 'icl', 'knn', 'knn_lw', 'vds', 'lora'],
                      progress=False, k=2, epochs=2, lora_epochs=1)
    assert list(res.index) == ['majority', 'zeroshot', 'icl', 'knn', 'knn_lw', 'vds', 'lora']
    assert res.loc['majority', 'accuracy'] == pytest.approx(2/3)
    assert res[['accuracy', 'macro_f1', 'seconds']].notna().all().all()


def test_cli(tmp_path, lm, monkeypatch):
    "The console script's function, with its arguments parsed from sys.argv in-process (a subprocess would re-import torch)."
    from lts_nb.textcls import lts_vds
    write_tiny_textcls(tmp_path/'data')
    lm.model.save_pretrained(tmp_path/'tiny'); lm.tokenizer.save_pretrained(tmp_path/'tiny')
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    argv = ['lts_vds', '--model', str(tmp_path/'tiny'), '--dataset', 'trec', '--data', str(tmp_path/'data'),
            '--n_train', '6', '--n_test', '6', '--out', str(tmp_path/'out'), '--methods', 'majority,knn,vds',
            '--epochs', '2', '--multi', 'mean']
    monkeypatch.setattr(sys, 'argv', argv)
    assert lts_vds() is None                      # a console script's return value becomes its exit status
    m = json.loads((tmp_path/'out'/'metrics.json').read_text())
    assert m['dataset'] == 'trec' and m['n_train'] == 6
    for k in ('majority', 'knn', 'vds'):
        assert {'accuracy', 'macro_f1', 'seconds'} <= set(m['methods'][k])
    assert (Path(sys.executable).parent/'lts_vds').exists()


# --- the embedded model --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_embedded_model_bases():
    from lts_nb.models import load_model
    smol = load_model('smollm2-135m')
    sb = semantic_bases(smol)
    assert sb.shape == (49152, 576) and sb.tied
    W, _ = head_params(smol)
    idx = torch.arange(0, 49152, 97)
    ls = torch.linalg.lstsq(W.double(), E(49152, dtype=torch.float64)[:, idx[:8]]).solution.T
    torch.testing.assert_close(sb[idx[:8]].double(), ls, atol=1e-4, rtol=1e-3)
    r = compare_logits(smol, sb, ['The movie was a delight from start to finish.', 'He went to the store.'], progress=False)
    assert r['spearman'] > 0
