import pytest

from aidc.model import PRESETS, get_preset


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n_activated_experts": 9}, "n_activated_experts"),
        ({"n_expert_groups": 3}, "n_expert_groups"),
        ({"n_limited_groups": 5}, "n_limited_groups"),
        ({"kv_lora_rank": 0}, "kv_lora_rank"),
        ({"q_lora_rank": -1}, "q_lora_rank"),
        ({"qk_rope_head_dim": 7}, "qk_rope_head_dim"),
        ({"capacity_factor": 0.0}, "capacity_factor"),
        ({"adaptive_top_p": 1.5}, "adaptive_top_p"),
        ({"hidden_size": 0}, "hidden_size"),
    ],
)
def test_invalid_mla_moe_configs_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        get_preset("tiny-mla-moe").replace(**changes)


def test_gqa_heads_must_divide():
    with pytest.raises(ValueError, match="num_kv_heads"):
        get_preset("tiny-gqa").replace(num_kv_heads=3)


def test_top_k_must_fit_in_the_kept_groups():
    # 8 experts in 4 groups, 1 group kept → 2 experts left, top-3 impossible
    with pytest.raises(ValueError, match="kept group"):
        get_preset("tiny-mla-moe").replace(n_limited_groups=1, n_activated_experts=3)


def test_attention_kinds():
    assert get_preset("deepseek-v3").attention_kind == "mla"
    assert get_preset("llama-3.1-8b").attention_kind == "gqa"
    assert get_preset("tiny-gqa").replace(num_kv_heads=4).attention_kind == "mha"
    assert get_preset("tiny-gqa").replace(num_kv_heads=1).attention_kind == "mqa"


def test_every_preset_has_a_source():
    for name, cfg in PRESETS.items():
        assert cfg.source, name


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(KeyError, match="deepseek-v3"):
        get_preset("gpt-5")


def test_yarn_softmax_scale_of_deepseek_v3():
    # 1/sqrt(192) · (0.1 · ln 40 + 1)^2, DeepSeek-V3 reference inference code
    cfg = get_preset("deepseek-v3")
    assert cfg.softmax_scale == pytest.approx(192**-0.5 * (0.1 * 3.6888794541139363 + 1) ** 2)
