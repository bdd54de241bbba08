# One entry point. `make run` and `make test` set everything up on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench screenshot clean install-desktop uninstall-desktop app

setup: $(STAMP)

# torch is pinned to the release that torchvision's PyPI wheels are built against; a
# mismatched pair fails to import torchvision's compiled ops.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.14.*" "torchvision==0.29.*"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

run: setup
	$(BIN)/styler

# Lint and types first: seconds, and they explain some failures faster than the tests do.
test: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Styler in the Linux application menu and in "Open with" for images (~/.local/share).
install-desktop: setup
	$(BIN)/styler desktop install

uninstall-desktop: setup
	$(BIN)/styler desktop uninstall

# The one-folder app (PyInstaller), CPU flavour; packaging/README.md has the CUDA one.
app:
	packaging/build_app.sh cpu

bench: setup
	$(BIN)/python bench/stylize_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info
