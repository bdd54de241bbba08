"""AdaAttN's attention-weighted mean/std without the N_c × N_s matrix."""

from __future__ import annotations

import pytest
import torch

from engine.attention import (
    AdaAttN,
    attention_mean_std,
    blockwise_attention,
    fused_attention,
    make_style_memory,
    mean_std,
    normalize,
)


def explicit_mean_std(q, k, v):
    attn = torch.softmax(q @ k.transpose(1, 2), dim=-1)
    mean = attn @ v
    return mean, torch.relu(attn @ (v * v) - mean * mean).sqrt()


@pytest.mark.parametrize("key_width, channels", [(448, 256), (960, 512), (1472, 512), (8, 3)])
def test_matches_explicit_attention(key_width, channels):
    gen = torch.Generator().manual_seed(key_width)
    q = torch.randn(2, 50, key_width, generator=gen, dtype=torch.float64) * 0.2
    k = torch.randn(2, 70, key_width, generator=gen, dtype=torch.float64) * 0.2
    v = torch.rand(2, 70, channels, generator=gen, dtype=torch.float64) * 3
    mean, std = attention_mean_std(q, make_style_memory(k, v))
    want_mean, want_std = explicit_mean_std(q, k, v)
    torch.testing.assert_close(mean.double(), want_mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(std.double(), want_std, atol=1e-5, rtol=1e-5)


def test_sharp_logits_are_not_scaled():
    """No 1/sqrt(d): with large logits the softmax is nearly one-hot, as in the release."""
    q = torch.tensor([[[10.0, 0.0]]])
    k = torch.tensor([[[10.0, 0.0], [0.0, 10.0]]])
    v = torch.tensor([[[1.0], [5.0]]])
    mean, std = attention_mean_std(q, make_style_memory(k, v))
    assert mean.item() == pytest.approx(1.0, abs=1e-6)
    assert std.item() == pytest.approx(0.0, abs=1e-3)
    q_soft = torch.tensor([[[0.5, 0.0]]])
    k_soft = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    mean_soft, _ = attention_mean_std(q_soft, make_style_memory(k_soft, v))
    weight = torch.softmax(torch.tensor([0.5, 0.0]), 0)  # unscaled; 1/sqrt(2) would give 0.354
    assert mean_soft.item() == pytest.approx(float(weight @ torch.tensor([1.0, 5.0])), abs=1e-6)


def test_chunked_queries_give_identical_results():
    gen = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(1, 333, 16, generator=gen), torch.randn(1, 90, 16, generator=gen), torch.randn(1, 90, 5, generator=gen)
    memory = make_style_memory(k, v)
    full = attention_mean_std(q, memory)
    chunked = attention_mean_std(q, memory, chunk_size=64)
    torch.testing.assert_close(full[0], chunked[0], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(full[1], chunked[1], atol=1e-6, rtol=1e-6)


def test_centring_keeps_variance_in_bfloat16():
    """Values with a large common offset: E[V²] − E[V]² cancels unless V is centred."""
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(1, 40, 32, generator=gen) * 0.3
    k = torch.randn(1, 60, 32, generator=gen) * 0.3
    v = 200.0 + 4 * torch.randn(1, 60, 8, generator=gen)
    q, k, v = q.bfloat16(), k.bfloat16(), v.bfloat16()  # the inputs as bf16 holds them
    want_mean, want_std = explicit_mean_std(q.double(), k.double(), v.double())
    mean, std = attention_mean_std(q, make_style_memory(k, v))
    # bf16 keeps 8 bits of mantissa: E[V²] ≈ 40000 is held to ±156, which would swamp a
    # variance of ~16 if it were computed uncentred.
    uncentred_second_moment = explicit_mean_std(q, k, v)[0] ** 2  # the size that would cancel
    assert uncentred_second_moment.min() > 30000
    assert ((std.double() - want_std).abs() / want_std).max() < 0.05
    assert (mean.double() - want_mean).abs().max() < 1.0


def test_norm_uses_unbiased_variance_and_eps():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    mean, std = mean_std(x)
    assert mean.item() == pytest.approx(3.0)
    assert std.item() == pytest.approx(((4 + 1 + 0 + 9) / 3 + 1e-5) ** 0.5)
    assert normalize(x).flatten(2).mean().abs() < 1e-6


def test_subsampling_is_seeded_and_bounded():
    k, v = torch.randn(1, 500, 4), torch.randn(1, 500, 3)
    a = make_style_memory(k, v, max_positions=100, seed=7)
    b = make_style_memory(k, v, max_positions=100, seed=7)
    assert a.keys.shape[1] == 100
    torch.testing.assert_close(a.keys, b.keys)
    assert make_style_memory(k, v, max_positions=1000).keys.shape[1] == 500


def test_module_forward_shapes_and_output_statistics():
    module = AdaAttN(value_channels=6, key_channels=10)
    content, content_key = torch.randn(1, 6, 5, 7), torch.randn(1, 10, 5, 7)
    style, style_key = torch.randn(1, 6, 4, 4), torch.randn(1, 10, 4, 4)
    out = module(content, content_key, module.style_memory(style, style_key))
    assert out.shape == content.shape
    assert torch.isfinite(out).all()


def test_cpu_attention_takes_the_fused_path_at_every_level():
    """If SDPA fell back to its math path it would materialise N_c × N_s (visible as bmm)."""
    from torch.utils.flop_counter import FlopCounterMode

    for value_channels, key_width in [(256, 448), (512, 960), (512, 1472)]:
        module = AdaAttN(value_channels, key_width)
        memory = module.style_memory(torch.randn(1, value_channels, 6, 6), torch.randn(1, key_width, 6, 6))
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(torch.randn(1, value_channels, 5, 7), torch.randn(1, key_width, 5, 7), memory)
        counted = {str(op) for ops in counter.get_flop_counts().values() for op in ops}
        assert not any("bmm" in op or "baddbmm" in op for op in counted), (key_width, counted)


def test_pooled_memory_holds_cell_means_of_keys_and_value_moments():
    from engine.attention import pooled_style_memory, pooling_factor

    assert pooling_factor(128, 128, 64 * 64) == 2
    assert pooling_factor(64, 64, 64 * 64) == 1
    assert pooling_factor(128, 200, 64 * 64) == 3  # 2: 64·100 > 4096; 3: 43·67 ≤ 4096
    gen = torch.Generator().manual_seed(0)
    keys, values = torch.randn(1, 5, 4, 6, generator=gen), torch.randn(1, 3, 4, 6, generator=gen)
    memory = pooled_style_memory(keys, values, max_positions=6)  # 2×2 cells: 2 × 3 of them
    assert memory.keys.shape[1] == 6
    v_mean = values.mean(dim=(2, 3), keepdim=True)
    centred = values - v_mean
    first_cell = (slice(None), slice(None), slice(0, 2), slice(0, 2))
    torch.testing.assert_close(memory.keys[0, 0, :5], keys[first_cell].mean(dim=(2, 3))[0])
    torch.testing.assert_close(memory.values[0, 0, :3], centred[first_cell].mean(dim=(2, 3))[0])
    # The second moment is the cell mean of squares (the cell's spread counts), not the
    # square of the cell mean.
    torch.testing.assert_close(memory.values[0, 0, 3:6], (centred[first_cell] ** 2).mean(dim=(2, 3))[0])
    torch.testing.assert_close(memory.value_mean[0, 0], v_mean.flatten())


def test_pooled_memory_below_the_limit_is_exact_attention():
    from engine.attention import pooled_style_memory

    gen = torch.Generator().manual_seed(1)
    keys, values = torch.randn(1, 8, 5, 7, generator=gen), torch.randn(1, 4, 5, 7, generator=gen)
    pooled = pooled_style_memory(keys, values, max_positions=35)
    exact = make_style_memory(keys.flatten(2).transpose(1, 2), values.flatten(2).transpose(1, 2))
    query = torch.randn(1, 11, 8, generator=gen)
    for got, want in zip(attention_mean_std(query, pooled), attention_mean_std(query, exact), strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("chunk_size, dtype", [(None, torch.float64), (7, torch.float64), (None, torch.float32)])
def test_blockwise_attention_equals_the_fused_kernel(monkeypatch, chunk_size, dtype):
    """The GPU's explicit path (two products per block of queries, logits normalised in
    place) gives the fused kernel's mean and second moment, also with blocks that split the
    queries unevenly and with unscaled logits in the hundreds (exp overflows float32 there
    unless the maximum is taken off first)."""
    monkeypatch.setattr("engine.attention.BLOCK_LOGITS", 90 * 10)  # 10 queries per block
    gen = torch.Generator().manual_seed(3)
    q = torch.randn(1, 53, 24, generator=gen, dtype=torch.float64) * 5
    k = torch.randn(1, 90, 24, generator=gen, dtype=torch.float64) * 5
    v = torch.rand(1, 90, 6, generator=gen, dtype=torch.float64) * 3
    assert (q @ k.transpose(1, 2)).max() > 200
    memory = make_style_memory(k.to(dtype), v.to(dtype))
    blockwise = blockwise_attention(q.to(dtype), memory, chunk_size)
    tolerance = 1e-9 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(blockwise, fused_attention(q.to(dtype), memory, None), atol=tolerance, rtol=tolerance)
    want_mean, _ = explicit_mean_std(q, k, v)
    got_mean = (blockwise[..., :6] + memory.value_mean).double()
    torch.testing.assert_close(got_mean, want_mean, atol=tolerance, rtol=tolerance)


def _unfolded_adaattn(module, content, content_key, style, style_key):
    """Eq. 4–7 as the release computes them: f on the content key, g on the style key."""
    q = module.f(content_key).flatten(2).transpose(1, 2)
    k = module.g(style_key).flatten(2).transpose(1, 2)
    v = module.h(style).flatten(2).transpose(1, 2)
    mean, std = explicit_mean_std(q, k, v)
    b, c, h, w = content.shape
    mean, std = (x.transpose(1, 2).reshape(b, c, h, w) for x in (mean, std))
    return std * normalize(content) + mean


def test_logits_with_f_in_the_keys_equal_the_release_logits():
    """At inference AdaAttN carries f inside the style's keys (the softmax drops the
    per-query terms); training keeps the release's graph, where every parameter, g's bias
    included, gets a gradient (DistributedDataParallel requires it). Both must give the
    release's output, and training its gradients."""
    torch.manual_seed(0)
    module = AdaAttN(value_channels=6, key_channels=10).double()
    with torch.no_grad():
        for conv in (module.f, module.g):
            conv.bias.normal_(0, 2)  # the biases are what the folding has to get right
    content, content_key = torch.randn(1, 6, 5, 7, dtype=torch.float64), torch.randn(1, 10, 5, 7, dtype=torch.float64)
    style, style_key = torch.randn(1, 6, 4, 4, dtype=torch.float64), torch.randn(1, 10, 4, 4, dtype=torch.float64)

    want = _unfolded_adaattn(module, content, content_key, style, style_key)
    want.square().sum().backward()
    want_grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    got = module(content, content_key, module.style_memory(style, style_key))
    got.square().sum().backward()
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)  # float64; the std's sqrt near 0
    for param, want_grad in zip(module.parameters(), want_grads, strict=True):
        assert param.grad is not None
        torch.testing.assert_close(param.grad, want_grad, atol=1e-5, rtol=1e-5)

    with torch.no_grad():
        torch.testing.assert_close(module(content, content_key, module.style_memory(style, style_key)), want.detach(), atol=1e-6, rtol=1e-6)
        # CUDA inference runs the folded memory through the blockwise products.
        memory, query = module.style_memory(style, style_key), content_key.flatten(2).transpose(1, 2)
        assert memory.folded
        torch.testing.assert_close(blockwise_attention(query, memory, 8), fused_attention(query, memory, None))
        # Inference keeps the composed map; changed weights must not meet the old one.
        module.f.weight.mul_(-0.5)
        module.g.bias.add_(1.0)
        changed = module(content, content_key, module.style_memory(style, style_key))
    torch.testing.assert_close(changed, _unfolded_adaattn(module, content, content_key, style, style_key).detach(), atol=1e-6, rtol=1e-6)
