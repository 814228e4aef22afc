"""Fixtures the conformance tests use: targets, clients, profiles and discovered images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance import catalog, schemas
from conformance.evidence import clip
from conformance.glance import published_schema, sample
from conformance.glance.published_schema import PublishedSchema
from conformance.glance.v2_shown import Shown, kept_within
from conformance.run.state import GlanceTargetRecord, HttpFingerprint, RunState
from conformance.targets.auth import CredentialSource
from conformance.targets.errors import TargetError, TargetUnreachable
from conformance.targets.glance import GlanceClient, Listing
from conformance.targets.http import HttpTarget
from conformance.targets.signing import signer_for

AGREES_WITH_LIST = "GLANCE-V2-SHOW-AGREES-WITH-LIST"  # the requirement that reads the listing itself


def discovery_bound(max_images: int) -> int:
    """How many listed entries discovery reads to choose `max_images` that represent the catalogue."""
    return max_images * sample.DISCOVERY_FACTOR


@pytest.fixture(scope="session")
def http_credentials(run_state: RunState) -> CredentialSource | None:
    """Keystone credentials asked for a token on each request (renewed as it expires), when configured."""
    config = run_state.config
    if config.keystone is None:
        return None
    from conformance.targets.keystone import KeystoneAuth

    censor = run_state.log.censor

    try:  # each token Keystone issues is a secret from then on
        return KeystoneAuth(config.keystone, verify=config.verify, timeout=config.timeout, reveal=censor.add)
    except Exception as exc:  # keystoneauth1 refusing the options (a missing scope, an unknown option)
        raise TargetUnreachable(f"Keystone credentials of {config.keystone.source}: {censor.text(str(exc))}") from None


@pytest.fixture(scope="session")
def http_base_url(
    request: pytest.FixtureRequest, run_state: RunState, http_credentials: CredentialSource | None
) -> Iterator[str]:
    """The Glance-style endpoint under test: --target, else the catalogue's, else the embedded reference started."""
    config = run_state.config
    if config.glance_url:
        run_state.targets.glance = GlanceTargetRecord(url=config.glance_url)
        yield config.glance_url
        return
    if config.keystone is not None:
        from conformance.targets.keystone import KeystoneAuth

        assert isinstance(http_credentials, KeystoneAuth), "Keystone settings give Keystone credentials"
        try:
            url = http_credentials.endpoint()
        except TargetError as exc:
            raise TargetUnreachable(str(exc)) from None
        run_state.targets.glance = GlanceTargetRecord(url=url)
        yield url
        return
    from conformance.reference.glance.faults import GLANCE_FAULTS
    from conformance.reference.glance.load import wrap_with
    from conformance.reference.http_server import start_http_server

    # The embedded reference requires the run's token (given, or made up for the run), as Glance behind Keystone does,
    # and takes the second token as another project's.
    server = start_http_server(faults=[f for f in config.reference_faults if f in GLANCE_FAULTS], token=config.token,
                               other_token=config.other_token, wrap=wrap_with(config.reference_load))
    run_state.targets.glance = GlanceTargetRecord(url=server.url, embedded=True)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def http_target(http_base_url: str, run_state: RunState, http_credentials: CredentialSource | None) -> HttpTarget:
    """HTTP client for the Glance-style target, with the run's auth, TLS and limits."""
    config = run_state.config
    target = HttpTarget(
        http_base_url, limits=run_state.limits, log=run_state.log, token=config.token, verify=config.verify,
        signer=signer_for(config.ak, config.sk, config.security_token), credentials=http_credentials,
        basic_auth=config.basic_auth,
    )
    try:
        root = target.request("GET", "/", headers={"Accept": "application/json"})
    except TargetError as exc:
        raise TargetUnreachable(f"the target {http_base_url} does not answer: {exc}") from None
    run_state.targets.glance_record().fingerprint = HttpFingerprint(
        server=root.headers.get("Server"), root_status=root.status, root_body=clip(root.text, 500)
    )
    return target


@pytest.fixture(scope="session")
def glance(http_target: HttpTarget) -> GlanceClient:
    """The Glance-style operations of the target."""
    return GlanceClient(http_target)


@pytest.fixture(scope="session")
def http_profile(run_state: RunState) -> catalog.Profile:
    """The profile the Glance-style target is certified against."""
    return catalog.profiles()[run_state.config.profiles["glance"]]


@pytest.fixture(scope="session")
def v2_listing(glance: GlanceClient, run_state: RunState) -> Listing:
    """What `GET /v2/images` lists, page by page on the target's origin (discovery: at most 10 per image judged)."""
    return glance.list_v2(max_images=discovery_bound(run_state.config.max_images))


