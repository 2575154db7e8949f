"""The roles of DOMAIN.md and what each may do."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    HANDLER = "handler"            # 业务经办人
    COLLECTOR = "collector"        # 班组档案收集员
    ARCHIVIST = "archivist"        # 档案管理员
    DISPUTE = "dispute"            # 纠纷处理
    MANAGER = "manager"            # 营销部 / 办公室
    STATION = "station"            # 扫描站
    ADMIN = "admin"


ROLE_NAMES_ZH = {
    Role.HANDLER: "业务经办人", Role.COLLECTOR: "班组档案收集员", Role.ARCHIVIST: "档案管理员",
    Role.DISPUTE: "纠纷处理", Role.MANAGER: "营销部管理人员", Role.STATION: "扫描站",
    Role.ADMIN: "系统管理员",
}

# What each role may do, and on whose objects, is the access policy: dms.domain.access.
