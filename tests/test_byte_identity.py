"""Output bytes pinned across the restructure (issue 16): every output file's sha256, per build.

Builds a fixed set of recipes (every family that has a file fixture, exact and near dedup,
decontamination, splits with a test set, repeat with a total, few-shot, two export formats,
workers 1 and 2, the local and the Ray engine) and compares the sha256 of every file of every
output directory with the committed list ``fixtures/identity/sha256.json``. The list is
written by ``make_identity_list.py``; regenerate it only for a change that is MEANT to change
bytes, and say so in the commit.

Bytes must not depend on where the build runs: each build runs with the working directory at
a fresh copy of the fixtures (manifest and rejected labels are paths relative to the working
directory), and the absolute paths into the checkout that remain (``manifest.json``
``tasks.*.templates`` naming the bundled templates, ``rejected.jsonl`` ``file`` of the bundled
sample data that ``sample/korquad`` reads) have the checkout's folder replaced by ``<root>``,
and the files named through ``$KOMT_DATA_DIR`` (labelled by absolute path) the copy's folder
by ``<base>``, before hashing, so a checkout in another folder (a worktree) hashes the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

import komt_data

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
LIST = FIXTURES / "identity" / "sha256.json"
ROOT = Path(komt_data.__file__).resolve().parent.parent  # where the bundled templates/ live

# Shipped task configs laid out under $KOMT_DATA_DIR (destination -> fixture under fixtures/layouts).
LAYOUT = {
    "KLUE/klue_benchmark/klue-mrc-v1.1/klue-mrc-v1.1_train.json": "klue_mrc.json",
    "korquad2/korquad2.1_train_00.json": "korquad2.json",
    "KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_train.json": "klue_nli_train.json",
    "KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json": "klue_nli_dev.json",
    "KorNLUDatasets/KorNLI/multinli.train.ko.tsv": "kornli_nfd.tsv",
    "KorNLUDatasets/KorNLI/snli_1.0_train.ko.tsv": "kornli_nfd.tsv",
    "KorNLUDatasets/KorSTS/sts-train.tsv": "korsts.tsv",
    "KLUE/klue_benchmark/klue-sts-v1.1/klue-sts-v1.1_train.json": "klue_sts.json",
    "nsmc/ratings_train.txt": "nsmc_ratings.txt",
    "KLUE/klue_benchmark/ynat-v1.1/ynat-v1.1_train.json": "ynat.json",
    "naver_news/train.csv": "naver_news_bom.csv",
    "aihub_document_summary/Training/train_original.json": "aihub_document_summary.json",
    "aihub_book_summary/Training/기술과학/CLSS1000000001.json": "aihub_book_summary/CLSS1000000001.json",
    "aihub_book_summary/Training/예술/CLSS1000000002.json": "aihub_book_summary/CLSS1000000002.json",
    "parallel/talk.en": "parallel/talk.en",
    "parallel/talk.ko": "parallel/talk.ko",
    "KoBEST_datarepo/v1.0/BoolQ/train.tsv": "kobest/BoolQ_train.tsv",
    "KoBEST_datarepo/v1.0/COPA/train.tsv": "kobest/COPA_train.tsv",
    "KoBEST_datarepo/v1.0/COPA/dev.tsv": "kobest/COPA_dev.tsv",  # kobest_copa_files' source.exclude
    "KoBEST_datarepo/v1.0/COPA/test.tsv": "kobest/COPA_test.tsv",
    "KoBEST_datarepo/v1.0/HellaSwag/train.tsv": "kobest/HellaSwag_train.tsv",
    "KoBEST_datarepo/v1.0/HellaSwag/dev.tsv": "kobest/HellaSwag_dev.tsv",  # kobest_hellaswag_files' source.exclude
    "KoBEST_datarepo/v1.0/HellaSwag/test.tsv": "kobest/HellaSwag_test.tsv",
    "KoBEST_datarepo/v1.0/SentiNeg/train.tsv": "kobest/SentiNeg_train.tsv",
    "KoBEST_datarepo/v1.0/WiC/train.tsv": "kobest/WiC_train.tsv",
    "KLUE/klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_train.tsv": "klue_ner_dev_head.tsv",
}
SHIPPED = ["klue_mrc_files", "korquad2_files", "klue_nli_files", "kornli_files", "korsts_files",
           "klue_sts_files", "nsmc_files", "klue_ynat_files", "naver_news_files",
           "aihub_document_summary_files", "aihub_document_summary_extractive_files",
           "aihub_book_summary_files", "parallel_text_files", "kobest_boolq_files", "kobest_copa_files",
           "kobest_hellaswag_files", "kobest_sentineg_files", "kobest_wic_files", "klue_ner_files"]

FAMILIES = "name: families\nseed: 11\ntasks:\n" + "".join(f"  - {name}\n" for name in SHIPPED) + """\
  - mixing/passages.yaml
  - mixing/reviews.yaml
split:
  validation: 0.1
  test: 0.1
output:
  shard_size: 25
"""

NEAR = """
dedup:
  near: {threshold: 0.8}
decontaminate:
  - files: eval/testset.txt
mixing:
  total: 60
  temperature: 2.0
"""

REPEAT = """name: repeat
seed: 3
tasks:
  - qa.yaml
  - config: reviews.yaml
    cap: 20
mixing:
  total: 120
  repeat: true
prompting:
  fewshot: {share: 0.5, shots: [1, 2]}
