"""Write fixtures/identity/sha256.json for test_byte_identity.py (run from the repo root):

    python tests/make_identity_list.py          # needs the ray extra: every run must agree

Every run of a scenario (workers 1/2, local/Ray) must give the same bytes, or nothing is written.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_byte_identity import LIST, build_all, ray_available  # noqa: E402


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else LIST
    if not ray_available():
        print("the ray extra is needed to write the list: pip install 'komt-data[ray]'", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="identity-") as tmp:
        found = build_all(Path(tmp), ray=True)
    listing = {}
    for scenario, runs in found.items():
        differing = [i for i, run in enumerate(runs) if run != runs[0]]
        if differing:
            print(f"{scenario}: runs {differing} differ from run 0: fix that first", file=sys.stderr)
            return 1
        listing[scenario] = runs[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(orjson.dumps(listing, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    print(f"wrote {target}: {sum(len(v) for v in listing.values())} files in {len(listing)} scenarios")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
