"""Hypothesis strategies for the inputs the documents leave open."""

from __future__ import annotations

from hypothesis import strategies as st

URL_SPECIAL = "/?#%&+=;:@ \"'<>\\[]{}|^`~"
NOT_AN_ID = {".", ".."}  # path segments that URL normalisation turns into another resource
# An id travels as a URL path segment: its UTF-8 bytes, percent-encoded (RFC 3986 section 2.5, RFC 3987). A lone
# surrogate ('\ud800') is not a Unicode scalar value and has no UTF-8 form, so no client can send it as an id;
# percent-encoding it with surrogatepass would send invalid UTF-8 instead, a different input that the documents do
# not speak of. Ids are therefore drawn from the characters UTF-8 can encode.
ENCODABLE = st.characters(codec="utf-8")


def malformed_image_ids() -> st.SearchStrategy[str]:
    """Sendable strings that are not image ids: arbitrary and unicode text, URL-special characters, long strings."""
    uuid_like = st.uuids().map(str)
    return st.one_of(
        st.text(ENCODABLE, min_size=1, max_size=40),
        st.text(alphabet=st.sampled_from(URL_SPECIAL), min_size=1, max_size=12),
        st.text(alphabet=st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=20),
        st.integers(min_value=256, max_value=2000).map(lambda n: "a" * n),
        uuid_like.map(lambda u: u + "0"),
        uuid_like.map(lambda u: u[:-1] + "g"),
        uuid_like.map(lambda u: u.replace("-", "")[:31]),
        st.tuples(uuid_like, st.sampled_from(URL_SPECIAL)).map(lambda t: t[0] + t[1]),
    ).filter(lambda s: s not in NOT_AN_ID)
