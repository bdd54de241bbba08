"""The AdaAttN authors' test-time forward pass, ported from the behaviour of their published
code (facts as in the project's reference note on the official release format): the bench's baseline.

Written here, not copied. It keeps what decides their speed and memory:
- their module structure and state-dict names, so the four released files load as they are;
- the encoder as five sequential slices of ``vgg_normalised`` (NCHW, reflection pads as
  separate layers), run in full on the content *and* the style at every forward;
- every AdaAttN level materialises the N_c × N_s attention matrix with ``bmm`` + softmax;
- style subsampling: above ``max_sample`` style positions (64·64 at level 3, 256·256 at
  levels 4 and 5) the global generator is seeded and ``randperm`` picks that many positions;
- the seed (6666 in their test options) is re-applied at every level.
Unlike tests/reference_adaattn.py (an independent check of the formulas, no subsampling),
this is a model of *their program*, so it is what Styler's speed is compared against.
"""

from __future__ import annotations

import torch
from torch import nn

AUTHORS_SEED = 6666
LEVEL3_MAX_SAMPLE = 64 * 64
DEEP_MAX_SAMPLE = 256 * 256


def mean_variance_norm(feat: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    n, c = feat.shape[:2]
    var = feat.view(n, c, -1).var(dim=2) + eps
    std = var.sqrt().view(n, c, 1, 1)
    mean = feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1)
    return (feat - mean.expand(feat.size())) / std.expand(feat.size())


