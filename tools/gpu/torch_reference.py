#!/usr/bin/env python3
"""PyTorch reference for Duet's training step: the same dual encoder (built from our preset JSON, HF CLIPModel
semantics) and the same step (SigLIP or CLIP loss, grad-norm clipping to 1, AdamW, logit-scale clamp), timed in
eager mode.

Modes (each timed on the same synthetic batch):
  fp32      eager float32, TF32 off (torch.backends.cuda.matmul.allow_tf32 = cudnn.allow_tf32 = False)
  tf32-bf16 TF32 on + torch.autocast(bfloat16) for the forward/loss (the usual mixed-precision recipe)

Usage:
  python3 tools/gpu/torch_reference.py --preset packages/encoders/src/presets/ViT-B-32.json --loss siglip \
      --batch 256 --steps 10 --warmup 3 --out result.json
  python3 tools/gpu/torch_reference.py --smoke          # tiny model, batch 4, CPU if no GPU
  python3 tools/gpu/torch_reference.py --param-count --preset ...   # parameter counts; needs no torch
  python3 tools/gpu/torch_reference.py --param-shapes --preset ...  # HF names -> shapes (checked against @duet/encoders)

Only the CLIP-type towers (HF CLIPVisionModel / CLIPTextModel: pre-LN ViT with class token, causal text transformer
pooled at the first EOS) are implemented; other configs are rejected with a message.
"""
import argparse
import json
import math
import os
import sys
import time

LN100 = math.log(100.0)


# ----------------------------------------------------------------------------------------------- config and shapes

def load_config(path, loss, overrides=None):
    with open(path) as f:
        cfg = json.load(f)
    if overrides:
        cfg = deep_merge(cfg, overrides)
    cfg["duet_loss"] = loss
    return cfg


def deep_merge(base, patch):
    out = dict(base)
    for k, v in patch.items():
        out[k] = deep_merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def loss_family(cfg):
    dl = cfg.get("duet_loss")
    if isinstance(dl, dict):
        dl = dl.get("family")
    return dl or cfg.get("model_type", "clip")


def check_supported(cfg):
    v, t = cfg["vision_config"], cfg["text_config"]
    if cfg.get("model_type", "clip") != "clip" or v.get("duet_tower", "vit") != "vit":
        raise SystemExit(f"torch_reference: only CLIP-type ViT/text towers are implemented, got model_type={cfg.get('model_type')!r}, "
                         f"duet_tower={v.get('duet_tower', 'vit')!r}")
    for name, tower in (("vision_config", v), ("text_config", t)):
        if tower.get("hidden_act", "quick_gelu") not in ACTS:
            raise SystemExit(f"torch_reference: {name}.hidden_act {tower.get('hidden_act')!r} not supported; expected one of {sorted(ACTS)}")


ACTS = {"quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish"}


def _layer_shapes(prefix, d, ff):
    s = {}
    for p in ("q_proj", "k_proj", "v_proj", "out_proj"):
        s[f"{prefix}.self_attn.{p}.weight"] = [d, d]
        s[f"{prefix}.self_attn.{p}.bias"] = [d]
    s[f"{prefix}.layer_norm1.weight"] = [d]
    s[f"{prefix}.layer_norm1.bias"] = [d]
    s[f"{prefix}.mlp.fc1.weight"] = [ff, d]
    s[f"{prefix}.mlp.fc1.bias"] = [ff]
    s[f"{prefix}.mlp.fc2.weight"] = [d, ff]
    s[f"{prefix}.mlp.fc2.bias"] = [d]
    s[f"{prefix}.layer_norm2.weight"] = [d]
    s[f"{prefix}.layer_norm2.bias"] = [d]
    return s


