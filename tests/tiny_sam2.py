"""A tiny random-weight SAM 2 folder laid out like ``facebook/sam2.1-hiera-tiny``.

The released transformers checkpoint is the *video* model (config ``model_type`` =
``sam2_video``) whose image part ``Sam2Model`` loads; so is this one: config + safetensors
weights of a ``Sam2VideoModel`` (``save_pretrained``), ``preprocessor_config.json`` of a
``Sam2ImageProcessor`` and the ``processor_config.json`` the Hub folder has. Tests load it
through exactly the code path the real checkpoint takes. No network.

``real_size_config()`` is the released Hiera-Tiny architecture (transformers' defaults),
for benchmarks with random weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import (
    Sam2Config,
    Sam2HieraDetConfig,
    Sam2ImageProcessor,
    Sam2VideoConfig,
    Sam2VideoModel,
    Sam2VisionConfig,
)

# The real model's input is 1024 px; 128 keeps tests fast (image embedding 8×8, masks 32×32).
IMAGE_SIZE = 128


def tiny_config(image_size: int = IMAGE_SIZE) -> Sam2VideoConfig:
    s = image_size
    backbone = Sam2HieraDetConfig(
        image_size=[s, s], hidden_size=8, blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[8, 16, 32, 64],
        num_attention_heads_per_stage=[1, 1, 1, 1], window_size_per_stage=[4, 4, 4, 4],
        global_attention_blocks=[3],  # a global block may not open a stage (it pools queries)
        window_positional_embedding_background_size=[2, 2],
    )
    vision = Sam2VisionConfig(
        backbone_config=backbone, backbone_channel_list=[64, 32, 16, 8],
        backbone_feature_sizes=[[s // 4, s // 4], [s // 8, s // 8], [s // 16, s // 16]], fpn_hidden_size=32,
    )
    return Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config={"hidden_size": 32, "image_size": s, "patch_size": 16, "mask_input_channels": 4},
        mask_decoder_config={"hidden_size": 32, "mlp_dim": 64, "num_attention_heads": 2, "iou_head_hidden_dim": 32},
        memory_attention_hidden_size=32, memory_encoder_hidden_size=32, memory_encoder_output_channels=8,
        mask_downsampler_embed_dim=32, memory_fuser_embed_dim=32, memory_attention_num_layers=1,
    )


def real_size_config() -> Sam2Config:
    """SAM 2.1 Hiera-Tiny's architecture (transformers' defaults are that model)."""
    return Sam2Config()


def write_tiny_sam2(folder: Path, seed: int = 0, config: Sam2VideoConfig | Sam2Config | None = None) -> Path:
    """``config`` replaces the tiny one (e.g. ``real_size_config()``, for benchmarks)."""
    from transformers import Sam2Model

    folder.mkdir(parents=True, exist_ok=True)
    config = config or tiny_config()
    torch.manual_seed(seed)
    model = (Sam2VideoModel if isinstance(config, Sam2VideoConfig) else Sam2Model)(config).eval()
    with torch.no_grad():
        # Random init gives mask logits of ~1e-5, i.e. probability 0.5 everywhere; scaled up
        # they are ±2 and a mask is a pattern that changes with the prompt.
        for mlp in model.mask_decoder.output_hypernetworks_mlps:
            [layer for layer in mlp.modules() if isinstance(layer, torch.nn.Linear)][-1].weight.mul_(1e5)
    model.save_pretrained(folder)
    side = int(config.prompt_encoder_config.image_size)
    Sam2ImageProcessor(size={"height": side, "width": side}).save_pretrained(folder)
    processor = {"point_pad_value": -10, "processor_class": "Sam2VideoProcessor", "target_size": side}
    (folder / "processor_config.json").write_text(json.dumps(processor), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def sam2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny SAM 2 folder, written once per session (import this fixture to use it)."""
    return write_tiny_sam2(tmp_path_factory.mktemp("tiny-sam2"))
