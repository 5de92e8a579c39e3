"""Block, multi-token-prediction module and the Transformer: training forward, cached generation and
greedy speculative decoding with the MTP module as the draft.

Multi-token prediction (DeepSeek-V3, arXiv 2412.19437, §2.2, eq. 21–25): module k combines the
previous depth's hidden state at position i with the embedding of token i+k,

    h'_i = W_eh · [RMSNorm(Emb(t_{i+k})) ; RMSNorm(h_i^{k−1})],   h^k = Block_k(h'),   P = Head(h^k)

sharing the embedding and output head with the main model, and predicts token i+k+1. The MTP loss
is ``λ/D Σ_k CE_k``. At inference the first module drafts one extra token per step which the main
model verifies (greedy acceptance), as V3 §5.4.3 evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aidc.model.attention import AttentionInputs, MLAMode, MultiHeadLatentAttention, make_attention
from aidc.model.cache import PagedKVCache
from aidc.model.config import ModelConfig
from aidc.model.layers import MLP, RMSNorm
from aidc.model.moe import MoE
from aidc.model.rope import RotaryTable


class Block(nn.Module):
    """Pre-norm residual block: ``x + Attn(norm(x))`` then ``x + FFN(norm(x))``; FFN is dense or MoE."""

    def __init__(self, cfg: ModelConfig, layer_id: int, cache_layer: int, mla_mode: MLAMode) -> None:
        super().__init__()
        self.attn_norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.attn = make_attention(cfg, cache_layer, mla_mode)
        self.ffn_norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.ffn = (
            MoE(cfg) if cfg.is_moe_layer(layer_id) else MLP(cfg, cfg.hidden_size, cfg.intermediate_size)
        )

    def forward(self, x: torch.Tensor, inp: AttentionInputs) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), inp).to(x.dtype)
        return x + self.ffn(self.ffn_norm(x)).to(x.dtype)


class MTPModule(nn.Module):
    """One multi-token-prediction depth: ``eh_proj``, its own block and final norm; head shared."""

    def __init__(self, cfg: ModelConfig, depth: int, mla_mode: MLAMode) -> None:
        super().__init__()
        d = cfg.hidden_size
        self.enorm = RMSNorm(d, cfg.rms_norm_eps)
        self.hnorm = RMSNorm(d, cfg.rms_norm_eps)
        self.eh_proj = nn.Linear(2 * d, d, bias=False)
        nn.init.normal_(self.eh_proj.weight, std=(2 * d) ** -0.5)
        self.block = Block(cfg, cfg.num_layers + depth, depth, mla_mode)
        self.norm = RMSNorm(d, cfg.rms_norm_eps)

    def forward(self, h_prev: torch.Tensor, next_emb: torch.Tensor, inp: AttentionInputs) -> torch.Tensor:
        x = self.eh_proj(torch.cat((self.enorm(next_emb), self.hnorm(h_prev)), dim=-1))
        return self.block(x, inp)


@dataclass
class LossBreakdown:
    total: torch.Tensor
    lm: torch.Tensor  # next-token cross-entropy [nats/token]
    mtp: torch.Tensor | None  # λ/D Σ_k CE_k
    aux: torch.Tensor | None  # Σ over MoE layers of the sequence-wise balance loss


@dataclass
class SpeculativeStats:
    drafted: int
    accepted: int
    verify_steps: int

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def tokens_per_step(self) -> float:
        """Committed tokens per forward pass of the main model during decode."""
        return (self.verify_steps + self.accepted) / self.verify_steps if self.verify_steps else 0.0


class Transformer(nn.Module):
    """Decoder-only transformer: embedding → blocks → RMSNorm → head, plus optional MTP modules."""

    def __init__(self, cfg: ModelConfig, mla_mode: MLAMode = "absorbed") -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        nn.init.normal_(self.embed.weight, std=1.0)
        self.layers = nn.ModuleList(Block(cfg, i, i, mla_mode) for i in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)  # high precision (V3 §3.3.1)
        nn.init.normal_(self.head.weight, std=cfg.hidden_size**-0.5)
        if cfg.tie_word_embeddings:
            self.head.weight = self.embed.weight
        self.mtp = nn.ModuleList(MTPModule(cfg, k, mla_mode) for k in range(cfg.mtp_depth))
        self.rope = RotaryTable(cfg)

    # --- plumbing ------------------------------------------------------------------------------
    def set_mla_mode(self, mode: MLAMode) -> None:
        for m in self.modules():
            if isinstance(m, MultiHeadLatentAttention):
                m.mode = mode

    def moe_layers(self) -> list[MoE]:
        return [m for m in self.modules() if isinstance(m, MoE)]

    def new_cache(self, batch: int, max_tokens: int, *, layers: int | None = None) -> PagedKVCache:
        """A paged cache for ``batch`` sequences of up to ``max_tokens`` tokens."""
        dtype = self.embed.weight.dtype
        return PagedKVCache.for_sequences(
            layers or self.cfg.num_layers,
            self.cfg.kv_cache_width,
            batch,
            max_tokens,
            dtype=dtype,
            device=self.embed.weight.device,
        )

    def _inputs(self, s: int, start_pos: int, cache: PagedKVCache | None, seq_ids) -> AttentionInputs:
        pos = torch.arange(start_pos, start_pos + s, device=self.embed.weight.device)
        cos, sin = self.rope(pos)
        mask = None
        if s > 1:
            total = start_pos + s
            mask = torch.full((s, total), float("-inf"), device=pos.device).triu_(start_pos + 1)
        slots = cache.slots(seq_ids, start_pos, s) if cache is not None else None
        return AttentionInputs(cos, sin, mask, cache, slots)

    def hidden(
        self, tokens: torch.Tensor, *, start_pos: int = 0, cache: PagedKVCache | None = None, seq_ids=None
    ) -> torch.Tensor:
        """Last hidden states before the final norm, (B, S, D)."""
        if cache is not None and seq_ids is None:
            seq_ids = list(range(tokens.shape[0]))
        inp = self._inputs(tokens.shape[1], start_pos, cache, seq_ids)
        h = self.embed(tokens)
        for layer in self.layers:
            h = layer(h, inp)
        return h

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(h).to(self.head.weight.dtype))

    def forward(
        self, tokens: torch.Tensor, *, start_pos: int = 0, cache: PagedKVCache | None = None, seq_ids=None
    ) -> torch.Tensor:
        """Logits (B, S, vocab) of ``tokens`` (B, S) at positions ``start_pos …``."""
        return self.logits(self.hidden(tokens, start_pos=start_pos, cache=cache, seq_ids=seq_ids))

    # --- training ------------------------------------------------------------------------------
    def mtp_hidden(
        self,
        k: int,
        h_prev: torch.Tensor,
        next_tokens: torch.Tensor,
        *,
        start_pos: int = 0,
        cache: PagedKVCache | None = None,
    ) -> torch.Tensor:
        inp = self._inputs(h_prev.shape[1], start_pos, cache, [0] if cache is not None else None)
        return self.mtp[k](h_prev, self.embed(next_tokens), inp)

    def mtp_logits(self, k: int, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.mtp[k].norm(h).to(self.head.weight.dtype))

    def loss(self, tokens: torch.Tensor) -> LossBreakdown:
        """Next-token loss on ``tokens`` (B, T) (inputs ``[:, :-1]``), plus MTP and balance losses."""
        cfg = self.cfg
        inputs, targets = tokens[:, :-1], tokens[:, 1:]
        s = inputs.shape[1]
        h = self.hidden(inputs)
        lm = F.cross_entropy(self.logits(h).flatten(0, 1).float(), targets.flatten())
        total = lm
        mtp = None
        if cfg.mtp_depth:
            terms = []
            h_prev = h
            for k in range(1, cfg.mtp_depth + 1):
                if s - k <= 0:
                    break
                h_prev = self.mtp_hidden(k - 1, h_prev[:, : s - k], tokens[:, k:s])  # predicts t_{i+k+1}
                logits = self.mtp_logits(k - 1, h_prev)
                terms.append(
                    F.cross_entropy(logits.flatten(0, 1).float(), tokens[:, k + 1 : s + 1].flatten())
                )
            if terms:
                mtp = cfg.mtp_loss_weight * torch.stack(terms).mean()
                total = total + mtp
        aux = None
        losses = [m.aux_loss for m in self.moe_layers() if m.aux_loss is not None]
        if losses:
            aux = torch.stack(losses).sum()
            total = total + aux
        return LossBreakdown(total, lm, mtp, aux)

    # --- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self,
        prompt: torch.Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Prefill ``prompt`` (B, S) into a paged cache, then decode one token per step.

        Greedy when ``temperature == 0``, else sampling from ``softmax(logits / temperature)``.
        Returns (B, S + max_new_tokens).
        """
        b, s = prompt.shape
        cache = self.new_cache(b, s + max_new_tokens)
        out = [prompt]
        logits = self(prompt, cache=cache)[:, -1]
        for step in range(max_new_tokens):
            nxt = _pick(logits, temperature, generator)
            out.append(nxt[:, None])
            if step + 1 < max_new_tokens:
                logits = self(nxt[:, None], start_pos=s + step, cache=cache)[:, -1]
        return torch.cat(out, dim=1)

    @torch.no_grad()
    def speculative_generate(
        self, prompt: torch.Tensor, max_new_tokens: int
    ) -> tuple[torch.Tensor, SpeculativeStats]:
        """Greedy decoding with the first MTP module drafting one token per verify step.

        The output equals :meth:`generate` with ``temperature=0`` token for token: a draft is kept
        only when the main model's own argmax agrees. Batch size 1 (acceptance is per sequence).
        """
        if not self.cfg.mtp_depth:
            raise ValueError("speculative decoding needs mtp_depth >= 1")
        if prompt.shape[0] != 1:
            raise ValueError(f"speculative_generate takes one sequence, got a batch of {prompt.shape[0]}")
        s = prompt.shape[1]
        cache = self.new_cache(1, s + max_new_tokens + 2)
        mtp_cache = self.new_cache(1, s + max_new_tokens + 2, layers=1)
        h = self.hidden(prompt, cache=cache)
        y = self.logits(h[:, -1]).argmax(-1)  # (1,)
        out = [y]
        pend_h, pend_tok = h, torch.cat((prompt[:, 1:], y[:, None]), dim=1)  # MTP inputs not yet cached
        mtp_pos, n = 0, s
        stats = SpeculativeStats(0, 0, 0)
        while len(out) < max_new_tokens:
            hm = self.mtp_hidden(0, pend_h, pend_tok, start_pos=mtp_pos, cache=mtp_cache)
            mtp_pos += pend_h.shape[1]
            draft = self.mtp_logits(0, hm[:, -1]).argmax(-1)
            hv = self.hidden(torch.stack((y, draft), dim=1), start_pos=n, cache=cache)  # verify [y, draft]
            pred = self.logits(hv).argmax(-1)[0]  # main model's next token after y and after draft
            stats.drafted += 1
            stats.verify_steps += 1
            if int(pred[0]) == int(draft):
                stats.accepted += 1
                out += [draft, pred[1:2]]
                pend_h, pend_tok = hv, torch.stack((draft, pred[1:2]), dim=1)
                y, n = pred[1:2], n + 2
            else:
                out.append(pred[0:1])
                cache.truncate(0, n + 1)  # forget the rejected draft's entry
                pend_h, pend_tok = hv[:, :1], pred[0:1][:, None]
                y, n = pred[0:1], n + 1
        tokens = torch.cat((prompt, torch.stack([t.reshape(()) for t in out[:max_new_tokens]])[None]), dim=1)
        return tokens, stats


def _pick(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = (logits.float() / temperature).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