def param_shapes(cfg):
    """HF parameter names -> shapes for a CLIP-type config (pure Python: usable without torch)."""
    v, t = cfg["vision_config"], cfg["text_config"]
    e = cfg.get("projection_dim", 512)
    dv, dt = v["hidden_size"], t["hidden_size"]
    n_patches = (v["image_size"] // v["patch_size"]) ** 2
    s = {
        "vision_model.embeddings.class_embedding": [dv],
        "vision_model.embeddings.patch_embedding.weight": [dv, v.get("num_channels", 3), v["patch_size"], v["patch_size"]],
        "vision_model.embeddings.position_embedding.weight": [n_patches + 1, dv],
        "vision_model.pre_layrnorm.weight": [dv], "vision_model.pre_layrnorm.bias": [dv],
        "vision_model.post_layernorm.weight": [dv], "vision_model.post_layernorm.bias": [dv],
        "visual_projection.weight": [e, dv],
        "text_model.embeddings.token_embedding.weight": [t["vocab_size"], dt],
        "text_model.embeddings.position_embedding.weight": [t["max_position_embeddings"], dt],
        "text_model.final_layer_norm.weight": [dt], "text_model.final_layer_norm.bias": [dt],
        "text_projection.weight": [e, dt],
    }
    for i in range(v["num_hidden_layers"]):
        s.update(_layer_shapes(f"vision_model.encoder.layers.{i}", dv, v["intermediate_size"]))
    for i in range(t["num_hidden_layers"]):
        s.update(_layer_shapes(f"text_model.encoder.layers.{i}", dt, t["intermediate_size"]))
    if loss_family(cfg) == "siglip":
        s["logit_scale"] = [1]
        s["logit_bias"] = [1]
    else:
        s["logit_scale"] = []
    return s


def count(shapes, pred=lambda n: True):
    return sum(math.prod(sh) for n, sh in shapes.items() if pred(n))


def param_counts(cfg):
    s = param_shapes(cfg)
    vision = count(s, lambda n: n.startswith("vision_model.") or n.startswith("visual_projection."))
    total = count(s)
    return {"total": total, "vision": vision, "text": total - vision}


# ----------------------------------------------------------------------------------------------- model (torch)

def build(torch, cfg):
    nn, F = torch.nn, torch.nn.functional

    def act(name):
        if name == "quick_gelu":
            return lambda x: x * torch.sigmoid(1.702 * x)
        if name == "gelu":
            return F.gelu
        if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
            return lambda x: F.gelu(x, approximate="tanh")
        if name == "relu":
            return F.relu
        return F.silu

    class Attention(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.h = heads
            self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x, mask):
            b, n, d = x.shape
            split = lambda y: y.view(b, n, self.h, d // self.h).transpose(1, 2)  # [B, H, N, dh]
            q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
            if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0 (what open_clip uses)
                o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            else:
                s = q @ k.transpose(-1, -2) / math.sqrt(d // self.h)
                o = (s if mask is None else s + mask).softmax(-1) @ v
            return self.out_proj(o.transpose(1, 2).reshape(b, n, d))

    class Layer(nn.Module):
        def __init__(self, c):
            super().__init__()
            d, eps = c["hidden_size"], c.get("layer_norm_eps", 1e-5)
            self.self_attn = Attention(d, c["num_attention_heads"])
            self.layer_norm1 = nn.LayerNorm(d, eps=eps)
            self.mlp = nn.Module()
            self.mlp.fc1 = nn.Linear(d, c["intermediate_size"])
            self.mlp.fc2 = nn.Linear(c["intermediate_size"], d)
            self.layer_norm2 = nn.LayerNorm(d, eps=eps)
            self.act = act(c.get("hidden_act", "quick_gelu"))

        def forward(self, x, mask=None):
            x = x + self.self_attn(self.layer_norm1(x), mask)
            return x + self.mlp.fc2(self.act(self.mlp.fc1(self.layer_norm2(x))))

    class Encoder(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

        def forward(self, x, mask=None):
            for layer in self.layers:
                x = layer(x, mask)
            return x

    class Vision(nn.Module):
        def __init__(self, c):
            super().__init__()
            d, p, eps = c["hidden_size"], c["patch_size"], c.get("layer_norm_eps", 1e-5)
            self.embeddings = nn.Module()
            self.embeddings.class_embedding = nn.Parameter(torch.randn(d) * d ** -0.5)
            self.embeddings.patch_embedding = nn.Conv2d(c.get("num_channels", 3), d, p, stride=p, bias=False)
            self.embeddings.position_embedding = nn.Embedding((c["image_size"] // p) ** 2 + 1, d)
            self.pre_layrnorm = nn.LayerNorm(d, eps=eps)
            self.encoder = Encoder(c)
            self.post_layernorm = nn.LayerNorm(d, eps=eps)

        def forward(self, pixel_values):
            e = self.embeddings
            x = e.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [B, N, D]
            cls = e.class_embedding.expand(x.shape[0], 1, -1)
            x = torch.cat([cls, x], 1) + e.position_embedding.weight
            x = self.encoder(self.pre_layrnorm(x))
            return self.post_layernorm(x[:, 0])

    class Text(nn.Module):
        def __init__(self, c):
            super().__init__()
            d = c["hidden_size"]
            self.embeddings = nn.Module()
            self.embeddings.token_embedding = nn.Embedding(c["vocab_size"], d)
            self.embeddings.position_embedding = nn.Embedding(c["max_position_embeddings"], d)
            self.encoder = Encoder(c)
            self.final_layer_norm = nn.LayerNorm(d, eps=c.get("layer_norm_eps", 1e-5))
            self.eos = c.get("eos_token_id", 2)

        def forward(self, input_ids):
            n = input_ids.shape[1]
            x = self.embeddings.token_embedding(input_ids) + self.embeddings.position_embedding.weight[:n]
            causal = torch.full((n, n), float("-inf"), device=x.device, dtype=x.dtype).triu(1)
            x = self.final_layer_norm(self.encoder(x, causal))
            # HF CLIP pooling: legacy argmax of ids when eos_token_id == 2, else the first EOS.
            pos = input_ids.argmax(-1) if self.eos == 2 else (input_ids == self.eos).int().argmax(-1)
            return x[torch.arange(x.shape[0], device=x.device), pos]

    class DualEncoder(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            e = cfg.get("projection_dim", 512)
            self.vision_model = Vision(cfg["vision_config"])
            self.text_model = Text(cfg["text_config"])
            self.visual_projection = nn.Linear(cfg["vision_config"]["hidden_size"], e, bias=False)
            self.text_projection = nn.Linear(cfg["text_config"]["hidden_size"], e, bias=False)
            self.family = loss_family(cfg)
            if self.family == "siglip":
                self.logit_scale = nn.Parameter(torch.full((1,), math.log(10.0)))
                self.logit_bias = nn.Parameter(torch.full((1,), -10.0))
            else:
                self.logit_scale = nn.Parameter(torch.tensor(cfg.get("logit_scale_init_value", 2.6592)))
                self.logit_bias = None

        def loss(self, pixel_values, input_ids):
            img = F.normalize(self.visual_projection(self.vision_model(pixel_values)).float(), dim=-1)
            txt = F.normalize(self.text_projection(self.text_model(input_ids)).float(), dim=-1)
            logits = img @ txt.t() * self.logit_scale.exp()  # [B, B]
            n = logits.shape[0]
            if self.family == "siglip":
                logits = logits + self.logit_bias
                labels = 2 * torch.eye(n, device=logits.device) - 1
                return -F.logsigmoid(labels * logits).sum() / n
            target = torch.arange(n, device=logits.device)
            return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2

    return DualEncoder(cfg)


def read_safetensors(path):
    """name -> numpy array (F32 / I32 only), without the safetensors package."""
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": np.float32, "I32": np.int32}[t["dtype"]]
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + b: 8 + n + e], dtype=dt).reshape(t["shape"])
    return out


def check(torch, d, tol):
    """Loads Duet's weights and batch (gpu-bench export-check) and compares loss and gradient norms."""
    with open(os.path.join(d, "check.json")) as f:
        ref = json.load(f)
    cfg = ref["config"]
    check_supported(cfg)
    arrays = read_safetensors(os.path.join(d, "check.safetensors"))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = build(torch, cfg).double()  # float64: the reference side of the comparison carries no rounding
    params = dict(model.named_parameters())
    for name, p in params.items():
        with torch.no_grad():
            p.copy_(torch.from_numpy(arrays[name].copy()).reshape(p.shape))
    missing = sorted(set(k for k in arrays if not k.startswith("batch.")) - set(params))
    if missing:
        raise SystemExit(f"check: Duet tensors the torch model lacks: {missing[:5]}")
    pixels = torch.from_numpy(arrays["batch.pixel_values"].copy()).double()
    ids = torch.from_numpy(arrays["batch.input_ids"].copy()).long()
    loss = model.loss(pixels, ids)
    loss.backward()
    rel = lambda a, b, floor=1e-12: abs(a - b) / max(abs(b), floor)
    loss_rel = rel(ref["duetLoss"], float(loss))
    # Gradients that are mathematically zero (attention key biases: softmax cancels them) are rounding noise in
    # float32, so each norm is compared relative to max(its own size, 1e-4 of the largest gradient norm).
    norms = {n: float(p.grad.norm()) for n, p in params.items() if n in ref["gradNorms"]}
    floor = 1e-4 * max(norms.values(), default=1.0)
    worst = max(((rel(ref["gradNorms"][n], t, floor), n) for n, t in norms.items()), default=(0.0, ""))
    ok = loss_rel <= tol and worst[0] <= tol
    print(f"check {ref['preset']} ({ref['loss']}, Duet on {ref['backend']}): loss torch float64 {float(loss):.6f} vs Duet {ref['duetLoss']:.6f} "
          f"(rel {loss_rel:.1e}); worst gradient-norm rel {worst[0]:.1e} ({worst[1]}); {len(ref['gradNorms'])} gradients; {'OK' if ok else 'MISMATCH'} (tol {tol})")
    if not ok:
        raise SystemExit(1)


def no_decay(name, p):
    """Duet's AdamW exclusion rule (open_clip's, on HF names)."""
    import re
    return p.ndim < 2 or re.search(r"(^|[._])(bn|ln)|bias|logit_scale|norm|(token|position|class)_embedding", name) is not None


# ----------------------------------------------------------------------------------------------- timing

def time_mode(torch, cfg, mode, batch, steps, warmup, device, log):
    torch.manual_seed(0)
    tf32 = mode != "fp32"
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    model = build(torch, cfg).to(device)
    decay = [p for n, p in model.named_parameters() if not no_decay(n, p)]
    rest = [p for n, p in model.named_parameters() if no_decay(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.98), eps=1e-6)
    v, t = cfg["vision_config"], cfg["text_config"]
    g = torch.Generator(device="cpu").manual_seed(1)
    pixels = torch.randn(batch, v.get("num_channels", 3), v["image_size"], v["image_size"], generator=g).to(device)
    ids = torch.randint(0, t["vocab_size"], (batch, t["max_position_embeddings"]), generator=g)
    eos = t.get("eos_token_id", 2)
    ids[ids == eos] = (eos + 1) % t["vocab_size"]
    ids[:, -1] = eos
    ids = ids.to(device)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=(mode == "tf32-bf16"))

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast:
            loss = model.loss(pixels, ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, LN100)
        return loss

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    losses, times = [], []
    for i in range(warmup + steps):
        sync()
        t0 = time.perf_counter()
        loss = step()
        losses.append(float(loss.item()))  # .item() synchronises, as Duet's step reads its loss back
        sync()
        dt = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            times.append(dt)
        log(f"  {mode} {'warmup' if i < warmup else 'step'} {i + 1 if i < warmup else i + 1 - warmup}: {dt:.1f} ms, loss {losses[-1]:.4f}")
    med = sorted(times)[len(times) // 2]
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if device.type == "cuda" else None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    n_params = sum(p.numel() for p in model.parameters())
    del model, opt
    return {"mode": mode, "batch": batch, "step_ms": times, "median_ms": med, "samples_per_s": batch / (med / 1000),
            "losses": losses, "params": n_params, "peak_mem_gib": peak}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_preset = os.path.join(here, "..", "..", "packages", "encoders", "src", "presets", "ViT-B-32.json")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default=default_preset, help="HF config JSON (a Duet preset)")
    ap.add_argument("--loss", choices=["siglip", "clip"], default="siglip")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--modes", default="fp32,tf32-bf16")
    ap.add_argument("--device", default=None, help="cuda / cpu (default: cuda when available)")
    ap.add_argument("--out", default=None, help="write the result JSON here")
    ap.add_argument("--smoke", action="store_true", help="tiny model (2 layers, width 64, 32x32 images), batch 4, 2 steps")
    ap.add_argument("--param-count", action="store_true", help="print parameter counts from the config (no torch needed)")
    ap.add_argument("--param-shapes", action="store_true", help="print HF parameter names and shapes (no torch needed)")
    ap.add_argument("--check", metavar="DIR", help="compare with Duet's loss and gradients on its weights (gpu-bench export-check)")
    ap.add_argument("--check-tol", type=float, default=1e-4)
    a = ap.parse_args()

    if a.check:
        import torch
        check(torch, a.check, a.check_tol)
        return
    overrides = None
    if a.smoke:
        overrides = {"projection_dim": 32,
                     "vision_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
                     "text_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 16, "vocab_size": 1000, "eos_token_id": 999}}
        a.batch, a.steps, a.warmup = min(a.batch, 4), 2, 1
    cfg = load_config(a.preset, a.loss, overrides)
    check_supported(cfg)
    if a.param_count:
        print(json.dumps(param_counts(cfg)))
        return
    if a.param_shapes:
        print(json.dumps(param_shapes(cfg)))
        return

    import torch
    log = lambda m: print(m, file=sys.stderr, flush=True)
    device = torch.device(a.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    result = {"preset": os.path.basename(a.preset), "loss": a.loss, "batch": a.batch, "device": device.type,
              "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "params_expected": param_counts(cfg)["total"], "modes": []}
    for mode in a.modes.split(","):
        if mode not in ("fp32", "tf32-bf16"):
            raise SystemExit(f"--modes: unknown mode {mode!r}; expected fp32, tf32-bf16")
        log(f"torch {mode}: {result['preset']} {a.loss}, batch {a.batch} on {result['device_name']}")
        try:
            r = time_mode(torch, cfg, mode, a.batch, a.steps, a.warmup, device, log)
        except getattr(torch.cuda, "OutOfMemoryError", MemoryError) as e:  # report, keep the other mode
            r = {"mode": mode, "batch": a.batch, "error": f"out of memory: {str(e).splitlines()[0]}"}
            torch.cuda.empty_cache()
        if "params" in r and r["params"] != result["params_expected"]:
            raise SystemExit(f"parameter count {r['params']} != expected {result['params_expected']} from the config")
        result["modes"].append(r)
        if "samples_per_s" in r:
            log(f"torch {mode}: median {r['median_ms']:.1f} ms/step, {r['samples_per_s']:.1f} samples/s")
    text = json.dumps(result, indent=2)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
        log(f"wrote {a.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
