"Tests of lts_nb.scoring: fast ones on tiny random models, and a slow comparison with minicons on the embedded model."
import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lts_nb.data import MinimalPair, TaskSet, load_blimp
from lts_nb.models import tiny_lm
from lts_nb.scoring import (encode_batch, token_logprobs, score_sentences, score_pairs, pair_token_logprobs,
                            task_accuracy, phenomenon_accuracy, context_lengths, shared_word_prefix)

BLIMP = Path(__file__).resolve().parents[2]/'shared'/'data'/'blimp'
SENTS = ['The cat sleeps.', 'The cats sleeps here today.', 'A dog.', 'The cat sleep.', 'Colourless green ideas sleep furiously.']
PAIRS = [MinimalPair('The cats sleep.', 'The cats sleeps.', 'sva', 0, 'agreement', 'morphology'),
         MinimalPair('Dogs bark.', 'A dog barks.', 'sva', 1, 'agreement', 'morphology'),
         MinimalPair('Who did Amy see?', 'Who did Amy see Bo?', 'gap', 0, 'filler_gap', 'syntax'),
         MinimalPair('Who did Amy see Bo?', 'Who did Amy see', 'gap', 1, 'filler_gap', 'syntax')]


@pytest.fixture(scope='module', params=['llama', 'gpt_neox'])
def lm(request): return tiny_lm(request.param, seed=2)


def naive(lm, s):
    ids = torch.tensor([[lm.prefix_id, *lm.encode(s)]])
    with torch.no_grad(): lp = torch.log_softmax(lm.model(ids).logits[0, :-1].double(), -1)
    return lp[torch.arange(ids.shape[1] - 1), ids[0, 1:]].numpy()


def test_encode_batch(lm):
    ids, am, lengths = encode_batch(lm, ['ab', 'abcd'])
    assert ids[0].tolist() == [lm.prefix_id, 97, 98, lm.pad_id, lm.pad_id]
    assert lengths.tolist() == [3, 5] and am.sum(1).tolist() == [3, 5]


def test_token_logprobs_match_naive_and_batching(lm):
    batched = token_logprobs(lm, SENTS, batch_size=2, progress=False)
    for s, a in zip(SENTS, batched):
        assert a.dtype == np.float64 and len(a) == len(s.encode())
        np.testing.assert_allclose(a, naive(lm, s), atol=1e-4)
        np.testing.assert_allclose(a, token_logprobs(lm, [s], progress=False)[0], atol=1e-4)


def test_order_invariance_and_duplicates(lm):
    ref = score_sentences(lm, SENTS, progress=False)
    perm = [4, 2, 0, 3, 1]
    np.testing.assert_allclose(score_sentences(lm, [SENTS[i] for i in perm], batch_size=3, progress=False), ref[perm], atol=1e-4)
    dup = score_sentences(lm, SENTS + SENTS[:2], progress=False)
    np.testing.assert_allclose(dup[-2:], ref[:2], atol=1e-9)


def test_mean_is_sum_over_tokens(lm):
    s, m = score_sentences(lm, SENTS, progress=False), score_sentences(lm, SENTS, 'mean', progress=False)
    np.testing.assert_allclose(m, s / [len(x.encode()) for x in SENTS], rtol=1e-12)


@pytest.mark.parametrize('bad, msg', [([], 'no sentences'), (['ok', ''], 'sentence 1 is empty'), (['  '], 'sentence 0 is empty')])
def test_sentence_errors(lm, bad, msg):
    with pytest.raises(ValueError, match=msg): score_sentences(lm, bad, progress=False)


def test_bad_arguments(lm):
    with pytest.raises(ValueError, match='unknown reduction'): score_sentences(lm, SENTS, reduction='max')
    with pytest.raises(ValueError, match='unknown mode'): score_pairs(lm, PAIRS, mode='suffix')
    with pytest.raises(ValueError, match='no pairs'): score_pairs(lm, [], progress=False)
    with pytest.raises(TypeError, match='not a single string'): score_sentences(lm, 'A cat.')


def test_packed_pairs_equal_separate(lm):
    packed = pair_token_logprobs(lm, PAIRS, batch_size=3, progress=False)
    separate = pair_token_logprobs(lm, PAIRS, share_prefix=False, progress=False)
    for (g1, b1), (g2, b2) in zip(packed, separate):
        np.testing.assert_allclose(g1, g2, atol=1e-4); np.testing.assert_allclose(b1, b2, atol=1e-4)


