"""Turkish text output of the VRAM planner (``bantz-voice doctor --vram``)."""

from __future__ import annotations

import shlex
from typing import Any

from bantz_voice.config import Settings
from bantz_voice.doctor.catalog import GIB, MODELS, WHISPER, find_model
from bantz_voice.doctor.gguf_catalog import GGUF_FILES, KV_ELEMENT_BYTES, find_gguf
from bantz_voice.doctor.vram import (
    DAEMON,
    ROLES,
    SHIPPED_PROFILE,
    Plan,
    PlanRequest,
    Role,
    ServerPlan,
    ServerRequest,
    endpoint_settings,
    plan,
    profiles,
)

ROLE_TR = {"router": "router", "orchestrator": "orkestratör", "chat": "sohbet"}


def gib(n: int | float) -> str:
    return f"{n / GIB:.2f} GiB"


def request_from_settings(settings: Settings, max_num_seqs: int = 4) -> PlanRequest | None:
    """The configured models as a plan (after ``models.profile`` picked CPU or GPU endpoints):
    local OpenAI endpoints are vLLM servers on this GPU; llama.cpp endpoints run in the daemon's
    process, on the GPU when ``n_gpu_layers`` is not 0. ``None`` when nothing uses the GPU."""
    from bantz_voice.llm.profiles import effective_models

    models = effective_models(settings.models)
    servers: dict[tuple[str, str], ServerRequest] = {}
    gpu_any = False
    for role in ROLES:
        rs = getattr(models, role)
        ep = models.endpoints.get(rs.endpoint)
        if ep is None:
            raise ValueError(f"'{role}' rolünün uç noktası '{rs.endpoint}' tanımlı değil")
        if ep.kind == "openai":
            local = any(h in (ep.base_url or "") for h in ("127.0.0.1", "localhost", "[::1]"))
            if not local:
                continue  # a server elsewhere does not use this GPU
            spec = find_model(ep.model or "")
            if spec is None:
                raise ValueError(f"'{ep.model}' modeli planlayıcının kataloğunda yok (bilinenler: {', '.join(MODELS)})")
            key = (ep.base_url or "", spec.key)
            gpu_any = True
            if key not in servers:
                port = 8000
                if ep.base_url and ":" in ep.base_url.split("//")[-1]:
                    try:
                        port = int(ep.base_url.split("//")[-1].split(":")[1].split("/")[0])
                    except ValueError:
                        pass
                servers[key] = ServerRequest(name=rs.endpoint, model=spec.key, roles=[], device="gpu",
                                             max_model_len=ep.n_ctx, max_num_seqs=max_num_seqs, port=port)
        else:
            g = find_gguf(ep.gguf or "")
            on_gpu = ep.n_gpu_layers != 0
            if g is None:
                if on_gpu:
                    raise ValueError(f"'{ep.gguf}' GGUF dosyası planlayıcının kataloğunda yok (bilinenler: {', '.join(GGUF_FILES)})")
                g = GGUF_FILES["qwen2.5-3b-instruct-q4_k_m"]  # only sizes the CPU latency estimate
            gpu_any = gpu_any or on_gpu
            key = ("llamacpp", g.key)  # one instance per file (llamacpp_engine.EngineRegistry)
            if key not in servers:
                servers[key] = ServerRequest(name=rs.endpoint, model=g.key, roles=[], device="gpu" if on_gpu else "cpu",
                                             backend="llamacpp", process=DAEMON, max_model_len=ep.n_ctx, max_num_seqs=1,
                                             kv_cache_dtype=ep.kv_type, n_ubatch=ep.n_ubatch, flash_attn=ep.flash_attn)
        servers[key].roles.append(role)
    whisper = settings.asr.model if settings.asr.model in WHISPER else "whisper-small"
    whisper_gpu = settings.asr.device.startswith("cuda")
    if not gpu_any and not whisper_gpu:
        return None
    if not servers:
        return None
    return PlanRequest(name="yapılandırma", description="paketteki model-settings.yaml",
                       servers=list(servers.values()), whisper=whisper,
                       whisper_device="gpu" if whisper_gpu else "cpu")


