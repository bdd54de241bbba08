"""Every subcommand against hostile files, odd folders and bad option values: each must
end with a clear message (or succeed), never an "internal error" or a traceback.

Issue 12 asked for this sweep; the count of inputs tried per subcommand is printed
(run with -s) and checked against a floor so the sweep cannot silently shrink."""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from pathlib import Path

from engine.cli import main as cli_main
from tests.conftest import random_photo
from tests.hostile_files import hostile_images, hostile_models

BAD_OPTIONS = {
    "--max-size": ["0", "-5", "abc", "nan", "1e999"],
    "--style-size": ["-1", "100000000", "x"],
    "--strength": ["nan", "2", "-0.5", "inf"],
    "--seed": ["-1", str(2**70), "1.5"],
    "--feather": ["nan", "-1", "inf"],
    "--grow": ["nan", "inf"],
    "--threshold": ["nan", "1.5"],
    "--min-area": ["nan", "-0.1"],
    "--prompt": ["", "   "],
    "--device": ["cuda:9", "tpu", ""],
}


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = cli_main(argv)
        except SystemExit as exc:  # argparse's usage errors
            rc = int(exc.code or 0)
    return rc, err.getvalue()


def test_no_input_gives_an_internal_error(tmp_path, model_path, monkeypatch):
    images = hostile_images(tmp_path / "img")
    models = hostile_models(tmp_path / "models", model_path)
    good, style = images["good"], random_photo(tmp_path / "style.png", (32, 32), seed=5)
    blocked = tmp_path / "a-file"  # a "folder" that is a file: no folder can be made there
    blocked.write_text("x")
    read_only = Path("/proc/styler-out")  # a read-only file system
    model = ["--model", str(model_path), "--style-size", "32", "--device", "cpu"]
    cases: list[tuple[str, list[str], bool]] = []

    def add(command: str, *argv: str, must_fail: bool = False) -> None:
        cases.append((command, [*argv], must_fail))

    # stylize: every hostile file as content, as style, as model; bad outputs; bad options.
    for name, path in images.items():
        add("stylize", "stylize", str(path), "--style", str(style), *model, "-o", str(tmp_path / f"o_{name}.png"))
        add("stylize", "stylize", str(good), "--style", str(path), *model, "-o", str(tmp_path / f"s_{name}.png"))
    add("stylize", "stylize", str(images["gif"]), "--style", str(style), *model)  # default output: .gif
    for name, path in models.items():
        add("stylize", "stylize", str(good), "--style", str(style), "--model", str(path), "--device", "cpu",
            "-o", str(tmp_path / f"m_{name}.png"))
    for output in (blocked / "o.png", read_only / "o.png", tmp_path / ("x" * 300 + ".png"), tmp_path / "o.xyz"):
        add("stylize", "stylize", str(good), "--style", str(style), *model, "-o", str(output))
    for option, values in BAD_OPTIONS.items():
        for value in values:
            add("stylize", "stylize", str(good), "--style", str(style), *model, "-o", str(tmp_path / "opt.png"),
                option, value, must_fail=True)

    # batch: odd folders, bad names, bad outputs, bad options, hostile models.
    in_dir = tmp_path / "img"
    for extra in (["--name", "x" * 300], ["--name", "{nope}"], ["--name", "{stem}/x"], ["--name", "{0}"],
                  ["--recursive"], ["--name", "{index:>999999}"]):
        add("batch", "batch", str(in_dir), "--style", str(style), *model, "-o", str(tmp_path / "b_out"), *extra)
    for out_dir in (blocked, blocked / "sub", read_only, in_dir):
        add("batch", "batch", str(in_dir), "--style", str(style), *model, "-o", str(out_dir))
    for name, path in models.items():
        add("batch", "batch", str(in_dir), "--style", str(style), "--model", str(path), "-o", str(tmp_path / f"bm_{name}"))
    for name in ("thin", "pipe", "loop", "folder", "bomb", "text"):
        add("batch", "batch", str(in_dir), "--style", str(images[name]), *model, "-o", str(tmp_path / f"bs_{name}"))
    for bad_in in (images["good"], images["loop"], tmp_path / "missing"):
        add("batch", "batch", str(bad_in), "--style", str(style), *model, "-o", str(tmp_path / "bi"))
    for option, values in BAD_OPTIONS.items():
        for value in values:
            add("batch", "batch", str(in_dir), "--style", str(style), *model, "-o", str(tmp_path / "bo"), option, value,
                must_fail=True)

    # segment: hostile photos, outputs and options (no CLIPSeg installed: a clear error too).
    for name, path in images.items():
        add("segment", "segment", str(path), "--prompt", "sky", "-o", str(tmp_path / f"g_{name}.png"))
    for output in (blocked / "m.png", read_only / "m.png", tmp_path / "m.jpg"):
        add("segment", "segment", str(good), "--prompt", "sky", "-o", str(output))
    for option in ("--max-size", "--feather", "--grow", "--threshold", "--prompt"):
        for value in BAD_OPTIONS[option]:
            add("segment", "segment", str(good), "--prompt", "sky", option, value, must_fail=True)
    add("segment", "segment", str(good), "--prompt", "sky", "--segmenter", str(tmp_path / "img"))

    # models: every hostile file imported; odd names and folders.
    for name, path in {**models, **images}.items():
        add("models", "models", "import", str(path), "--name", f"n{name}")
    for name in ("", "../escape", "x" * 300, "a/b"):
        add("models", "models", "import", str(model_path), "--name", name)
    add("models", "models", "import-adaattn", str(tmp_path / "img"), "-o", str(tmp_path / "r.safetensors"))
    add("models", "models", "import-adaattn", str(tmp_path / "img"), "-o", str(read_only / "r.safetensors"))
    for command in (["remove", "nope"], ["default", "nope"], ["verify"], ["list"], ["download", "nope"],
                    ["folder", str(blocked / "models")], ["folder", str(read_only)]):
        add("models", "models", *command)

    # train and ablate: hostile data folders and models, bad numbers.
    train = ["--content", str(in_dir), "--style", str(in_dir), "--steps", "1", "--batch-size", "1",
             "--load-size", "32", "--crop-size", "32", "--workers", "0", "--device", "cpu"]
    for name in ("nan", "float_levels", "unknown_encoder", "truncated", "pickle"):
        add("train", "train", *train, "--init", str(models[name]), "-o", str(tmp_path / f"t_{name}"))
    for option, value in (("--lr", "nan"), ("--seed", "-1"), ("--steps", "-3"), ("--crop-size", "7"),
                          ("--lambda-global", "inf"), ("--workers", "-1")):
        add("train", "train", *train, "--init", str(model_path), "-o", str(tmp_path / "t_opt"), option, value)
    add("train", "train", *train, "--init", str(model_path), "-o", str(blocked / "run"))
    add("train", "train", "--resume", "-o", str(tmp_path / "no-run"))
    for option, value in (("--lr", "nan"), ("--seed", str(2**70)), ("--steps", "0"), ("--lambda-global", "nan"),
                          ("--batch-size", "0"), ("--crop-size", "7"), ("--workers", "-1")):
        add("ablate", "ablate", "levels", "--content", str(in_dir), "--style", str(in_dir), "-o",
            str(tmp_path / "ab"), "--init", str(model_path), option, value)
    add("ablate", "ablate", "levels", "--content", str(in_dir), "--style", str(in_dir), "-o",
        str(blocked / "ab"), "--init", str(models["nan"]), "--steps", "1")
    add("ablate", "ablate", "levels", "--content", str(tmp_path / "no-such-folder"), "--style", str(in_dir),
        "-o", str(tmp_path / "ab2"), "--init", str(model_path), "--steps", "1")

    tried: Counter[str] = Counter()
    bad: list[str] = []
    for command, argv, must_fail in cases:
        tried[command] += 1
        rc, err = _run(argv)
        if "internal error" in err or "Traceback" in err or (must_fail and rc == 0):
            bad.append(f"{' '.join(argv)[:200]}\n  -> rc {rc}: {err.strip()[-400:]}")
    print("inputs tried per subcommand:", dict(tried))
    assert not bad, "\n".join(bad)
    assert min(tried.values()) >= 8 and sum(tried.values()) >= 150, tried
