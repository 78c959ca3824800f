# SPDX-License-Identifier: Apache-2.0
"""sparkify on Spark: the C record reader inside the executors, Spark for
de-duplication, the song match, the time table and the partitioned write."""
from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.4.0"
