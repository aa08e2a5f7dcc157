"""The built-in export formats: what each consumer reads, written shard by shard.

| format    | files                                  | read by                                   |
|-----------|----------------------------------------|-------------------------------------------|
| komt      | ``split-0000k-of-0000n.jsonl``         | ``datasets`` json, komt-data itself       |
| komt-json | ``split.json`` (one JSON array)        | komt's finetune_with_lora.py / _ds.py     |
| alpaca    | JSONL of instruction / input / output  | LLaMA-Factory, axolotl ``alpaca``         |
| sharegpt  | JSONL of ``conversations`` from/value  | LLaMA-Factory, axolotl ``sharegpt``       |
| messages  | JSONL of ``messages`` role/content     | TRL SFTTrainer, chat templates            |
| parquet   | ``split-0000k-of-0000n.parquet``       | ``datasets`` parquet, pandas, the hub     |
| hf        | ``save_to_disk`` folders per split     | ``datasets.load_from_disk``               |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from .base import ExportFormat, ShardEntry, chunks, file_sha256, register_format, shard_name, write_blocks

RECORD_COLUMNS = ("id", "task", "template", "instruction", "output", "text")
KOMT_PREFIX = "### instruction: "


def _jsonl_writer(convert: Callable[[dict[str, Any]], dict[str, Any]]):
    def write(records: Iterable[dict[str, Any]], directory: Path, split: str, total: int,
              shard_size: int) -> list[ShardEntry]:
        entries = []
        for index, count, shard in chunks(records, total, shard_size):
            name = shard_name(split, index, count, "jsonl")
            written = 0

            def blocks(shard: Iterable[dict[str, Any]] = shard) -> Iterator[bytes]:
                nonlocal written
                batch: list[bytes] = []
                for record in shard:
                    batch.append(orjson.dumps(convert(record)) + b"\n")
                    written += 1
                    if len(batch) >= 4096:
                        yield b"".join(batch)
                        batch.clear()
                yield b"".join(batch)

            digest = write_blocks(directory / name, blocks())
            entries.append({"path": name, "split": split, "records": written, "sha256": digest})
        return entries

    return write


def _jsonl_glob(split: str) -> str:
    return f"{split}-*.jsonl"


def _komt_record(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _alpaca_record(record: dict[str, Any]) -> dict[str, Any]:
    return {"instruction": record["instruction"], "input": "", "output": record["output"]}


def _sharegpt_record(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "conversations": [
        {"from": "human", "value": record["instruction"]},
        {"from": "gpt", "value": record["output"]},
    ]}


def _messages_record(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "messages": [
        {"role": "user", "content": record["instruction"]},
        {"role": "assistant", "content": record["output"]},
    ]}


def komt_json_record(record: dict[str, Any]) -> dict[str, Any]:
    """komt's training-script form: the instruction carries the ``### instruction: `` prefix, so
    ``f"{instruction}\\n\\n### Response:"`` followed by the output is komt's inference prompt."""
    return {"instruction": KOMT_PREFIX + record["instruction"], "output": record["output"]}


def _write_komt_json(records: Iterable[dict[str, Any]], directory: Path, split: str, total: int,
                     shard_size: int) -> list[ShardEntry]:
    # komt's scripts read one JSON array per split (json.load), so this format is not sharded;
    # it is still written record by record, never held in memory whole.
    name = f"{split}.json"
    written = 0

    def blocks() -> Iterator[bytes]:
        nonlocal written
        yield b"["
        for record in records:
            yield (b",\n" if written else b"\n") + orjson.dumps(komt_json_record(record))
            written += 1
        yield b"\n]\n" if written else b"]\n"

    digest = write_blocks(directory / name, blocks())
    return [{"path": name, "split": split, "records": written, "sha256": digest}]


def _arrow_schema():
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in RECORD_COLUMNS])


def _batches(records: Iterable[dict[str, Any]], size: int = 8192):
    import pyarrow as pa

    schema = _arrow_schema()
    columns: dict[str, list[str]] = {name: [] for name in RECORD_COLUMNS}
    for record in records:
        for name in RECORD_COLUMNS:
            columns[name].append(record[name])
        if len(columns["id"]) >= size:
            yield pa.record_batch([columns[n] for n in RECORD_COLUMNS], schema=schema)
            columns = {name: [] for name in RECORD_COLUMNS}
    if columns["id"]:
        yield pa.record_batch([columns[n] for n in RECORD_COLUMNS], schema=schema)


