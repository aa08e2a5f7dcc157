"""Stage 3: the decisions of stage 2 turned into a complete output directory (shards,
rejected.jsonl, manifest.json, the card and report). Empty on purpose: import the modules.
"""
