"""Every fault of the Glance-style reference, in one table: each is declared once, beside the others of its API
(v2_show_faults.py, v1_head_faults.py, v1_1_detail_faults.py, v2_list_faults.py; the vendor pages' own lines in
seed_faults.py; the filter faults beside the rules they bend, in v1_1_filters.py and v2_list_filters.py), with the
requirement it breaks and the probe that sees it.

Each probe gets an HttpProbe of a running reference and answers whether the deviation is visible: True when
the reference runs with that fault, False when it runs clean. The reference asks `F.NAME in active` of this module,
which re-exports every fault by its name.
"""

from __future__ import annotations

from conformance.reference.fault import Fault, table
from conformance.reference.glance import v1_1_detail_faults as D
from conformance.reference.glance import v1_head_faults as H
from conformance.reference.glance import v2_show_faults as S
from conformance.reference.glance.probe import HttpProbe
from conformance.reference.glance.seed_faults import SEED_FAULTS
from conformance.reference.glance.v1_1_detail_faults import *  # noqa: F403
from conformance.reference.glance.v1_1_filters import FILTER_FAULTS
from conformance.reference.glance.v1_head_faults import *  # noqa: F403
from conformance.reference.glance.v2_list_faults import V2_LIST_FAULTS
from conformance.reference.glance.v2_show_faults import *  # noqa: F403

# The order of --list-faults: v2 show, v1 HEAD, v1.1 detail (two late additions kept where they were first listed);
# the filter faults are declared with the reference's filters (v1_1_filters.py), beside the rules they bend, and the
# faults of the vendor pages' own lines in seed_faults.py.
GLANCE_FAULTS: dict[str, Fault[HttpProbe]] = table(
    S.V2_SHOW_CONTENT_TYPE_TEXT, S.V2_SHOW_STATUS_BOGUS, S.V2_SHOW_MIN_RAM_STRING, S.V2_SHOW_OS_TYPE_BOGUS,
    S.V2_SHOW_MISSING_ID, S.V2_SHOW_WRONG_ID, S.V2_SHOW_BAD_SELF_LINK, S.V2_SHOW_LOCAL_TIMESTAMP,
    S.V2_SHOW_UPDATED_BEFORE_CREATED, S.V2_SHOW_EXTRA_PROP_INT, S.V2_SHOW_ID_NOT_UUID, S.V2_SHOW_CHECKSUM_UPPERCASE,
    S.V2_SHOW_UNKNOWN_ID_200, S.V2_SHOW_MALFORMED_ID_500, S.V2_SHOW_DISAGREES_WITH_LIST, S.V2_LIST_NEXT_OFF_ORIGIN,
    S.V2_SHOW_ERROR_BODY_HTML,
    H.V1_HEAD_BODY_NOT_EMPTY, H.V1_HEAD_MISSING_STATUS, H.V1_HEAD_SIZE_NOT_INTEGER, H.V1_HEAD_BOOLEANS_NUMERIC,
    H.V1_HEAD_TIMESTAMP_ZULU, H.V1_HEAD_STATUS_BOGUS, H.V1_HEAD_WRONG_ID, H.V1_HEAD_UNKNOWN_ID_200,
    H.V1_HEAD_MALFORMED_ID_500, H.V1_HEAD_ETAG_MISMATCH, H.V1_HEAD_NAME_DIFFERS, H.V1_HEAD_MIN_RAM_DIFFERS,
    H.V1_HEAD_PROPERTY_MISSING,
    D.V1_1_DETAIL_MISSING_FIELD, D.V1_1_DETAIL_PROPERTIES_LIST, *FILTER_FAULTS, D.V1_1_DETAIL_PAGINATION_SKIPS,
    D.V1_1_DETAIL_LIMIT_IGNORED,
    D.V1_1_DETAIL_SIZE_MIN_500, D.V1_1_DETAIL_BAD_SORT_KEY_200, D.V1_1_DETAIL_SHOWS_DELETED, D.V1_1_DETAIL_NONE_LITERAL,
    H.V1_HEAD_CHECKSUM_UPPERCASE, D.V1_1_DETAIL_ONLY_FIRST_FILTER, D.V1_1_DETAIL_COMBINED_DROPS_ONE,
    D.V1_1_DETAIL_FILTERS_ANY, D.V1_1_DETAIL_DOCUMENTED_FILTERS_ONLY,
    S.V2_SHOW_MISSING_TOKEN_200, H.V1_HEAD_ANY_TOKEN_200, H.V1_HEAD_ACTIVE_NO_SIZE,
    H.V1_HEAD_ACTIVE_NO_CHECKSUM, D.V1_1_DETAIL_UNAUTHENTICATED_403, D.V1_1_DETAIL_ACTIVE_SIZE_NULL,
    D.V1_1_DETAIL_ACTIVE_CHECKSUM_NULL, H.V1_HEAD_DELETED_AT_NOT_ISO,
    S.V2_SHOW_CHECKSUM_NUMBER, S.V2_SHOW_SUPPORT_FLAGS_COEXIST, S.V2_SHOW_OS_FEATURE_LIST_NOT_JSON,
    S.V2_SCHEMA_LACKS_DISK_FORMAT, D.V1_1_DETAIL_CHANGES_SINCE_DROPS_NEW_DELETED,
    S.V2_SHOW_TRUE_FLAGS_FALSE, S.V2_SHOW_BOOL_FLAGS_YES, S.V2_SHOW_PATTERNED_PROPS_BOGUS, S.V2_SHOW_TEXT_PROPS_NUMBERS,
    S.V2_SHOW_CORE_FIELDS_MISTYPED, *SEED_FAULTS, *V2_LIST_FAULTS,
)

