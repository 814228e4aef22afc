"""Hypothesis strategies for the inputs the documents leave open."""

from __future__ import annotations

from hypothesis import strategies as st

URL_SPECIAL = "/?#%&+=;:@ \"'<>\\[]{}|^`~"
NOT_AN_ID = {".", ".."}  # path segments that URL normalisation turns into another resource


def malformed_image_ids() -> st.SearchStrategy[str]:
    """Strings that are not image ids: arbitrary and unicode text, URL-special characters, long strings."""
    uuid_like = st.uuids().map(str)
    return st.one_of(
        st.text(min_size=1, max_size=40),
        st.text(alphabet=st.sampled_from(URL_SPECIAL), min_size=1, max_size=12),
        st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=20),
        st.integers(min_value=256, max_value=2000).map(lambda n: "a" * n),
        uuid_like.map(lambda u: u + "0"),
        uuid_like.map(lambda u: u[:-1] + "g"),
        uuid_like.map(lambda u: u.replace("-", "")[:31]),
        st.tuples(uuid_like, st.sampled_from(URL_SPECIAL)).map(lambda t: t[0] + t[1]),
    ).filter(lambda s: s not in NOT_AN_ID)
