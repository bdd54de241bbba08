"""Training StyleNet: data, losses, the loop, checkpoints, DDP and the seed's ablations.

The CLI (`styler train`, `styler ablate`) and the GUI's fine-tuning panel both drive
``engine.train.loop.train``; nothing here imports Qt."""
