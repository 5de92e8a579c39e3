"""aidc's MLA + DeepSeekMoE against Hugging Face transformers' DeepseekV3 (eager, FP32, default RoPE)."""

import pytest
import torch
from transformers import DeepseekV3ForCausalLM

from aidc.model import get_preset
from aidc.model.hf import aidc_to_hf_state_dict, hf_to_aidc_state_dict, to_hf_config
from aidc.model.rope import deinterleave
from aidc.model.transformer import Transformer


def _hf_twin(model: Transformer) -> DeepseekV3ForCausalLM:
    hf_cfg = to_hf_config(model.cfg)
    hf = DeepseekV3ForCausalLM._from_config(
        hf_cfg, attn_implementation="eager", experts_implementation="eager", dtype=torch.float32
    )
    hf.load_state_dict(aidc_to_hf_state_dict(model.state_dict(), model.cfg), strict=True)
    return hf.eval()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("q_lora", [True, False], ids=["q-lora", "no-q-lora"])
def test_prefill_logits_match_transformers(q_lora):
    torch.manual_seed(1)
    cfg = get_preset("tiny-mla-moe")
    if not q_lora:
        cfg = cfg.replace(q_lora_rank=None)
    model = Transformer(cfg).eval()
    for moe in model.moe_layers():
        moe.gate.bias.copy_(torch.randn(cfg.n_routed_experts) * 0.05)
    hf = _hf_twin(model)
    tokens = torch.randint(0, cfg.vocab_size, (2, 33))
    with torch.no_grad():
        ours = model(tokens)
        theirs = hf(tokens).logits
    assert _rel(ours, theirs) < 1e-5


def test_cached_decode_matches_full_recompute_and_transformers(tiny_v3):
    model = tiny_v3
    hf = _hf_twin(model)
    tokens = torch.randint(0, model.cfg.vocab_size, (2, 24))
    with torch.no_grad():
        full = model(tokens)
        cache = model.new_cache(2, 24)
        steps = [model(tokens[:, :16], cache=cache)]
        for p in range(16, 24):
            steps.append(model(tokens[:, p : p + 1], start_pos=p, cache=cache))
        stepped = torch.cat(steps, dim=1)
        theirs = hf(tokens).logits
    assert _rel(stepped, full) < 1e-5
    assert _rel(stepped, theirs) < 1e-5


def test_routing_with_negative_bias_selects_the_same_experts(tiny_v3):
    model = tiny_v3
    hf = _hf_twin(model)
    main_moes = [layer.ffn for layer in model.layers[model.cfg.n_dense_layers :]]
    assert (main_moes[0].gate.bias < 0).any() and (main_moes[0].gate.bias > 0).any()
    x = torch.randn(64, model.cfg.hidden_size)
    hf_moes = [layer.mlp for layer in hf.model.layers[model.cfg.n_dense_layers :]]
    for ours, theirs in zip(main_moes, hf_moes, strict=True):
        with torch.no_grad():
            r = ours.gate(x)
            _, hf_weights, hf_idx = theirs.gate(x)
        assert torch.equal(r.indices.sort(dim=-1).values, hf_idx.sort(dim=-1).values)
        ours_w = r.weights.gather(1, r.indices.argsort(dim=-1))  # align by expert id
        hf_w = hf_weights.gather(1, hf_idx.argsort(dim=-1))
        torch.testing.assert_close(ours_w, hf_w, rtol=1e-6, atol=1e-7)
        # the bias changed the choice for some tokens: the experiment is not vacuous
        unbiased = r.scores.topk(model.cfg.n_activated_experts, dim=-1).indices.sort(dim=-1).values
    assert not torch.equal(unbiased, r.indices.sort(dim=-1).values)


def test_cached_latent_equals_transformers_cache(tiny_v3):
    model = tiny_v3
    hf = _hf_twin(model)
    tokens = torch.randint(0, model.cfg.vocab_size, (2, 70))  # spans two 64-token blocks
    with torch.no_grad():
        cache = model.new_cache(2, 70)
        model(tokens, cache=cache)
        pkv = hf(tokens, use_cache=True).past_key_values
    c = model.cfg.kv_lora_rank
    for layer in range(model.cfg.num_layers):
        slots = cache.slots([0, 1], 70, 0).read  # no new tokens: read what is there
        entries = cache.storage[layer][slots]  # (B, L, c + r)
        hf_c = pkv.layers[layer].keys[:, 0]  # (B, L, c)
        hf_kr = pkv.layers[layer].values[:, 0]  # (B, L, r), de-interleaved
        # FP32 rounding of RoPE: a few ulps of the O(1) entries, so relative to the tensor's scale
        assert _rel(entries[..., :c], hf_c) < 1e-5
        assert _rel(deinterleave(entries[..., c:]), hf_kr) < 1e-5


def test_absorbed_and_naive_mla_agree_in_fp64(tiny_v3):
    model = tiny_v3.double()
    tokens = torch.randint(0, model.cfg.vocab_size, (2, 40))
    with torch.no_grad():
        model.set_mla_mode("naive")
        naive = model(tokens)
        model.set_mla_mode("absorbed")
        absorbed = model(tokens)
        cache = model.new_cache(2, 41)
        model(tokens, cache=cache)
        dec_abs = model(tokens[:, :1], start_pos=40, cache=cache)
        cache.truncate(0, 40), cache.truncate(1, 40)
        model.set_mla_mode("naive")
        dec_naive = model(tokens[:, :1], start_pos=40, cache=cache)
    assert _rel(absorbed, naive) < 1e-10
    assert _rel(dec_abs, dec_naive) < 1e-10


def test_state_dict_mapping_round_trips(tiny_v3):
    sd = {k: v for k, v in tiny_v3.state_dict().items() if not k.startswith("mtp.")}
    back = hf_to_aidc_state_dict(aidc_to_hf_state_dict(sd, tiny_v3.cfg), tiny_v3.cfg)
    assert back.keys() == sd.keys()
    for k in sd:
        assert torch.equal(back[k], sd[k]), k


def test_yarn_frequencies_match_transformers():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    from aidc.model.rope import rope_inv_freq

    cfg = get_preset("deepseek-v3")
    hf_cfg = to_hf_config(cfg)
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS["yarn"](hf_cfg, "cpu")
    ours = rope_inv_freq(cfg.qk_rope_head_dim, cfg.rope_theta, cfg.rope_scaling)
    torch.testing.assert_close(ours, inv_freq.float(), rtol=1e-6, atol=0)
    assert attention_factor == pytest.approx(1.0)  # mscale == mscale_all_dim for V3
