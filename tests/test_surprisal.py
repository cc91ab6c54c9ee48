"Token tables and word scores (lts_nb.surprisal): fast checks on the tiny model, and minicons parity on the real one (slow)."
import copy, math, warnings
import numpy as np
import pytest
from lts_nb.models import LM, tiny_lm
from lts_nb.scoring import score_sentences
from lts_nb.surprisal import token_table, word_scores, bow_token_ids, position_stats

SENTS = ['The cat sleeps.', 'Who did Amy see?', 'Colourless  green ideas sleep furiously.', 'Naïve café owners smile.']

@pytest.fixture(scope='module')
def lm(): return tiny_lm(seed=0)

def test_token_table_sums_to_sentence_scores(lm):
    tt = token_table(lm, SENTS, progress=False)
    assert np.allclose(tt.groupby('sentence_id').logprob.sum().values, score_sentences(lm, SENTS, progress=False), atol=1e-5)
    assert np.allclose(tt.surprisal_bits, -tt.logprob / math.log(2))
    assert (tt['rank'] >= 1).all() and (tt['rank'] <= 259).all()
    for i, s in enumerate(SENTS):   # the offsets cover each sentence, in order (a multi-byte character spans its byte tokens)
        t = tt[tt.sentence_id == i]
        assert t.end.max() == len(s) and (t.start.diff().dropna() >= 0).all()
        if s.isascii(): assert ''.join(t.text) == s

def test_rank_is_one_for_the_argmax(lm):
    import torch
    ids = lm.prefix_ids + lm.encode('ab')
    with torch.no_grad(): logits = lm.model(torch.tensor([ids])).logits[0]
    best = int(logits[0].argmax())
    tt = token_table(lm, [lm.tokenizer.decode([best]) + 'b'], progress=False)
    assert tt['rank'].iloc[0] == 1

def test_word_scores_telescoping(lm):
    raw = word_scores(lm, SENTS, bow_correction=False, progress=False)
    cor = word_scores(lm, SENTS, progress=False)
    assert raw.groupby('sentence_id').size().tolist() == [len(s.split()) for s in SENTS]
    sent = score_sentences(lm, SENTS, progress=False)
    assert np.allclose(raw.groupby('sentence_id').logprob.sum().values, sent, atol=1e-5)
    end = np.array([s['log_bow'][-1] for s in position_stats(lm, SENTS, bow_token_ids(lm.tokenizer), progress=False)])
    assert np.allclose(cor.groupby('sentence_id').logprob.sum().values, sent + end, atol=1e-5)

def test_prefix_none_leaves_the_first_word_unscored(lm):
    none = LM(lm.model, lm.tokenizer, prefix='none')
    ws = word_scores(none, ['The cat sleeps.'], bow_correction=False, progress=False)
    tt = token_table(none, ['The cat sleeps.'], progress=False)
    assert np.isnan(tt.logprob.iloc[0]) and not tt.logprob.iloc[1:].isna().any()
    assert np.isnan(ws.logprob.iloc[0]) and not ws.logprob.iloc[1:].isna().any()

def test_bad_input(lm):
    from lts_nb.utils import ConfigError
    with pytest.raises(TypeError, match='not a single string'): word_scores(lm, 'The cat.', progress=False)
    with pytest.raises(ValueError, match='empty'): token_table(lm, ['ok', '  '], progress=False)
    with pytest.raises(ConfigError, match='batch_size'): token_table(lm, ['ok'], batch_size=0, progress=False)

FIXED = ['The keys to the cabinet are on the table.', 'The keys to the cabinet is on the table.',
         'Who did the committee say that Mary had invited?', 'Colourless green ideas sleep furiously.',
         'In 1999, 42 students paid $3.50 each (roughly).', "She didn't think the antidisestablishmentarian's views were popular.",
         'Many people were hoping that the weather would improve by Tuesday afternoon.', 'A cat sat.']

@pytest.mark.slow
@pytest.mark.parametrize('corr', [False, True])
def test_word_scores_match_minicons(corr):
    "Issue 17's must-show: max |lts_nb - minicons word_score_tokenized| < 1e-3 nats per word on smollm2-135m."
    scorer = pytest.importorskip('minicons.scorer')
    from lts_nb.models import load_model
    smol = load_model('smollm2-135m')
    mc = scorer.IncrementalLMScorer(smol.model, tokenizer=copy.deepcopy(smol.tokenizer), device='cpu')
    ref = mc.word_score_tokenized(FIXED, tokenize_function=lambda s: s.split(), bow_correction=corr, bos_token=True)
    ours = word_scores(smol, FIXED, bow_correction=corr, progress=False)
    assert ours.word.tolist() == [w for s in ref for w, _ in s]
    diff = np.abs(ours.logprob.values - np.array([v for s in ref for _, v in s]))
    assert diff.max() < 1e-3, diff.max()
