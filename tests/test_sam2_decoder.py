"""The refiner's decoder pass (``engine.sam2_decoder``) gives what transformers' own
``Sam2Model.forward`` gives on the same photo embedding, for a click (three candidate masks)
and for several boxes at once (one mask each, SAM 2's stability fallback included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.image_io import load_image, to_uint8
from engine.options import Click
from engine.refiner import BoxPrompt, Refiner
from tests.tiny_sam2 import sam2_dir  # noqa: F401 (fixture)

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "photos" / "photos" / "dog_camera_trap.jpg"


def sharp_refiner(folder: Path) -> Refiner:
    """The tiny model with its decoder's attention made peaked: at random init its logits
    are so small that every token attends nearly uniformly, and a missing positional term
    would go unnoticed; so would the output tokens' own embedding, 50 times smaller than
    the normalised tokens it is added to."""
    refiner = Refiner.from_folder(folder, "cpu")
    with torch.no_grad():
        for name, layer in refiner.model.mask_decoder.named_modules():
            if name.endswith(("q_proj", "k_proj")):
                layer.weight.mul_(6)
            elif name.endswith("o_proj"):
                layer.weight.mul_(4)
            elif isinstance(layer, torch.nn.Embedding):  # the output tokens: as large as the normed ones
                layer.weight.mul_(30)
    return refiner


def library_forward(refiner: Refiner, rgb: np.ndarray, points: list, boxes: list | None, multimask: bool):
    """transformers' forward for prompts given in the model's input square."""
    pixels = refiner.image_processor(images=[to_uint8(rgb)], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        embeddings = refiner.model.get_image_embeddings(pixels)
        out = refiner.model(
            image_embeddings=embeddings,
            input_points=torch.tensor([points], dtype=torch.float32),
            input_labels=torch.ones(1, len(points), len(points[0]), dtype=torch.int64),
            input_boxes=None if boxes is None else torch.tensor([boxes], dtype=torch.float32),
            multimask_output=multimask,
        )
    return out.pred_masks[0], out.iou_scores[0]


def photo() -> np.ndarray:
    rgb = load_image(PHOTO).rgb
    return np.ascontiguousarray(rgb[::8, ::6])  # non-square, not the model's square


def in_model_square(refiner: Refiner, x: float, y: float, size: tuple[int, int]) -> list[float]:
    side = refiner.input_size
    return [x * side / size[1], y * side / size[0]]


def test_a_click_decodes_as_the_library_does(sam2_dir):
    refiner = sharp_refiner(sam2_dir)
    rgb = photo()
    refiner.set_image(rgb)
    for click in (Click(20, 30), Click(rgb.shape[1] - 5, 7)):
        ours = refiner.decode_click(click)
        masks, scores = library_forward(
            refiner, rgb, [[in_model_square(refiner, click.x + 0.5, click.y + 0.5, rgb.shape[:2])]], None, True
        )
        expected = masks[0, int(scores[0].argmax())]
        assert float(expected.abs().max()) > 0.5  # a pattern, not zeros
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))


def test_several_boxes_decode_as_the_library_does(sam2_dir):
    refiner = sharp_refiner(sam2_dir)
    rgb = photo()
    size = rgb.shape[:2]
    refiner.set_image(rgb)
    prompts = [BoxPrompt((3, 4, 60, 50), (30, 25)), BoxPrompt((40, 10, 90, 70), (70, 40)),
               BoxPrompt((0, 0, size[1], size[0]), (size[1] / 2, size[0] / 2))]
    ours = refiner.decode_boxes(prompts)
    points = [[in_model_square(refiner, *p.point, size)] for p in prompts]
    boxes = [in_model_square(refiner, *p.box[:2], size) + in_model_square(refiner, *p.box[2:], size) for p in prompts]
    masks, _ = library_forward(refiner, rgb, points, boxes, False)
    expected = masks[:, 0]
    assert not torch.allclose(expected[0], expected[1])  # each box its own mask
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
