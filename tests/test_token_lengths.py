"""Token lengths: the report's token histogram and the min_tokens / max_tokens filters.

The tokenizer is built here from a tiny word vocabulary with the ``tokenizers`` package
(no download); the tests skip when it (or transformers, for a tokenizer folder) is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
import yaml

import komt_data
from komt_data.resources import bundled_dir

tokenizers = pytest.importorskip("tokenizers")


def _word_tokenizer(path: Path) -> Path:
    """A whitespace word-level tokenizer: one token per word or punctuation mark."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(path))
    return path


def _recipe(tmp_path: Path, **output) -> Path:
    sample = bundled_dir("task_configs") / "sample"
    data = {"name": "tok", "seed": 42, "tasks": [str(sample / "klue_nli.yaml"), str(sample / "ko_en.yaml")],
            "output": {"shard_size": 1000, **output}}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _words(text: str) -> int:
    from tokenizers import pre_tokenizers

    return len(pre_tokenizers.Whitespace().pre_tokenize_str(text))


def test_max_tokens_drops_long_records_and_counts_them(tmp_path):
    tok = _word_tokenizer(tmp_path / "tokenizer.json")
    unfiltered = komt_data.build(_recipe(tmp_path, tokenizer=str(tok)), tmp_path / "all")
    lengths = unfiltered["stats"]["lengths"]["text_tokens"]
    limit = lengths["p50"]
    manifest = komt_data.build(_recipe(tmp_path, tokenizer=tok.name, max_tokens=limit), tmp_path / "out")
    dropped = sum(t["dropped"].get("too_many_tokens", 0) for t in manifest["tasks"].values())
    assert 0 < dropped < sum(unfiltered["splits"].values())
    for task in manifest["tasks"].values():
        assert task["read"] + task["expanded"] == task["written"] + sum(task["dropped"].values())
    for line in (tmp_path / "out" / "train-00000-of-00001.jsonl").read_bytes().splitlines():
        assert _words(orjson.loads(line)["text"]) <= limit
    rejected = [orjson.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_bytes().splitlines()]
    too_long = [r for r in rejected if r["reason"] == "too_many_tokens"]
    assert len(too_long) == dropped
    for entry in too_long:
        assert re.fullmatch(rf"(\d+) tokens > max_tokens {limit} \(.*tokenizer\.json\)", entry["detail"])
        assert int(entry["detail"].split()[0]) > limit
        assert entry["file"].endswith((".json", ".jsonl")) and ("line" in entry or "row" in entry)
    assert manifest["stats"]["lengths"]["text_tokens"]["max"] <= limit


def test_report_has_a_token_histogram_when_a_tokenizer_is_named(tmp_path):
    tok = _word_tokenizer(tmp_path / "tokenizer.json")
    manifest = komt_data.build(_recipe(tmp_path, tokenizer=tok.name), tmp_path / "out")
    assert manifest["stats"]["tokenizer"] == str(tok)
    records = [orjson.loads(line) for line in (tmp_path / "out" / "train-00000-of-00001.jsonl").read_bytes()
               .splitlines()]
    assert manifest["stats"]["lengths"]["text_tokens"]["max"] == max(_words(r["text"]) for r in records)
    assert "Training text length" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_transformers_tokenizer_folder_counts_the_same(tmp_path):
    transformers = pytest.importorskip("transformers")
    tok = _word_tokenizer(tmp_path / "tokenizer.json")
    folder = tmp_path / "tok"
    transformers.PreTrainedTokenizerFast(tokenizer_file=str(tok), unk_token="[UNK]").save_pretrained(folder)
    from komt_data.tokens import token_counter

    text = "### instruction: 다음 문장을 번역하세요.\n\n### Response: 안녕하세요."
    assert token_counter(str(folder))(text) == token_counter(str(tok))(text) == _words(text)
