"""Import and export figures: 100,000 client rows and 1,000,000 purchase rows imported into a copy of the 1M
bench base (`CREATE DATABASE … TEMPLATE`, dropped afterwards: the base itself never changes), each by the
`clientbase import` command in a process of its own, so that its peak resident memory is its own; and the
export of the 1M base, with its peak memory too.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from db.connection import Target
from tests.benchlib import BenchContext, BenchRow, scratch_copy
from tui.transfer.backup_job import run_backup

CLIENT_ROWS = 100_000
PURCHASE_ROWS = 1_000_000
SCRATCH = "bench_import_scratch"

LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков"]
FIRST = ["Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Максим", "Евгений", "Иван", "Михаил", "Олег"]
MIDDLE = ["Александрович", "Сергеевич", "Андреевич", "Дмитриевич", "Иванович", "Петрович", "Олегович"]
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Самара", "Сочи"]
PRODUCTS = ["Крем", "Шампунь", "Маска", "Абонемент", "Стрижка", "Маникюр", "Массаж", "Гель", "Бальзам"]


def _write_clients(path: Path, count: int) -> None:
    rng = random.Random(1)
    with open(path, "w", encoding="cp1251", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Код клиента", "ФИО", "Моб. телефон", "E-mail", "Дата рождения", "Город", "Хобби"])
        for n in range(1, count + 1):
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
            digits = f"91{(n * 7919) % 10**8:08d}"  # distinct for every n: 7919 is prime to 10**8
            writer.writerow([f"K{n:06d}", f"{rng.choice(LAST)} {rng.choice(FIRST)} {rng.choice(MIDDLE)}",
                             f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}", f"client{n}@mail.ru",
                             born.strftime("%d.%m.%Y"), rng.choice(CITIES), "рыбалка" if n % 5 == 0 else ""])


def _write_purchases(path: Path, count: int, clients: int) -> None:
    rng = random.Random(2)
    start = date(2019, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Код клиента", "Дата", "Сумма", "Себестоимость", "Товар", "Кол-во", "Канал"])
        for _ in range(count):
            amount = rng.randrange(100, 20_000)
            writer.writerow([f"K{rng.randrange(1, clients + 1):06d}",
                             (start + timedelta(days=rng.randrange(2000))).strftime("%d.%m.%Y"),
                             f"{amount},00", f"{amount // 2}", rng.choice(PRODUCTS), rng.randrange(1, 4),
                             rng.choice(("shop", "online"))])


def run_measured(args: list[str], url: str) -> tuple[int, float, float, str]:
    """Runs `clientbase ARGS` against URL in a process of its own: (return code, seconds, peak resident MB,
    stderr). The peak is the child's VmHWM, polled; the rusage of children would also count the pages of
    this big process it was forked from."""
    env = dict(os.environ, CLIENTBASE_DATABASE_URL=url)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", *args], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    return process.returncode, seconds, peak_kb / 1024, process.stderr.read().strip()


def _import_row(what: str, target: str, args: list[str], url: str, rows: int) -> BenchRow:
    code, seconds, peak, error = run_measured(args, url)
    if code != 0:
        return BenchRow(what, target, "failed", note=error[-160:])
    return BenchRow(what, target, f"{seconds:.1f} s", note=f"{rows / seconds:,.0f} rows/s; into a copy of the "
                    f"{BASE_LABEL} base; peak {peak:.0f} MB RSS (app target < 200 MB)", samples=(seconds,),
                    unit="s", peak_mb=peak)


BASE_LABEL = "1M"


def measure(ctx: BenchContext) -> list[BenchRow]:
    global BASE_LABEL
    BASE_LABEL = f"{ctx.clients:,}-client"
    rows: list[BenchRow] = []
    client_rows, purchase_rows = (CLIENT_ROWS, PURCHASE_ROWS) if not ctx.smoke else (500, 2_000)
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-") as folder:
        work = Path(folder)
        clients_file, purchases_file = work / "clients.csv", work / "purchases.csv"
        _write_clients(clients_file, client_rows)
        _write_purchases(purchases_file, purchase_rows, client_rows)
        with scratch_copy(ctx, SCRATCH) as scratch_url:
            rows.append(_import_row(f"import {client_rows:,} CSV client rows", "< 30 s",
                                    ["import", str(clients_file)], scratch_url, client_rows))
            rows.append(_import_row(f"re-import the same {client_rows:,} rows", "",
                                    ["import", str(clients_file)], scratch_url, client_rows))
            rows.append(_import_row(f"import {purchase_rows:,} purchase rows", "< 60 s",
                                    ["import", str(purchases_file), "--purchases"], scratch_url, purchase_rows))
        rows.append(_export(ctx, work / "export.csv"))
        rows.append(_backup(ctx, work / "base.dump"))
    return rows


def _backup(ctx: BenchContext, path: Path) -> BenchRow:
    """What the nightly backup of the README costs on the 1M base (dump and manifest)."""
    target = Target(url=ctx.owner_url, login="postgres")
    started = time.perf_counter()
    counts = run_backup(target, path, lambda stage, done, total: None)
    seconds = time.perf_counter() - started
    return BenchRow(f"backup of the {ctx.clients:,}-client base", "", f"{seconds:.1f} s",
                    note=f"{path.stat().st_size / 1e6:.0f} MB, {sum(c for c, _ in counts.values()):,} rows checked")


def _export(ctx: BenchContext, path: Path) -> BenchRow:
    """`clientbase export` of the whole base, in a process of its own (run_measured)."""
    code, seconds, peak, error = run_measured(["export", str(path)], ctx.owner_url)
    what = f"export {ctx.clients:,} clients to CSV"
    if code != 0:
        return BenchRow(what, "streams, bounded memory", "failed", note=error[:120])
    return BenchRow(what, "streams, bounded memory", f"{seconds:.1f} s, peak {peak:.0f} MB RSS",
                    note=f"{path.stat().st_size / 1e6:.0f} MB file, {ctx.clients / seconds:,.0f} rows/s; "
                         "app target < 200 MB", samples=(seconds,), unit="s", peak_mb=peak)
