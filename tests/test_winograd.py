"""On a CPU in float32 the wide 3×3 convolutions run through NNPACK's Winograd kernels; the
pixels stay within rounding of direct convolutions, and training never takes that path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.checkpoint import load_model
from engine.network import StyleNet
from engine.stylizer import Stylizer
from engine.winograd import MIN_POSITIONS, WinogradConv2d, use_winograd, winograd_available

pytestmark = pytest.mark.skipif(not winograd_available(), reason="this torch build has no NNPACK")


@pytest.fixture
def nnpack_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Input shapes of every NNPACK convolution (the kernel itself still runs)."""
    calls: list[tuple[int, ...]] = []
    original = torch._nnpack_spatial_convolution

    def counting(input: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        calls.append(tuple(input.shape))
        return original(input, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "_nnpack_spatial_convolution", counting)
    return calls


def _render(model: StyleNet, content: np.ndarray, style: np.ndarray, **options: bool) -> np.ndarray:
    stylizer = Stylizer(model, device="cpu", precision="fp32", style_size=None, **options)  # type: ignore[arg-type]
    stylizer.set_style(style)
    stylizer.set_content(content)
    return stylizer.render()


def test_cpu_render_runs_winograd_and_keeps_the_direct_pixels(model_path: Path, nnpack_calls: list) -> None:
    rng = np.random.default_rng(1)
    content = rng.random((176, 208, 3), dtype=np.float32)
    style = rng.random((64, 64, 3), dtype=np.float32)

    direct = _render(load_model(model_path)[0], content, style, winograd=False)
    assert nnpack_calls == []
    fast = _render(load_model(model_path)[0], content, style)
    # The content's wide layers down to relu3 and the decoder's run through NNPACK; the small
    # maps (the style's, the content's deepest) convolve directly.
    assert len(nnpack_calls) >= 10
    assert all(h * w >= MIN_POSITIONS for *_, h, w in nnpack_calls)
    assert any(h * w < 2 * MIN_POSITIONS for *_, h, w in nnpack_calls)  # the rule's edge is exercised

    assert direct.std() > 0.05  # not two flat images
    assert np.abs(fast - direct).max() < 1e-4
    assert np.abs(np.round(fast * 255) - np.round(direct * 255)).max() <= 1


@pytest.mark.parametrize("padding", [0, 1])  # the release's reflection-padded layers, torchvision's zero-padded
def test_a_switched_layer_equals_a_direct_convolution(padding: int, nnpack_calls: list) -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 128, 3, padding=padding)
    use_winograd(conv)
    x = torch.randn(1, 64, 44, 52).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        out = conv(x)
    assert len(nnpack_calls) == 1
    torch.testing.assert_close(out, F.conv2d(x, conv.weight, conv.bias, padding=padding), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("padding", [0, 1])
def test_a_large_map_runs_in_strips_that_join_into_the_whole(
    padding: int, nnpack_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NNPACK's workspace grows with the map and is never freed: past MAX_PASS_VALUES a layer
    convolves strips of rows (the last one shorter), which must join without seams."""
    monkeypatch.setattr("engine.winograd.MAX_PASS_VALUES", 192 * 9 * 52)  # 9 output rows per strip
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 128, 3, padding=padding)
    use_winograd(conv)
    x = torch.randn(1, 64, 44, 52 - 2 * padding)
    with torch.inference_mode():
        out = conv(x)
    heights = [h for *_, h, _ in nnpack_calls]
    assert len(heights) == 5 and max(heights) == 11 and heights[-1] < 11  # 42 or 44 output rows
    torch.testing.assert_close(out, F.conv2d(x, conv.weight, conv.bias, padding=padding), atol=1e-4, rtol=1e-4)


def test_gradients_take_the_direct_convolution(nnpack_calls: list) -> None:
    conv = torch.nn.Conv2d(128, 128, 3)
    use_winograd(conv)
    assert isinstance(conv, WinogradConv2d)
    x = torch.randn(1, 128, 12, 12, requires_grad=True)
    out = conv(x)
    out.sum().backward()
    assert nnpack_calls == []
    assert x.grad is not None
    torch.testing.assert_close(out, F.conv2d(x, conv.weight, conv.bias))


def test_switching_back_restores_direct_convolutions() -> None:
    model = StyleNet()
    assert use_winograd(model) == 11 + 1 + 6  # the encoder's, the merge conv, the decoder's
    assert use_winograd(model, enabled=False) == 0
    assert not any(isinstance(module, WinogradConv2d) for module in model.modules())
