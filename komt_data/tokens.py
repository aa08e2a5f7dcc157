"""Token counts with a Hugging Face tokenizer, for the report and the ``min_tokens`` /
``max_tokens`` filters. Optional: a hub id or tokenizer folder needs ``transformers``
(``pip install transformers``); a ``tokenizer.json`` file needs only ``tokenizers``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError, DependencyError

TokenCounter = Callable[[str], int]


@lru_cache(maxsize=4)
def token_counter(name: str) -> TokenCounter:
    """A function counting the tokens of a text with tokenizer ``name`` (hub id or local folder).

    Special tokens are not added: the count is of the training text as written. A hub
    id is only read from the local cache when ``HF_HUB_OFFLINE=1`` is set.
    """
    if name.endswith(".json") and Path(name).is_file():
        return _tokenizer_file_counter(name)
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise DependencyError(f"counting tokens with '{name}' needs transformers: pip install transformers") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # transformers raises OSError, ValueError, HTTP errors…
        raise ConfigError(f"cannot load tokenizer '{name}': {exc}", key="output.tokenizer") from None

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count


def _tokenizer_file_counter(path: str) -> TokenCounter:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise DependencyError(f"counting tokens with '{path}' needs tokenizers: pip install tokenizers") from None
    try:
        tokenizer = Tokenizer.from_file(path)
    except Exception as exc:
        raise ConfigError(f"cannot load tokenizer '{path}': {exc}", key="output.tokenizer") from None

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


def length_filter(name: str, min_tokens: int | None, max_tokens: int | None) -> Callable[[str], tuple[str, str] | None]:
    """A check returning ``(reason, detail)`` for a text outside the token bounds, else None."""
    count = token_counter(name)

    def check(text: str) -> tuple[str, str] | None:
        n = count(text)
        if max_tokens is not None and n > max_tokens:
            return "too_many_tokens", f"{n} tokens > max_tokens {max_tokens} ({name})"
        if min_tokens is not None and n < min_tokens:
            return "too_few_tokens", f"{n} tokens < min_tokens {min_tokens} ({name})"
        return None

    return check
