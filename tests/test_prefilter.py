"""The literal prefilter admits exactly the signatures with a literal in the text, whether it
scans one record or a whole block of lines at once."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from logscan.framing import Framer
from logscan.prefilter import Prefilter


@dataclass(frozen=True)
class Sig:
    literals: tuple[str, ...]


def signature_lists(alphabet: str) -> st.SearchStrategy[list[Sig]]:
    """Signatures whose literals are drawn from `alphabet`: a tiny one makes literals overlap,
    contain each other and share prefixes and suffixes."""
    literal = st.text(alphabet=alphabet, min_size=1, max_size=4)
    return st.lists(
        st.builds(lambda ls: Sig(tuple(ls)), st.lists(literal, min_size=1, max_size=3)),
        min_size=1,
        max_size=6,
    )


_signatures = signature_lists("abc ")


def brute(signatures: list[Sig], text: str) -> tuple[Sig, ...]:
    return tuple(s for s in signatures if any(literal in text for literal in s.literals))


@given(_signatures, st.text(alphabet="abc \n", max_size=60))
def test_candidates_are_the_signatures_with_a_literal_in_the_text(
    signatures: list[Sig], text: str
) -> None:
    assert Prefilter(signatures).candidates(text) == brute(signatures, text)


def test_a_literal_that_starts_inside_another_and_runs_past_it_is_found() -> None:
    """The shipped packs have such pairs: "Started server process" / "process is overloaded"."""
    started, overloaded = Sig(("Started server process",)), Sig(("process is overloaded",))
    prefilter = Prefilter([started, overloaded])
    text = "INFO: Started server process is overloaded"
    assert prefilter.candidates(text) == (started, overloaded)


@given(_signatures, st.lists(st.text(alphabet="abc ", max_size=12), min_size=1, max_size=8))
def test_a_block_scan_gives_each_record_its_own_literals(
    signatures: list[Sig], lines: list[str]
) -> None:
    """Framed from one block, each line carries the literals a scan of its own text finds."""
    prefilter = Prefilter(signatures)
    framer = Framer(source="s", prefilter=prefilter)
    records = framer.feed("".join(f"x{line}\n" for line in lines).encode(), 0.0)
    records += framer.close(0.0)
    assert [r.text for r in records] == [f"x{line}" for line in lines]
    for record in records:
        assert record.literals is not None
        assert prefilter.admitted(record.literals) == brute(signatures, record.text)
