#!/usr/bin/env bash
# Build an isolated virtual environment with whylogs 1.6.4 for the differential test
# (tests/profiles/test_whylogs_differential.py) and the benchmark (benchmarks/profiles.py).
#
# whylogs is NOT a dependency of weave_lite: it needs numpy<2 and pandas<2.3, which clash
# with the project's own environment, so it lives in benchmarks/.whylogs-venv.
#
# Usage:  bash benchmarks/whylogs_env.sh            (PYTHON=/path/to/python3.11 to choose)
# whylogs 1.6.4 declares Requires-Python >=3.7.1,<4 and its compiled dependency
# whylogs-sketching 3.4.1.dev3 ships a cp311 wheel, so Python 3.11 (the project's minimum)
# works; we fall back to 3.10 (e.g. pyenv's /root/.pyenv/versions/3.10.*) if 3.11 is missing.
# pandas is only an extra of whylogs, so it is pinned here with numpy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.whylogs-venv"

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    for cand in python3.11 python3.10; do
        if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import venv' >/dev/null 2>&1; then
            command -v "$cand"; return
        fi
    done
    for cand in /root/.pyenv/versions/3.11*/bin/python3 /root/.pyenv/versions/3.10*/bin/python3; do
        if [[ -x "$cand" ]]; then echo "$cand"; return; fi
    done
    echo "whylogs_env.sh: no python3.11 or python3.10 found (set PYTHON=...)" >&2
    exit 1
}

py="$(pick_python)"
echo "whylogs_env.sh: using $py ($("$py" --version 2>&1))"
if [[ ! -x "$venv/bin/python" ]]; then
    "$py" -m venv "$venv"
fi
# (grep drops pip's warnings about unused local index locations some machines configure)
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; return "${PIPESTATUS[0]}"; }
quiet "$venv/bin/python" -m pip install --quiet --upgrade pip
# pyarrow: whylogs_profile.py reads the data as an Arrow IPC file written by the caller
quiet "$venv/bin/python" -m pip install --quiet "whylogs==1.6.4" "numpy<2" "pandas<2.3" "pyarrow<18"
"$venv/bin/python" -c 'import whylogs, numpy, pandas; print("whylogs", whylogs.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__)'
echo "whylogs_env.sh: ready at $venv"
