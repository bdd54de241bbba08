#!/bin/sh
# Regenerate docs/screenshot.png from the real window under a virtual X server.
# Needs: xvfb (xvfb-run) and Qt's xcb libraries (see docs/app.md). Extra args go to screenshot.py.
set -e
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
QT_QPA_PLATFORM=xcb exec xvfb-run -a -s "-screen 0 1600x1000x24" "$PYTHON" scripts/screenshot.py "$@"
