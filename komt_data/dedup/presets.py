"""The built-in evaluation sets decontamination knows by name (``decontaminate.sets``).

Apart from the reading and matching (:mod:`.contamination`): the recipe checks a preset
name while it is read, and that must not pull in the readers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config.schema import EvalSet
from ..errors import ConfigError

KMMLU_CONFIGS = (
    "Accounting", "Agricultural-Sciences", "Aviation-Engineering-and-Maintenance", "Biology",
    "Chemical-Engineering", "Chemistry", "Civil-Engineering", "Computer-Science", "Construction",
    "Criminal-Law", "Ecology", "Economics", "Education", "Electrical-Engineering", "Electronics-Engineering",
    "Energy-Management", "Environmental-Science", "Fashion", "Food-Processing", "Gas-Technology-and-Engineering",
    "Geomatics", "Health", "Industrial-Engineer", "Information-Technology", "Interior-Architecture-and-Design",
    "Law", "Machine-Design-and-Manufacturing", "Management", "Maritime-Engineering", "Marketing",
    "Materials-Engineering", "Mechanical-Engineering", "Nondestructive-Testing", "Patent",
    "Political-Science-and-Sociology",
    "Psychology", "Public-Safety", "Railway-and-Automotive-Engineering", "Real-Estate", "Refrigerating-Machinery",
    "Social-Welfare", "Taxation", "Telecommunications-and-Wireless-Technology", "Korean-History", "Math",
)

# Hub ids, configs and splits as published: KoBEST (skt/kobest_v1 dataset card: configs and
# jsonl splits), HAE-RAE bench and KMMLU (EleutherAI lm-evaluation-harness task files), the
# Open Ko-LLM leaderboard sets (davidkim205's "open-ko-llm-leaderboard datasets" collection;
# split names from their files: ko_arc_challenge train/validation/test, ko_hellaswag
# ko_hellaswag-all-{train,validation,test}.jsonl, ko_truthful_qa one multiple_choice
# validation file, ko_common_gen train/test). The leaderboard sets are translations of ARC,
# HellaSwag and TruthfulQA (multiple choice) and are read with the English originals' field
# names, falling back to all text of a row when none of them is there. Each preset reads the
# split models are scored on; another split is one more entry with `hub:` and `split:`.
PRESETS: dict[str, EvalSet] = {
    "kobest_boolq": EvalSet("kobest_boolq", hub="skt/kobest_v1", configs=("boolq",), split="test",
                            fields=("paragraph", "question")),
    "kobest_copa": EvalSet("kobest_copa", hub="skt/kobest_v1", configs=("copa",), split="test",
                           fields=("premise", "alternative_1", "alternative_2")),
    "kobest_wic": EvalSet("kobest_wic", hub="skt/kobest_v1", configs=("wic",), split="test",
                          fields=("context_1", "context_2")),
    "kobest_hellaswag": EvalSet("kobest_hellaswag", hub="skt/kobest_v1", configs=("hellaswag",), split="test",
                                fields=("context", "ending_1", "ending_2", "ending_3", "ending_4")),
    "kobest_sentineg": EvalSet("kobest_sentineg", hub="skt/kobest_v1", configs=("sentineg",), split="test",
                               fields=("sentence",)),
    "haerae_bench": EvalSet("haerae_bench", hub="HAERAE-HUB/HAE_RAE_BENCH",
                            configs=("general_knowledge", "history", "loan_words", "rare_words",
                                     "standard_nomenclature"),
                            split="test", fields=("query",)),
    "kmmlu": EvalSet("kmmlu", hub="HAERAE-HUB/KMMLU", configs=KMMLU_CONFIGS, split="test",
                     fields=("question", "A", "B", "C", "D")),
    "ko_arc": EvalSet("ko_arc", hub="davidkim205/ko_arc_challenge", split="test",
                      fields=("question", "choices.text")),
    "ko_hellaswag": EvalSet("ko_hellaswag", hub="davidkim205/ko_hellaswag", split="validation",
                            fields=("ctx", "endings")),
    "ko_truthful_qa": EvalSet("ko_truthful_qa", hub="davidkim205/ko_truthful_qa", split="validation",
                              fields=("question", "mc1_targets.choices")),
    "ko_common_gen": EvalSet("ko_common_gen", hub="davidkim205/ko_common_gen", split="test", fields=()),
}
PRESETS["kobest"] = EvalSet("kobest", hub="skt/kobest_v1", configs=("boolq", "copa", "wic", "hellaswag", "sentineg"),
                            split="test", fields=())


@dataclass(frozen=True)
class LocalPreset:
    """The evaluation split of a dataset komt-data ships a task config for: its file as
    distributed, under ``$KOMT_DATA_DIR`` (read when it is there), else its hub copy."""

    path: str                          # under $KOMT_DATA_DIR, as the download lays it out
    format: str                        # how komt-data's readers read it
    fields: tuple[str, ...]            # the text fields of a local row
    download: str                      # where the file comes from
    hub: str | None = None             # the hub copy, read when the file is not there
    config: str | None = None
    split: str = "test"
    hub_fields: tuple[str, ...] = ()   # the text fields of a hub row (default: ``fields``)
    quoting: str | None = None


def _kobest(task: str, config: str, split: str, fields: tuple[str, ...], hub_fields: tuple[str, ...],
            quoting: str | None = None) -> LocalPreset:
    return LocalPreset(f"KoBEST_datarepo/v1.0/{task}/{split}.tsv", "tsv", fields,
                       "a clone of SKT-LSL/KoBEST_datarepo", "skt/kobest_v1", config,
                       "validation" if split == "dev" else "test", hub_fields, quoting)


_KLUE = "a clone of KLUE-benchmark/KLUE"
_KORNLU = "a clone of kakaobrain/KorNLUDatasets"
#: Every shipped dataset's evaluation splits (KLUE's test sets are hidden: its dev sets are
#: what everyone reports), by the preset name a recipe's decontaminate.sets uses.
LOCAL_PRESETS: dict[str, LocalPreset] = {
    "klue_nli_dev": LocalPreset("KLUE/klue_benchmark/klue-nli-v1.1/klue-nli-v1.1_dev.json", "json",
                                ("premise", "hypothesis"), _KLUE, "klue/klue", "nli", "validation"),
    "klue_sts_dev": LocalPreset("KLUE/klue_benchmark/klue-sts-v1.1/klue-sts-v1.1_dev.json", "json",
                                ("sentence1", "sentence2"), _KLUE, "klue/klue", "sts", "validation"),
    "klue_ynat_dev": LocalPreset("KLUE/klue_benchmark/ynat-v1.1/ynat-v1.1_dev.json", "json", ("title",),
                                 _KLUE, "klue/klue", "ynat", "validation"),
    # Local only: the hub copy holds each sentence as a list of characters, not as text.
    "klue_ner_dev": LocalPreset("KLUE/klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_dev.tsv", "klue-ner", ("sentence",),
                                _KLUE),
    "klue_mrc_dev": LocalPreset("KLUE/klue_benchmark/klue-mrc-v1.1/klue-mrc-v1.1_dev.json", "squad",
                                ("context", "question"), _KLUE, "klue/klue", "mrc", "validation"),
    "korquad_v1_dev": LocalPreset("korquad/KorQuAD_v1.0_dev.json", "squad", ("context", "question"),
                                  "https://korquad.github.io/dataset/KorQuAD_v1.0_dev.json",
                                  "KorQuAD/squad_kor_v1", None, "validation"),
    "kornli_xnli_dev": LocalPreset("KorNLUDatasets/KorNLI/xnli.dev.ko.tsv", "tsv", ("sentence1", "sentence2"),
                                   _KORNLU, "kakaobrain/kor_nli", "xnli", "validation", ("premise", "hypothesis")),
    "kornli_xnli_test": LocalPreset("KorNLUDatasets/KorNLI/xnli.test.ko.tsv", "tsv", ("sentence1", "sentence2"),
                                    _KORNLU, "kakaobrain/kor_nli", "xnli", "test", ("premise", "hypothesis")),
    "korsts_dev": LocalPreset("KorNLUDatasets/KorSTS/sts-dev.tsv", "tsv", ("sentence1", "sentence2"), _KORNLU),
    "korsts_test": LocalPreset("KorNLUDatasets/KorSTS/sts-test.tsv", "tsv", ("sentence1", "sentence2"), _KORNLU),
    # Written by pandas with its default quoting (NSMC's code/partition.py): csv quoting.
    "nsmc_test": LocalPreset("nsmc/ratings_test.txt", "tsv", ("document",), "a clone of e9t/nsmc", quoting="csv"),
}
for _split in ("dev", "test"):
    LOCAL_PRESETS.update({
        f"kobest_boolq_{_split}": _kobest("BoolQ", "boolq", _split, ("Text", "Question"), ("paragraph", "question")),
        f"kobest_copa_{_split}": _kobest("COPA", "copa", _split, ("sentence", "1", "2"),
                                         ("premise", "alternative_1", "alternative_2")),
        f"kobest_wic_{_split}": _kobest("WiC", "wic", _split, ("SENTENCE1", "SENTENCE2"), ("context_1", "context_2")),
        f"kobest_hellaswag_{_split}": _kobest("HellaSwag", "hellaswag", _split,
                                              ("context", "choice1", "choice2", "choice3", "choice4"),
                                              ("context", "ending_1", "ending_2", "ending_3", "ending_4"),
                                              quoting="csv"),  # CSV-quoted, as kobest_hellaswag_files reads it
        # Only the sentence scored: test rows also carry Text_origin, the train sentence it was
        # negated from (test ID 3394 is train row 3394), which the benchmark means models to see.
        f"kobest_sentineg_{_split}": _kobest("SentiNeg", "sentineg", _split, ("Text",), ("sentence",)),
    })


def _local_set(name: str, spec: LocalPreset) -> EvalSet:
    """A local preset as an evaluation set: the file under $KOMT_DATA_DIR when it is there,
    else its hub copy; with neither, a ConfigError saying where the file goes."""
    where = f"$KOMT_DATA_DIR/{spec.path} ({spec.download})"
    root = os.environ.get("KOMT_DATA_DIR")
    if root:
        path = Path(root).expanduser() / spec.path
        if path.is_file():
            return EvalSet(name, files=(path,), fields=spec.fields, format=spec.format, quoting=spec.quoting)
    if spec.hub is None:
        state = "KOMT_DATA_DIR is not set" if not root else "the file is not there"
        raise ConfigError(f"decontamination preset '{name}' reads {where}, and {state}")
    return EvalSet(name, hub=spec.hub, configs=(spec.config,), split=spec.split,
                   fields=spec.hub_fields or spec.fields, hint=f"or put {where} there")


def preset_names() -> list[str]:
    """Every built-in preset name."""
    return sorted({*PRESETS, *LOCAL_PRESETS})


def preset(name: str) -> EvalSet:
    """A built-in evaluation set by name (see :data:`PRESETS` and :data:`LOCAL_PRESETS`)."""
    if name in LOCAL_PRESETS:
        return _local_set(name, LOCAL_PRESETS[name])
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"no decontamination preset '{name}' (have: {', '.join(preset_names())})") from None
