"""glibc's allocator kept steady for sweeps: large tensors always mapped and unmapped, freed memory handed back."""
from __future__ import annotations

import ctypes
import gc

M_MMAP_THRESHOLD = -3          # mallopt parameter (malloc.h)
MMAP_THRESHOLD = 4 * 2**20     # allocations of this many bytes or more get their own mapping


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


def steady() -> None:
    """Fix glibc's mmap threshold. By default it rises to the size of the largest block freed, after which
    tensors of that size come from the heap, whose freed space fragments: a sweep trained in 24 member groups
    peaked at 298 MB where one group needs 114 (benchmarks/worst_case.py); with the threshold fixed, 123 MB."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def give_back() -> None:
    """Collect cycles and hand glibc's free heap pages back to the OS (else RSS stays at its high-water mark)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
