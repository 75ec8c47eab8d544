#!/usr/bin/env bash
# Drift check: does seqtips still work with the newest releases its pyproject ranges allow?
# A fresh virtual environment gets torch 2.13.0 (the CPU wheel pip finds for this machine) first, then the
# package with every other dependency at its newest allowed release; then every notebook runs. The result,
# one line (date, versions, passed/failed), goes to evidence/drift.txt and into the README's
# "Last verified" line.
#
#   bash scripts/drift.sh                 # install, run every notebook, record the result
#   bash scripts/drift.sh --install-only  # install and print the resolved versions only
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${SEQTIPS_DRIFT_VENV:-${TMPDIR:-/tmp}/seqtips-drift-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet "torch==2.13.0"
# Keep that torch whatever the ranges allow; upgrade everything else as far as they go.
pins="$(mktemp)"
python -c "import torch; print('torch==' + torch.__version__)" >"$pins"
python -m pip install --quiet --upgrade --upgrade-strategy eager -c "$pins" -e ".[test,notebooks]"
rm -f "$pins"

versions="$(python - <<'EOF'
from importlib.metadata import version
print(" ".join(f"{name}={version(name)}" for name in ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "torch")))
EOF
)"
python -m pip list --format=freeze
echo "resolved: $versions"
if [[ "${1:-}" == "--install-only" ]]; then
    exit 0
fi

status=passed
pytest notebooks || status=failed
mkdir -p evidence
echo "$(date -u +%Y-%m-%d) $versions $status" >evidence/drift.txt
cat evidence/drift.txt
python scripts/links.py
[[ "$status" == passed ]]
