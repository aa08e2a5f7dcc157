"""Exact and near dedup on Korean rows: normalization variants, one-character edits, QA passages."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from komt_data import build
from komt_data.dedup.near import (
    HEAD,
    band_hashes,
    cluster,
    field_texts,
    lsh_params,
    near_bands,
    near_rows,
    shingle_hashes,
    signature,
)

from .mixing_helpers import MIXING, assert_accounting, recipe, records, rejected


def _by_line(out):
    return {entry["line"]: entry for entry in rejected(out)}


def test_exact_duplicates_and_variants_are_dropped_once(tmp_path):
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, {"tasks": ["reviews.yaml"]}), out)
    drops = _by_line(out)
    # Lines 6-9 repeat lines 2, 4, 5, 1: verbatim, NFD, zero-width space, extra whitespace.
    assert {line: drops[line]["detail"].rsplit(":", 1)[1] for line in (6, 7, 8, 9)} == \
        {6: "2", 7: "4", 8: "5", 9: "1"}
    assert all(drops[line]["reason"] == "duplicate" for line in (6, 7, 8, 9))
    assert manifest["tasks"]["reviews"]["dropped"] == {"duplicate": 4}
    texts = [r["instruction"] for r in records(out)]
    assert sum("음악이 정말 좋았다" in t for t in texts) == 1
    assert_accounting(manifest)


def test_one_character_edit_of_a_long_review_is_a_near_duplicate(tmp_path):
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, {"tasks": ["reviews.yaml"], "dedup": {"near": {"threshold": 0.8}}}), out)
    drops = _by_line(out)
    assert drops[10]["reason"] == "near_duplicate"
    assert drops[10]["detail"].endswith("reviews.jsonl:3")
    assert manifest["tasks"]["reviews"]["dropped"]["near_duplicate"] == 1
    assert manifest["near_dedup"]["cluster_sizes"] == {"2": 1}
    assert_accounting(manifest)


def test_near_dedup_off_keeps_the_edited_review(tmp_path):
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, {"tasks": ["reviews.yaml"]}), out)
    assert "near_duplicate" not in manifest["tasks"]["reviews"]["dropped"]
    assert 10 not in _by_line(out)


def test_questions_sharing_a_passage_are_not_merged(tmp_path):
    out = tmp_path / "out"
    manifest = build(recipe(tmp_path, {"tasks": ["passages.yaml"], "dedup": {"near": {"threshold": 0.5}}}), out)
    task = manifest["tasks"]["passages"]
    assert task["written"] == 7 and task["dropped"] == {}


def test_comparing_only_the_passage_never_merges_different_questions(tmp_path):
    # Before issue 13, comparing the passage alone merged the 4 later questions of each shared
    # passage. The fields near dedup does not compare (question, answer) must now be equal.
    body = {"tasks": ["passages.yaml"], "dedup": {"near": {"threshold": 0.5, "fields": {"qa": ["context"]}}}}
    manifest = build(recipe(tmp_path, body), tmp_path / "out")
    assert manifest["tasks"]["passages"]["dropped"] == {}
    assert manifest["tasks"]["passages"]["written"] == 7


def test_exact_dedup_scope_task_keeps_duplicates_across_tasks(tmp_path):
    twin = tmp_path / "reviews_twin.yaml"
    twin.write_text((MIXING / "reviews.yaml").read_text(encoding="utf-8").replace("name: reviews", "name: twin")
                    .replace("files: reviews.jsonl", f"files: {MIXING / 'reviews.jsonl'}"), encoding="utf-8")
    # Every row of the twin repeats the first task: it writes nothing, which the recipe allows.
    body = {"tasks": ["reviews.yaml", {"config": str(twin), "allow_empty": True}]}
    family = build(recipe(tmp_path, body), tmp_path / "family")
    assert family["tasks"]["twin"]["dropped"] == {"duplicate": 14}
    per_task = build(recipe(tmp_path, {**body, "dedup": {"exact": {"scope": "task"}}}, "r2.yaml"), tmp_path / "task")
    assert per_task["tasks"]["twin"]["dropped"] == {"duplicate": 4}
    for m in (family, per_task):
        assert_accounting(m)


def test_signature_ignores_normalization_whitespace_and_invisibles():
    text = "배우는 좋은데 각본이 엉망이라 아깝다"
    variants = [unicodedata.normalize("NFD", text), text.replace(" ", "\u200b  "), "  " + text.replace(" ", "\n")]
    base = signature(field_texts({"t": text}, ["t"])[0], 5, 64)
    for variant in variants:
        assert np.array_equal(signature(field_texts({"t": variant}, ["t"])[0], 5, 64), base)


def test_shingles_are_syllables_not_jamo_and_never_nfkc():
    # Compatibility jamo (ㅋㅋㅋ) must stay distinct from conjoining jamo (NFKC would merge them).
    assert not np.array_equal(shingle_hashes("ㅋㅋㅋㅋㅋ", 5), shingle_hashes("ᄏᄏᄏᄏᄏ", 5))
    # Five syllables make one shingle, not the 12 jamo a decomposition would give.
    assert len(shingle_hashes("한국어문장", 5)) == 1


@pytest.mark.parametrize("threshold", [0.7, 0.8, 0.9])
def test_dedup_is_idempotent(tmp_path, threshold):
    body = {"tasks": ["reviews.yaml"], "dedup": {"near": {"threshold": threshold}}}
    first = build(recipe(tmp_path, body), tmp_path / "a")
    dropped_lines = {entry["line"] for entry in rejected(tmp_path / "a")}
    assert dropped_lines  # the fixture plants duplicates at every threshold
    # Feed the surviving input rows back: nothing more is dropped.
    lines = (MIXING / "reviews.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "kept.jsonl").write_bytes(b"".join(line for n, line in enumerate(lines, 1) if n not in dropped_lines))
    config = tmp_path / "kept.yaml"
    config.write_text((MIXING / "reviews.yaml").read_text(encoding="utf-8").replace("name: reviews", "name: kept")
                      .replace("files: reviews.jsonl", "files: kept.jsonl"), encoding="utf-8")
    second = build(recipe(tmp_path, {"tasks": [{"config": str(config)}], "dedup": body["dedup"]}, "r2.yaml"),
                   tmp_path / "b")
    assert second["tasks"]["kept"]["dropped"] == {}
    assert second["tasks"]["kept"]["written"] == first["tasks"]["reviews"]["written"]


def test_one_character_edits_of_100_character_texts_are_caught_reliably():
    # 300 random 100-syllable texts and a one-syllable substitution of each: every pair found,
    # and no two unrelated texts merged.
    rng = np.random.default_rng(5)
    syllables = [chr(c) for c in range(0xAC00, 0xAC00 + 2000)]
    texts, edits = [], []
    for _ in range(300):
        text = "".join(rng.choice(syllables, 100))
        pos = int(rng.integers(0, 100))
        texts.append(text)
        edits.append(text[:pos] + ("가" if text[pos] != "가" else "나") + text[pos + 1:])
    bands, rows = lsh_params(0.8, 128)
    records = near_rows([(0, field_texts({"t": t}, ["t"])) for t in texts + edits], 5, 128)
    band_rows = near_bands(records, 128, bands, rows)
    result = cluster(band_rows, records, np.zeros(len(records), np.int64), 0.8, 128)
    assert result.survivor_of.tolist() == list(range(300)) * 2


def test_a_signature_does_not_depend_on_the_batch_it_was_computed_in():
    # Stage 1 hashes texts in batches cut by count and size: each row must be its text's alone.
    from komt_data.dedup.near import signatures

    texts = ["", "가", "ㅋㅋ", "한국어문장", "이 영화 정말 재미있어요", "배우들의 연기가 좋았고 음악도 훌륭했다" * 40,
             "a", "재미없다", "", "한국어문장입니다"]
    batch = signatures(texts, 5, 128)
    alone = np.array([signature(t, 5, 128) for t in texts])
    assert np.array_equal(batch, alone)
    assert np.array_equal(signatures(texts[3:], 5, 128), alone[3:])
    assert np.array_equal(batch[0], batch[8]) and not np.array_equal(batch[3], batch[9])
    bands, rows = lsh_params(0.8, 128)
    assert np.array_equal(band_hashes(batch, bands, rows), np.array([band_hashes(s, bands, rows) for s in alone]))


def _reference_signature(text: str, k: int, num_perm: int) -> np.ndarray:
    # The documented definition in plain Python, one text and one salt at a time: each window of
    # k characters hashed (polynomial over code points, splitmix64's finalizer, low 32 bits),
    # then murmur3's 32-bit finalizer of (shingle hash xor salt), minimum over the shingles.
    from komt_data.dedup.near import _permutations

    mask, mask64 = 0xFFFFFFFF, (1 << 64) - 1

    def mix64(z):  # splitmix64's finalizer
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask64
        return z ^ (z >> 31)

    def polynomial(window):
        h = 0
        for c in window:
            h = (h * 0x100000001B3 + ord(c)) & mask64
        return h

    if not text:
        shingles = {0}  # an empty text is one shingle, hashed to 0
    else:
        windows = [text[i:i + k] for i in range(len(text) - k + 1)] or [text]  # shorter than k: itself
        shingles = {mix64(polynomial(w)) & mask for w in windows}
    out = []
    for salt in (_permutations(num_perm) & np.uint64(mask)).tolist():
        best = mask
        for h in sorted(shingles):
            x = h ^ salt
            x ^= x >> 16
            x = (x * 0x85EBCA6B) & mask
            x ^= x >> 13
            x = (x * 0xC2B2AE35) & mask
            x ^= x >> 16
            best = min(best, x)
        out.append(best)
    return np.array(out, dtype=np.uint32)


def test_batched_signatures_are_the_documented_minhash():
    # The batch lays texts of many lengths out in padded blocks (and a long one in several):
    # every value must still be the plain definition's.
    from komt_data.dedup.near import _CHUNK, signatures

    rng = np.random.default_rng(7)
    syllables = [chr(c) for c in range(0xAC00, 0xAC00 + 300)] + ["ㅋ", "a"]
    texts = ["", "가", "ㅋㅋ", "재밌다", "abcd", "ㅋㅋㅋㅋㅋㅋㅋㅋ", "재미있어요재미있어요", "", "굿"]
    texts += ["".join(rng.choice(syllables, int(n))) for n in rng.integers(1, 200, 60)]
    texts += ["".join(rng.choice(syllables, _CHUNK + 40)), "가나다라마" * 500]
    for num_perm in (16, 128):
        batch = signatures(texts, 5, num_perm)
        for text, row in zip(texts, batch, strict=True):
            assert np.array_equal(row, _reference_signature(text, 5, num_perm)), text[:20]


def _reference_agreement(a, b, num_perm):
    # Outputs (the first HEAD words) must be equal; then the least similar field counts.
    if list(a[:HEAD]) != list(b[:HEAD]):
        return 0.0
    fields = [(a[f:f + num_perm] == b[f:f + num_perm]).mean() for f in range(HEAD, len(a), num_perm)]
    return min(fields, default=1.0)


def _reference_cluster(bands, sigs, scope, threshold, num_perm):
    # Band by band, every colliding group linked as a star to its first member, each link
    # verified and merged at once (union-find keeping the smaller index as the root).
    n = len(bands)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for band in range(bands.shape[1]):
        groups = {}
        for i in range(n):
            groups.setdefault((int(scope[i]), int(bands[i, band])), []).append(i)
        for members in groups.values():
            head = members[0]
            for j in members[1:]:
                if _reference_agreement(sigs[j], sigs[head], num_perm) >= threshold:
                    a, b = find(head), find(j)
                    parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    similarity = np.array([1.0 if i == r else _reference_agreement(sigs[i], sigs[r], num_perm)
                           for i, r in enumerate(roots)], dtype=np.float64)
    return roots, similarity


@pytest.mark.parametrize("links", [1 << 16, 1, 3, 7])
def test_clusters_match_a_plain_union_find_over_verified_links(links, monkeypatch):
    # Few distinct band hashes and signature values: many collisions, many links that fail
    # verification, chains of links across bands and scopes that must keep clusters apart.
    # Band hashes use all 32 bits (a shift done in 32 bits would merge unrelated groups), and
    # links are verified in batches of every size down to one.
    from komt_data.dedup import near as neardup

    monkeypatch.setattr(neardup, "_LINKS", links)
    rng = np.random.default_rng(11)
    for _ in range(60):
        n = int(rng.integers(0, 120))
        high = np.uint32(rng.choice([0, 1 << 31, 0xFFFF0000]))
        bands = rng.integers(0, int(rng.integers(1, 12)), size=(n, int(rng.integers(1, 5)))).astype(np.uint32)
        bands |= rng.integers(0, 2, size=bands.shape).astype(np.uint32) * high
        # Rows of an output hash (two values, so some pairs differ in output) and 1-3 fields.
        num_perm = int(rng.choice([4, 6, 12]))
        sigs = rng.integers(0, 3, size=(n, HEAD + 12)).astype(np.uint32)
        sigs[:, :HEAD] = rng.integers(0, 2, size=(n, 1)).astype(np.uint32) * np.uint32(0xFFFFFFFF)
        # Scope values far apart do not fit beside the band hash and row in one sort key.
        scope = rng.integers(0, 2, size=n) * int(rng.choice([1, 1 << 31]))
        threshold = float(rng.choice([0.25, 0.4, 0.5]))
        result = cluster(bands, sigs, scope, threshold, num_perm)
        roots, similarity = _reference_cluster(bands, sigs, scope, threshold, num_perm)
        assert result.survivor_of.tolist() == roots.tolist()
        assert np.array_equal(result.similarity, similarity)


def test_a_chain_of_links_joined_in_one_round_is_clustered_quickly_and_right(monkeypatch):
    """Links (0, 1), (1, 2), ... found together chain the forest; root look-ups must not
    climb it one level at a time (quadratic), and the result is one cluster."""
    from komt_data.dedup import near as neardup

    n = 3000
    # Band 0 pairs (2i, 2i+1), band 1 pairs (2i+1, 2i+2): together a path through every row.
    bands = np.stack([np.arange(n) // 2, (np.arange(n) + 1) // 2 + n], axis=1).astype(np.uint32)
    sigs = np.zeros((n, HEAD + 8), dtype=np.uint32)
    steps = []
    original = neardup._flatten
    monkeypatch.setattr(neardup, "_flatten", lambda parent: steps.append(1) or original(parent))
    result = cluster(bands, sigs, np.zeros(n, dtype=np.int64), 0.5, 8)
    assert result.survivor_of.tolist() == [0] * n
    assert len(steps) >= 2  # the long path was flattened during the joins, not only at the end



@pytest.mark.parametrize("fields", [1, 2, 3, 6])
def test_bands_keep_the_documented_recall_for_every_field_count(fields):
    from komt_data.dedup.near import lsh_params_for

    bands, rows = lsh_params_for(0.8, 128, fields)
    assert bands * rows <= 128
    # A pair with every field exactly at 0.8 agrees on a band's values with 0.8 ** (fields × rows).
    assert 1 - (1 - 0.8 ** (fields * rows)) ** bands >= 0.995
    assert lsh_params_for(0.8, 128, 1) == lsh_params(0.8, 128) == (21, 6)
    # The band count (the bytes a record costs in stage 2) does not grow with the fields.
    assert bands == 21


def test_two_field_edits_are_caught_and_a_shared_first_field_merges_nothing():
    # 200 pairs of 100-syllable texts with a one-syllable edit in each field: every pair found.
    # 200 more examples share an original's first field exactly, with an unrelated second
    # field: none of them joins anything.
    from komt_data.dedup.near import lsh_params_for

    rng = np.random.default_rng(9)
    syllables = [chr(c) for c in range(0xAC00, 0xAC00 + 2000)]

    def text():
        return "".join(rng.choice(syllables, 100))

    def edit(t):
        pos = int(rng.integers(0, 100))
        return t[:pos] + ("가" if t[pos] != "가" else "나") + t[pos + 1:]

    originals = [(text(), text()) for _ in range(200)]
    edits = [(edit(a), edit(b)) for a, b in originals]
    sharing = [(a, text()) for a, _ in originals]
    bands, rows = lsh_params_for(0.8, 128, 2)
    records = near_rows([(7, pair) for pair in originals + edits + sharing], 5, 128)
    result = cluster(near_bands(records, 128, bands, rows), records, np.zeros(len(records), np.int64), 0.8, 128)
    assert result.survivor_of.tolist() == list(range(200)) * 2 + list(range(400, 600))
