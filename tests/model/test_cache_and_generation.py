import pytest
import torch

from aidc.model import get_preset
from aidc.model.cache import BlockAllocator, CacheFullError, PagedKVCache
from aidc.model.transformer import Transformer


def test_allocator_allocates_and_frees():
    a = BlockAllocator(4)
    x = a.allocate(3)
    assert a.num_free == 1 and len(set(x)) == 3
    with pytest.raises(CacheFullError, match="need 2"):
        a.allocate(2)
    a.free(x[:2])
    assert a.num_free == 3
    with pytest.raises(ValueError, match="not allocated"):
        a.free([x[0]])


def test_paged_cache_grows_by_blocks_and_truncates():
    c = PagedKVCache(num_layers=1, width=3, num_blocks=4)
    slots = c.slots([7], 0, 65)
    assert len(c.block_tables[7]) == 2 and c.allocator.num_free == 2
    c.write(0, slots, torch.arange(65 * 3, dtype=torch.float32).view(1, 65, 3))
    assert torch.equal(c.read(0, slots)[0, 64], torch.tensor([192.0, 193, 194]))
    c.truncate(7, 64)
    assert len(c.block_tables[7]) == 1 and c.allocator.num_free == 3
    with pytest.raises(ValueError, match="holds 64 tokens"):
        c.slots([7], 10, 1)
    c.free(7)
    assert c.allocator.num_free == 4


def test_mla_cache_stores_only_the_latent():
    cfg = get_preset("tiny-mla-moe")
    cache = Transformer(cfg).new_cache(1, 10)
    assert cache.width == cfg.kv_lora_rank + cfg.qk_rope_head_dim


def test_greedy_generation_equals_argmax_of_full_recompute(tiny_v3):
    model = tiny_v3
    prompt = torch.randint(0, model.cfg.vocab_size, (2, 7))
    out = model.generate(prompt, 12)
    with torch.no_grad():
        logits = model(out[:, :-1])
    assert torch.equal(out[:, 7:], logits[:, 6:].argmax(-1))


def test_sampling_is_seeded(tiny_v3):
    prompt = torch.randint(0, 97, (1, 5))
    a = tiny_v3.generate(prompt, 8, temperature=1.0, generator=torch.Generator().manual_seed(3))
    b = tiny_v3.generate(prompt, 8, temperature=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_speculative_decoding_equals_greedy_and_counts_acceptance(tiny_v3):
    model = tiny_v3
    prompt = torch.randint(0, model.cfg.vocab_size, (1, 9))
    greedy = model.generate(prompt, 20)
    spec, stats = model.speculative_generate(prompt, 20)
    assert torch.equal(spec, greedy)
    assert stats.drafted == stats.verify_steps and 0 <= stats.accepted <= stats.drafted


def test_speculative_acceptance_is_real_when_the_draft_is_right():
    """A model whose MTP head predicts what the main model will say is accepted every time."""
    torch.manual_seed(0)
    cfg = get_preset("tiny-gqa").replace(mtp_depth=1, num_layers=1)
    model = Transformer(cfg).eval()
    with torch.no_grad():
        # main model: attention and FFN output zero, so logits depend on the current token only
        for p in model.layers[0].parameters():
            p.zero_()
        model.layers[0].attn_norm.weight.fill_(1.0)
        model.layers[0].ffn_norm.weight.fill_(1.0)
        # MTP: zero block; eh_proj passes the embedding of the token it is given through, so the
        # draft for position i+2 is next(t_{i+1}) — exactly what the main model will predict
        for p in model.mtp[0].block.parameters():
            p.zero_()
        model.mtp[0].block.attn_norm.weight.fill_(1.0)
        model.mtp[0].block.ffn_norm.weight.fill_(1.0)
        d = cfg.hidden_size
        model.mtp[0].eh_proj.weight.zero_()
        model.mtp[0].eh_proj.weight[:, :d] = torch.eye(d)
        model.mtp[0].enorm.weight.fill_(1.0)
        model.mtp[0].norm.weight.copy_(model.norm.weight)
    prompt = torch.randint(0, cfg.vocab_size, (1, 4))
    spec, stats = model.speculative_generate(prompt, 15)
    assert torch.equal(spec, model.generate(prompt, 15))
    assert stats.acceptance_rate == 1.0 and stats.tokens_per_step == 2.0
