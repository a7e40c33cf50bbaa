"""The ``tonghu`` command: Chinese-named subcommands that run the Django management commands."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from django.core.management import execute_from_command_line


@dataclass(frozen=True)
class Subcommand:
    words: tuple[str, ...]
    management_command: str
    help: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(("migrate",), "migrate", "创建或升级数据库结构"),
    Subcommand(("divisions", "load"), "divisions_load", "载入行政区划表（CSV）"),
    Subcommand(
        ("demo", "accounts"), "demo_accounts", "创建演示账号（每个角色一个），密码只显示一次"
    ),
    Subcommand(("synth",), "synth", "生成合成县的区划表、九类报送数据和真值（演示、测试、基准用）"),
    Subcommand(("round", "run"), "round_run", "运行一轮监测摸排：比对、认定、匹配服务并导出结果"),
    Subcommand(
        ("services", "load-list"),
        "service_list_load",
        "载入本区县服务清单（区县清单），指定生效日期",
    ),
    Subcommand(
        ("remind",), "remind", "生成走访到期、逾期和亲子联系中断的站内提醒（每天由 cron 运行）"
    ),
    Subcommand(
        ("escalate",), "escalate", "检查案件办理时限，逾期环节逐级升级督办（由 cron 每5分钟运行）"
    ),
    Subcommand(
        ("stats", "refresh"),
        "stats_refresh",
        "重算各区县每日统计（走访计划执行、逾期转介、监护评估等级；每天由 cron 运行）",
    ),
    Subcommand(
        ("keys",),
        "keys",
        "字段加密密钥：status 查看密钥指纹；rotate 轮换密钥并重新加密全部敏感字段和附件",
    ),
    Subcommand(("token", "create"), "token_create", "为用户签发 API 令牌，令牌只显示一次"),
    Subcommand(("backup",), "backup", "把数据库和它引用的文件写入一个备份文件（不含密钥）"),
    Subcommand(("restore",), "restore", "从备份文件恢复到空数据库，先核对每个文件的校验值"),
    Subcommand(
        ("exchange", "keygen"),
        "exchange_keygen",
        "生成本县交换密钥（私钥存于密钥目录，不进数据库），显示公钥供各交换县登记",
    ),
    Subcommand(("exchange", "trust"), "exchange_trust", "登记其他县的交换公钥"),
    Subcommand(
        ("exchange", "migrants"),
        "exchange_export",
        "居住地：把户籍在某县的流动儿童写成发给该县的交换包（签名并加密）",
    ),
    Subcommand(
        ("exchange", "statuses"),
        "exchange_answer_status",
        "户籍地：答复流动儿童名单，写出孤儿、事实无人抚养、低保状态",
    ),
    Subcommand(
        ("exchange", "figures"),
        "exchange_figures",
        "把本县监测统计（不含儿童个人信息）写成报送所属市或省的交换包",
    ),
    Subcommand(
        ("exchange", "import"),
        "exchange_import",
        "导入其他县发来的交换包（验签、核对收件县、拒绝重放；整体导入或整体拒绝）",
    ),
    Subcommand(
        ("exchange", "certify"),
        "exchange_certify_request",
        "跨省通办：请户籍地核实孤儿、事实无人抚养儿童或残疾人两项补贴",
    ),
    Subcommand(("exchange", "answer"), "exchange_certify_answer", "跨省通办：户籍地答复核实请求"),
    Subcommand(
        ("exchange", "requests"),
        "exchange_requests",
        "列出本县跨省通办核实请求及状态（已发出、待答复、已答复、已逾期）",
    ),
    Subcommand(("serve",), "runserver", "启动网页服务（开发和演示用）"),
    Subcommand(("check",), "check", "检查配置"),
    Subcommand(("createsuperuser",), "createsuperuser", "创建系统管理员账号"),
    Subcommand(("shell",), "shell", "打开 Django 交互环境"),
)


def usage() -> str:
    lines = ["用法：tonghu <子命令> [参数]  （每个子命令加 --help 查看参数）", "", "子命令："]
    lines += [f"  {' '.join(sub.words):<20} {sub.help}" for sub in SUBCOMMANDS]
    return "\n".join(lines)


def resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    """The management command and its arguments for ``argv``, or None if it names none."""
    for sub in sorted(SUBCOMMANDS, key=lambda s: -len(s.words)):
        if tuple(argv[: len(sub.words)]) == sub.words:
            return sub.management_command, argv[len(sub.words) :]
    return None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(usage() + "\n")
        return
    found = resolve(args)
    if found is None:
        sys.stderr.write(f"未知的子命令：{' '.join(args[:2])}\n\n{usage()}\n")
        raise SystemExit(2)
    command, rest = found
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tonghu.config.settings")
    execute_from_command_line(["tonghu", command, *rest])
