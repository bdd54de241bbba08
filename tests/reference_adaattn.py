"""A straightforward implementation of the AdaAttN formulas, written from the paper and
the reference doc, independent of engine/: it works on the release's raw state dicts and
materialises the full N_c × N_s attention matrix. The equivalence test and the benchmark
compare Styler against it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# vgg_normalised: (sequential index of the conv, is it the relu?_1 tap) and pools.
_VGG_PLAN = [(2, True), (5, False), "pool", (9, True), (12, False), "pool",
             (16, True), (19, False), (22, False), (25, False), "pool",
             (29, True), (32, False), (35, False), (38, False), "pool", (42, True)]
_DECODER_2 = [1, 4, 7, 10, "up", 14, 17, "up", 21, 24]


def _conv3(x, w, b):
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w, b)


def encode(img, vgg):
    x = F.conv2d(img, vgg["0.weight"], vgg["0.bias"])
    feats = []
    for step in _VGG_PLAN:
        if step == "pool":
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            continue
        index, tap = step
        x = F.relu(_conv3(x, vgg[f"{index}.weight"], vgg[f"{index}.bias"]))
        if tap:
            feats.append(x)
    return feats


def norm(x):
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    mean = flat.mean(dim=2).reshape(n, c, 1, 1)
    std = (flat.var(dim=2) + 1e-5).sqrt().reshape(n, c, 1, 1)
    return (x - mean) / std


def key(feats, last):
    size = feats[last].shape[-2:]
    parts = [norm(F.interpolate(f, size=size, mode="nearest")) for f in feats[:last]]
    return torch.cat(parts + [norm(feats[last])], dim=1)


def adaattn(p, prefix, content, style, content_key, style_key):
    q = F.conv2d(content_key, p[prefix + "f.weight"], p[prefix + "f.bias"])
    k = F.conv2d(style_key, p[prefix + "g.weight"], p[prefix + "g.bias"])
    v = F.conv2d(style, p[prefix + "h.weight"], p[prefix + "h.bias"])
    b, c, h, w = content.shape
    q = q.reshape(b, q.shape[1], -1).transpose(1, 2)  # (b, Nc, d)
    k = k.reshape(b, k.shape[1], -1)  # (b, d, Ns)
    v = v.reshape(b, c, -1).transpose(1, 2)  # (b, Ns, c)
    attn = torch.softmax(torch.bmm(q, k), dim=-1)  # (b, Nc, Ns): the matrix, materialised
    mean = torch.bmm(attn, v)
    std = torch.sqrt(torch.relu(torch.bmm(attn, v * v) - mean * mean))
    mean = mean.transpose(1, 2).reshape(b, c, h, w)
    std = std.transpose(1, 2).reshape(b, c, h, w)
    return std * norm(content) + mean


def stylize(content, style, weights):
    """content, style (B, 3, H, W) in [0, 1] (content H, W multiples of 16) -> (B, 3, H, W)."""
    c, s = encode(content, weights["vgg"]), encode(style, weights["vgg"])
    t = weights["transformer"]
    level3 = adaattn(weights["adaattn_3"], "", c[2], s[2], key(c, 2), key(s, 2))
    level4 = adaattn(t, "attn_adain_4_1.", c[3], s[3], key(c, 3), key(s, 3))
    level5 = adaattn(t, "attn_adain_5_1.", c[4], s[4], key(c, 4), key(s, 4))
    merged = _conv3(level4 + F.interpolate(level5, scale_factor=2, mode="nearest"),
                    t["merge_conv.weight"], t["merge_conv.bias"])
    d = weights["decoder"]
    x = F.relu(_conv3(merged, d["decoder_layer_1.1.weight"], d["decoder_layer_1.1.bias"]))
    x = torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), level3], dim=1)
    for step in _DECODER_2:
        if step == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            continue
        x = _conv3(x, d[f"decoder_layer_2.{step}.weight"], d[f"decoder_layer_2.{step}.bias"])
        if step != 24:
            x = F.relu(x)
    return x
