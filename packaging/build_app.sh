#!/usr/bin/env bash
# Build Styler's one-folder app with PyInstaller:  packaging/build_app.sh cpu|cuda
#
# Each flavour gets its own build venv (build/venv-<flavour>), because the flavour *is* the
# torch build inside it: a CPU-only torch (~0.2 GB) or PyPI's CUDA torch (several GB of
# nvidia-* libraries). The result is dist/<flavour>/styler/ (run dist/<flavour>/styler/styler).
#
# Where torch comes from is one variable, so a mirror or a pinned file can stand in:
#   TORCH_PIP_ARGS  default cpu:  --index-url https://download.pytorch.org/whl/cpu torch torchvision
#                   default cuda: torch torchvision            (PyPI's Linux wheels are CUDA builds)
set -euo pipefail
flavour="${1:-}"
case "$flavour" in
  cpu) default_torch="--index-url https://download.pytorch.org/whl/cpu torch torchvision" ;;
  cuda) default_torch="torch torchvision" ;;
  *) echo "usage: $0 cpu|cuda" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/build/venv-$flavour"
python="${PYTHON:-python3}"

if [ ! -f "$venv/.installed" ]; then
  "$python" -m venv "$venv"
  # torch first, from the flavour's source; the project's own requirements then find it satisfied.
  # shellcheck disable=SC2086  # TORCH_PIP_ARGS is a list of pip arguments
  "$venv/bin/python" -m pip install -q ${TORCH_PIP_ARGS:-$default_torch}
  # The project's requirements, not the project: PyInstaller takes Styler's own code from
  # this checkout (pathex in styler.spec), so the bundle always carries the current source.
  "$venv/bin/python" - "$root/pyproject.toml" > "$venv/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["package"]))
PY
  "$venv/bin/python" -m pip install -q -r "$venv/requirements.txt"
  touch "$venv/.installed"
fi

cd "$root"
"$venv/bin/pyinstaller" --noconfirm --clean \
  --distpath "dist/$flavour" --workpath "build/pyinstaller-$flavour" packaging/styler.spec
du -sh "dist/$flavour/styler"
