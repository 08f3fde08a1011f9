# Shared by scripts/demo and scripts/test: create .venv and install the project into it.
# Re-installs only when pyproject.toml changed since the last install.

ensure_venv() {
    local extras="${1:-}"
    local python="${PYTHON:-python3}"
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv with $($python --version)..."
        "$python" -m venv .venv
    fi
    local stamp=".venv/.triage-installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Installing Triage${extras:+ with [$extras]} into .venv..."
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
        touch "$stamp"
    fi
}
