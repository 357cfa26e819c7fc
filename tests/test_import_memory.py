"""An import's memory does not grow with the file (issue 17): rows stream from the file to PostgreSQL in
bounded batches. Measured as the peak RSS of `clientbase import` in a subprocess, for a file ten times
larger than another."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

NAMES = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Попов", "Смирнова", "Ионеску", "Попеску"]
START = datetime(2020, 1, 1, 9, 0)
FIRST = ["Иван", "Анна", "Пётр", "Мария", "Ștefan", "Elena", "Олег", "Вера"]


def clients_file(path, count: int):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Client number", "Last name", "First name", "Mobile", "E-mail", "City", "Birth date",
                         "Notes", "Tags"])
        for n in range(count):
            writer.writerow([f"K{n}", NAMES[n % 8], FIRST[n // 8 % 8], f"+7 9{n:09d}"[:16], f"c{n}@example.com",
                             "Москва" if n % 3 else "Кишинёв", f"{1 + n % 28:02d}.{1 + n % 12:02d}.19{50 + n % 50}",
                             "постоянный клиент, любит кофе" * (1 + n % 3), "кофе, чай"])
    return path


def purchases_file(path, count: int, clients: int):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Client number", "Date", "Amount", "Product", "Receipt"])
        for n in range(count):
            moment = START + timedelta(minutes=7 * n)  # every row its own moment and amount, as in a shop
            writer.writerow([f"K{n % clients}", moment.strftime("%d.%m.%Y %H:%M"), f"{100 + n % 50_000},{n % 100:02d}",
                             f"Товар {n % 300}", f"R{n}"])
    return path


def peak_rss_mb(db, *args) -> float:
    """Peak RSS of one `clientbase` run, in MB. RUSAGE_CHILDREN is the largest of all children waited for so
    far, so each measurement runs in a fresh intermediate process of its own."""
    code = ("import resource, subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-m', 'tui.cli', *sys.argv[1:]], capture_output=True, text=True)\n"
            "assert done.returncode == 0, done.stderr\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    result = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=db.env("admin"), capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip()) / 1024


@pytest.mark.parametrize("purchases", [False, True], ids=["clients", "purchases"])
def test_peak_memory_does_not_grow_with_the_file(make_db, tmp_path, purchases):
    peaks = []
    # Before streaming, a client row cost about 3 KB of peak memory (5k -> 50k rows: 66 -> 214 MB), a purchase
    # row under 1 KB: sizes at which that growth would stand far above the margin, and no larger.
    for count in ((5_000, 50_000) if purchases else (2_000, 20_000)):
        db = make_db()
        if purchases:
            path = purchases_file(tmp_path / f"sales{count}.csv", count * 2, count // 5)
            assert subprocess.run([sys.executable, "-m", "tui.cli", "import",
                                   str(clients_file(tmp_path / f"c{count}.csv", count // 5))],
                                  env=db.env("admin"), capture_output=True, timeout=900).returncode == 0
            peaks.append(peak_rss_mb(db, "import", path, "--purchases"))
        else:
            peaks.append(peak_rss_mb(db, "import", clients_file(tmp_path / f"c{count}.csv", count)))
    small, large = peaks
    print(f"peak RSS: {small:.0f} MB for the small file, {large:.0f} MB for the ten times larger one")
    assert large < 150 and large - small < 15, peaks
