"""Model manager overhead: download throughput with checks, and a full ``adaattn`` install.

Everything is served from a local server on 127.0.0.1, so the numbers are Styler's own cost
(streaming, .part handling, SHA-256, unzip, conversion, manifest), not the network's.

    .venv/bin/python bench/models_download_bench.py --size-mb 256
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.models.download import fetch  # noqa: E402
from engine.models.registry import REGISTRY_OVERRIDE_ENV, RemoteFile  # noqa: E402
from tests.local_http_server import PROXY_VARIABLES, LocalServer, Route  # noqa: E402
from tests.release_weights import write_release  # noqa: E402


def bench_fetch(server: LocalServer, workdir: Path, size_mb: int) -> None:
    payload = os.urandom(size_mb * 1_000_000)
    sha = hashlib.sha256(payload).hexdigest()
    spec = RemoteFile("blob.bin", (server.add("/blob", Route(body=payload, chunk_size=1 << 20)),),
                      approx_size=len(payload), size=len(payload), sha256=sha)
    start = time.perf_counter()
    fetch(spec, workdir / "blob.bin")
    seconds = time.perf_counter() - start
    print(f"fetch {size_mb} MB + SHA-256 check: {seconds:.2f} s ({size_mb / seconds:.0f} MB/s)")

    server.routes["/blob"] = Route(body=payload, chunk_size=1 << 20, drop_after=len(payload) // 2)
    (workdir / "blob.bin").unlink()
    start = time.perf_counter()
    fetch(spec, workdir / "blob.bin")
    print(f"fetch with one dropped connection (resumed at 50%): {time.perf_counter() - start:.2f} s")


def bench_install(server: LocalServer, workdir: Path) -> None:
    release = workdir / "release" / "AdaAttN"
    write_release(release, encoder_in_parent=True)
    archive = workdir / "AdaAttN_model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in release.glob("latest_net_*.pth"):
            zf.write(f, f"AdaAttN/{f.name}")
    vgg = (release.parent / "vgg_normalised.pth").read_bytes()
    override = {"adaattn": {
        "AdaAttN_model.zip": {"urls": [server.add("/zip", Route(body=archive.read_bytes(), chunk_size=1 << 20))]},
        "vgg_normalised.pth": {"urls": [server.add("/vgg", Route(body=vgg, chunk_size=1 << 20))],
                               "size": len(vgg), "sha256": hashlib.sha256(vgg).hexdigest()},
    }}
    (workdir / "override.json").write_text(json.dumps(override))
    os.environ[REGISTRY_OVERRIDE_ENV] = str(workdir / "override.json")
    os.environ["STYLER_HOME"] = str(workdir / "home")
    from engine.models.install import install

    start = time.perf_counter()
    model = install("adaattn")
    total = archive.stat().st_size + len(vgg)
    print(f"install adaattn ({total / 1e6:.0f} MB download -> {model.size / 1e6:.0f} MB model): "
          f"{time.perf_counter() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=256)
    args = parser.parse_args()
    for var in PROXY_VARIABLES:
        os.environ.pop(var, None)
    with tempfile.TemporaryDirectory() as tmp, LocalServer() as server:
        bench_fetch(server, Path(tmp), args.size_mb)
        bench_install(server, Path(tmp))


if __name__ == "__main__":
    main()
