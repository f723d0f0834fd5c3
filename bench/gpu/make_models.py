"""Build the models the GPU proof serves: random weights, an offline tokenizer, a chat template each.

usage: make_models.py OUT_DIR

- ``llama-1b``: LlamaForCausalLM, 1.06B parameters in bf16 (hidden 2048, 24 layers, GQA 32/4),
  served as ``llama2``; big enough that decode is bound by memory bandwidth (the roofline check).
- ``llama-1b-7bshape``: the same parameter count in Llama-2-7B's layer shapes (5 layers of 4096),
  for the roofline only: fewer, larger kernels per token.
- ``mistral-tiny``: MistralForCausalLM, 3.2M parameters, served as ``mistral7b``.

Both share one byte-level BPE tokenizer (1,024 tokens) that adds ``<s>`` like Llama's does, so a
server that renders a template holding ``bos_token`` and then tokenizes with special tokens would
show a double BOS. Each model carries a *different* chat template, so the proof can tell that the
server used the model's own template. Weights are created on the GPU when there is one (seconds).
"""

from __future__ import annotations

import json
import os
import random
import sys

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

# Llama-2 style ([INST] ... [/INST], <<SYS>>) for llama2; a role-prefixed one for mistral7b.
LLAMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ '<<SYS>> ' + m['content'] + ' <</SYS>> ' }}"
    "{% elif m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}"
    "{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}{% endif %}{% endfor %}"
)
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ m['role'] | upper + ': ' + m['content'] + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]


def train_tokenizer() -> Tokenizer:
    words = (
        "the quick brown fox jumps over the lazy dog while a small model streams tokens through triton "
        "inference server and vllm engine on a hopper gpu with paged attention llama mistral tokenizer "
        "byte level pair encoding merges vocabulary random weights test hello world question answer user "
        "assistant system prompt chat template generation inst sys"
    ).split()
    random.seed(0)
    texts = [" ".join(random.choice(words) for _ in range(40)) for _ in range(400)]
    texts += ["0123456789 .,;:!?-()[]{}'\"/\\@#$%^&*+=<>|~`_ " * 4, "Hello, how are you? I am fine, thank you!"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, min_frequency=1, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return tok


def build(root: str, name: str, arch: str, size: dict, template: str, tok: Tokenizer) -> None:
    out = os.path.join(root, name)
    os.makedirs(out, exist_ok=True)
    ht = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", model_max_length=8192
    )
    ht.chat_template = template
    ht.save_pretrained(out)
    vocab = ((len(ht) + 63) // 64) * 64
    common = dict(
        vocab_size=vocab, max_position_embeddings=8192, bos_token_id=ht.bos_token_id, eos_token_id=ht.eos_token_id,
        pad_token_id=ht.pad_token_id, tie_word_embeddings=False, rms_norm_eps=1e-5, **size,
    )
    if arch == "llama":
        cfg, cls = transformers.LlamaConfig(**common), transformers.LlamaForCausalLM
    else:
        cfg, cls = transformers.MistralConfig(sliding_window=None, **common), transformers.MistralForCausalLM
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        model = cls(cfg)
    torch.set_default_dtype(torch.float32)
    model.save_pretrained(out, safe_serialization=True)
    params = sum(p.numel() for p in model.parameters())
    info = {"name": name, "architecture": cfg.architectures or [cls.__name__], "params": params,
            "bytes_bf16": 2 * params, "vocab": vocab, **size}
    with open(os.path.join(out, "proof_model_info.json"), "w") as fh:
        json.dump(info, fh)
    print(f"{name}: {cls.__name__} params={params / 1e6:.1f}M vocab={vocab} layers={size['num_hidden_layers']}", flush=True)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/models"
    tok = train_tokenizer()
    build(root, "llama-1b", "llama", dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=24,
                                           num_attention_heads=32, num_key_value_heads=4), LLAMA_TEMPLATE, tok)
    # Llama-2-7B's layer shapes (4096 wide, MHA, 11008 MLP), 5 of its 32 layers: 1.02B parameters.
    build(root, "llama-1b-7bshape", "llama", dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=5,
                                                   num_attention_heads=32, num_key_value_heads=32), LLAMA_TEMPLATE, tok)
    build(root, "mistral-tiny", "mistral", dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                                                 num_attention_heads=4, num_key_value_heads=2), MISTRAL_TEMPLATE, tok)


if __name__ == "__main__":
    main()
