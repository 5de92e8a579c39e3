"""Paged KV cache: fixed-size blocks of token slots, a free list, and a block table per sequence.

The layout follows vLLM's PagedAttention (Kwon et al., SOSP 2023, arXiv 2309.06180): storage is a
pool of blocks of ``block_size`` tokens (64 here, the issue's and FlashMLA's page size); a sequence
owns a list of block ids and grows one block at a time, so memory is wasted only in each
sequence's last block. What a slot holds depends on the attention:

* MLA: the normalised latent ``c_KV`` (``kv_lora_rank`` values) and the RoPE'd shared key ``k_R``
  (``qk_rope_head_dim``) — DeepSeek-V2 eq. 9–10 — i.e. :attr:`ModelConfig.kv_cache_width` values;
* MHA/GQA/MQA: K then V of every KV head.

:class:`BlockAllocator` is plain Python (no tensors) so the serving simulator's memory manager can
reuse it for block accounting without holding any data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

KV_BLOCK_TOKENS = 64


class CacheFullError(RuntimeError):
    """Raised when an allocation needs more free blocks than the pool has."""


class BlockAllocator:
    """A pool of ``num_blocks`` block ids with O(1) allocate and free (LIFO free list)."""

    def __init__(self, num_blocks: int) -> None:
        if num_blocks <= 0:
            raise ValueError(f"num_blocks must be positive, got {num_blocks}")
        self.num_blocks = num_blocks
        self._free = list(range(num_blocks - 1, -1, -1))  # pop() hands out 0, 1, 2, ... first
        self._used = [False] * num_blocks

    @property
    def num_free(self) -> int:
        return len(self._free)

    @property
    def num_used(self) -> int:
        return self.num_blocks - len(self._free)

    def allocate(self, n: int) -> list[int]:
        if n < 0:
            raise ValueError(f"cannot allocate {n} blocks")
        if n > len(self._free):
            raise CacheFullError(f"need {n} free blocks, {len(self._free)} of {self.num_blocks} are free")
        blocks = [self._free.pop() for _ in range(n)]
        for b in blocks:
            self._used[b] = True
        return blocks

    def free(self, blocks: Sequence[int]) -> None:
        for b in blocks:
            if not 0 <= b < self.num_blocks or not self._used[b]:
                raise ValueError(f"block {b} is not allocated")
            self._used[b] = False
            self._free.append(b)


@dataclass
class CacheSlots:
    """Flat slot indices of one forward pass: where to write the new tokens and what to read."""

    write: torch.Tensor  # (B, S) slots of the new tokens
    read: torch.Tensor  # (B, L) slots of every cached token, L = start_pos + S


class PagedKVCache:
    """Per-layer paged store of ``width`` values per token.

    ``storage[layer]`` is ``(num_blocks · block_size, width)``; token ``p`` of a sequence lives at
    slot ``table[p // block_size] · block_size + p % block_size``.
    """

    def __init__(
        self,
        num_layers: int,
        width: int,
        num_blocks: int,
        *,
        block_size: int = KV_BLOCK_TOKENS,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        if block_size <= 0:
            raise ValueError(f"block_size must be positive, got {block_size}")
        self.num_layers, self.width, self.block_size = num_layers, width, block_size
        self.allocator = BlockAllocator(num_blocks)
        self.storage = torch.zeros(num_layers, num_blocks * block_size, width, dtype=dtype, device=device)
        self.block_tables: dict[int, list[int]] = {}
        self.lengths: dict[int, int] = {}

    @classmethod
    def for_sequences(cls, num_layers: int, width: int, num_seqs: int, max_tokens: int, **kw) -> PagedKVCache:
        """A cache just large enough for ``num_seqs`` sequences of up to ``max_tokens`` tokens."""
        block = kw.get("block_size", KV_BLOCK_TOKENS)
        return cls(num_layers, width, num_seqs * math.ceil(max_tokens / block), **kw)

    @property
    def bytes_used(self) -> int:
        per_block = self.num_layers * self.block_size * self.width * self.storage.element_size()
        return self.allocator.num_used * per_block

    def blocks_needed(self, tokens: int) -> int:
        return math.ceil(tokens / self.block_size)

    def reserve(self, seq_id: int, total_tokens: int) -> None:
        """Make room for ``total_tokens`` tokens of ``seq_id``, allocating blocks only as needed."""
        table = self.block_tables.setdefault(seq_id, [])
        self.lengths.setdefault(seq_id, 0)
        missing = self.blocks_needed(total_tokens) - len(table)
        if missing > 0:
            table.extend(self.allocator.allocate(missing))

    def truncate(self, seq_id: int, length: int) -> None:
        """Forget tokens at positions ≥ ``length`` (rejected draft tokens) and free emptied blocks."""
        if length > self.lengths[seq_id]:
            raise ValueError(f"sequence {seq_id} has {self.lengths[seq_id]} tokens, cannot grow by truncate")
        self.lengths[seq_id] = length
        table = self.block_tables[seq_id]
        keep = self.blocks_needed(length)
        self.allocator.free(table[keep:])
        del table[keep:]

    def free(self, seq_id: int) -> None:
        self.allocator.free(self.block_tables.pop(seq_id))
        del self.lengths[seq_id]

    def slots(self, seq_ids: Sequence[int], start_pos: int, num_new: int) -> CacheSlots:
        """Reserve blocks for ``num_new`` tokens at ``start_pos`` of each sequence and return their slots.

        Every sequence of the batch must hold exactly ``start_pos`` tokens already.
        """
        total = start_pos + num_new
        for s in seq_ids:
            have = self.lengths.get(s, 0)
            if have != start_pos:
                raise ValueError(
                    f"sequence {s} holds {have} tokens, the batch writes at position {start_pos}"
                )
            self.reserve(s, total)
        pos = torch.arange(total, device=self.storage.device)
        tables = torch.tensor(
            [self.block_tables[s][: self.blocks_needed(total)] for s in seq_ids],
            dtype=torch.long,
            device=self.storage.device,
        )  # (B, nblocks)
        read = tables[:, pos // self.block_size] * self.block_size + pos % self.block_size  # (B, L)
        for s in seq_ids:
            self.lengths[s] = total
        return CacheSlots(write=read[:, start_pos:], read=read)

    def write(self, layer: int, slots: CacheSlots, entries: torch.Tensor) -> None:
        """Store ``entries`` (B, S, width) of the new tokens."""
        self.storage[layer][slots.write] = entries.to(self.storage.dtype)

    def read(self, layer: int, slots: CacheSlots) -> torch.Tensor:
        """Every cached entry of the batch, (B, L, width)."""
        return self.storage[layer][slots.read]
