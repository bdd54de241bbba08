"""Styler's desktop application (PySide6). Presentation and threading only."""
