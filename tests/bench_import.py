"""Import and export figures: 100,000 client rows and 1,000,000 purchase rows imported into a scratch
database beside the bench base (never into it), and the export of the 1M bench base with its peak memory.
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

import psycopg
from psycopg.conninfo import make_conninfo

from db import migrate, session
from db.connection import Target
from tests.benchlib import BenchContext, BenchRow
from tui.backup import run_backup
from tui.importing import ImportOptions, run_import

CLIENT_ROWS = 100_000
PURCHASE_ROWS = 1_000_000
TEMPLATE = "bench_import_template"
SCRATCH = "bench_import_scratch"

LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков"]
FIRST = ["Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Максим", "Евгений", "Иван", "Михаил", "Олег"]
MIDDLE = ["Александрович", "Сергеевич", "Андреевич", "Дмитриевич", "Иванович", "Петрович", "Олегович"]
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Самара", "Сочи"]
PRODUCTS = ["Крем", "Шампунь", "Маска", "Абонемент", "Стрижка", "Маникюр", "Массаж", "Гель", "Бальзам"]


def _write_clients(path: Path) -> None:
    rng = random.Random(1)
    with open(path, "w", encoding="cp1251", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Код клиента", "ФИО", "Моб. телефон", "E-mail", "Дата рождения", "Город", "Хобби"])
        for n in range(1, CLIENT_ROWS + 1):
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
            digits = f"91{(n * 7919) % 10**8:08d}"  # distinct for every n: 7919 is prime to 10**8
            writer.writerow([f"K{n:06d}", f"{rng.choice(LAST)} {rng.choice(FIRST)} {rng.choice(MIDDLE)}",
                             f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}", f"client{n}@mail.ru",
                             born.strftime("%d.%m.%Y"), rng.choice(CITIES), "рыбалка" if n % 5 == 0 else ""])


def _write_purchases(path: Path) -> None:
    rng = random.Random(2)
    start = date(2019, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Код клиента", "Дата", "Сумма", "Себестоимость", "Товар", "Кол-во", "Канал"])
        for _ in range(PURCHASE_ROWS):
            amount = rng.randrange(100, 20_000)
            writer.writerow([f"K{rng.randrange(1, CLIENT_ROWS + 1):06d}",
                             (start + timedelta(days=rng.randrange(2000))).strftime("%d.%m.%Y"),
                             f"{amount},00", f"{amount // 2}", rng.choice(PRODUCTS), rng.randrange(1, 4),
                             rng.choice(("shop", "online"))])


def _scratch(owner_url: str) -> str:
    """A fresh, migrated, empty database beside the bench base; its URL for the superuser."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        with psycopg.connect(make_conninfo(owner_url, dbname=TEMPLATE), autocommit=True) as template:
            migrate.migrate(template)  # also brings a template left by an older run up to date
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH}" TEMPLATE "{TEMPLATE}"')
    return make_conninfo(owner_url, dbname=SCRATCH)


def measure(ctx: BenchContext) -> list[BenchRow]:
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="clientbase-bench-") as folder:
        work = Path(folder)
        clients_file, purchases_file = work / "clients.csv", work / "purchases.csv"
        _write_clients(clients_file)
        _write_purchases(purchases_file)
        scratch_url = _scratch(ctx.owner_url)
        try:
            session.bind(Target(url=scratch_url, login="postgres"))
            started = time.perf_counter()
            report = run_import(clients_file, ImportOptions())
            seconds = time.perf_counter() - started
            rows.append(BenchRow(f"import {CLIENT_ROWS:,} CSV client rows", "< 30 s", f"{seconds:.1f} s",
                                 note=f"{report.clients.new:,} new, {CLIENT_ROWS / seconds:,.0f} rows/s"))
            started = time.perf_counter()
            run_import(clients_file, ImportOptions())
            seconds = time.perf_counter() - started
            rows.append(BenchRow("re-import the same 100,000 rows", "", f"{seconds:.1f} s", note="adds nothing"))
            started = time.perf_counter()
            report = run_import(purchases_file, ImportOptions(purchases=True))
            seconds = time.perf_counter() - started
            rows.append(BenchRow(f"import {PURCHASE_ROWS:,} purchase rows", "< 60 s", f"{seconds:.1f} s",
                                 note=f"{report.purchases.added:,} added, {PURCHASE_ROWS / seconds:,.0f} rows/s"))
        finally:
            session.bind(ctx.target)
            with psycopg.connect(ctx.owner_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
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
    """In a process of its own, whose high-water mark of resident memory (VmHWM) is the export's alone; the
    rusage of children would also count the pages of this big process it was forked from."""
    env = dict(os.environ, CLIENTBASE_DATABASE_URL=ctx.owner_url)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tui.cli", "export", str(path)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    what = f"export {ctx.clients:,} clients to CSV"
    if process.returncode != 0:
        return BenchRow(what, "streams, bounded memory", "failed", note=process.stderr.read().strip()[:120])
    return BenchRow(what, "streams, bounded memory", f"{seconds:.1f} s, peak {peak_kb / 1024:.0f} MB RSS",
                    note=f"{path.stat().st_size / 1e6:.0f} MB file, {ctx.clients / seconds:,.0f} rows/s")
