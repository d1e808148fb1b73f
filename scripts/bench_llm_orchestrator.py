#!/usr/bin/env python3
"""Benchmark the LLM roles (router, orchestrator, chat) against any OpenAI-compatible endpoint.

Sends the brain's own Turkish prompts and JSON schemas (``bantz_voice.brain``) as streaming chat completions, N times per role, and
reports per role: time to first token, total latency p50/p95/p99, output tokens/s, JSON validity,
and the router's route accuracy on a labeled file (``tests/data/nlu_dev.jsonl`` by default).

    python scripts/bench_llm_orchestrator.py --base-url http://127.0.0.1:8000/v1 --model qwen2.5-3b-instruct-awq
    python scripts/bench_llm_orchestrator.py --simulator      # starts scripts/vllm_mock_server.py (a SIMULATOR)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bantz_voice.bench import report  # noqa: E402 - the checkout's package, not an installed copy
from bantz_voice.bench.harness import start_simulator  # noqa: E402
from bantz_voice.bench.stats import percentile  # noqa: E402
from bantz_voice.llm.grammar import response_format  # noqa: E402

DEFAULT_LABELS = (ROOT / "tests/data/nlu_dev.jsonl", Path("/work/shared/eval/nlu_dev.jsonl"))
ROLES = ("router", "orchestrator", "chat")


# --- prompts: the product's ----------------------------------------------------------------------
@dataclass
class RoleSpec:
    role: str
    build: Callable[[str], list[dict[str, str]]]
    schema: type[BaseModel] | None
    max_tokens: int
    temperature: float
    top_p: float = 1.0


def product_roles() -> tuple[dict[str, RoleSpec], str]:
    """Role specs built from the brain's prompt builders, schemas and role settings; (specs, where they came from)."""
    from bantz_voice.brain.chat import chat_parts
    from bantz_voice.brain.orchestrator import orchestrator_parts
    from bantz_voice.brain.router import router_parts
    from bantz_voice.brain.schemas import OrchestratorOutput, RouterOutput
    from bantz_voice.config import load_settings

    models = load_settings().models
    specs = {
        "router": RoleSpec("router", lambda text: router_parts(text).messages(), RouterOutput, models.router.max_tokens,
                           models.router.temperature),
        "orchestrator": RoleSpec("orchestrator", lambda text: orchestrator_parts(text).messages(), OrchestratorOutput,
                                 models.orchestrator.max_tokens, models.orchestrator.temperature),
        "chat": RoleSpec("chat", lambda text: chat_parts(text, [], []).messages(), None, models.chat.max_tokens,
                         models.chat.temperature, models.chat.top_p),
    }
    return specs, "bantz_voice.brain (prompts, schemas, role settings)"


# --- measurement -------------------------------------------------------------------------------
@dataclass
class Sample:
    ttft_ms: float | None
    total_ms: float
    tokens: int
    text: str
    error: str | None = None

    @property
    def tok_s(self) -> float | None:
        if self.ttft_ms is None or self.tokens < 2 or self.total_ms <= self.ttft_ms:
            return None
        return (self.tokens - 1) / ((self.total_ms - self.ttft_ms) / 1000.0)


