# Sourced by scripts/test.sh and scripts/demo.sh: make or reuse .venv and put it first on PATH.
# The project is (re)installed with the extras named in $SYNAP_EXTRAS whenever pyproject.toml
# changes, so a fresh clone needs nothing but Python 3.11+ and pip.

pick_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "synap needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python)" >&2
    return 1
}

ensure_venv() {
    local extras="${SYNAP_EXTRAS:-dev}"
    if [ ! -x .venv/bin/python ]; then
        "$(pick_python)" -m venv .venv
    fi
    local stamp=".venv/.synap-installed"
    local sum have
    sum="$(cksum <pyproject.toml)"
    have="$(cat "$stamp" 2>/dev/null || true)"
    # The dev extra includes the server extra: a venv made by test.sh serves demo.sh as is.
    if [ "$have" != "$sum [$extras]" ] && [ "$have" != "$sum [dev]" ]; then
        # The distribution was called `synap` before `synap-memory`: drop an old install of
        # it, whose entry points would load the pytest plugin a second time.
        if .venv/bin/python -m pip show --quiet synap >/dev/null 2>&1; then
            .venv/bin/python -m pip uninstall --quiet --yes synap
        fi
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
        echo "$sum [$extras]" >"$stamp"
    fi
    export PATH="$PWD/.venv/bin:$PATH"
    export VIRTUAL_ENV="$PWD/.venv"
}
