"""CLIPSeg: text prompts -> low-resolution logits, with the expensive parts cached.

CLIPSegForImageSegmentation.forward is three steps: the frozen CLIP vision encoder over the
image (the costly part, activations kept at ``extract_layers``), the text encoder over the
prompt, and a small decoder conditioned on the text embedding. They are run separately here
so that
  set_image(rgb)    runs the vision encoder once per content image (LRU of a few images),
  logits(prompts)   runs the text encoder once per prompt (LRU) and the decoder per call,
and a new prompt on the same photo costs only its text pass and one decoder pass.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from engine.devices import resolve_device
from engine.errors import StylerError
from engine.image_io import image_key, to_uint8
from engine.loaded_models import LoadedModels

if TYPE_CHECKING:  # transformers is imported when a model loads, not when the CLI starts
    from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

# What makes a CLIPSeg folder complete: each part by any one of its alternatives (a "+"
# joins files needed together). The one rule for `--segmenter` and `styler models import`.
# Recent transformers save the processor settings as processor_config.json.
CLIPSEG_PARTS = {
    "weights": ("model.safetensors", "pytorch_model.bin"),
    "tokenizer": ("tokenizer.json", "vocab.json+merges.txt"),
    "image processor settings": ("preprocessor_config.json", "processor_config.json"),
}
_TEXT_CACHE_SIZE = 64
_IMAGE_CACHE_SIZE = 2


class Segmenter:
    """A loaded CLIPSeg model and processor on one device. Not thread-safe (like Stylizer)."""

    def __init__(self, model: CLIPSegForImageSegmentation, processor: CLIPSegProcessor, device: torch.device, folder: Path) -> None:
        self.model = model.to(device).eval()  # type: ignore[arg-type]  # transformers types the wrapped `to` without its self
        self.processor = processor
        self.device = device
        self.folder = folder
        self._text: OrderedDict[str, torch.Tensor] = OrderedDict()  # prompt -> (projection_dim,)
        self._images: OrderedDict[str, list[torch.Tensor]] = OrderedDict()  # key -> activations
        self._image_key: str | None = None

    @classmethod
    def from_folder(cls, folder: Path, device: str | torch.device = "auto") -> Segmenter:
        """Load a CLIPSeg folder (as saved by ``save_pretrained``, e.g. the downloaded
        CIDAS/clipseg-rd64-refined); anything wrong with it is one StylerError naming it."""
        from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor
        from transformers.utils import logging as hf_logging

        folder = Path(folder)
        if not folder.is_dir():
            raise StylerError(f"{folder}: segmenter folder not found (expected a CLIPSeg model folder)", remedy="other_segmenter")
        check_clipseg_folder(folder)
        target = device if isinstance(device, torch.device) else resolve_device(device)
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a "loading weights" bar is noise in a CLI run
        try:
            processor = CLIPSegProcessor.from_pretrained(folder, local_files_only=True)
            model = CLIPSegForImageSegmentation.from_pretrained(folder, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - transformers/safetensors raise many kinds for a bad folder
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StylerError(f"{folder}: not a usable CLIPSeg folder ({reason})", remedy="other_segmenter") from None
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        return cls(model, processor, target, folder)

    @property
    def input_size(self) -> int:
        """Side of the square CLIPSeg works at (352 for the released model)."""
        return int(self.model.config.vision_config.image_size)

    # ------------------------------------------------------------------ image

    def set_image(self, rgb: np.ndarray, key: str | None = None) -> str:
        """Make ``rgb`` (H, W, 3 float in [0, 1]) the current image; its vision activations
        are computed once and kept for the last few images."""
        key = key or image_key(rgb)
        self._image_key = key
        if key in self._images:
            self._images.move_to_end(key)
            return key
        pixels = self.processor(images=[to_uint8(rgb)], return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            vision = self.model.clip.vision_model(
                pixel_values=pixels.to(self.device, torch.float32), output_hidden_states=True
            )
        # hidden_states[0] is the embedding output, so layer i's output is at i + 1.
        self._images[key] = [vision.hidden_states[i + 1] for i in self.model.extract_layers]
        while len(self._images) > _IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return key

    # ------------------------------------------------------------------ prompts

    def text_embeddings(self, prompts: Sequence[str]) -> torch.Tensor:
        """(P, projection_dim): CLIP text embeddings, each prompt encoded once and kept."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._text]
        for prompt in missing:  # one at a time: no padding, so each is exactly its own
            tokens = self.processor(text=[prompt], return_tensors="pt")
            with torch.inference_mode():
                embedding = self.model.clip.get_text_features(
                    input_ids=tokens["input_ids"].to(self.device),
                    attention_mask=tokens["attention_mask"].to(self.device),
                ).pooler_output[0]
            self._text[prompt] = embedding
        for prompt in prompts:
            self._text.move_to_end(prompt)
        result = torch.stack([self._text[p] for p in prompts])
        while len(self._text) > _TEXT_CACHE_SIZE:
            self._text.popitem(last=False)
        return result

    def logits(self, prompts: Sequence[str]) -> torch.Tensor:
        """(P, S, S) float32 logits on the CPU for the current image, S = input_size."""
        if self._image_key is None:
            raise StylerError("no image set for segmentation")
        if not prompts:
            raise ValueError("logits() needs at least one prompt")
        activations = self._images[self._image_key]
        conditional = self.text_embeddings(prompts)
        batch = conditional.shape[0]
        # The decoder expects one image per prompt; a broadcast view costs no memory.
        expanded = [a.expand(batch, *a.shape[1:]) for a in activations]
        with torch.inference_mode():
            out = self.model.decoder(expanded, conditional).logits  # (P, S, S)
        return out.reshape(batch, *out.shape[-2:]).float().cpu()

    def clear_caches(self) -> None:
        self._text.clear()
        self._images.clear()
        self._image_key = None


def check_clipseg_folder(folder: Path) -> None:
    """Refuse, with one clear line, anything but a complete CLIPSeg model folder; catches
    the common wrong folders before transformers' longer messages."""
    config = folder / "config.json"
    if not config.is_file():
        raise StylerError(f"{folder}: no config.json; expected a CLIPSeg model folder")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise StylerError(f"{config}: unreadable ({exc})") from None
    if model_type != "clipseg":
        raise StylerError(f"{folder}: holds a {model_type!r} model, not CLIPSeg; pass a CLIPSeg folder")
    # transformers quietly builds an empty tokenizer when its files are missing, so a partial
    # download would "load" and then match nothing; ask for every part by name instead.
    for part, alternatives in CLIPSEG_PARTS.items():
        if not any(all((folder / name).is_file() for name in option.split("+")) for option in alternatives):
            raise StylerError(
                f"{folder}: incomplete CLIPSeg folder, no {part} ({' or '.join(alternatives)}); "
                "copy the whole folder, or download it again with `styler models download clipseg`"
            )


_loaded: LoadedModels[Segmenter] = LoadedModels(Segmenter.from_folder)


def load_segmenter(folder: Path, device: str | torch.device = "auto") -> Segmenter:
    """The process-wide Segmenter for ``folder`` on ``device``: loaded on first use only."""
    return _loaded.get(folder, device)


def forget_loaded_segmenters() -> None:
    _loaded.forget()