def _write_parquet(records: Iterable[dict[str, Any]], directory: Path, split: str, total: int,
                   shard_size: int) -> list[ShardEntry]:
    import pyarrow.parquet as pq

    entries = []
    for index, count, shard in chunks(records, total, shard_size):
        name = shard_name(split, index, count, "parquet")
        written = 0
        with pq.ParquetWriter(directory / name, _arrow_schema(), compression="zstd") as writer:
            for batch in _batches(shard):
                writer.write_batch(batch)
                written += batch.num_rows
        entries.append({"path": name, "split": split, "records": written, "sha256": file_sha256(directory / name)})
    return entries


def _write_hf(records: Iterable[dict[str, Any]], directory: Path, split: str, total: int,
              shard_size: int) -> list[ShardEntry]:
    """``DatasetDict.save_to_disk`` layout: ``dataset_dict.json`` plus one folder per split.

    Records stream into an Arrow file that ``datasets`` memory-maps; ``save_to_disk``
    then writes the split folder.
    """
    import pyarrow as pa
    from datasets import Dataset
    from datasets.table import MemoryMappedTable

    spool = directory / f".{split}.arrow"
    with pa.OSFile(str(spool), "wb") as sink, pa.ipc.new_stream(sink, _arrow_schema()) as writer:
        for batch in _batches(records):
            writer.write_batch(batch)
    # The fingerprint datasets would draw depends on the spool's path; one from the content
    # makes state.json, and so the whole folder, the same for the same records.
    dataset = Dataset(MemoryMappedTable.from_file(str(spool)), split=split, fingerprint=file_sha256(spool)[:16])
    # The library never prints: silence datasets' own progress bar, then restore the caller's setting.
    import datasets

    bars_were_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        dataset.save_to_disk(str(directory / split), max_shard_size=None,
                             num_shards=max(1, -(-len(dataset) // shard_size)))
    finally:
        if not bars_were_disabled:
            datasets.enable_progress_bars()
        del dataset
        spool.unlink()
    _update_dataset_dict(directory, split)
    entries = []
    for path in sorted((directory / split).glob("*.arrow")):
        rel = f"{split}/{path.name}"
        rows = pa.ipc.open_stream(str(path)).read_all().num_rows if path.stat().st_size else 0
        entries.append({"path": rel, "split": split, "records": rows, "sha256": file_sha256(path)})
    return entries


def _update_dataset_dict(directory: Path, split: str) -> None:
    path = directory / "dataset_dict.json"
    splits = orjson.loads(path.read_bytes())["splits"] if path.exists() else []
    if split not in splits:
        splits.append(split)
    path.write_bytes(orjson.dumps({"splits": splits}))


_ALPACA_LF = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output"}}

register_format(ExportFormat(
    "komt", "komt JSONL: id, task, template, instruction, output, text", "datasets json; komt-data",
    _jsonl_writer(_komt_record), _jsonl_glob,
    {"formatting": "alpaca", "columns": {"prompt": "instruction", "response": "output"}},
))
register_format(ExportFormat(
    "komt-json", "one JSON array per split, instruction prefixed with '### instruction: '",
    "komt finetune_with_lora.py / finetune_with_ds.py", _write_komt_json, lambda split: f"{split}.json",
    {"formatting": "alpaca", "columns": {"prompt": "instruction", "response": "output"}},
))
register_format(ExportFormat(
    "alpaca", "JSONL of instruction, input, output", "LLaMA-Factory, axolotl (alpaca)",
    _jsonl_writer(_alpaca_record), _jsonl_glob, _ALPACA_LF,
))
register_format(ExportFormat(
    "sharegpt", "JSONL of conversations: human then gpt", "LLaMA-Factory, axolotl (sharegpt)",
    _jsonl_writer(_sharegpt_record), _jsonl_glob,
    {"formatting": "sharegpt", "columns": {"messages": "conversations"},
     "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}},
))
register_format(ExportFormat(
    "messages", "JSONL of messages: user then assistant", "TRL SFTTrainer, tokenizer chat templates",
    _jsonl_writer(_messages_record), _jsonl_glob,
    {"formatting": "sharegpt", "columns": {"messages": "messages"},
     "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}},
))
register_format(ExportFormat(
    "parquet", "Parquet shards with the komt record columns", "datasets parquet, pandas, the hub viewer",
    _write_parquet, lambda split: f"{split}-*.parquet",
    {"formatting": "alpaca", "columns": {"prompt": "instruction", "response": "output"}},
))
register_format(ExportFormat(
    "hf", "datasets save_to_disk folders", "datasets.load_from_disk",
    _write_hf, lambda split: f"{split}/*.arrow", None,
))