@pytest.fixture(scope="session")
def v2_listed(v2_listing: Listing) -> dict[str, dict[str, Any]]:
    """Images the target lists through `GET /v2/images`, by id, in listing order."""
    listed: dict[str, dict[str, Any]] = {}
    for entry in v2_listing.images:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            listed.setdefault(entry["id"], entry)
    return listed


def sample_of(listed: dict[str, dict[str, Any]], max_images: int, *, ended: bool = True) -> sample.Sample:
    """The sample of `listed` (a discovery read of at most discovery_bound(max_images) entries) to judge;
    `ended` is false when the listing was cut before its last page."""
    complete = ended and len(listed) < discovery_bound(max_images)
    return sample.choose(list(listed.values()), max_images, complete=complete)


@pytest.fixture(scope="session")
def v2_image_ids(run_state: RunState, v2_listed: dict[str, dict[str, Any]], v2_listing: Listing) -> list[str]:
    """The images to judge: those pinned with --image-id, else a sample covering every kind the listing shows."""
    record = run_state.targets.glance_record()
    if run_state.config.image_ids:
        ids = list(run_state.config.image_ids)
        record.sample = {"chosen_by": "pinned", "ids": ids}
    else:
        cap = run_state.config.max_images
        chosen = sample_of(v2_listed, cap, ended=not v2_listing.truncated and v2_listing.problem is None)
        record.sample = chosen.to_record()
        ids = list(chosen.ids)
        if len(v2_listed) > len(ids):
            more = "" if len(v2_listed) < discovery_bound(cap) else "at least "
            run_state.caps["images"] = (f"{more}{len(v2_listed) - len(ids)} listed images outside the sample of {cap} "
                                        "not judged (raise --max-images)")
        if v2_listing.truncated:
            cut = f"images listed past {v2_listing.pages} pages of GET /v2/images not read"
            run_state.caps["images"] = "; ".join(filter(None, (run_state.caps.get("images"), cut)))
    if not ids and v2_listing.problem is not None and not v2_listing.pages:
        pytest.skip(f"not judged: no image discovered, GET /v2/images is no image list ({AGREES_WITH_LIST})")
    if not ids:
        pytest.skip("no images to test: the target lists no images (seed it, or pin images with --image-id)")
    return ids


@pytest.fixture(scope="session")
def v2_shown(glance: GlanceClient, v2_image_ids: list[str], run_state: RunState) -> list[Shown]:
    """`GET /v2/images/{id}` of every image to judge, fetched once per run (--concurrency at once) and kept within
    the run's bound on kept answers (the images past it are not judged)."""
    shown, left = kept_within(glance, v2_image_ids)
    if left:
        cut = (f"{left} sampled images not judged: their answers are past the {glance.limits.kept_bytes // 2**20} MiB "
               "the run keeps of shown images")
        run_state.caps["images"] = "; ".join(filter(None, (run_state.caps.get("images"), cut)))
    return shown


@pytest.fixture(scope="session")
def v2_published_schema(glance: GlanceClient) -> PublishedSchema:
    """The image schema the target publishes at /v2/schemas/image, fetched once and judged as hostile input."""
    try:
        return published_schema.read(glance.image_schema())
    except TargetError as exc:
        return published_schema.read(None, f"GET /v2/schemas/image failed: {exc}")


@pytest.fixture(scope="session")
def v2_schema_enums(http_profile: catalog.Profile, v2_published_schema: PublishedSchema) -> schemas.Enums:
    """The format enums the profile's v2 schema takes from the target's own schema (none: the profile's defaults)."""
    return schemas.enums_for(http_profile.schemas["glance.v2.show"], v2_published_schema.formats)


@pytest.fixture(scope="session")
def v1_head_enums(http_profile: catalog.Profile, v2_published_schema: PublishedSchema) -> schemas.Enums:
    """The format enums the profile's v1 HEAD schema takes from the target's /v2/schemas/image (none: defaults)."""
    return schemas.enums_for(http_profile.schemas["glance.v1.head"], v2_published_schema.formats)


@pytest.fixture(scope="session")
def v1_1_detail_enums(http_profile: catalog.Profile, v2_published_schema: PublishedSchema) -> schemas.Enums:
    """The format enums the profile's v1.1 detail schema takes from the target's /v2/schemas/image (none: defaults)."""
    return schemas.enums_for(http_profile.schemas["glance.v1_1.detail"], v2_published_schema.formats)
