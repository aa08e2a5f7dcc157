#!/usr/bin/env python3
"""The pipelines komt-data is compared with, one per invocation (run.py times each as a child).

    baselines.py floor   qa|nsmc INPUT OUT.jsonl   plain Python: orjson + f-string + NFC + xxh3 set + orjson
    baselines.py hf      qa|nsmc INPUT OUT.jsonl   Hugging Face datasets: load_dataset json -> map -> filter -> to_json
    baselines.py pandas  qa|nsmc INPUT OUT.jsonl   pandas: read_json -> apply -> drop_duplicates -> to_json

Each does what a user would write by hand for the same job as the komt-data build: read
every row, normalize to NFC, drop exact duplicates, render one prompt, write JSON lines.
NSMC rows are labelled from their rating (1-4 negative, 9-10 positive, others dropped).
"""

from __future__ import annotations

import gzip
import sys
import unicodedata

QA_PROMPT = "다음 지문을 읽고 질문에 답하세요.\n\n지문: {context}\n\n질문: {question}"
NSMC_PROMPT = "다음 글을 영화 리뷰의 감성에 따라 분류하세요.\n\n{text}\n\n선택지: 부정, 긍정"
RATING = {str(r): "부정" for r in range(1, 5)} | {"9": "긍정", "10": "긍정"}


def _open(path: str):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def floor(kind: str, src: str, dst: str) -> None:
    # Written inline rather than through _render on purpose: the floor is the leanest loop a
    # user would write, and an extra dict and call per row would lower the bar we measure against.
    import orjson
    import xxhash

    nfc = unicodedata.normalize
    seen: set[int] = set()
    with _open(src) as f, open(dst, "wb") as out:
        for line in f:
            row = orjson.loads(line)
            if kind == "qa":
                context, question = nfc("NFC", row["context"]), nfc("NFC", row["question"])
                answer = nfc("NFC", row["answers"]["text"][0])
                key = f"{context}\x1f{question}\x1f{answer}"
                instruction = QA_PROMPT.format(context=context, question=question)
            else:
                answer = RATING.get(row["rating"])
                if answer is None:
                    continue
                text = nfc("NFC", row["review"]).strip()
                key = f"{text}\x1f{answer}"
                instruction = NSMC_PROMPT.format(text=text)
            h = xxhash.xxh3_64_intdigest(key.encode())
            if h in seen:
                continue
            seen.add(h)
            out.write(orjson.dumps({"instruction": instruction, "output": answer,
                                    "text": f"### instruction: {instruction}\n\n### Response: {answer}"}) + b"\n")


def _render(kind: str, row: dict) -> dict:
    nfc = unicodedata.normalize
    if kind == "qa":
        context, question = nfc("NFC", row["context"]), nfc("NFC", row["question"])
        answer = nfc("NFC", row["answers"]["text"][0])
        key = f"{context}\x1f{question}\x1f{answer}"
        instruction = QA_PROMPT.format(context=context, question=question)
    else:
        answer = RATING.get(str(row["rating"]), "")
        text = nfc("NFC", row["review"] or "").strip()
        key = f"{text}\x1f{answer}"
        instruction = NSMC_PROMPT.format(text=text)
    return {"key": key, "instruction": instruction, "output": answer,
            "text": f"### instruction: {instruction}\n\n### Response: {answer}"}


def hf(kind: str, src: str, dst: str) -> None:
    import datasets

    datasets.disable_progress_bars()
    ds = datasets.load_dataset("json", data_files=src, split="train")
    ds = ds.map(lambda row: _render(kind, row), remove_columns=ds.column_names)
    seen: set[str] = set()

    def first(row: dict) -> bool:
        if not row["output"] or row["key"] in seen:
            return False
        seen.add(row["key"])
        return True

    ds = ds.filter(first).remove_columns(["key"])
    ds.to_json(dst, force_ascii=False)


def pandas(kind: str, src: str, dst: str) -> None:
    import pandas as pd

    df = pd.read_json(src, lines=True, dtype=False)
    rendered = pd.DataFrame([_render(kind, row) for row in df.to_dict("records")])
    rendered = rendered[rendered["output"] != ""].drop_duplicates("key").drop(columns=["key"])
    rendered.to_json(dst, orient="records", lines=True, force_ascii=False)


if __name__ == "__main__":
    mode, kind, src, dst = sys.argv[1:5]
    {"floor": floor, "hf": hf, "pandas": pandas}[mode](kind, src, dst)
