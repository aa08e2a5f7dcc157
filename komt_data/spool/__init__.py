"""Stage 1: every input unit read, adapted, rendered and spooled to disk with its numbers."""
