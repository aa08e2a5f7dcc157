"""Export formats and prompt formats: registries plus the built-ins.

>>> from komt_data.exports import format_names, prompt_names
>>> format_names()[0], prompt_names()
('komt', ['komt', 'alpaca', 'mistral'])
"""

from __future__ import annotations

from . import formats  # noqa: F401  (registers the built-in formats)
from .base import ExportFormat, format_names, get_format, register_format
from .prompts import get_prompt, prompt_names, register_prompt

__all__ = ["ExportFormat", "format_names", "get_format", "get_prompt", "prompt_names", "register_format",
           "register_prompt"]
