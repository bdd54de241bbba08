"""A tiny random-weight CLIPSeg folder laid out like ``CIDAS/clipseg-rd64-refined``.

``write_tiny_clipseg(folder)`` writes config + safetensors weights (``save_pretrained``), a
byte-level CLIP tokenizer (vocab.json + merges.txt covering every byte, so any prompt
tokenizes) and a ViT image-processor config, so tests load it through exactly the code
path the real checkpoint takes (``CLIPSegProcessor.from_pretrained`` +
``CLIPSegForImageSegmentation.from_pretrained``). No network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import (
    CLIPSegConfig,
    CLIPSegForImageSegmentation,
    CLIPSegProcessor,
    CLIPTokenizer,
    ViTImageProcessor,
)

# The real model's input size is 352; a smaller one keeps tests fast. Patch 16 -> 6×6 tokens.
IMAGE_SIZE = 96


def tiny_config(image_size: int = IMAGE_SIZE) -> CLIPSegConfig:
    text = {
        "vocab_size": 520, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 2, "max_position_embeddings": 77,
        "bos_token_id": 512, "eos_token_id": 513, "pad_token_id": 513,
    }
    vision = {
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2,
        "image_size": image_size, "patch_size": 16,
    }
    return CLIPSegConfig(
        text_config=text,
        vision_config=vision,
        projection_dim=16,
        extract_layers=[0, 1, 2],  # must index the vision encoder's 3 layers
        reduce_dim=16,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=32,
        conditional_layer=0,
        use_complex_transposed_convolution=True,  # as in the "refined" checkpoint
    )


def _byte_symbols() -> list[str]:
    """GPT-2/CLIP's printable stand-in for each of the 256 bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            symbols[byte] = chr(byte)
        else:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return [symbols[byte] for byte in range(256)]


def _write_tokenizer_files(folder: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every byte as a token, alone and word-final, plus a few merges: a complete BPE."""
    symbols = _byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(tokens)}
    merges = [("t", "h"), ("th", "e</w>"), ("b", "e"), ("e", "d</w>")]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    lines = ["#version: 0.2"] + [f"{left} {right}" for left, right in merges]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vocab, merges


def write_tiny_clipseg(
    folder: Path, seed: int = 0, image_size: int = IMAGE_SIZE, config: CLIPSegConfig | None = None
) -> Path:
    """``config`` replaces the tiny one (e.g. the released model's sizes, for benchmarks)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = config or tiny_config(image_size)
    image_size = config.vision_config.image_size
    torch.manual_seed(seed)
    model = CLIPSegForImageSegmentation(config).eval()
    with torch.no_grad():
        # Random transposed-conv kernels paint a 4-pixel checkerboard that no real model
        # makes; flat kernels give one value per image token, i.e. blobs like CLIPSeg's.
        upsampling = [m for m in model.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
        for layer in upsampling:
            layer.weight.copy_(layer.weight.mean(dim=(2, 3), keepdim=True).expand_as(layer.weight))
        # Random init gives logits of ±100 (all-or-nothing masks); a few units leave edges.
        last = upsampling[-1]
        last.weight.mul_(0.05)
        last.bias.zero_()
    model.save_pretrained(folder)
    vocab, merges = _write_tokenizer_files(folder)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    image_processor = ViTImageProcessor(
        do_resize=True,
        size={"height": image_size, "width": image_size},
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    CLIPSegProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def clipseg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny CLIPSeg folder, written once per session (import this fixture to use it)."""
    return write_tiny_clipseg(tmp_path_factory.mktemp("tiny-clipseg"))
