"""Generated names for runs and logged models: ``<adjective>-<noun>-<number>``."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "crisp", "daring", "eager", "fair", "gentle",
    "glad", "grand", "keen", "lively", "lucky", "merry", "nimble", "noble", "polite", "proud",
    "quick", "quiet", "rapid", "sharp", "shy", "silent", "sleek", "smart", "steady", "sunny",
    "swift", "tidy", "vast", "warm", "wise", "witty", "zesty", "hazy", "jolly", "loyal",
)
_NOUNS = (
    "otter", "heron", "lynx", "finch", "badger", "comet", "delta", "ember", "fjord", "glade",
    "harbor", "island", "kestrel", "lagoon", "maple", "meadow", "nebula", "orchid", "pebble",
    "quartz", "raven", "reef", "sparrow", "spruce", "tide", "tundra", "willow", "yak", "zephyr",
    "falcon", "gecko", "koala", "lark", "marten", "newt", "osprey", "panda", "robin", "seal",
)


def generate_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(0, 999)}"