def _llamacpp_lines(s: ServerPlan) -> list[str]:
    r = s.request
    g = r.gguf
    a = g.architecture
    full, swa = a.kv_cells(r.max_model_len, r.n_ubatch)
    kvb = KV_ELEMENT_BYTES[r.kv_type]
    cells = f"{full} hücre" if not swa else f"{a.layers - a.swa_layers} katman × {full} + {a.swa_layers} kayan pencere katmanı × {swa} hücre"
    ctx = gib(s.context_bytes) if s.context_bytes else "0 (aynı süreçteki ilk modelle paylaşılır)"
    return [
        f"  {r.name}: {g.repo}@{r.revision[:12] if r.revision else 'sabitlenmemiş'} / {g.file} ({g.quant}) — "
        f"{', '.join(ROLE_TR[x] for x in r.roles)}; llama.cpp CUDA, süreç {r.process_key}",
        f"    ağırlıklar          {gib(s.weights_bytes)}  (GGUF dosyasının boyu: {g.size_source})",
        f"    KV önbelleği        {gib(s.kv_bytes)}  ({a.layers} katman × {a.kv_heads} KV başı × {a.head_dim} × 2 × {kvb:g} B "
        f"[{r.kv_type}] × {cells}; mimari: {a.source})",
        f"    hesaplama tamponu   {gib(s.activation_bytes)}  (n_ubatch {r.n_ubatch}, flash attention "
        f"{'açık' if r.flash_attn else 'kapalı'}; tahmin)",
        f"    CUDA bağlamı        {ctx}",
        f"    = {gib(s.total_bytes)}",
    ]


def _server_lines(p: Plan) -> list[str]:
    out: list[str] = []
    for s in p.servers:
        r = s.request
        roles = ", ".join(ROLE_TR[x] for x in r.roles)
        if r.device == "cpu":
            what = f"{r.gguf.file}, llama.cpp" if r.backend == "llamacpp" else "llama.cpp"
            out.append(f"  {r.name}: CPU'da ({what}) — {roles}; GPU belleği kullanmaz")
            continue
        if r.backend == "llamacpp":
            out += _llamacpp_lines(s)
            continue
        spec = r.spec
        kvb = 1 if r.kv_cache_dtype == "fp8" else 2
        out += [
            f"  {r.name}: {spec.hf_id}@{spec.revision[:12] if spec.revision else 'main (sabitlenmemiş)'} — {roles}",
            f"    ağırlıklar          {gib(s.weights_bytes)}",
            f"    KV önbelleği        {gib(s.kv_bytes)}  ({spec.layers} katman × {spec.kv_heads} KV başı × {spec.head_dim} × 2 × "
            f"{kvb} B × {r.max_model_len} token × {r.max_num_seqs} dizi)",
            f"    aktivasyonlar       {gib(s.activation_bytes)}",
            f"    CUDA grafik + pay   {gib(s.graphs_margin_bytes)}",
            f"    CUDA bağlamı        {gib(s.context_bytes)}",
            f"    = {gib(s.total_bytes)}",
        ]
    return out


def latency_line(p: Plan) -> str:
    lat = p.latency
    parts = [f"{ROLE_TR[r.role]} {r.total_ms:.0f} ms (ilk token {r.first_token_ms:.0f} ms, {r.tok_s:.0f} token/s, {r.device.upper()})"
             for r in lat.roles]
    return "  " + "; ".join(parts) + f"; ASR {lat.asr_ms:.0f} ms ({lat.asr_device.upper()})"


