"Tests of vocabulary-defined semantics: lts_nb.vds (and its old name lts_nb.vocab), lts_nb.clustering, lts_nb.textcls and the lts_vds CLI."
import contextlib, importlib, io, json, sys, warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch

from lts_nb.models import LM, tiny_lm
from lts_nb import vds
from lts_nb.utils import ConfigError, DataError, LtsError, MissingExtra
from lts_nb.vds import (final_norm, head_params, is_tied, pinv_bases, semantic_bases, sim_logits, maps_to_self,
                        spearman_rows, divergence_point, lens_margins, onset_layers, layer_reps, compare_logits, token_batches)
from lts_nb.clustering import (ClusteringModule, n_params_formula, lm_features, select_features, label_centroids, label_space,
                               fit_clustering, cluster_ari, clustering_loss, knn_cosine, knn_vote)
from lts_nb.textcls import (SPECS, TaskSpec, TextClsData, FeatureStore, load_textcls, read_agnews, read_sst2, read_trec,
                            balanced_order, demonstrations, run_methods, run_seeds, summarise, ci95, vds_config, METHODS)

E = torch.eye


@pytest.fixture(scope='module')
def lm(): return tiny_lm()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    vds._BASES_MEMO.clear()
    yield tmp_path/'cache'
    vds._BASES_MEMO.clear()


def run_cli(*args):
    "Run the lts_vds console function in-process with `args` as its argv: (exit code, stdout, stderr)."
    from lts_nb.textcls import lts_vds
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, 'argv', ['lts_vds', *map(str, args)]), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: lts_vds(); code = 0
        except SystemExit as e: code = e.code if isinstance(e.code, int) else 1
    return code, out.getvalue(), err.getvalue()


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
    vds._BASES_MEMO.clear()
    sb2 = semantic_bases(lm)
    assert sb2.from_cache and torch.equal(sb2.vectors, sb.vectors)
    assert semantic_bases(lm, dtype=torch.float64).vectors.dtype == torch.float64
    other = tiny_lm(seed=3)
    assert vds.bases_key(other) != vds.bases_key(lm)


@pytest.mark.parametrize('damage,why', [('shape', 'of shape'), ('nan', 'NaN'), ('cut', 'unreadable')])
def test_damaged_bases_cache_is_rebuilt(lm, cache, damage, why):
    from safetensors.torch import save_file
    good = semantic_bases(lm).vectors.clone()
    (p,) = (cache/'bases').glob('*.safetensors')
    if damage == 'shape': save_file({'bases': torch.randn(7, 3)}, str(p))
    elif damage == 'nan': t = good.clone(); t[3, 5] = float('nan'); save_file({'bases': t}, str(p))
    else: p.write_bytes(p.read_bytes()[:64])
    vds._BASES_MEMO.clear()
    with pytest.warns(UserWarning, match=why) as w:
        sb = semantic_bases(lm)
    assert str(p) in str(w[0].message) and not sb.from_cache and torch.equal(sb.vectors, good)
    vds._BASES_MEMO.clear()
    assert semantic_bases(lm).from_cache                 # the rebuilt file is whole again


def test_model_without_lm_head_says_so():
    t = tiny_lm(seed=0)
    headless = LM(t.model.model, t.tokenizer, name='headless')
    for f in (lambda: semantic_bases(headless, cache=False), lambda: head_params(headless), lambda: is_tied(headless)):
        with pytest.raises(LtsError, match='headless has no LM head'): f()


def test_final_norm_and_tied(lm):
    assert type(final_norm(lm)).__name__ == 'LlamaRMSNorm'
    assert type(final_norm(tiny_lm('gpt_neox'))).__name__ == 'LayerNorm'
    assert is_tied(lm) and not is_tied(tiny_lm(tie=False))
    bad = tiny_lm(); bad.model.config.model_type = 'mamba'
    with pytest.raises(NotImplementedError, match='no known final norm'): final_norm(bad)
    with pytest.raises(LtsError): final_norm(bad)


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


