"""glibc's allocator kept steady for sweeps: large tensors always mapped and unmapped, freed memory handed back."""
from __future__ import annotations

import ctypes
import gc

M_TRIM_THRESHOLD = -1          # mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 2**20     # allocations of this many bytes or more get their own mapping
TRIM_THRESHOLD = 8 * 2**20     # free heap top kept for reuse (per arena) before it is handed back


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


def steady() -> None:
    """Fix glibc's mmap threshold. By default it rises to the size of the largest block freed, after which
    tensors of that size come from the heap, whose freed space fragments: a sweep trained in 24 chunks
    peaked at 298 MB where one group needs 114 (benchmarks/worst_case.py); with the threshold fixed, 123 MB.
    Fixing it also pins the trim threshold at glibc's 128 KB, so every step's few-MB temporaries (logits,
    their softmax) were handed back and faulted in again: 190k page faults in 5 epochs of a 194-256-97
    classifier; keeping 8 MB of free heap top per arena: 53k, and 5-10 % less CPU."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def give_back() -> None:
    """Collect cycles and hand glibc's free heap pages back to the OS (else RSS stays at its high-water mark)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
