"""Generated run names: ``<adjective>-<noun>-<0..999>`` like MLflow's (our own word lists)."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber agile bold brave bright calm clever crisp curious daring eager fair fancy fast "
    "fleet gentle glad grand happy hardy keen kind lively lucky merry mighty nimble noble "
    "polite proud quick quiet rapid sharp shy silent sleek smart snappy solid steady "
    "stellar sunny swift tidy upbeat vivid warm wise witty zesty"
).split()
_NOUNS = (
    "ant bass bear bee bird boar carp cat colt crab crow deer dove duck eel elk fawn finch "
    "fish fox frog goat gull hare hawk heron horse ibis jay kite koala lark lion lynx mole "
    "moth mouse newt owl panda pig puma quail ram robin seal shark sheep slug snail squid "
    "stork swan tern toad trout wasp whale wolf wren yak zebra"
).split()


def generate_run_name() -> str:
    """A short, readable name (at most 20 characters)."""
    while True:
        name = f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(0, 999)}"
        if len(name) <= 20:
            return name
