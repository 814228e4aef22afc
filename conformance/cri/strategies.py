"""Hypothesis strategies for CRI image references: well-formed ones, and the malformed text a runtime may receive."""

from __future__ import annotations

from hypothesis import strategies as st

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
DOMAINS = ("", "docker.io/", "docker.io/library/", "registry.example.com/", "localhost:5000/", "quay.io/")
REFERENCE_SPECIAL = "/:@._-+ \t\n#?%\\"


def _components() -> st.SearchStrategy[str]:
    words = st.lists(st.text(LOWER_ALNUM, min_size=1, max_size=8), min_size=1, max_size=3)
    return st.tuples(words, st.sampled_from([".", "_", "__", "-", "--"])).map(lambda t: t[1].join(t[0]))


def _names() -> st.SearchStrategy[str]:
    paths = st.lists(_components(), min_size=1, max_size=3).map("/".join)
    return st.tuples(st.sampled_from(DOMAINS), paths).map("".join)


def _hex(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(HEX, min_size=min_size, max_size=max_size)


def well_formed_references() -> st.SearchStrategy[str]:
    """`name[:tag][@sha256:hex]` references that follow the distribution/reference grammar."""
    tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
    digests = _hex(64, 64).map(lambda h: f"sha256:{h}")
    return st.builds(
        lambda name, tag, digest: name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else ""),
        _names(),
        st.none() | tags,
        st.none() | digests,
    )


def malformed_references() -> st.SearchStrategy[str]:
    """Non-empty text that is not a valid reference: bad digests, upper case, control and unicode text, long names."""
    names = _names()
    return st.one_of(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
        st.text(REFERENCE_SPECIAL, min_size=1, max_size=12),
        st.tuples(names, _hex(1, 63)).map(lambda t: f"{t[0]}@sha256:{t[1]}"),
        st.tuples(names, st.text(LOWER_ALNUM + ":@", max_size=12)).map(lambda t: f"{t[0]}@{t[1]}"),
        well_formed_references().map(str.upper),
        _hex(64, 64),  # a bare hex id without its algorithm
        st.integers(min_value=256, max_value=4096).map(lambda n: "a" * n),  # longer than a name may be
    ).filter(bool)


def image_references() -> st.SearchStrategy[str]:
    """Any non-empty reference, well-formed or not."""
    return st.one_of(well_formed_references(), malformed_references())