def vgg_normalised() -> nn.Sequential:
    """The full 53-layer sequential VGG of ``vgg_normalised.pth`` (indices as in the file)."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    plan = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256),
            (256, 256), (256, 256), "M", (256, 512), (512, 512), (512, 512), (512, 512), "M",
            (512, 512), (512, 512), (512, 512), (512, 512)]
    for step in plan:
        if step == "M":
            layers.append(nn.MaxPool2d(2, 2, 0, ceil_mode=True))
        else:
            cin, cout = step
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3), nn.ReLU()]
    return nn.Sequential(*layers)


class AdaAttN(nn.Module):
    def __init__(self, in_planes: int, key_planes: int, max_sample: int) -> None:
        super().__init__()
        self.f = nn.Conv2d(key_planes, key_planes, 1)
        self.g = nn.Conv2d(key_planes, key_planes, 1)
        self.h = nn.Conv2d(in_planes, in_planes, 1)
        self.sm = nn.Softmax(dim=-1)
        self.max_sample = max_sample

    def forward(self, content, style, content_key, style_key, seed=None):  # type: ignore[no-untyped-def]
        f = self.f(content_key)
        g = self.g(style_key)
        h = self.h(style)
        b, _, h_g, w_g = g.size()
        g = g.view(b, -1, w_g * h_g).contiguous()
        if w_g * h_g > self.max_sample:
            if seed is not None:
                torch.manual_seed(seed)
            index = torch.randperm(w_g * h_g).to(content.device)[: self.max_sample]
            g = g[:, :, index]
            style_flat = h.view(b, -1, w_g * h_g)[:, :, index].transpose(1, 2).contiguous()
        else:
            style_flat = h.view(b, -1, w_g * h_g).transpose(1, 2).contiguous()
        b, _, hh, ww = f.size()
        f = f.view(b, -1, ww * hh).permute(0, 2, 1)
        s = self.sm(torch.bmm(f, g))  # (b, N_c, N_s): materialised
        mean = torch.bmm(s, style_flat)
        std = torch.sqrt(torch.relu(torch.bmm(s, style_flat**2) - mean**2))
        mean = mean.view(b, hh, ww, -1).permute(0, 3, 1, 2).contiguous()
        std = std.view(b, hh, ww, -1).permute(0, 3, 1, 2).contiguous()
        return std * mean_variance_norm(content) + mean


class Transformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn_adain_4_1 = AdaAttN(512, 960, DEEP_MAX_SAMPLE)
        self.attn_adain_5_1 = AdaAttN(512, 1472, DEEP_MAX_SAMPLE)
        self.upsample5_1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.merge_conv_pad = nn.ReflectionPad2d(1)
        self.merge_conv = nn.Conv2d(512, 512, 3)

    def forward(self, c4, s4, c5, s5, c4_key, s4_key, c5_key, s5_key, seed=None):  # type: ignore[no-untyped-def]
        level4 = self.attn_adain_4_1(c4, s4, c4_key, s4_key, seed=seed)
        level5 = self.attn_adain_5_1(c5, s5, c5_key, s5_key, seed=seed)
        return self.merge_conv(self.merge_conv_pad(level4 + self.upsample5_1(level5)))


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        pad = nn.ReflectionPad2d
        self.decoder_layer_1 = nn.Sequential(
            pad(1), nn.Conv2d(512, 256, 3), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest")
        )
        self.decoder_layer_2 = nn.Sequential(
            pad(1), nn.Conv2d(512, 256, 3), nn.ReLU(),
            pad(1), nn.Conv2d(256, 256, 3), nn.ReLU(),
            pad(1), nn.Conv2d(256, 256, 3), nn.ReLU(),
            pad(1), nn.Conv2d(256, 128, 3), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            pad(1), nn.Conv2d(128, 128, 3), nn.ReLU(),
            pad(1), nn.Conv2d(128, 64, 3), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            pad(1), nn.Conv2d(64, 64, 3), nn.ReLU(),
            pad(1), nn.Conv2d(64, 3, 3),
        )

    def forward(self, cs: torch.Tensor, level3: torch.Tensor) -> torch.Tensor:
        return self.decoder_layer_2(torch.cat((self.decoder_layer_1(cs), level3), dim=1))


class AuthorsAdaAttN(nn.Module):
    """Their test model (skip_connection_3 and shallow_layer on, as released)."""

    def __init__(self, state: dict[str, dict[str, torch.Tensor]], seed: int | None = AUTHORS_SEED) -> None:
        super().__init__()
        vgg = vgg_normalised()
        vgg.load_state_dict(state["vgg"])
        # Their encode_with_intermediate: relu1_1 … relu5_1 as five slices.
        self.slices = nn.ModuleList([vgg[:4], vgg[4:11], vgg[11:18], vgg[18:31], vgg[31:44]])
        self.net_adaattn_3 = AdaAttN(256, 448, LEVEL3_MAX_SAMPLE)
        self.net_adaattn_3.load_state_dict(state["adaattn_3"])
        self.net_transformer = Transformer()
        self.net_transformer.load_state_dict(state["transformer"])
        self.net_decoder = Decoder()
        self.net_decoder.load_state_dict(state["decoder"])
        self.seed = seed
        self.requires_grad_(False)
        self.eval()

    def encode_with_intermediate(self, image: torch.Tensor) -> list[torch.Tensor]:
        results = [image]
        for piece in self.slices:
            results.append(piece(results[-1]))
        return results[1:]

    @staticmethod
    def get_key(feats: list[torch.Tensor], last: int) -> torch.Tensor:
        results = []
        _, _, h, w = feats[last].shape
        for i in range(last):
            results.append(mean_variance_norm(nn.functional.interpolate(feats[i], (h, w))))
        results.append(mean_variance_norm(feats[last]))
        return torch.cat(results, dim=1)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        c, s = self.encode_with_intermediate(content), self.encode_with_intermediate(style)
        level3 = self.net_adaattn_3(c[2], s[2], self.get_key(c, 2), self.get_key(s, 2), self.seed)
        cs = self.net_transformer(
            c[3], s[3], c[4], s[4], self.get_key(c, 3), self.get_key(s, 3),
            self.get_key(c, 4), self.get_key(s, 4), self.seed,
        )
        return self.net_decoder(cs, level3)