def test_old_module_name_warns_and_forwards():
    sys.modules.pop('lts_nb.vocab', None)
    with pytest.warns(DeprecationWarning, match='lts_nb.vds'):
        old = importlib.import_module('lts_nb.vocab')
    assert old.semantic_bases is vds.semantic_bases and old._BASES_MEMO is vds._BASES_MEMO
    ids, mask = next(old._batches(tiny_lm(), ['ab'], 1, 8))
    assert ids.tolist() == [[256, 97, 98]] and mask.tolist() == [[1, 1, 1]]


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


def test_prefix_none_uses_no_prefix_token(lm):
    from dataclasses import replace
    bare = replace(lm, prefix='none')
    assert next(token_batches(bare, ['ab'], 1, 8))[0].tolist() == [[97, 98]]
    assert divergence_point(bare, 'x a', 'y a') is None          # nothing predicts a differing first token
    f = lm_features(bare, ['ab'], progress=False)
    h = bare.model(torch.tensor([[97, 98]]), output_hidden_states=True).hidden_states[-1][0, -1]
    torch.testing.assert_close(f.last[0], h, atol=1e-5, rtol=0)


# --- clustering ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('d', [64, 576, 1024])
def test_clustering_param_count(d):
    n = sum(p.numel() for p in ClusteringModule(d).parameters())
    assert n == n_params_formula(d) == 33*d*d//8 + 97*d//16
    assert abs(n / (33/8*d*d) - 1) < 0.025


