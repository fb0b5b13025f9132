"""Prints the page benchmark's table from the results bench/run.sh collected.

    python bench/report.py RESULTS.tsv

Each line of RESULTS.tsv: mode (cache_off | cache_on), page name, path, requests/s, number of
non-2xx responses, socket errors, the X-Page-Cache header seen after warm-up. Every page is
shown as a ratio to the bare Django view measured on the same server in the same mode, and
compared with the issue's targets.
"""

import sys

LABELS = {
    "bare": "bare Django view",
    "listing": "market listing",
    "category": "category page",
    "search_en": "search, English",
    "search_zh": "search, Chinese",
    "product": "product page",
}
TARGETS = {
    "cache_off": {"product": 0.08, "listing": 0.06, "category": 0.06, "search_en": 0.04, "search_zh": 0.04},
    "cache_on": {"product": 0.5, "listing": 0.5, "category": 0.5},
}
MODES = (("cache_off", "page cache OFF"), ("cache_on", "page cache ON"))


def load(path: str) -> dict[tuple[str, str], dict]:
    rows = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                continue
            mode, name, url, rps, non2xx, errors, cache_header = (line.rstrip("\n").split("\t") + [""] * 7)[:7]
            rows[(mode, name)] = {
                "url": url,
                "rps": float(rps or 0),
                "non2xx": int(non2xx or 0),
                "errors": int(errors or 0),
                "cache": cache_header,
            }
    return rows


def verdict(row: dict, ratio: float | None, target: float | None) -> str:
    if row["non2xx"] or row["errors"]:
        return f"ERROR ({row['non2xx']} non-2xx, {row['errors']} socket errors)"
    if target is None or ratio is None:
        return ""
    return "PASS" if ratio >= target else "MISS"


def main(path: str) -> int:
    rows = load(path)
    names = [name for name in LABELS if any((mode, name) in rows for mode, _title in MODES)]
    misses = 0
    for mode, title in MODES:
        bare = rows.get((mode, "bare"))
        if bare is None:
            continue
        print(f"\n{title} (ratio = page req/s / bare view req/s on the same server)")
        print(f"  {'page':<18} {'path':<44} {'req/s':>9} {'ratio':>7} {'target':>7}  result")
        for name in names:
            row = rows.get((mode, name))
            if row is None:
                continue
            ratio = row["rps"] / bare["rps"] if bare["rps"] else None
            target = TARGETS[mode].get(name)
            result = verdict(row, ratio, target)
            misses += result not in ("PASS", "")
            cache = f"  [X-Page-Cache: {row['cache']}]" if mode == "cache_on" and row["cache"] else ""
            rps = f"{row['rps']:,.0f}" if row["rps"] >= 100 else f"{row['rps']:.1f}"
            shown = "-" if ratio is None else f"{ratio:.3f}" if ratio >= 0.01 else f"{ratio:.4f}"
            print(
                f"  {LABELS[name]:<18} {row['url'][:44]:<44} {rps:>9} {shown:>7} "
                f"{(f'>={target}' if target else ''):>7}  {result}{cache}"
            )
    print(f"\n{misses} page figure(s) below target or in error." if misses else "\nEvery page figure meets its target.")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
