"""Simplified Chinese first, English available.

A small message catalog keyed by the Chinese text itself, so templates read
naturally; English is looked up, and a missing entry falls back to Chinese.
"""
from __future__ import annotations

from flask import g, request, session

LOCALES = ("zh_CN", "en")

EN: dict[str, str] = {
    "客户档案管理系统": "Customer Archive System",
    "登录": "Log in", "退出": "Log out", "用户名": "Username", "密码": "Password",
    "用户名或密码错误": "Wrong username or password",
    "首页": "Home", "客户": "Customers", "搜索": "Search", "文档": "Documents",
    "待办提醒": "Reminders", "户号": "Customer no.", "户名": "Name", "地址": "Address",
    "业务": "Businesses", "业务编号": "Business no.", "业务类型": "Business type",
    "档案状态": "Archive state", "文档类型": "Document type", "页数": "Pages",
    "识别状态": "OCR status", "置信度": "Confidence", "原件": "Original",
    "可检索PDF": "Searchable PDF", "识别文本": "OCR text", "第": "Page", "页": "",
    "搜索档案内容、户号、姓名、合同编号…": "Search content, customer no., name, contract no.…",
    "共": "Total", "条结果": "results", "没有找到结果": "No results",
    "待添加": "Pending add", "待发送": "Pending send", "待审核": "Pending review",
    "待移交": "Pending transfer", "待移交卷宗": "Pending shelving", "已归档": "Archived",
    "待添加信息": "Pending add", "待发送信息": "Pending send", "待移交信息": "Pending transfer",
    "合同预警": "Contract expiry", "业扩时限预警": "Business time limit",
    "文件": "File", "上传时间": "Uploaded", "需复核": "Needs review", "识别中": "Processing",
    "已完成": "Done", "失败": "Failed", "排队中": "Queued", "部分失败": "Partly failed",
    "错误": "Error", "旋转": "Rotation", "倾斜": "Skew", "上一页": "Previous", "下一页": "Next",
    "客户数": "Customers", "文档数": "Documents", "页面数": "Pages", "识别队列": "OCR queue",
    "筛选": "Filter", "全部": "All", "年份": "Year", "班组": "Team", "状态": "State",
    "角色": "Role", "无权访问": "Access denied", "未找到": "Not found",
    "系统概况": "Overview", "最近文档": "Recent documents", "查看": "View",
    "未分类": "Unclassified", "页面": "Page", "语言": "Language",
    # archive lifecycle (inbox, item page, review queue)
    "业扩时限": "Business time limit", "正常": "Normal",
    "预警": "Warning", "超期": "Overdue", "催办": "Urges", "已升级": "Escalated", "天": "days",
    "期限": "due", "自": "since", "档案": "Archive item", "工作日": "working days",
    "资料清单": "Checklist", "缺少以下资料，无法发送": "Cannot send, these documents are missing",
    "资料": "Document", "环节": "Step", "已有": "Present", "缺失": "Missing",
    "环节未到": "Step not reached", "操作": "Actions", "通过": "Pass", "退回": "Return",
    "退回原因": "Reason for return", "位置": "Location", "当前无可执行操作": "Nothing to do here",
    "任务与催办": "Tasks and urges", "历史": "History", "审核队列": "Review queue",
    "全选": "Select all", "批量通过": "Accept selected", "批量退回": "Return selected",
    "无": "None", "业务事件": "Business events", "已拒绝": "Rejected", "已接收": "Accepted",
    "时间": "Time", "系统": "System", "事件": "Event", "已数字化": "Digitised",
    "自查发送": "Self-check and send", "班组审核": "Team review", "档案室接收": "Receipt",
    "装盒上架": "Boxed and shelved",
    # OCR status by page, reprocess (issue 4)
    "逐页识别状态": "OCR status by page", "页码": "Page", "尝试次数": "Attempts",
    "重新识别": "Run OCR again",
    # ingest batches and OCR progress (issue 18)
    "入库批次": "Ingest batches", "识别积压": "OCR backlog", "份文档": "documents",
    "最近": "last", "分钟": "min", "页/分钟": "pages/min", "预计全部完成": "All read by",
    "批次": "Batch", "来源": "Source", "开始时间": "Started", "入库状态": "Ingest status",
    "已识别页": "Pages read", "识别进度": "OCR progress", "预计完成": "Estimated finish",
    "确定重新识别本文档？现有识别结果将被替换。":
        "Run OCR on this document again? The current results will be replaced.",
    # search page
    "从": "From", "至": "To", "排序": "Sort", "按相关度": "Relevance", "最新在前": "Newest first",
    "最早在前": "Oldest first", "移除": "Remove", "相似文档": "More like this",
    # gap reports and statistics (issue 9)
    "统计报表": "Reports", "缺件明细": "Checklist gaps", "分组": "Group by",
    "缺件超过天数": "Gaps older than (days)", "资料完整率": "Completeness", "完整业务": "Complete",
    "应有资料": "Required", "已有资料": "Present", "完整率": "Rate", "缺件": "Open gaps",
    "超期缺件": "Old gaps", "及时性": "Timeliness", "48小时内数字化并发送": "Sent within 48 h",
    "7天内移交": "Transferred within 7 days", "退回率": "Return rate", "原因": "Reasons",
    "超期业务": "Overdue businesses", "超业扩时限": "Past business time limit",
    "归档工作超期": "Archive work overdue", "只看缺件和未确认": "Only gaps and unconfirmed",
    "下载": "Download", "缺件起始": "Open since", "低置信度": "Low confidence",
    "未确认": "Unconfirmed", "已确认": "Confirmed",
    "仅显示前 500 行，完整结果请下载。": "Only the first 500 rows are shown; download for all.",
    # overdue loans in the inbox
    "借阅逾期": "Overdue loans", "应还": "Due", "已逾期": "overdue by",
}


def get_locale() -> str:
    loc = request.args.get("lang") or session.get("lang") or g.get("default_locale", "zh_CN")
    return loc if loc in LOCALES else "zh_CN"


def translate(text: str) -> str:
    if get_locale() == "en":
        return EN.get(text, text)
    return text
