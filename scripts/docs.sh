#!/usr/bin/env bash
# Build the documentation website offline into _site/ (open _site/index.html; no server, no network needed):
#   1. the light nbdev pass (scripts/docs_prep.py, project venv): show_doc entries, directives, offline charts,
#      the Commands page and the API index -> docs/_build/src/
#   2. Sphinx + MyST-NB + furo in a venv of their own (.venv-docs, made here on first use), warnings as errors
#   3. checks of the built site (scripts/docs_check.py): nothing loaded from outside the site, every page has
#      its API entries, charts drawn by the shipped vega bundle
#
#   bash scripts/docs.sh              build + check
#   bash scripts/docs.sh --stale      also re-execute the fast cells of index + tutorials and compare outputs
# Environment: LTS_DOCS_VENV (default .venv-docs), LTS_DOCS_OUT (default _site).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LTS_DOCS_VENV:-.venv-docs}
OUT=${LTS_DOCS_OUT:-_site}
PINS="Sphinx==9.0.4 myst-nb==1.4.0 myst-parser==5.2.0 docutils==0.22.4 furo==2025.12.19 sphinx-mathjax-offline==0.0.2"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore::DeprecationWarning

[ -x .venv/bin/python ] || bash scripts/setup.sh
if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$PINS" ]; then
  echo "docs: installing the docs toolchain into $VENV ($PINS)"
  t0=$SECONDS
  [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q $PINS
  echo "$PINS" > "$VENV/.pins"
  echo "docs: toolchain installed in $((SECONDS - t0)) s"
fi

t0=$SECONDS
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} .venv/bin/python scripts/docs_prep.py
t1=$SECONDS
rm -rf "$OUT"
"$VENV/bin/sphinx-build" -W --keep-going -q -b html -c docs -d docs/_build/doctrees docs/_build/src "$OUT"
t2=$SECONDS
.venv/bin/python scripts/docs_check.py "$OUT"
echo "docs: built $OUT/ in $((SECONDS - t0)) s (light nbdev pass $((t1 - t0)) s, sphinx $((t2 - t1)) s): open $OUT/index.html"
if [ "${1:-}" = --stale ]; then
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} .venv/bin/python scripts/docs_stale.py
fi
