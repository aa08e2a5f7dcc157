"""Dedup: the shared hash functions (hashing), near dedup and decontamination."""
