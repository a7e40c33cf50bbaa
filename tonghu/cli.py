"""The ``tonghu`` command: Chinese-named subcommands that run the Django management commands."""

from __future__ import annotations

import errno
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line
from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, OperationalError, connection


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


# These need no database checked before they run: they never touch it, or restore into an
# empty one (which must stay exactly as it was if the restore is refused).
NO_DATABASE_CHECK = frozenset({"check", "synth", "shell", "restore"})
# This one needs the database reachable, not migrated: it migrates it.
NO_MIGRATION_CHECK = frozenset({"migrate", *NO_DATABASE_CHECK})
TRACEBACK_FLAG = "--traceback"
# A command asked only for its help or version needs no database.
HELP_FLAGS = frozenset({"-h", "--help", "--version"})
MIGRATE_HINT = "数据库尚未建立或不是最新结构，请先运行 tonghu migrate"
INTERRUPTED = 130

_MISSING_TABLE = re.compile(
    r"no such (table|column)|(relation|column) .* does not exist", re.IGNORECASE
)
_OS_ERRORS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有读写权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "应为文件，实为目录",
    errno.ENOTDIR: "应为目录，实为文件",
    errno.EEXIST: "文件已存在",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
}
# argparse's refusals, in the words Chinese users read (the rest keep argparse's wording).
_ARGUMENT_ERRORS = (
    (re.compile(r"the following arguments are required: (.*)"), r"缺少必填参数：\1"),
    (re.compile(r"unrecognized arguments: (.*)"), r"无法识别的参数：\1"),
    (re.compile(r"one of the arguments (.*) is required"), r"须给出以下参数之一：\1"),
    (
        re.compile(r"argument (.*?): invalid choice: (.*) \(choose from (.*)\)"),
        r"参数 \1 的值 \2 无效，可选：\3",
    ),
    (re.compile(r"argument (.*?): expected one argument"), r"参数 \1 后面缺少值"),
    (re.compile(r"argument (.*?): expected at least one argument"), r"参数 \1 后面缺少值"),
    (re.compile(r"argument (.*?): not allowed with argument (.*)"), r"参数 \1 不能与 \2 同时使用"),
    (re.compile(r"argument (.*?): invalid \S+ value: (.*)"), r"参数 \1 的值 \2 无效"),
    (re.compile(r"ambiguous option: (.*?) could match (.*)"), r"参数 \1 有歧义，可能是：\2"),
)


class NotReadyError(Exception):
    """The database cannot be used yet (unreachable, never migrated): one Chinese line."""


def main(argv: list[str] | None = None) -> None:
    """Run the subcommand ``argv`` names; every failure is one Chinese line and a non-zero exit.

    ``--traceback`` anywhere in ``argv`` also prints the Python traceback of a failure.
    """
    given = sys.argv[1:] if argv is None else argv
    show_traceback = TRACEBACK_FLAG in given
    args = [arg for arg in given if arg != TRACEBACK_FLAG]
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(usage() + "\n")
        return
    found = resolve(args)
    if found is None:
        sys.stderr.write(f"未知的子命令：{' '.join(args[:2])}\n\n{usage()}\n")
        raise SystemExit(2)
    command, rest = found
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tonghu.config.settings")
    words = args[: len(args) - len(rest)]
    code = run(command, rest, show_traceback=show_traceback, name=" ".join(["tonghu", *words]))
    if code:
        raise SystemExit(code)


def run(command: str, rest: list[str], *, show_traceback: bool, name: str = "") -> int:
    """Run one management command; its exit status, every failure explained on stderr.

    ``name`` is the command as the user typed it (``tonghu divisions load``), for usage lines.
    """
    try:
        django.setup()
        if command not in NO_DATABASE_CHECK and not HELP_FLAGS & set(rest):
            _require_database(migrated=command not in NO_MIGRATION_CHECK)
        with _chinese_argument_errors(f"tonghu {command}", name or f"tonghu {command}"):
            # Django's own --traceback makes it raise CommandError instead of printing it,
            # so that every failure is told once, here.
            execute_from_command_line(["tonghu", command, TRACEBACK_FLAG, *rest])
    except KeyboardInterrupt:
        if show_traceback:
            traceback.print_exc()
        sys.stderr.write("已中断\n")
        return INTERRUPTED
    except BrokenPipeError:
        # The reader (``| head``) went away: nothing more to say, and nowhere to say it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as error:  # noqa: BLE001  (every failure becomes one Chinese line)
        if show_traceback:
            traceback.print_exc()
        message, code = explain(error, show_traceback=show_traceback, typed=rest)
        sys.stderr.write(message.rstrip("\n") + "\n")
        return code
    return 0


def explain(
    error: Exception, *, show_traceback: bool = False, typed: Sequence[str] = ()
) -> tuple[str, int]:
    """The Chinese message and exit status for ``error``; never the text of an unexpected
    error, which could carry personal data, only its class (and the file it names if that is
    one the user ``typed`` on the command line, or lies inside one)."""
    if isinstance(error, CommandError):
        return str(error), error.returncode
    name = type(error).__name__
    hint = "" if show_traceback else "；加 --traceback 查看详情"
    if isinstance(error, NotReadyError):
        message = str(error)
    elif isinstance(error, ImproperlyConfigured):
        message = f"配置有误：{error}"
    elif isinstance(error, DatabaseError):
        missing = _MISSING_TABLE.search(str(error))
        message = MIGRATE_HINT if missing else f"数据库出错：{name}{hint}"
    elif isinstance(error, OSError) and error.errno in _OS_ERRORS:
        where = _typed_file(error, typed)
        message = f"文件读写失败：{where}{_OS_ERRORS[error.errno]}（{name}）{hint}"
    else:
        message = f"内部错误：{name}{hint}"
    return message, 1


def _typed_file(error: OSError, typed: Sequence[str]) -> str:
    """``"FILE："`` if ``error`` names a file the user typed or one inside it, else ``""``:
    the names of stored files are never shown."""
    if not isinstance(error.filename, str) or not error.filename:
        return ""
    failed = Path(error.filename).absolute()
    for arg in typed:
        if arg.startswith("-"):
            continue
        given = Path(arg).absolute()
        if failed == given or given in failed.parents:
            return f"{error.filename}："
    return ""


def _require_database(*, migrated: bool) -> None:
    """Refuse, in one line, a database that cannot be reached or (if it must be ``migrated``)
    lacks some migration."""
    from django.db.migrations.executor import MigrationExecutor  # noqa: PLC0415

    try:
        connection.ensure_connection()
    except OperationalError as error:
        # The driver's first line names host, port and database, never any person.
        first = (str(error).strip().splitlines() or ["无错误信息"])[0][:300]
        raise NotReadyError(f"无法连接数据库：{first}") from None
    if not migrated:
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise NotReadyError(MIGRATE_HINT)


@contextmanager
def _chinese_argument_errors(internal: str, typed: str) -> Iterator[None]:
    """Argument errors on the command line in Chinese, naming the command as it was typed
    (``typed``, not Django's ``internal`` name), for as long as the command runs."""
    english = CommandParser.error

    def error(self: CommandParser, message: str) -> Any:
        if self.called_from_command_line:
            if self.prog.startswith(internal):
                self.prog = typed + self.prog[len(internal) :]
            for pattern, chinese in _ARGUMENT_ERRORS:
                if pattern.fullmatch(message):
                    message = pattern.sub(chinese, message)
                    break
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}：参数有误：{message}\n")
        return english(self, message)

    CommandParser.error = error  # type: ignore[method-assign]
    try:
        yield
    finally:
        CommandParser.error = english  # type: ignore[method-assign]
