"""Prompt formats: how ``instruction`` and ``output`` become the ``text`` a model trains on.

``komt`` is the format komt's models were trained and are prompted with; ``alpaca`` is
the Stanford Alpaca layout without its English preamble; ``mistral`` is the ``[INST]``
form komt-mistral used. Each is a plain function registered by name.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigError
from ..plugins import load_entry_points

PromptFormat = Callable[[str, str], str]

_PROMPTS: dict[str, PromptFormat] = {}
ENTRY_POINT_GROUP = "komt_data.prompts"


def register_prompt(name: str) -> Callable[[PromptFormat], PromptFormat]:
    """Decorator registering a ``(instruction, output) -> text`` function under ``name``."""

    def decorate(fn: PromptFormat) -> PromptFormat:
        existing = _PROMPTS.get(name)
        if existing is not None and existing is not fn:
            raise ConfigError(f"prompt format '{name}' is taken by {existing.__module__}.{existing.__qualname__}")
        _PROMPTS[name] = fn
        return fn

    return decorate


def _add_plugin(name: str, fn: object) -> None:
    # The entry point's name is the prompt's name; the object is the function itself.
    if not callable(fn):
        raise ConfigError(f"plugin prompt format '{name}' must be a function (instruction, output) -> text, "
                          f"got {fn!r}")
    register_prompt(name)(fn)


def _load_plugins() -> None:
    load_entry_points(ENTRY_POINT_GROUP, _add_plugin, have=_PROMPTS.__contains__, what="prompt format")


def get_prompt(name: str) -> PromptFormat:
    """The prompt function registered as ``name``; ConfigError listing the known ones otherwise."""
    if name not in _PROMPTS:
        _load_plugins()
    try:
        return _PROMPTS[name]
    except KeyError:
        raise ConfigError(f"unknown prompt format '{name}' (have: {', '.join(prompt_names())})") from None


def prompt_names() -> list[str]:
    """Names of the registered prompt formats, plugins included, in registration order (komt first)."""
    _load_plugins()
    return list(_PROMPTS)


@register_prompt("komt")
def komt(instruction: str, output: str) -> str:
    """``### instruction: …\\n\\n### Response: …`` (komt's own format, the default)."""
    return f"### instruction: {instruction}\n\n### Response: {output}"


# The literal text each built-in format puts before, between and after instruction and
# output (stage 1 joins ``text`` from these; a test checks them against the functions).
komt.parts = ("### instruction: ", "\n\n### Response: ", "")  # type: ignore[attr-defined]


@register_prompt("alpaca")
def alpaca(instruction: str, output: str) -> str:
    """``### Instruction:\\n…\\n\\n### Response:\\n…`` (the Alpaca layout, no preamble)."""
    return f"### Instruction:\n{instruction}\n\n### Response:\n{output}"


alpaca.parts = ("### Instruction:\n", "\n\n### Response:\n", "")  # type: ignore[attr-defined]


@register_prompt("mistral")
def mistral(instruction: str, output: str) -> str:
    """``<s>[INST] … [/INST] …</s>``, the form komt-mistral was fine-tuned with."""
    return f"<s>[INST] {instruction} [/INST] {output}</s>"


mistral.parts = ("<s>[INST] ", " [/INST] ", "</s>")  # type: ignore[attr-defined]