async def one_request(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Sample:
    t0 = time.perf_counter()
    ttft: float | None = None
    pieces: list[str] = []
    usage_tokens: int | None = None
    try:
        async with client.stream("POST", url, json=body) as r:
            if r.status_code >= 400:
                detail = (await r.aread()).decode("utf-8", "replace")[:200]
                return Sample(None, (time.perf_counter() - t0) * 1000, 0, "", f"HTTP {r.status_code}: {detail}")
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                obj = json.loads(data)
                if obj.get("usage"):
                    usage_tokens = obj["usage"].get("completion_tokens")
                for ch in obj.get("choices") or []:
                    piece = (ch.get("delta") or {}).get("content")
                    if piece:
                        if ttft is None:
                            ttft = (time.perf_counter() - t0) * 1000
                        pieces.append(piece)
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        return Sample(ttft, (time.perf_counter() - t0) * 1000, len(pieces), "".join(pieces), type(exc).__name__)
    total = (time.perf_counter() - t0) * 1000
    return Sample(ttft, total, usage_tokens if usage_tokens is not None else len(pieces), "".join(pieces))



def load_labels(path: Path | None) -> list[dict[str, Any]]:
    candidates = [path] if path else list(DEFAULT_LABELS)
    for p in candidates:
        if p and p.is_file():
            rows = [json.loads(ln) for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
            if rows:
                return rows
    raise SystemExit(f"no labeled file found ({', '.join(str(c) for c in candidates)})")


@dataclass
class RoleReport:
    role: str
    samples: list[Sample] = field(default_factory=list)
    json_valid: int = 0
    json_checked: int = 0
    route_right: int = 0
    route_checked: int = 0

    def summary(self) -> dict[str, Any]:
        ok = [s for s in self.samples if s.error is None]
        ttft = [s.ttft_ms for s in ok if s.ttft_ms is not None]
        total = [s.total_ms for s in ok]
        rates = [r for r in (s.tok_s for s in ok) if r is not None]
        return {
            "n": len(self.samples),
            "errors": len(self.samples) - len(ok),
            "ttft_ms": {"p50": percentile(ttft, 50), "p95": percentile(ttft, 95), "p99": percentile(ttft, 99)},
            "total_ms": {"p50": percentile(total, 50), "p95": percentile(total, 95), "p99": percentile(total, 99)},
            "output_tokens_p50": percentile([float(s.tokens) for s in ok], 50),
            "tok_s_p50": percentile(rates, 50),
            "json_valid": (round(self.json_valid / self.json_checked, 4) if self.json_checked else None),
            "route_accuracy": (round(self.route_right / self.route_checked, 4) if self.route_checked else None),
        }


async def bench_role(client: httpx.AsyncClient, base_url: str, model: str, spec: RoleSpec, labels: list[dict[str, Any]],
                     iterations: int, style: str) -> RoleReport:
    rep = RoleReport(spec.role)
    url = base_url.rstrip("/") + "/chat/completions"
    for i in range(iterations):
        # spread the iterations over the whole labeled file (it is ordered by intent)
        case = labels[(i * len(labels)) // iterations] if iterations <= len(labels) else labels[i % len(labels)]
        body: dict[str, Any] = {
            "model": model, "messages": spec.build(case["text"]), "stream": True,
            "stream_options": {"include_usage": True}, "max_tokens": spec.max_tokens,
            "temperature": spec.temperature, "top_p": spec.top_p,
        }
        if spec.schema is not None:
            body["response_format"] = response_format(spec.schema, style)
        s = await one_request(client, url, body)
        rep.samples.append(s)
        if spec.schema is not None:
            rep.json_checked += 1
            try:
                parsed = spec.schema.model_validate_json(s.text)
                rep.json_valid += 1
            except ValidationError:
                parsed = None
            if spec.role == "router" and "route" in case:
                rep.route_checked += 1
                route = getattr(parsed, "route", None)
                if route is not None and getattr(route, "value", route) == case["route"]:
                    rep.route_right += 1
    return rep


# --- simulator (optional) ----------------------------------------------------------------------
def render_table(result: dict[str, Any]) -> str:
    head = f"{'role':13s} {'n':>3s} {'TTFT p50':>9s} {'p95':>7s} {'total p50':>10s} {'p95':>7s} {'p99':>7s} {'tok/s':>7s} {'JSON ok':>8s} {'route acc':>9s}"
    rows = [f"endpoint: {result['base_url']}  ({'SIMULATOR' if result['simulator'] else 'real server'}); prompts: {result['prompts']}",
            "models: " + ", ".join(f"{r}={m}" for r, m in result["models"].items()), head]

    def f(v: Any, pct: bool = False) -> str:
        if v is None:
            return "–"
        return f"{v * 100:.1f}%" if pct else f"{v:.0f}" if isinstance(v, float) and v >= 100 else f"{v}"

    for role, s in result["roles"].items():
        rows.append(
            f"{role:13s} {s['n']:>3d} {f(s['ttft_ms']['p50']):>9s} {f(s['ttft_ms']['p95']):>7s} "
            f"{f(s['total_ms']['p50']):>10s} {f(s['total_ms']['p95']):>7s} {f(s['total_ms']['p99']):>7s} {f(s['tok_s_p50']):>7s} "
            f"{f(s['json_valid'], True):>8s} {f(s['route_accuracy'], True):>9s}" + (f"  errors: {s['errors']}" if s["errors"] else "")
        )
    rows.append("times in ms; tok/s = decode rate after the first token; route accuracy on the labeled file")
    return "\n".join(rows)


def render_markdown(result: dict[str, Any], command: str) -> str:
    import platform

    machine = result.get("machine") or f"{platform.machine()}, {os.cpu_count()} CPU"
    load = result.get("loadavg_end") or [round(x, 2) for x in os.getloadavg()]
    date = result.get("date") or report.stamp()
    lines = [f"Machine: {machine} (load average at the end {load}). Date: {date}. Endpoint: "
             f"{'the SIMULATOR (scripts/vllm_mock_server.py)' if result['simulator'] else result['base_url']}; "
             f"prompts: {result['prompts']}; {result['iterations']} iterations per role.", "", f"Command: `{command}`", "",
             "| role | model | TTFT p50 / p95 | total p50 / p95 / p99 | output tok/s p50 | JSON valid | route accuracy |",
             "| --- | --- | --- | --- | --- | --- | --- |"]

    def f(v: Any) -> str:
        return "–" if v is None else f"{v:.0f}"

    for role, s in result["roles"].items():
        pct = lambda v: "–" if v is None else f"{v * 100:.1f} %"  # noqa: E731
        lines.append(f"| {role} | {result['models'][role]} | {f(s['ttft_ms']['p50'])} / {f(s['ttft_ms']['p95'])} | "
                     f"{f(s['total_ms']['p50'])} / {f(s['total_ms']['p95'])} / {f(s['total_ms']['p99'])} | "
                     f"{f(s['tok_s_p50'])} | {pct(s['json_valid'])} | {pct(s['route_accuracy'])} |")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    specs, origin = product_roles()
    labels = load_labels(Path(args.labels) if args.labels else None)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    for r in roles:
        if r not in ROLES:
            raise SystemExit(f"unknown role {r}")
    models = {r: getattr(args, f"{r}_model") or args.model for r in ROLES}
    headers = {}
    if args.api_key_env and os.environ.get(args.api_key_env):
        headers["Authorization"] = f"Bearer {os.environ[args.api_key_env]}"
    async with httpx.AsyncClient(timeout=args.timeout, headers=headers) as client:
        r = await client.get(args.base_url.rstrip("/") + "/models")
        r.raise_for_status()
        listed = r.json().get("data", [])
        simulated = any(m.get("owned_by") == "bantz-simulator" for m in listed)
        for role in ROLES:
            if models[role] is None:
                models[role] = listed[0]["id"] if listed else "default"
        reports = {}
        for role in roles:
            if args.warmup:  # fill the prefix cache for this role's prompt, as the daemon does at start
                await one_request(client, args.base_url.rstrip("/") + "/chat/completions",
                                  {"model": models[role], "messages": specs[role].build("merhaba"), "stream": True, "max_tokens": 1})
            reports[role] = await bench_role(client, args.base_url, models[role], specs[role], labels, args.iterations,
                                             args.schema_style)

    return {
        "machine": report.machine(),
        "date": report.stamp(),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "base_url": args.base_url, "simulator": simulated, "prompts": origin, "iterations": args.iterations,
        "models": {r: models[r] for r in roles}, "schema_style": args.schema_style,
        "roles": {role: rep.summary() for role, rep in reports.items()},
    }


def build_parser() -> argparse.ArgumentParser:
    p = report.described_parser(__doc__)
    p.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    p.add_argument("--model", help="model for every role (default: the first one the server lists)")
    p.add_argument("--router-model")
    p.add_argument("--orchestrator-model")
    p.add_argument("--chat-model")
    p.add_argument("--roles", default="router,orchestrator,chat")
    p.add_argument("-n", "--iterations", type=int, default=30)
    p.add_argument("--labels", help="labeled JSONL (text, route); default tests/data/nlu_dev.jsonl")
    p.add_argument("--schema-style", choices=["json_schema", "json_object"], default="json_schema",
                   help="how the schema is asked for (vLLM: json_schema; llama-cpp-python server: json_object)")
    p.add_argument("--api-key-env", help="environment variable holding the API key")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the prefix-cache warm-up request")
    p.add_argument("--simulator", action="store_true",
                   help="start the vLLM SIMULATOR (scripts/vllm_mock_server.py): router/orchestrator on bantz-sim-3b, chat on bantz-sim-8b")
    report.add_output_options(p, json_help="print one JSON object instead of the table")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.iterations < 1:
        raise SystemExit("--iterations must be ≥ 1")
    proc = None
    if args.simulator:
        proc, args.base_url = start_simulator([])
        args.router_model = args.router_model or "bantz-sim-3b"
        args.orchestrator_model = args.orchestrator_model or "bantz-sim-3b"
        args.chat_model = args.chat_model or "bantz-sim-8b"
    try:
        result = asyncio.run(run(args))
    except httpx.HTTPError as exc:
        print(f"cannot reach {args.base_url}: {exc}", file=sys.stderr)
        return 2
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    command = "python scripts/bench_llm_orchestrator.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report.show(args, result, lambda: render_markdown(result, command), lambda: render_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