def _toy_features(lm, n=30, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = [''.join(rng.choice(list('abcde') if c == 0 else list('56789'), 8)) for c in y]
    return lm_features(lm, texts, progress=False), y


def test_clustering_trains_only_module(lm):
    sb = semantic_bases(lm, cache=False)
    f, y = _toy_features(lm)
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


@pytest.mark.parametrize('loss,sim', [('label', 'cos'), ('vocab', 'cos'), ('gold', 'cos'), ('label', 'head'), ('vocab', 'head'), ('label', 'dot')])
def test_every_loss_learns(lm, loss, sim):
    space = label_space(lm, semantic_bases(lm, cache=False), ['a', '5'], space=False)
    f, y = _toy_features(lm)
    clf = fit_clustering(f, y, space, epochs=40, loss=loss, sim=sim, token='mean', pool='none', tau=0.1)
    assert clf.losses[-1] < clf.losses[0] and (clf.predict(f, sim) == y).mean() > 0.9


def test_vocab_loss_formula(lm):
    sb = semantic_bases(lm, cache=False)
    space = label_space(lm, sb, ['a', '5'], space=False)
    z, y = torch.randn(4, 64), torch.tensor([0, 1, 1, 0])
    ref = torch.nn.functional.cross_entropy(sim_logits(z, sb) / 0.05, torch.tensor([97, 53, 53, 97]))
    torch.testing.assert_close(clustering_loss(z, y, space, 'vocab'), ref)            # multi='first': the rows are the bases
    torch.testing.assert_close(clustering_loss(z, y, space, 'vocab', 'head'),
                               torch.nn.functional.cross_entropy(lm.model.lm_head(z), torch.tensor([97, 53, 53, 97])), atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="sim='cos' only"): clustering_loss(z, y, space, 'gold', 'dot')


def test_fit_rejects_bad_settings(lm):
    f, y = _toy_features(lm, 6)
    cent = torch.randn(2, 64)
    for kw, msg in [(dict(epochs=0), 'epochs'), (dict(tau=0), 'tau'), (dict(batch_size=0), 'batch_size'), (dict(loss='x'), 'loss'),
                    (dict(loss='vocab'), 'need the label space')]:
        with pytest.raises(ConfigError, match=msg): fit_clustering(f, y, cent, **kw)
    with pytest.raises(ConfigError, match='labels must lie in 0..1'): fit_clustering(f, np.r_[y[:-1], 5], cent)


def test_knn_vote_and_cosine():
    assert knn_vote(torch.tensor([[0.5, 0.1, 0.2, 0.9]]), [0, 1, 1, 0], 3, 2).tolist() == [1]
    assert knn_vote(torch.tensor([[0.1, 0.2, 0.3, 0.4]]), [1, 0, 0, 1], 4, 2).tolist() == [1]
    assert knn_cosine(torch.eye(3), [0, 1, 2], torch.eye(3) * 2, n_neighbors=1).tolist() == [0, 1, 2]


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


def test_bad_data_files_name_the_file_and_line(tmp_path):
    (tmp_path/'stsa.binary.train').write_text('1 fine film\nx broken\n')
    with pytest.raises(DataError, match=r"stsa.binary.train, line 2"): read_sst2(tmp_path)
    (tmp_path/'train.txt').write_text('FOO:bar What ?\n')
    with pytest.raises(DataError, match=r"train.txt, line 1.*COARSE"): read_trec(tmp_path)
    (tmp_path/'test.csv').write_text('a,b\n1,2\n')
    with pytest.raises(DataError, match='lacks the columns'): read_agnews(tmp_path)
    (tmp_path/'stsa.binary.test').mkdir()
    with pytest.raises(DataError, match='it is a folder'): read_sst2(tmp_path, 'test')


def test_draws_are_nested_balanced_and_test_sets_full(tmp_path):
    write_tiny_textcls(tmp_path)
    o = balanced_order([0, 0, 0, 1, 1, 2], 0)
    assert np.asarray([0, 0, 0, 1, 1, 2])[o].tolist() == [0, 1, 2, 0, 1, 0]
    small, big = load_textcls('sst2', tmp_path, 4, seed=2), load_textcls('sst2', tmp_path, 10, seed=2)
    assert big.train.text[:4].tolist() == small.train.text.tolist()
    assert len(small.test) == 20 and len(load_textcls('sst2', tmp_path, 'all').train) == 20
    with pytest.raises(ConfigError, match='n_train=21 but the sst2 training pool has 20'): load_textcls('sst2', tmp_path, 21)


def test_data_folder_from_env_or_clear_error(tmp_path, monkeypatch):
    write_tiny_textcls(tmp_path)
    monkeypatch.delenv('LTS_NB_TEXTCLS', raising=False)
    with pytest.raises(ConfigError, match='set LTS_NB_TEXTCLS'): load_textcls('sst2', None, 4)
    monkeypatch.setenv('LTS_NB_TEXTCLS', str(tmp_path))
    assert len(load_textcls('sst2', None, 4).train) == 4


def test_demonstrations_are_balanced_and_within_budget(lm, tmp_path):
    write_tiny_textcls(tmp_path)
    d = load_textcls('trec', tmp_path, 18)
    k, ctx, info = demonstrations(lm, d, icl_tokens=200)
    assert 0 < k <= 9 and info['context_tokens'] <= 200 and max(info['demos_per_class']) - min(info['demos_per_class']) <= 1
    assert demonstrations(lm, d, icl_tokens=10**6)[0] == 9


def test_feature_store_resumes_from_disk(lm, tmp_path):
    st = FeatureStore(lm, tmp_path, chunk=2)
    f = st.get(['a', 'b', 'c'], context='X: ')
    assert st.computed == 3 and len(list(tmp_path.rglob('part-*.safetensors'))) == 2
    st2 = FeatureStore(lm, tmp_path)
    g = st2.get(['c', 'a'], context='X: ')
    assert st2.computed == 0 and torch.equal(g.last, f.last[[2, 0]]) and g.context_tokens == f.context_tokens
    other = tiny_lm(seed=5)
    assert FeatureStore(other, tmp_path).get(['a']).last.shape == (1, 64)          # other weights: new entries, not a stale hit


def test_run_methods_tiny(lm):
    spec = TaskSpec('toy', ('a', 'b'), ('x', 'y'), 'T: {text}\nL: ', space=False)
    tr = pd.DataFrame({'text': ['aaa', 'bbb', 'aab', 'bba', 'aba', 'bab'], 'label': [0, 1, 0, 1, 0, 1]})
    te = pd.DataFrame({'text': ['aba', 'bab', 'aaa'], 'label': [0, 1, 0]})
    res = run_methods(lm, TextClsData(spec, tr, te), methods=list(METHODS), k=2, epochs=2, peft_epochs=1)
    assert list(res.index) == list(METHODS)
    assert res.loc['majority', 'accuracy'] == pytest.approx(2/3)
    assert res[['accuracy', 'macro_f1', 'seconds']].notna().all().all()
    assert res.loc['knn', 'n_anchors'] == 4 and res.loc['icl', 'k'] == 2
    assert {'acc_cos', 'acc_dot', 'acc_head', 'knn_before', 'knn_after', 'ari_before', 'ari_after'} <= set(res.columns)
    assert res.loc['vds', 'untrained_acc_head'] == res.loc['zeroshot', 'accuracy']


def test_peft_missing_names_the_extra(lm, monkeypatch):
    monkeypatch.setitem(sys.modules, 'peft', None)                     # `import peft` now raises ImportError
    spec = TaskSpec('toy', ('a', 'b'), ('x', 'y'), 'T: {text}\nL: ', space=False)
    d = TextClsData(spec, pd.DataFrame({'text': ['a', 'b'], 'label': [0, 1]}), pd.DataFrame({'text': ['a'], 'label': [0]}))
    with pytest.raises(MissingExtra, match=r"pip install 'lts_nb\[lora\]'"): run_methods(lm, d, methods=['ia3'])


def test_seeds_and_intervals(lm, tmp_path):
    write_tiny_textcls(tmp_path)
    recs = run_seeds(lm, 'sst2', tmp_path, methods=['majority', 'vds'], seeds=(0, 1, 2), n_train=6, epochs=2, multi='mean')
    s = summarise(recs)
    assert s.seeds.tolist() == [3, 3] and (s.accuracy_lo <= s.accuracy_mean).all() and (s.accuracy_mean <= s.accuracy_hi).all()
    m, sd, lo, hi = ci95([0.6, 0.7, 0.8])
    assert (m, round(sd, 12)) == (pytest.approx(0.7), 0.1) and hi - m == pytest.approx(4.302652729911275 * 0.1 / 3**0.5)


def test_config_presets():
    c = vds_config('paper')
    assert c['n_train'] == 'all' and c['batch_size'] == 256 and c['loss'] == 'vocab' and c['seeds'] == [0, 1, 2] and 'ia3' in c['methods']
    assert vds_config('paper', n_train='512')['n_train'] == 512


# --- the command line ----------------------------------------------------------------------------------------------

def test_cli(tmp_path, lm, monkeypatch):
    "The console script's function, with its arguments parsed from sys.argv in-process (a subprocess would re-import torch)."
    from lts_nb.textcls import lts_vds
    write_tiny_textcls(tmp_path/'data')
    lm.model.save_pretrained(tmp_path/'tiny'); lm.tokenizer.save_pretrained(tmp_path/'tiny')
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    args = ['--model', tmp_path/'tiny', '--dataset', 'trec', '--data', tmp_path/'data', '--n_train', '6', '--n_test', '6',
            '--out', tmp_path/'out', '--methods', 'majority,knn_bare,vds', '--epochs', '2', '--multi', 'mean', '--seeds', '0,1', '--quiet']
    code, out, err = run_cli(*args)
    assert code == 0, err
    m = json.loads((tmp_path/'out'/'metrics.json').read_text())
    assert m['config']['dataset'] == 'trec' and m['config']['n_train'] == 6 and len(m['records']) == 6
    for r in m['records']: assert {'accuracy', 'macro_f1', 'seconds', 'setup_s', 'infer_s', 'seed'} <= set(r)
    assert [s['method'] for s in m['summary']] == ['majority', 'knn_bare', 'vds'] and m['summary'][0]['seeds'] == 2
    assert m['provenance']['data']['sha256'].startswith('sha256:') and m['provenance']['seeds'] == {'seeds': [0, 1]}
    assert out == ''                                                   # --quiet
    code, _, err = run_cli(*args)                                      # rerun: resumes, nothing new to do
    assert code == 0 and len(json.loads((tmp_path/'out'/'metrics.json').read_text())['records']) == 6
    assert (Path(sys.executable).parent/'lts_vds').exists()


@pytest.mark.parametrize('args,msg', [
    (['--n_train', '0'], 'n_train must be >= 1'), (['--n_train', 'lots'], 'n_train must be a positive integer or all'),
    (['--n_test', '-1'], 'n_test must be >= 1'), (['--k', '-1'], 'k must be >= 0'), (['--epochs', '0'], 'epochs must be >= 1'),
    (['--max_words', '0'], 'max_words must be >= 1'), (['--seeds', '1,1'], 'seeds repeat'), (['--methods', 'svm'], 'unknown methods'),
    (['--loss', 'hinge'], "loss must be one of"), (['--preset', 'huge'], 'preset must be one of'), (['--dataset', 'imdb'], 'dataset must be one of'),
    (['--loss', 'gold', '--sim', 'head'], "sim='cos' only"), (['--batch_size', '0'], 'batch_size must be >= 1')])
def test_cli_rejects_bad_options_before_loading(tmp_path, args, msg):
    code, _, err = run_cli('--model', '/no/such/model', '--out', tmp_path/'o', *args)
    assert code == 2 and 'Traceback' not in err and msg in err, err
    assert not (tmp_path/'o').exists()


def test_cli_user_mistakes_are_one_line_errors(tmp_path, tiny_dir, monkeypatch):
    monkeypatch.delenv('LTS_NB_TEXTCLS', raising=False)
    f = tmp_path/'file'; f.write_text('keep me\n')
    for args, msg in [(['--out', f], 'is a file'), (['--out', tmp_path/'o'], 'set LTS_NB_TEXTCLS'),
                      (['--out', tmp_path/'o', '--data', tmp_path/'nowhere'], 'does not exist'),
                      (['--out', tmp_path/'o', '--data', tmp_path], 'missing data file')]:
        code, _, err = run_cli('--model', tiny_dir, *args)
        assert code == 2 and 'Traceback' not in err and msg in err, (args, err)
    assert f.read_text() == 'keep me\n'


def test_cli_refuses_another_run_in_the_same_folder(tmp_path, tiny_dir):
    write_tiny_textcls(tmp_path/'data')
    base = ['--model', tiny_dir, '--dataset', 'sst2', '--data', tmp_path/'data', '--n_train', '4', '--n_test', '4',
            '--out', tmp_path/'o', '--methods', 'majority', '--quiet']
    assert run_cli(*base)[0] == 0
    code, _, err = run_cli(*base[:-3], '--methods', 'majority,knn_bare', '--quiet')
    assert code == 2 and 'holds another run' in err


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


@pytest.mark.slow
def test_embedded_model_features_match_full_forward():
    "With a long demonstration context, the cached-context features equal one forward pass over context + prompt."
    from lts_nb.models import load_model
    from lts_nb.vds import head_inputs
    smol = load_model('smollm2-135m')
    ctx = 'Review: a fine film\nSentiment: positive\n\nReview: dull and long\nSentiment: negative\n\n'
    f = lm_features(smol, ['Review: great\nSentiment:', 'Review: bad\nSentiment:'], context=ctx, progress=False)
    for j, p in enumerate(['Review: great\nSentiment:', 'Review: bad\nSentiment:']):
        h, _, _ = head_inputs(smol, torch.tensor([smol.prefix_ids + smol.encode(ctx) + smol.encode(p)]))
        torch.testing.assert_close(f.last[j], h[0, -1], atol=2e-4, rtol=1e-4)
