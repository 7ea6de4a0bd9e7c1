"""Seeds derived from the config, never from Python's ``hash()``.

Every random stream in an experiment comes from ``numpy.random.SeedSequence``
with the experiment's base seed as entropy and a spawn key made by a SHA-256
hash of the stream's identity (problem, settings, replicate and, for a fit, the
method and its settings). The same identity gives the same stream on any
machine, in any process, in any order of execution; a different identity gives
an independent stream.
"""

import hashlib
import json

import numpy as np

__all__ = ["canonical_json", "stable_words", "seed_sequence", "make_rng"]


def canonical_json(obj):
    """JSON with sorted keys and no whitespace: a stable text for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def stable_words(obj, n_words=4):
    """``n_words`` 32-bit integers from the SHA-256 of ``obj``'s canonical JSON."""
    digest = hashlib.sha256(canonical_json(obj).encode()).digest()
    return tuple(int.from_bytes(digest[4 * i : 4 * i + 4], "little") for i in range(n_words))


def seed_sequence(base_seed, identity):
    """The ``SeedSequence`` of the stream named by ``identity`` (any JSON-able value)."""
    return np.random.SeedSequence(entropy=int(base_seed), spawn_key=stable_words(identity))


def make_rng(base_seed, identity):
    """A fresh ``numpy.random.Generator`` for the stream named by ``identity``."""
    return np.random.default_rng(seed_sequence(base_seed, identity))