def speed_lines(p: Plan) -> list[str]:
    """Decode speed bound by memory bandwidth: tokens/s <= bandwidth / bytes read per token."""
    out = []
    seen: set[str] = set()
    for s in p.servers:
        r = s.request
        if r.model in seen:
            continue
        seen.add(r.model)
        gb = r.bytes_read_per_token / 1e9
        if r.device == "gpu":
            bw = p.request.gpu.bandwidth_gbs
            out.append(f"  {r.model}: token başına {gb:.2f} GB okunur → en çok {bw:.0f} / {gb:.2f} = {bw / gb:.0f} token/s "
                       f"({p.request.gpu.name}), beklenen ~{bw / gb * 0.8:.0f} token/s")
        else:
            from bantz_voice.doctor.vram import CPU_BANDWIDTH_GBS

            out.append(f"  {r.model}: CPU'da, token başına {gb:.2f} GB → en çok ~{CPU_BANDWIDTH_GBS / gb:.0f} token/s "
                       f"({CPU_BANDWIDTH_GBS:.0f} GB/s masaüstü RAM varsayımı)")
    return out


def _commands(p: Plan) -> list[str]:
    lines: list[str] = []
    vllm = [s for s in p.gpu_servers if s.request.backend == "vllm"]
    gguf = [s for s in p.servers if s.request.backend == "llamacpp"]
    if vllm:
        lines.append("vLLM komutları:")
        lines += ["  " + shlex.join(s.flags()) for s in vllm]
    if gguf:
        lines.append("gömülü llama.cpp (~/.config/bantz/model-settings.yaml, endpoints):")
        for s in gguf:
            fields = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in endpoint_settings(s.request).items())
            lines.append(f"  {s.request.name}: {{{fields}}}")
        lines.append("ya da ayrı bir llama-cpp-python sunucusu (model başına; kind: openai, schema_style: json_object):")
        lines += ["  " + shlex.join(s.flags()) for s in gguf]
    return lines


def render_plan(p: Plan) -> str:
    req = p.request
    lines = [f"VRAM planı: {req.name} — {req.description}",
             f"GPU: {req.gpu.name}, {req.gpu.total_mib} MiB = {gib(p.budget_bytes)}"]
    lines += _server_lines(p)
    w = WHISPER[req.whisper]
    lines.append(f"  Whisper ({w.key}): " + (f"GPU'da, {gib(p.whisper_bytes)}" if req.whisper_device == "gpu" else "CPU'da"))
    lines.append(f"  masaüstü payı       {gib(p.reserve_bytes)}")
    verdict = "SIĞIYOR" if p.fits else "SIĞMIYOR"
    extra = f"{gib(-p.over_bytes)} boş" if p.fits else f"{gib(p.over_bytes)} fazla"
    lines.append(f"toplam: {gib(p.total_bytes)} / {gib(p.budget_bytes)} → {verdict} ({extra})")
    if not p.fits:
        lines.append(f"  Yalnız ağırlıklar {gib(p.weights_bytes)} (" + " + ".join(
            f"{s.request.model} {gib(s.weights_bytes)}" for s in p.gpu_servers) + "); üstüne her sürecin CUDA "
            "bağlamı, KV önbelleği ve aktivasyonları biner.")
    else:
        lines += _commands(p)
    lines.append("hız sınırı (bellek bant genişliğinden):")
    lines += speed_lines(p)
    lines.append("tahmini gecikme (mimariden hesaplanan tahmin, ölçüm değil):")
    lines.append(latency_line(p))
    return "\n".join(lines)


def _delta(a: float, b: float) -> str:
    d = a - b
    return f"{'+' if d >= 0 else '−'}{abs(d):.0f}"


