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
}


def get_locale() -> str:
    loc = request.args.get("lang") or session.get("lang") or g.get("default_locale", "zh_CN")
    return loc if loc in LOCALES else "zh_CN"


def translate(text: str) -> str:
    if get_locale() == "en":
        return EN.get(text, text)
    return text
