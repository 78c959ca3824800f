# SPDX-License-Identifier: Apache-2.0
"""sparkify on Spark: the C record reader inside the executors, Spark for
de-duplication, the song match, the time table and the partitioned write."""
from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.4.0"

import sys as _sys  # noqa: E402

if "pyspark.worker" in _sys.modules:
    # In a Spark Python worker (forked by pyspark.daemon and reused for
    # task after task): the modules it holds (pyspark, pandas, pyarrow:
    # ~10^5 objects) move out of the cyclic collector's reach, which
    # otherwise walked them at every full collection the tasks' Arrow
    # work set off. On L1 (local[2]) the job ran ~0.45 s faster, three
    # interleaved pairs (perf: ~3% of all CPU samples were the workers'
    # gc_collect_main and its visitors). Frozen objects are never
    # collected: a cycle alive at this import stays (a few objects, once
    # per worker). With spark.python.use.daemon=false the worker runs as
    # __main__ and nothing is frozen.
    import gc as _gc
    _gc.freeze()