def render_table(plans: list[Plan], base: Plan | None = None) -> str:
    """Candidate configurations, with the latency cost against ``base`` (default: the shipped profile)."""
    base = base or next((p for p in plans if p.request.name == SHIPPED_PROFILE), plans[0])
    bl = base.latency
    head = (f"{'yapılandırma':20s} {'arka uç':8s} {'sığar':6s} {'toplam':>10s}  {'router':>7s} {'orkestr.':>8s} {'sohbet-1.':>9s} "
            f"{'sohbet':>9s} {'ASR':>6s}  {'fark (LLM yolu / hızlı yol)':>26s}  açıklama")
    rows = [head]
    for p in plans:
        lat = p.latency
        mark = "*" if p.request.name == SHIPPED_PROFILE else " "
        asr_delta = lat.asr_ms - bl.asr_ms
        d_llm = _delta(lat.llm_routed_ms + lat.asr_ms, bl.llm_routed_ms + bl.asr_ms)
        d_fast = _delta(lat.fast_path_chat_ms + lat.asr_ms, bl.fast_path_chat_ms + bl.asr_ms)
        rows.append(
            f"{mark}{p.request.name:19s} {plan_backend(p):8s} {'evet' if p.fits else 'HAYIR':6s} {gib(p.total_bytes):>10s}  "
            f"{lat.role('router').total_ms:>5.0f}ms {lat.role('orchestrator').total_ms:>6.0f}ms "
            f"{lat.role('chat').first_token_ms:>7.0f}ms {lat.role('chat').tok_s:>5.0f}t/s {lat.asr_ms:>4.0f}ms  "
            f"{d_llm + ' / ' + d_fast + ' ms':>26s}  "
            f"{p.request.description}"
            + (f" (ASR {'+' if asr_delta >= 0 else '−'}{abs(asr_delta):.0f} ms)" if asr_delta else "")
        )
    rows.append(f"* = 8 GB'lık NVIDIA GPU'da varsayılan profil (models.profile.select: auto). Gecikmeler tahmindir; 'fark' "
                f"'{base.request.name}' profiline göre, LLM'e giden bir tur / hızlı yoldan sohbet turu için ASR dahil; "
                "sohbet = token/s (bant genişliğinden).")
    return "\n".join(rows)


def all_plans(max_model_len: int = 4096, max_num_seqs: int = 4, whisper: str | None = None,
              reserve_mib: int | None = None) -> list[Plan]:
    out = []
    for req in profiles(max_model_len, max_num_seqs).values():
        upd: dict[str, Any] = {}
        if whisper:
            upd["whisper"] = whisper
        if reserve_mib is not None:
            upd["reserve_mib"] = reserve_mib
        out.append(plan(req.model_copy(update=upd)))
    return out


def plan_backend(p: Plan) -> str:
    kinds = {s.request.backend for s in p.servers}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def plan_to_json(p: Plan) -> dict[str, Any]:
    return {
        "name": p.request.name,
        "description": p.request.description,
        "backend": plan_backend(p),
        "roles": {role: p.request.role_server(role).hf_id for role in ROLES},
        "fits": p.fits,
        "total_gib": round(p.total_bytes / GIB, 3),
        "budget_gib": round(p.budget_bytes / GIB, 3),
        "weights_gib": round(p.weights_bytes / GIB, 3),
        "whisper_gib": round(p.whisper_bytes / GIB, 3),
        "reserve_gib": round(p.reserve_bytes / GIB, 3),
        "servers": [
            {"name": s.request.name, "model": s.request.model, "id": s.request.hf_id, "revision": s.request.revision,
             "unpinned": s.request.unpinned_reason, "backend": s.request.backend,
             "device": s.request.device, "process": s.request.process_key, "roles": s.request.roles,
             "weights_gib": round(s.weights_bytes / GIB, 3), "kv_gib": round(s.kv_bytes / GIB, 3),
             "activation_gib": round(s.activation_bytes / GIB, 3), "context_gib": round(s.context_bytes / GIB, 3),
             "total_gib": round(s.total_bytes / GIB, 3), "gpu_memory_utilization": s.gpu_memory_utilization,
             "flags": s.flags() if s.request.device == "gpu" or s.request.backend == "llamacpp" else None,
             "endpoint": endpoint_settings(s.request) if s.request.backend == "llamacpp" else None,
             "max_tok_s": round(p.request.gpu.bandwidth_gbs * 1e9 / s.request.bytes_read_per_token, 1)
             if s.request.device == "gpu" else None}
            for s in p.servers
        ],
        "latency_estimate_ms": {r.role: {"first_token": r.first_token_ms, "total": r.total_ms, "tok_s": r.tok_s}
                                for r in p.latency.roles} | {"asr": p.latency.asr_ms},
    }


__all__ = ["render_plan", "render_table", "request_from_settings", "all_plans", "plan_to_json", "Role"]
