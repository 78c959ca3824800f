# SPDX-License-Identifier: Apache-2.0
"""File size of liblake's Parquet writer against pyarrow on the same table.

Reads each bench_<codec>.parquet that bench_parquet wrote into DIR, writes
the same table again with pyarrow (same codec, pyarrow's defaults
otherwise: dictionary on, 1 MiB pages), and prints both sizes per column
chunk and for the file, and pyarrow's CPU time to write it (the table
already in Arrow memory; compare with the TABLE rows of bench_parquet).

    build/bench_parquet 1000000 3 DIR
    .venv/bin/python bench/parquet_size_vs_pyarrow.py DIR
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq


def column_sizes(path: Path) -> dict[str, int]:
    md = pq.ParquetFile(path).metadata
    sizes: dict[str, int] = {}
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        for j in range(rg.num_columns):
            cc = rg.column(j)
            sizes[cc.path_in_schema] = sizes.get(cc.path_in_schema, 0) + (
                cc.total_compressed_size
            )
    return sizes


def main() -> None:
    folder = Path(sys.argv[1])
    for codec in ("snappy", "zstd"):
        ours = folder / f"bench_{codec}.parquet"
        table = pq.read_table(ours)
        theirs = folder / f"pyarrow_{codec}.parquet"
        cpu = []
        for _ in range(3):
            t0 = time.process_time()
            pq.write_table(table, theirs, compression=codec)
            cpu.append(time.process_time() - t0)
        a, b = column_sizes(ours), column_sizes(theirs)
        print(f"== {codec}: {table.num_rows} rows")
        print(f"{'column':<12} {'liblake':>12} {'pyarrow':>12} {'ratio':>7}")
        for name in a:
            print(f"{name:<12} {a[name]:>12,} {b[name]:>12,} {a[name] / b[name]:>7.3f}")
        sa, sb = ours.stat().st_size, theirs.stat().st_size
        print(f"{'FILE':<12} {sa:>12,} {sb:>12,} {sa / sb:>7.3f}")
        print(f"pyarrow write_table CPU time, median of 3: {statistics.median(cpu):.3f} s")


if __name__ == "__main__":
    main()
