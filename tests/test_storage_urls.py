"""Source files named by fsspec URL read exactly like the same files on disk."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import uuid
from pathlib import Path

import fsspec
import pytest

import komt_data
from komt_data.errors import ConfigError, DependencyError
from komt_data.storage import URL, expand, is_url

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ray"


def task_config(directory: Path, files: str) -> Path:
    """The NSMC fixture task, with its ``files:`` replaced."""
    text = (FIXTURES / "nsmc.yaml").read_text(encoding="utf-8").replace("files: nsmc/*.jsonl", f"files: {files}")
    path = directory / "nsmc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def bucket():
    """A fresh memory:// folder holding the NSMC fixture files (one of them gzipped)."""
    root = f"memory://komt-test-{uuid.uuid4().hex}"
    with fsspec.open(f"{root}/nsmc/ratings_a.jsonl", "wb") as f:
        f.write((FIXTURES / "nsmc" / "ratings_a.jsonl").read_bytes())
    with fsspec.open(f"{root}/nsmc/ratings_b.jsonl.gz", "wb") as f:
        f.write(gzip.compress((FIXTURES / "nsmc" / "ratings_b.jsonl").read_bytes()))
    yield root
    fsspec.filesystem("memory").rm(root.removeprefix("memory://"), recursive=True)


def test_url_glob_builds_the_same_shards_as_local_files(tmp_path, bucket):
    local_dir = tmp_path / "local"
    shutil.copytree(FIXTURES / "nsmc", local_dir / "nsmc")
    (local_dir / "nsmc" / "ratings_b.jsonl.gz").write_bytes(
        gzip.compress((local_dir / "nsmc" / "ratings_b.jsonl").read_bytes()))
    (local_dir / "nsmc" / "ratings_b.jsonl").unlink()
    from_disk = komt_data.build(task_config(local_dir, "nsmc/*"), tmp_path / "out-disk")
    from_url = komt_data.build(task_config(tmp_path, f"{bucket}/nsmc/*"), tmp_path / "out-url")

    assert [s["file"] for s in from_url["tasks"]["nsmc"]["sources"]] == [
        f"memory://{bucket.removeprefix('memory:/')}/nsmc/ratings_a.jsonl",
        f"memory://{bucket.removeprefix('memory:/')}/nsmc/ratings_b.jsonl.gz",
    ]
    assert from_url["tasks"]["nsmc"]["read"] == from_disk["tasks"]["nsmc"]["read"] == 25
    assert from_url["shards"] == from_disk["shards"]  # names, counts and sha256 of every shard


def test_a_url_that_matches_nothing_names_the_key(tmp_path, bucket):
    config = task_config(tmp_path, f"{bucket}/nsmc/*.parquet")
    with pytest.raises(ConfigError, match=r"nsmc\.yaml: key 'source.files': nothing found at 'memory://"):
        komt_data.load(config)


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed here")
def test_a_url_without_its_backend_names_the_package(tmp_path):
    config = task_config(tmp_path, "s3://komt-bucket/nsmc/*.jsonl")
    with pytest.raises(DependencyError, match=r"^reading s3:// URLs needs `pip install s3fs`$"):
        komt_data.load(config)


def test_urls_keep_their_double_slash():
    assert is_url("gs://bucket/kornli/xnli.dev.ko.tsv") and not is_url("data/xnli.dev.ko.tsv")
    url = URL("hf://datasets/e9t/nsmc/ratings_train.txt.gz")
    assert (str(url), url.name, url.suffix) == ("hf://datasets/e9t/nsmc/ratings_train.txt.gz",
                                                "ratings_train.txt.gz", ".gz")
    assert expand("memory://komt-no-such-bucket/x.jsonl") == []