def test_score_pairs_frame(lm):
    ts = TaskSet({'sva': PAIRS[:2], 'gap': PAIRS[2:]})
    df = score_pairs(lm, ts, progress=False)
    assert {'uid', 'pair_id', 'phenomenon', 'field', 'good', 'bad', 'margin', 'correct', 'n_tok_good', 'n_tok_bad'} <= set(df.columns)
    assert df.uid.tolist() == ['sva', 'sva', 'gap', 'gap']
    np.testing.assert_allclose(df.good, score_sentences(lm, [p.good for p in PAIRS], progress=False), atol=1e-4)
    np.testing.assert_allclose(df.margin, df.good - df.bad)
    assert (df.correct == (df.good > df.bad)).all()
    assert df.n_tok_bad.tolist() == [len(p.bad.encode()) for p in PAIRS]


def test_prefix_mode(lm):
    full = score_pairs(lm, PAIRS, progress=False)
    pre = score_pairs(lm, PAIRS, mode='prefix', progress=False)
    pre_mean = score_pairs(lm, PAIRS, mode='prefix', reduction='mean', progress=False)
    assert shared_word_prefix(PAIRS[0].good, PAIRS[0].bad) == 'The cats'
    assert context_lengths(lm, PAIRS) == [8, 0, 11, 11]
    assert pre.n_ctx.tolist() == [8, 0, 11, 11]
    g, b = token_logprobs(lm, [PAIRS[0].good, PAIRS[0].bad], progress=False)
    assert pre.loc[0, 'good'] == pytest.approx(g[8:].sum(), abs=1e-4)
    assert pre_mean.loc[0, 'bad'] == pytest.approx(b[8:].mean(), abs=1e-4)
    assert pre.n_tok_good.tolist() == [len(p.good.encode()) - c for p, c in zip(PAIRS, [8, 0, 11, 11])]
    np.testing.assert_allclose(pre.margin, full.margin, atol=1e-4)    # the shared context cancels in the sum
    np.testing.assert_allclose(pre.loc[1, ['good', 'bad']].astype(float), full.loc[1, ['good', 'bad']].astype(float))


def test_accuracy_tables():
    s = pd.DataFrame(dict(uid=['a', 'a', 'a', 'b', 'c'], phenomenon=['x', 'x', 'x', 'x', 'y'], field='f',
                          correct=[True, True, False, False, True], margin=[1., 2., -1., -3., .5]))
    t = task_accuracy(s)
    assert t.index.tolist() == ['a', 'b', 'c'] and t.n.tolist() == [3, 1, 1]
    np.testing.assert_allclose(t.accuracy, [2/3, 0, 1]); np.testing.assert_allclose(t.margin, [2/3, -3, .5])
    p = phenomenon_accuracy(s)
    assert p.loc['x', 'accuracy'] == pytest.approx(1/3) and p.loc['x', 'n_tasks'] == 2
    assert p.loc['overall', 'accuracy'] == pytest.approx(5/9) and p.loc['overall', 'n'] == 5


@pytest.mark.slow
def test_agrees_with_minicons():
    "20 pairs from each of 10 BLiMP tasks: per-sentence log-probs within 1e-3 nats of minicons, every decision the same."
    from minicons import scorer
    from lts_nb.models import load_model
    lm = load_model('smollm2-135m')
    blimp = load_blimp(BLIMP)
    sub = blimp.subset(list(blimp)[::len(blimp) // 10][:10], n_per_task=20)
    sents = [s for p in sub.pairs for s in (p.good, p.bad)]
    mc = scorer.IncrementalLMScorer(lm.model, tokenizer=copy.deepcopy(lm.tokenizer), device='cpu')
    assert mc.encode([sents[0]], bos_token=True)['input_ids'][0].tolist() == [lm.prefix_id, *lm.encode(sents[0])]
    ref = np.array([v for i in range(0, len(sents), 32)
                    for v in mc.sequence_score(sents[i:i+32], reduction=lambda x: x.sum(0).item(), bos_token=True)])
    for share in (True, False):
        df = score_pairs(lm, sub, share_prefix=share, progress=False)
        assert len(df) == 200
        assert np.abs(df.good.values - ref[0::2]).max() < 1e-3 and np.abs(df.bad.values - ref[1::2]).max() < 1e-3
        assert (df.correct.values == (ref[0::2] > ref[1::2])).all()
