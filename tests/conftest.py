import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'/'data'
BLIMP = SHARED/'blimp'

@pytest.fixture(scope='session')
def blimp_dir():
    if not BLIMP.exists(): pytest.skip(f"shared BLiMP data not found at {BLIMP}")
    return BLIMP

@pytest.fixture(scope='session')
def tiny_dir(tmp_path_factory):
    "A tiny random Llama saved to a folder, as a user's own model would be."
    from lts_nb.models import tiny_lm
    d = tmp_path_factory.mktemp('tiny')
    lm = tiny_lm(seed=0); lm.model.save_pretrained(d); lm.tokenizer.save_pretrained(d)
    return d
