"""Styler's engine: text-prompted semantic style transfer with AdaAttN. Never imports Qt."""

__version__ = "0.1.0"
