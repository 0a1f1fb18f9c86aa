"""The evaluation's metrics as pure functions: ROUGE-L, the two style distances, the judge's parser."""

from __future__ import annotations

import pytest

from evaluate_testkit import AUTHOR, OTHER_WRITER
from llmtwin_evaluate.judge import judge_answers, parse_scores
from llmtwin_evaluate.run import rouge_l
from llmtwin_evaluate.style import char_ngram_distance, cosine_delta, most_frequent_words


def test_generations_equal_to_the_references_score_rouge_l_of_one():
    assert rouge_l(AUTHOR, AUTHOR) == pytest.approx([1.0] * len(AUTHOR))
    assert all(score < 0.3 for score in rouge_l(OTHER_WRITER, AUTHOR[: len(OTHER_WRITER)]))


def test_the_authors_held_out_text_is_closer_in_style_than_another_writers():
    held_in, held_out = AUTHOR[:6], AUTHOR[6:]
    delta = cosine_delta(held_in, {"author": held_out, "other": OTHER_WRITER})
    assert delta["author"] < delta["other"]
    assert char_ngram_distance(held_in, held_out) < char_ngram_distance(held_in, OTHER_WRITER)
    assert cosine_delta(held_in, {"same": held_in})["same"] == pytest.approx(0.0, abs=1e-9)


def test_most_frequent_words_are_reproducible():
    assert most_frequent_words(["b a b", "c a b"], 2) == ["b", "a"]
    assert most_frequent_words(["y x", "x y"], 2) == ["x", "y"]  # ties: alphabetical


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        ('{"accuracy": {"analysis": "ok", "score": 3}, "style": {"analysis": "close", "score": 2}}', (3, 2)),
        ('Sure! ```json\n{"accuracy": {"score": "2"}, "style": {"score": 1}}\n```', (2, 1)),
        ("I would rate this highly.", None),
        ('{"accuracy": {"score": 5}, "style": {"score": 2}}', None),
        ('{"accuracy": 3}', None),
        ("", None),
    ],
)
def test_judge_replies_are_parsed_or_rejected(reply, scores):
    assert parse_scores(reply) == scores


def test_an_unparsable_or_failed_judge_reply_is_counted_never_fatal():
    replies = iter(['{"accuracy": {"score": 3}, "style": {"score": 3}}', "no json here", RuntimeError("HTTP 500")])

    def chat(prompt: str) -> str:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    summary, per_sample = judge_answers(chat, ["a", "b", "c"], ["r"] * 3, ["x"] * 3)
    assert (summary.scored, summary.unparsable, summary.failed_calls) == (1, 1, 1)
    assert summary.means() == {"accuracy": 3.0, "style": 3.0}
    assert per_sample == [(3, 3), None, None]
