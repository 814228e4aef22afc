"""The Glance reference's image catalogue: fixed, deterministic image records (metadata only)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import NamedTuple

STATUSES = ("queued", "saving", "active", "killed", "deleted")
VISIBILITIES = ("private", "public", "shared", "community")  # community: upstream only, listed on request
MEMBER_STATUSES = ("accepted", "pending", "rejected")  # the caller's membership of a shared image
DISK_FORMATS = ("vhd", "zvhd", "zvhd2", "raw", "qcow2", "iso")  # the vendor profile's (iso: IsoImage only)
CONTAINER_FORMATS = ("bare", "ovf")

V1_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"  # 2016-05-22T06:04:20.425843 (seed 003/004)
V2_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # 2018-09-06T14:03:27Z (seed 001)

# The tenant of the seed 001 sample (public "gold" images), the one of the seed 003/004 sample, and two more.
GOLD = "1bed856811654c1cb661a6ca845ebc77"
OWNER_A = "23f4cb75768d4febb39542ef6fe169f3"
OWNER_B = "6f3a1c2e9b8d4e7fa0b1c2d3e4f5a6b7"
OWNER_C = "0b9d8c7a6f5e4d3c2b1a09f8e7d6c5b4"

_ID_NAMESPACE = uuid.UUID("8a4c1f0e-5b7d-4e2a-9c3b-6d1e0f2a4b5c")
_EMPTY_MD5 = hashlib.md5(b"").hexdigest()
_ENTERPRISE_PROJECT = "b5e8f1a2-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

CORE_FIELDS = (
    "id", "name", "status", "visibility", "protected", "checksum", "owner", "size", "virtual_size",
    "container_format", "disk_format", "created_at", "updated_at", "deleted_at", "deleted", "min_ram",
    "min_disk", "tags",
)


@dataclass(frozen=True)
class Member:
    """A project an image is shared with (upstream api-ref "Create image member"): its status and when it changed."""

    status: str  # pending when added; only the member changes it (api-ref "Update image member")
    created_at: datetime
    updated_at: datetime


NO_MEMBERS: Mapping[str, Member] = MappingProxyType({})


@dataclass(frozen=True)
class Image:
    """One image record with upstream Glance fields; `properties` are the extra (string) properties."""

    id: str
    name: str
    status: str
    visibility: str
    protected: bool
    checksum: str | None
    owner: str
    size: int | None
    virtual_size: int | None
    container_format: str
    disk_format: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    deleted: bool
    min_ram: int
    min_disk: int
    tags: tuple[str, ...]
    properties: Mapping[str, str] = field(hash=False)
    os_hidden: bool = False  # left out of the v2 list unless asked for (upstream os_hidden)
    member_status: str = "accepted"  # of a shared image: the caller's membership, which the v2 list filters on
    # projects the owner added as members (project id -> Member); a second project lists by its own membership here
    members: Mapping[str, Member] = field(default_factory=lambda: NO_MEMBERS, hash=False)

    @property
    def is_public(self) -> bool:
        """The v1 view of visibility."""
        return self.visibility == "public"


def format_v1_time(value: datetime) -> str:
    """A timestamp as Glance v1 wrote it: naive UTC with microseconds."""
    return value.astimezone(timezone.utc).strftime(V1_TIME_FORMAT)


def format_v2_time(value: datetime) -> str:
    """A timestamp as Glance v2 writes it: UTC to the second with `Z`."""
    return value.astimezone(timezone.utc).strftime(V2_TIME_FORMAT)


def _vendor(
    platform: str, os_version: str, imagetype: str, extra: Mapping[str, str] | None = None,
    without: tuple[str, ...] = (),
) -> dict[str, str]:
    """The vendor extension properties of a system-disk image, documented values only (seed 001)."""
    props = {
        "__os_type": {"Windows": "Windows", "Other": "Other"}.get(platform, "Linux"),
        "__os_bit": "64",
        "__platform": platform,
        "__os_version": os_version,
        "__imagetype": imagetype,
        "__isregistered": "true",
        "__support_kvm": "true",
        "__image_source_type": "uds",
        "__lazyloading": "true",
        "__support_arm": "false",
        "virtual_env_type": "FusionCompute",
        "hw_firmware_type": "bios",
        "enterprise_project_id": "0",
    }
    props.update(extra or {})
    for key in without:
        del props[key]
    return props


# Seed 001: these four cannot coexist with __support_xen / __support_kvm (infiniband: with __support_xen only),
# so the images that carry them drop the default __support_kvm (infiniband keeps it, which the seed allows).
_NO_KVM = ("__support_kvm",)
_OS_FEATURES = '{"onekey_resetpasswd": "true", "support_kvm_nvme": "true"}'  # JSON text, as seed 001 documents
# Seed 001's flags documented as "true" or absent; on an image that also supports KVM, which the seed allows.
_XEN_FLAGS = {"__support_xen": "true", "__support_largememory": "true", "__support_diskintensive": "true",
              "__support_highperformance": "true"}
# Ids the provenance properties of private images name (a parent image, a server, a volume, a backup, a key).
_PARENT_IMAGE = "bc6bed6e-ba3a-4447-afcc-449174a3eb52"  # centos-vivado
_SERVER = "5d3a0f4e-7c1b-4a8e-9f2d-1e6b8c4a7d30"
_VOLUME = "9e1f7a3c-2b5d-4c8e-a6f0-3d7b1e9c5a24"
_BACKUP = "e4b7c2a9-6f1d-4e3b-8a5c-0d9f2b7e1c63"
_CMK = "7c1e5a9b-3d2f-4b6a-8e0c-5f9d1a3b7e24"
_LOCATION = "obs-bucket-images:web-server.zvhd2"


class _Row(NamedTuple):
    key: str  # stable slug the id is derived from
    name: str
    status: str
    visibility: str
    disk_format: str
    container_format: str
    size: int | None
    virtual_size: int | None
    min_ram: int
    min_disk: int
    owner: str
    created: str  # UTC
    updated: str  # UTC; for deleted images also the deletion time
    protected: bool
    tags: tuple[str, ...]
    properties: Mapping[str, str]
    hidden: bool = False
    member: str = "accepted"


GIB = 1024**3
# Shared on purpose (filter boundaries). Sizes: 13167616 (cirros, cirros-052), 536870912 (chinese-name,
# unicode-name), 1 GiB (euleros, deleted-centos), 2147483648 (ubuntu-2004, debian-11), 2361393152 (ubuntu-2204,
# ubuntu-2204-lower), 3 GiB (suse, ironic-centos), 4 GiB (redhat-market, web-server), 6 GiB (windows-7-32,
# shared-agent). updated_at: _SHARED_UPDATE (web-server, db-backup, shared-agent) and _LATE_UPDATE (ironic-centos,
# killed-upload, deleted-centos). created_at: 2021-07-01 10:00:00 (duplicate-a, duplicate-b, which share a name).
_SHARED_UPDATE = "2021-03-15 08:30:00.123456"
_LATE_UPDATE = "2023-11-02 16:45:10.000000"

_ROWS: tuple[_Row, ...] = (
    # key, name, status, visibility, disk_format, container_format
    #      size, virtual_size, min_ram, min_disk, owner, created, updated, protected
    #      tags, extra properties
    _Row("centos-vivado", "CentOS 7.3 64bit vivado", "active", "public", "zvhd2", "bare",
         0, None, 2048, 100, GOLD, "2018-09-06 14:03:27.000000", "2018-09-06 15:17:33.000000", True,
         (), _vendor("CentOS", "CentOS 7.3 64bit", "gold")),
    _Row("cirros", "cirros", "active", "public", "qcow2", "bare",
         13167616, None, 0, 0, OWNER_A, "2016-05-22 06:04:20.425843", "2016-05-22 06:04:22.719791", False,
         (), {}),
    _Row("cirros-052", "cirros-0.5.2-x86_64-disk", "active", "public", "qcow2", "bare",
         13167616, 117440512, 0, 1, OWNER_A, "2020-01-10 09:12:45.000100", "2020-01-10 09:13:02.500000", False,
         ("test",), _vendor("Other", "CirrOS 0.5.2", "private", {"__lazyloading": "false"})),
    _Row("cirros-062", "CirrOS 0.6.2", "active", "public", "raw", "bare",
         21430272, 117440512, 0, 1, OWNER_B, "2023-06-01 12:00:00.654321", "2023-06-01 12:01:10.111111", False,
         ("test", "tiny"), _vendor("Other", "CirrOS 0.6.2", "private")),
    _Row("ubuntu-2204", "Ubuntu 22.04 server 64bit", "active", "public", "zvhd2", "bare",
         2361393152, 40 * GIB, 1024, 40, GOLD, "2022-05-12 02:30:00.000000", "2022-05-12 03:10:44.250000", True,
         ("linux", "lts"), _vendor("Ubuntu", "Ubuntu 22.04 server 64bit", "gold", {"max_ram": "524288"})),
    _Row("ubuntu-2204-lower", "ubuntu 22.04 server 64bit", "active", "private", "zvhd2", "bare",
         2361393152, 40 * GIB, 1024, 40, OWNER_B, "2022-08-19 11:05:09.000001", "2022-08-19 11:40:00.000001", False,
         ("linux",), _vendor("Ubuntu", "Ubuntu 22.04 server 64bit", "private",
                             {"__lazyloading": "False", "build_number": "20220819"})),
    _Row("ubuntu-2004", "Ubuntu 20.04 server 64bit", "active", "public", "zvhd", "bare",
         2147483648, 40 * GIB, 1024, 40, GOLD, "2020-04-24 08:00:00.000000", "2020-04-24 08:45:30.000000", True,
         ("linux", "lts"), _vendor("Ubuntu", "Ubuntu 20.04 server 64bit", "gold",
                                  {"__support_kvm_gpu_type": "V100_vGPU"}, without=_NO_KVM)),
    _Row("debian-11", "Debian 11.0.0 64bit", "active", "public", "vhd", "bare",
         2147483648, None, 512, 40, GOLD, "2021-08-16 07:20:00.000000", "2021-08-16 07:55:12.000000", True,
         ("linux",), _vendor("Debian", "Debian GNU/Linux 11.0.0 64bit", "gold",
                             {"__support_xen": "true", "__support_diskintensive": "true", "__support_amd": "false",
                              "hw_vif_multiqueue_enabled": "false", "__sequence_num": "11"})),
    _Row("windows-2019", "Windows Server 2019 Datacenter 64bit English", "active", "public", "zvhd2", "bare",
         10 * GIB, 40 * GIB, 2048, 40, GOLD, "2019-03-05 10:00:00.000000", "2019-03-05 12:30:00.000000", True,
         ("windows",), _vendor("Windows", "Windows Server 2019 Datacenter 64bit English", "gold",
                               {"hw_firmware_type": "uefi", "max_ram": "1048576", "__os_feature_list": "[]",
                                **_XEN_FLAGS, "hw_vif_multiqueue_enabled": "true",
                                "__support_agent_list": "hss,ces", "__is_config_init": "true",
                                "__support_fc_inject": "false"})),
    _Row("windows-2012", "Windows Server 2012 R2 Standard 64bit", "active", "public", "vhd", "bare",
         8 * GIB, None, 2048, 40, GOLD, "2017-02-14 09:00:00.000000", "2017-02-14 10:15:00.000000", True,
         ("windows", "legacy"), _vendor("Windows", "Windows Server 2012 R2 Standard 64bit", "gold")),
    _Row("euleros", "EulerOS 2.5 64bit", "active", "public", "zvhd2", "bare",
         GIB, None, 512, 40, GOLD, "2018-11-20 03:00:00.000000", "2018-11-20 03:30:00.000000", True,
         ("linux",), _vendor("EulerOS", "EulerOS 2.5 64bit", "gold", {"__os_feature_list": _OS_FEATURES})),
    _Row("suse", "SUSE Linux Enterprise Server 15 SP1 64bit", "active", "public", "zvhd2", "bare",
         3 * GIB, None, 1024, 40, GOLD, "2019-09-09 09:09:09.090909", "2019-09-09 10:00:00.000000", True,
         ("linux", "sap"), _vendor("SUSE", "SUSE Linux Enterprise Server 15 SP1 64bit", "gold",
                                  {"__support_xen_hana": "true"}, without=_NO_KVM)),
    _Row("redhat-market", "Red Hat Enterprise Linux 7.6 64bit", "active", "public", "zvhd2", "bare",
         4 * GIB, None, 2048, 40, OWNER_C, "2019-01-15 06:00:00.000000", "2019-01-16 06:00:00.000000", True,
         ("linux", "market"), _vendor("RedHat", "Red Hat Enterprise Linux 7.6 64bit", "market",
                                      {"__productcode": "00301-63801-0--0", "__account_code": "MKT-RHEL76-0001",
                                       "__is_offshelved": "false", "__support_agent_list": "hss"})),
    _Row("opensuse", "OpenSUSE 15.2 64bit", "active", "public", "raw", "bare",
         1536 * 1024**2, None, 1024, 40, GOLD, "2020-07-02 14:00:00.000000", "2020-07-02 14:20:00.000000", True,
         ("linux",), _vendor("OpenSUSE", "OpenSUSE 15.2 64bit", "gold")),
    _Row("oracle", "Oracle Linux 7.6 64bit", "active", "public", "qcow2", "bare",
         2 * GIB + 4096, None, 1024, 40, GOLD, "2019-05-05 05:05:05.050505", "2019-05-05 06:00:00.000000", True,
         ("linux",), _vendor("Oracle Linux", "Oracle Linux Server release 7.6 64bit", "gold",
                             {"__lazyloading": "False"})),
    _Row("fedora", "Fedora 33 64bit", "active", "public", "qcow2", "bare",
         900 * 1024**2, None, 1024, 40, GOLD, "2020-11-01 01:01:01.000000", "2020-11-01 02:00:00.000000", True,
         ("linux",), _vendor("Fedora", "Fedora 33 64bit", "gold",
                            {"__lazyloading": "True", "__support_fc_inject": "true", "__is_offshelved": "true"})),
    _Row("coreos", "CoreOS 2079.6.0 64bit", "active", "public", "raw", "bare",
         800 * 1024**2, None, 1024, 40, GOLD, "2019-06-18 18:18:18.000000", "2019-06-18 19:00:00.000000", False,
         ("linux", "container"), _vendor("CoreOS", "CoreOS 2079.6.0 64bit", "gold")),
    _Row("centos-arm", "CentOS 7.6 64bit with ARM", "active", "public", "zvhd2", "bare",
         5 * GIB, None, 2048, 40, GOLD, "2020-02-20 20:20:20.000000", "2020-02-20 21:00:00.000000", True,
         ("linux", "arm"), _vendor("CentOS", "CentOS 7.6 64bit", "gold",
                                   {"__support_arm": "true", "hw_firmware_type": "uefi"})),
    _Row("centos-32", "CentOS 6.10 32bit", "active", "public", "vhd", "bare",
         700 * 1024**2, None, 512, 40, GOLD, "2018-07-03 04:00:00.000000", "2018-07-03 04:30:00.000000", True,
         ("linux", "legacy"), _vendor("CentOS", "CentOS 6.10 32bit", "gold", {"__os_bit": "32"})),
    _Row("windows-7-32", "Windows 7 Professional 32bit", "active", "private", "vhd", "bare",
         6 * GIB, None, 1024, 40, OWNER_B, "2016-12-01 08:00:00.000000", "2017-01-01 00:00:00.000000", False,
         ("windows", "desktop"), _vendor("Windows", "Windows 7 Professional 32bit", "private",
                                         {"__os_bit": "32", "__isregistered": "false"})),
    _Row("web-server", "my web server", "active", "private", "zvhd2", "ovf",
         4 * GIB, 40 * GIB, 2048, 40, OWNER_A, "2021-03-14 22:00:00.000000", _SHARED_UPDATE, False,
         ("web", "prod"), _vendor("CentOS", "CentOS 7.6 64bit", "private",
                                  {"enterprise_project_id": _ENTERPRISE_PROJECT, "build_number": "20210314",
                                   "__description": "nginx on CentOS 7.6, made from the web01 server",
                                   "__originalimagename": _PARENT_IMAGE, "__data_origin": f"instance,{_SERVER}",
                                   "__image_size": "4294967296", "__image_location": _LOCATION,
                                   "__is_config_init": "false"})),
    _Row("chinese-name", "镜像 测试 中文名称", "active", "private", "qcow2", "bare",
         512 * 1024**2, None, 0, 1024, OWNER_B, "2021-09-30 16:00:00.000000", "2021-10-01 00:00:00.000000", False,
         ("测试",), _vendor("EulerOS", "EulerOS 2.9 64bit", "private",
                          {"__system__cmkid": _CMK, "__description": "加密镜像 测试"})),
    _Row("unicode-name", "Ünïcødé — image ✓", "active", "private", "raw", "ovf",
         512 * 1024**2, None, 0, 0, OWNER_A, "2022-02-02 02:02:02.020202", "2022-02-02 03:00:00.000000", False,
         ("ünïcødé",), _vendor("Debian", "Debian GNU/Linux 10.0.0 64bit", "private")),
    _Row("query-chars", "A&B + C=D 100% #1", "active", "private", "raw", "bare",
         1024, None, 0, 0, OWNER_A, "2022-03-03 03:03:03.000000", "2022-03-03 03:04:00.000000", False,
         ("odd-name",), _vendor("Other", "Other", "private", {"build_number": "7", "__root_origin": "file",
                                                              "__image_size": "1024", "__support_amd": "true"})),
    _Row("db-backup", "database backup 2021-03-15", "active", "private", "zvhd2", "bare",
         100 * GIB, None, 0, 100, OWNER_B, "2021-03-15 01:00:00.000000", _SHARED_UPDATE, True,
         ("backup", "data"), _vendor("Other", "Other", "private",
                                     {"virtual_env_type": "DataImage", "__backup_id": _BACKUP,
                                      "__data_origin": f"volume,{_VOLUME}", "__description": ""})),
    _Row("ironic-centos", "Ironic bare metal CentOS 7.6", "active", "private", "raw", "bare",
         3 * GIB, None, 4096, 100, OWNER_A, "2023-10-30 10:00:00.000000", _LATE_UPDATE, False,
         ("baremetal",), _vendor("CentOS", "CentOS 7.6 64bit", "private",
                                 {"virtual_env_type": "Ironic", "hw_firmware_type": "uefi"})),
    _Row("installer-iso", "installer.iso", "active", "private", "iso", "bare",
         4700 * 1024**2, None, 0, 0, OWNER_B, "2022-12-24 12:00:00.000000", "2022-12-24 12:10:00.000000", False,
         ("iso",), _vendor("Windows", "Windows Server 2022 Datacenter 64bit", "private",
                           {"virtual_env_type": "IsoImage"})),
    _Row("duplicate-a", "duplicate name", "active", "private", "qcow2", "bare",
         64 * 1024**2, None, 512, 10, OWNER_A, "2021-07-01 10:00:00.000000", "2021-07-01 10:05:00.000000", False,
         ("dup",), _vendor("Fedora", "Fedora 34 64bit", "private")),
    _Row("duplicate-b", "duplicate name", "active", "private", "qcow2", "bare",
         65 * 1024**2, None, 512, 10, OWNER_B, "2021-07-01 10:00:00.000000", "2021-07-01 10:06:00.000000", False,
         ("dup",), _vendor("Fedora", "Fedora 34 64bit", "private")),
    _Row("shared-agent", "shared ubuntu build agent", "active", "shared", "zvhd2", "bare",
         6 * GIB, None, 4096, 80, OWNER_C, "2021-03-10 10:10:10.101010", _SHARED_UPDATE, False,
         ("ci", "shared"), _vendor("Ubuntu", "Ubuntu 20.04 server 64bit", "shared", {"build_number": "1042"})),
    _Row("shared-desktop", "Shared Windows desktop", "active", "shared", "zvhd", "ovf",
         12 * GIB, None, 4096, 60, OWNER_C, "2020-10-10 10:10:10.000000", "2020-10-11 10:10:10.000000", False,
         ("windows", "shared", "desktop"), _vendor("Windows", "Windows 10 Enterprise 64bit", "shared",
                                                   {"hw_firmware_type": "uefi", "__support_xen_gpu_type": "M60_vGPU"},
                                                   without=_NO_KVM)),
    _Row("protected-master", "protected golden master", "active", "private", "qcow2", "bare",
         7 * GIB, 20 * GIB, 2048, 20, OWNER_B, "2019-12-31 23:59:59.999999", "2020-01-01 00:00:00.000001", True,
         ("master",), _vendor("RedHat", "Red Hat Enterprise Linux 8.0 64bit", "private",
                             {"__support_kvm_infiniband": "true"})),
    _Row("queued-qcow2", "queued upload pending", "queued", "private", "qcow2", "bare",
         None, None, 0, 0, OWNER_A, "2024-01-05 09:00:00.000000", "2024-01-05 09:00:00.000000", False,
         (), _vendor("CentOS", "CentOS 8.2 64bit", "private")),
    _Row("queued-raw", "queued-raw", "queued", "private", "raw", "bare",
         None, None, 512, 20, OWNER_B, "2024-02-01 00:00:00.000000", "2024-02-01 00:00:01.000000", False,
         ("queued",), {"__imagetype": "private", "__os_type": "Linux", "__isregistered": "false"}),
    _Row("saving-zvhd2", "saving in progress", "saving", "private", "zvhd2", "bare",
         None, None, 1024, 40, OWNER_A, "2024-03-01 08:00:00.000000", "2024-03-01 08:00:30.000000", False,
         ("upload",), _vendor("Ubuntu", "Ubuntu 22.04 server 64bit", "private")),
    _Row("killed-upload", "killed upload", "killed", "private", "qcow2", "bare",
         None, None, 0, 0, OWNER_A, "2023-11-02 16:40:00.000000", _LATE_UPDATE, False,
         (), _vendor("CentOS", "CentOS 7.6 64bit", "private")),
    _Row("killed-import", "killed windows import", "killed", "private", "vhd", "bare",
         None, None, 2048, 40, OWNER_B, "2022-06-06 06:06:06.000000", "2022-06-06 06:16:06.000000", False,
         ("windows",), _vendor("Windows", "Windows Server 2016 Standard 64bit", "private",
                               {"__isregistered": "false"})),
    # Seen by the v2 list only when asked for: community, hidden, and shared images the caller has not accepted.
    _Row("community-tools", "community tools: build, test", "active", "community", "qcow2", "bare",
         300 * 1024**2, None, 512, 10, OWNER_C, "2022-04-04 04:04:04.000000", "2022-04-04 05:00:00.000000", False,
         ("tools", "ci"), _vendor("Debian", "Debian GNU/Linux 11.0.0 64bit", "private")),
    _Row("hidden-build", "hidden build image", "active", "public", "raw", "bare",
         2 * GIB, None, 1024, 40, GOLD, "2023-02-02 02:02:02.000000", "2023-02-02 02:30:00.000000", False,
         ("linux", "build"), _vendor("Ubuntu", "Ubuntu 22.04 server 64bit", "gold"), hidden=True),
    _Row("shared-pending", "shared offer pending", "active", "shared", "qcow2", "bare",
         64 * 1024**2, None, 512, 10, OWNER_C, "2022-10-10 10:10:10.000000", "2022-10-10 10:20:00.000000", False,
         ("shared", "offer"), _vendor("Fedora", "Fedora 34 64bit", "shared"), member="pending"),
    _Row("shared-rejected", "Shared offer rejected", "active", "shared", "vhd", "bare",
         65 * 1024**2, None, 512, 10, OWNER_C, "2022-11-11 11:11:11.000000", "2022-11-11 11:20:00.000000", False,
         ("shared", "offer"), _vendor("Windows", "Windows 10 Enterprise 64bit", "shared"), member="rejected"),
    _Row("colon-name", "release:2024, final", "active", "private", "qcow2", "bare",
         96 * 1024**2, None, 512, 10, OWNER_A, "2024-01-02 03:04:05.000000", "2024-01-02 03:05:00.000000", False,
         ("release", "final"), _vendor("CentOS", "CentOS 8.2 64bit", "private")),
    _Row("deleted-centos", "deleted centos", "deleted", "public", "zvhd2", "bare",
         GIB, None, 1024, 40, GOLD, "2018-01-01 00:00:00.000000", _LATE_UPDATE, False,
         ("linux",), _vendor("CentOS", "CentOS 7.4 64bit", "gold")),
    _Row("deleted-private", "deleted private image", "deleted", "private", "qcow2", "bare",
         256 * 1024**2, None, 512, 10, OWNER_B, "2020-05-05 05:00:00.000000", "2022-09-09 09:09:09.000000", False,
         (), _vendor("Debian", "Debian GNU/Linux 10.0.0 64bit", "private")),
    _Row("deleted-queued", "deleted queued", "deleted", "private", "raw", "bare",
         None, None, 0, 0, OWNER_A, "2021-11-11 11:11:11.000000", "2021-11-12 11:11:11.000000", False,
         (), {"__imagetype": "private"}),
)

# The two images of the vendor documents' own samples keep their documented ids and checksums.
_DOCUMENTED = {
    "centos-vivado": ("bc6bed6e-ba3a-4447-afcc-449174a3eb52", _EMPTY_MD5),
    "cirros": ("3c3d1d01-b48a-4639-8a88-08be3b9b5d78", "64d7c1cd2b6f60c92c14662941cb7913"),
}


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


def _build(row: _Row) -> Image:
    image_id, checksum = _DOCUMENTED.get(row.key, (str(uuid.uuid5(_ID_NAMESPACE, row.key)), None))
    if checksum is None and row.size is not None:
        checksum = _EMPTY_MD5 if row.size == 0 else hashlib.md5(f"{image_id}:{row.size}".encode()).hexdigest()
    created, updated = _utc(row.created), _utc(row.updated)
    properties = dict(row.properties)
    if row.status == "active" and properties:
        properties["active_at"] = format_v2_time(created + timedelta(minutes=5))
    deleted = row.status == "deleted"
    return Image(
        id=image_id,
        name=row.name,
        status=row.status,
        visibility=row.visibility,
        protected=row.protected,
        checksum=checksum,
        owner=row.owner,
        size=row.size,
        virtual_size=row.virtual_size,
        container_format=row.container_format,
        disk_format=row.disk_format,
        created_at=created,
        updated_at=updated,
        deleted_at=updated if deleted else None,
        deleted=deleted,
        min_ram=row.min_ram,
        min_disk=row.min_disk,
        tags=row.tags,
        properties=MappingProxyType(properties),
        os_hidden=row.hidden,
        member_status=row.member,
    )


IMAGES: tuple[Image, ...] = tuple(_build(row) for row in _ROWS)
IMAGES_BY_ID: Mapping[str, Image] = MappingProxyType({image.id: image for image in IMAGES})
IMAGE_KEYS: Mapping[str, str] = MappingProxyType({row.key: image.id for row, image in zip(_ROWS, IMAGES, strict=True)})


def image_by_key(key: str) -> Image:
    """The image of the catalogue row named `key` (e.g. "cirros")."""
    return IMAGES_BY_ID[IMAGE_KEYS[key]]


def live_images() -> list[Image]:
    """Images that are not deleted (what v2 show and list can see), in catalogue order."""
    return [image for image in IMAGES if not image.deleted]


def listed_by_default(images: Iterable[Image] = IMAGES) -> list[Image]:
    """The live images the v2 list shows without a parameter: no community, hidden or unaccepted shared image."""
    return [image for image in images if not image.deleted and not image.os_hidden and image.visibility != "community"
            and not (image.visibility == "shared" and image.member_status != "accepted")]




ROUND_WINDOW = timedelta(hours=1)  # the time one round of copies spans in a generated catalogue


def generated(count: int) -> tuple[Image, ...]:
    """A deterministic catalogue of `count` images: the fixed rows in turn, every later round as copies of them.

    The first round is the fixed catalogue itself (documented ids kept), so from len(IMAGES) images on every status,
    visibility, format, field and property the fixed catalogue shows is there. Copy `k` of a row has its own id and
    the name suffixed " #k"; round `k` happens after round `k - 1`, its timestamps those of the fixed catalogue
    squeezed into half of ROUND_WINDOW, each row's pair moved by its own deterministic jitter in the other half (so
    that rows do not recur at fixed intervals of a listing, which an evenly spread sample could miss), and any
    stretch of a newest-first listing holds every kind of image.
    """
    if count < 1:
        raise ValueError(f"a generated catalogue holds at least one image, not {count}")
    images = []
    for index in range(count):
        copy, row = divmod(index, len(_ROWS))
        original = _ROWS[row]
        if not copy:
            images.append(IMAGES[row])
            continue
        images.append(_build(original._replace(
            key=f"{original.key}#{copy}", name=f"{original.name} #{copy}",
            created=_in_round(original.created, copy, row), updated=_in_round(original.updated, copy, row),
        )))
    return tuple(images)


_TIMES = [_utc(text) for row in _ROWS for text in (row.created, row.updated)]
_FIRST, _LAST = min(_TIMES), max(_TIMES)


def _in_round(text: str, copy: int, row: int) -> str:
    """The fixed catalogue's timestamp `text` of row `row` as round `copy` of a generated catalogue has it."""
    half = ROUND_WINDOW / 2
    squeezed = (_utc(text) - _FIRST) * (half / (_LAST - _FIRST))
    jitter = half * (int(hashlib.md5(f"{copy}:{row}".encode()).hexdigest()[:8], 16) / 2**32)
    moment = _LAST + timedelta(days=1) + (copy - 1) * ROUND_WINDOW + squeezed + jitter
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def with_queued_uploads(count: int) -> tuple[Image, ...]:
    """The catalogue after `count` more uploads that stay queued, all created later (so v2 lists them first)."""
    newest = max(image.created_at for image in IMAGES)
    queued = image_by_key("queued-qcow2")
    extra = tuple(
        replace(queued, id=str(uuid.uuid5(_ID_NAMESPACE, f"queued-upload-{n}")), name=f"queued upload {n}",
                created_at=newest + timedelta(minutes=n + 1), updated_at=newest + timedelta(minutes=n + 1))
        for n in range(count)
    )
    return IMAGES + extra


def with_disk_formats(disk_formats: Mapping[str, str]) -> tuple[tuple[Image, ...], tuple[str, ...]]:
    """The catalogue with the images named by key stored in other disk formats, and those formats."""
    images = tuple(replace(image, disk_format=disk_formats[key]) if key in disk_formats else image
                   for key, image in zip(IMAGE_KEYS, IMAGES, strict=True))
    return images, tuple(dict.fromkeys(disk_formats.values()))
