"""Stage 2: every mixing decision for a whole recipe, on compact per-record numbers."""
