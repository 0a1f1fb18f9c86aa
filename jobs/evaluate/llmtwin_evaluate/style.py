"""How close a set of texts is to the author's own writing, with no model involved: two stylometric
distances a reader can check by hand.

- Cosine Delta (Smith and Aldridge 2011; Evert et al. 2017, the best of the Delta family on their
  benchmarks): the relative frequencies of the author's most frequent words, z-scored per word over every
  document compared, and the cosine distance between the average profile of each group.
- Character 3- and 4-gram profiles: the cosine distance between the n-gram counts of two groups, which
  catches punctuation, casing and spelling habits that word counts miss.

Both are 0 for identical style and grow as texts drift away from the author's."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

WORD = re.compile(r"\w+(?:'\w+)?", re.UNICODE)


def words(text: str) -> list[str]:
    return [match.group(0).lower() for match in WORD.finditer(text)]


def most_frequent_words(texts: Iterable[str], count: int) -> list[str]:
    """The author's most frequent words, ties broken alphabetically so the list is reproducible."""
    counts = Counter(word for text in texts for word in words(text))
    return [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:count]]


def _relative_frequencies(text: str, vocabulary: Sequence[str]) -> list[float]:
    tokens = words(text)
    counts = Counter(tokens)
    total = max(len(tokens), 1)
    return [counts[word] / total for word in vocabulary]


def _cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if norm == 0:
        return 1.0
    return 1.0 - dot / norm


def cosine_delta(author: Sequence[str], groups: dict[str, Sequence[str]], vocabulary_size: int = 150) -> dict[str, float]:
    """Cosine Delta from the author's texts to each group of texts, over the author's most frequent words.
    The z-scores use every document of every group, so all distances share one scale."""
    vocabulary = most_frequent_words(author, vocabulary_size)
    if not vocabulary:
        return {name: math.nan for name in groups}
    documents = {"author": [_relative_frequencies(text, vocabulary) for text in author if text.strip()]}
    documents.update({name: [_relative_frequencies(text, vocabulary) for text in texts if text.strip()] for name, texts in groups.items()})
    every = [vector for vectors in documents.values() for vector in vectors]
    means = [sum(column) / len(every) for column in zip(*every)]
    spreads = [math.sqrt(sum((value - mean) ** 2 for value in column) / len(every)) or 1.0 for column, mean in zip(zip(*every), means)]

    def centroid(vectors: list[list[float]]) -> list[float]:
        if not vectors:
            return [0.0] * len(vocabulary)
        z = [[(value - mean) / spread for value, mean, spread in zip(vector, means, spreads)] for vector in vectors]
        return [sum(column) / len(z) for column in zip(*z)]

    author_profile = centroid(documents["author"])
    return {name: _cosine_distance(author_profile, centroid(documents[name])) for name in groups}


def char_ngram_distance(author: Sequence[str], texts: Sequence[str], sizes: Sequence[int] = (3, 4)) -> float:
    """Cosine distance between the character 3-4-gram profiles of the author's texts and of `texts`."""

    def profile(group: Sequence[str]) -> Counter:
        counts: Counter = Counter()
        for text in group:
            for size in sizes:
                counts.update(text[index : index + size] for index in range(len(text) - size + 1))
        return counts

    mine, theirs = profile(author), profile(texts)
    keys = set(mine) | set(theirs)
    return _cosine_distance([mine[key] for key in keys], [theirs[key] for key in keys])