split:
  validation: 0.2
  test: 2
output:
  shard_size: 9
  format: messages
"""

# scenario -> (recipe path relative to the copy, the runs that must all give these bytes)
RUNS: dict[str, tuple[str, tuple[dict, ...]]] = {
    "families": ("families.yaml", ({"workers": 1}, {"workers": 2})),
    "engines": ("ray/recipe.yaml", ({"workers": 1}, {"workers": 2}, {"engine": "ray"})),
    "near": ("ray/near.yaml", ({"workers": 1}, {"workers": 2}, {"engine": "ray"})),
    "repeat": ("workers/repeat.yaml", ({"workers": 1}, {"workers": 2})),
}


def lay_out(base: Path) -> Path:
    """Copy the fixtures a build reads under ``base`` and write the recipes; return ``base``."""
    for name in ("ray", "workers", "mixing"):
        shutil.copytree(FIXTURES / name, base / name)
    for dest, fixture in LAYOUT.items():
        (base / "data" / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "layouts" / fixture, base / "data" / dest)
    (base / "families.yaml").write_text(FAMILIES, encoding="utf-8")
    (base / "ray" / "near.yaml").write_text(
        (base / "ray" / "recipe.yaml").read_text(encoding="utf-8").replace("name: engines", "name: near") + NEAR,
        encoding="utf-8")
    (base / "workers" / "repeat.yaml").write_text(REPEAT, encoding="utf-8")
    return base


@contextmanager
def working_in(path: Path) -> Iterator[None]:
    """cwd and $KOMT_DATA_DIR at the copy for one build (labels are cwd-relative)."""
    before, data_dir = Path.cwd(), os.environ.get("KOMT_DATA_DIR")
    os.chdir(path)
    os.environ["KOMT_DATA_DIR"] = str(path / "data")
    try:
        yield
    finally:
        os.chdir(before)
        if data_dir is None:
            os.environ.pop("KOMT_DATA_DIR", None)
        else:
            os.environ["KOMT_DATA_DIR"] = data_dir


def digests(out: Path, base: Path) -> dict[str, str]:
    """sha256 of every file under ``out``, the checkout's path replaced by ``<root>`` and the
    fixture copy's by ``<base>`` (files named through $KOMT_DATA_DIR are labelled absolute).

    ``manifest.json`` holds the digest of each output file as written; for a file whose bytes
    held one of those paths, that digest and size are replaced by those of its normalized bytes.
    """
    def normalized(data: bytes) -> bytes:
        return data.replace(str(ROOT).encode(), b"<root>").replace(str(base).encode(), b"<base>")

    raw = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    result = {name: hashlib.sha256(normalized(data)).hexdigest() for name, data in raw.items()}
    if "manifest.json" in raw:
        manifest = orjson.loads(raw["manifest.json"])
        for name, entry in manifest.get("files", {}).items():
            if name in raw and normalized(raw[name]) != raw[name]:
                entry["xxh3_128"] = "sha256 normalized " + result[name]
                entry["bytes"] = len(normalized(raw[name]))
        result["manifest.json"] = hashlib.sha256(normalized(orjson.dumps(manifest))).hexdigest()
    return result


def build_all(base: Path, *, ray: bool) -> dict[str, list[dict[str, str]]]:
    """Every run of RUNS under ``base``: scenario -> one digest map per run, in RUNS order.

    Local runs first, then Ray (started here, stopped after): a build with 2 workers forks,
    and this process must not fork while Ray runs in it (see tests/conftest.py).
    """
    lay_out(base)
    found: dict[str, list[dict[str, str] | None]] = {s: [None] * len(runs) for s, (_, runs) in RUNS.items()}
    for on_ray in (False, True) if ray else (False,):
        if on_ray:
            start_ray()
        try:
            for scenario, (recipe, runs) in RUNS.items():
                for i, options in enumerate(runs):
                    if (options.get("engine") == "ray") != on_ray:
                        continue
                    out = base / "out" / f"{scenario}-{i}"
                    with working_in(base):
                        komt_data.build(recipe, out.relative_to(base), **options)
                    found[scenario][i] = digests(out, base)
        finally:
            if on_ray:
                import ray as ray_module
                ray_module.shutdown()
    return {s: [d for d in runs if d is not None] for s, runs in found.items()}


def ray_available() -> bool:
    """Whether the ray extra is installed (CI installs it: there a missing Ray must fail)."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        return False
    return True


def start_ray() -> None:
    """A local Ray with 2 CPUs, quiet."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    ray_up = ray_available()
    return build_all(tmp_path_factory.mktemp("identity"), ray=ray_up), ray_up


@pytest.mark.parametrize("scenario", list(RUNS))
def test_every_output_file_keeps_its_bytes(built, scenario):
    found, ray_up = built
    expected = orjson.loads(LIST.read_bytes())[scenario]
    runs = RUNS[scenario][1]
    labels = [", ".join(f"{k}={v}" for k, v in o.items()) for o in runs
              if ray_up or o.get("engine") != "ray"]
    for label, digest in zip(labels, found[scenario], strict=True):
        changed = sorted(n for n in expected.keys() | digest.keys() if expected.get(n) != digest.get(n))
        assert not changed, f"{scenario} ({label}): bytes changed in {changed}"
    if not ray_up and any(o.get("engine") == "ray" for o in runs):
        pytest.skip("the ray extra is not installed: the Ray run of this scenario was not compared")
