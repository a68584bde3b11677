"""Which engine runs a model: the CPU rule, the installed GGUF variant, and the forced choices."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.fake_engine import FakeEngineLoader
from tests.helpers.gguf_files import gguf_folder
from vldesk.cli import run_cli
from vldesk.core.errors import ModelLoadError, ModelNotFoundError
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.engine_choice import (
    LLAMA_CPP,
    TRANSFORMERS,
    choose_engine,
    faster_on_cpu,
    speed_for,
    suggested_download,
)
from vldesk.core.models.catalog import ModelSpec, find_model, gguf_variant
from vldesk.core.models.manifest import Manifest, ManifestFile
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import app_paths
from vldesk.core.settings import Settings

BASE = find_model("Qwen/Qwen3-VL-2B-Instruct")
assert BASE is not None
AVX2 = CpuCapabilities.at_level("avx2")
ZEN4 = CpuCapabilities.at_level("avx512_bf16")
AMX = CpuCapabilities.at_level("amx")


def install(store: ModelStore, spec: ModelSpec) -> Path:
    """Files and a manifest as a finished download leaves them (no hub)."""
    folder = store.folder_for(spec)
    if spec.is_gguf:
        model, projector = spec.gguf_files
        gguf_folder(folder, model=model, projector=projector)
    else:
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"weights")
    files = tuple(ManifestFile(p.name, p.stat().st_size, None) for p in folder.iterdir())
    store.write_manifest(spec, Manifest(spec.id, spec.revision, None, "", "", files))
    return folder


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def choose(store: ModelStore, ref: str = BASE.id, **options: object) -> tuple[str, Path, str]:
    defaults: dict[str, object] = {"caps": AVX2, "llama_available": True, "gpu": False}
    choice = choose_engine(store, ref, **{**defaults, **options})  # type: ignore[arg-type]
    return choice.engine, choice.folder, choice.name


def test_the_cpu_rule_follows_the_measurements() -> None:
    assert faster_on_cpu(AVX2)[0] == LLAMA_CPP
    assert "no AMX or AVX512-BF16" in faster_on_cpu(AVX2)[1]
    assert faster_on_cpu(ZEN4) == (
        TRANSFORMERS,
        "this CPU has AVX512-BF16: transformers reads images 1.6-1.9x faster than llama.cpp "
        "and finishes first on answers under about 400 tokens",
    )
    assert faster_on_cpu(AMX)[0] == TRANSFORMERS
    assert speed_for(AVX2).kind == "AVX2 only"
    assert speed_for(ZEN4).kind == "AVX-512-BF16"
    assert speed_for(AMX).kind == "AMX"


def test_auto_prefers_llama_cpp_only_where_it_is_faster_and_ready(store: ModelStore) -> None:
    base = install(store, BASE)
    q4 = gguf_variant(BASE, "Q4_K_M")
    gguf = install(store, q4)
    assert choose(store) == (LLAMA_CPP, gguf, q4.ref)
    assert choose(store, caps=ZEN4) == (TRANSFORMERS, base, BASE.id)
    assert choose(store, caps=AMX) == (TRANSFORMERS, base, BASE.id)
    assert choose(store, llama_available=False) == (TRANSFORMERS, base, BASE.id)
    assert choose(store, gpu=True) == (TRANSFORMERS, base, BASE.id)
    assert choose(store, gpu=True, device="cpu") == (LLAMA_CPP, gguf, q4.ref)
    assert choose(store, device="cuda") == (TRANSFORMERS, base, BASE.id)


def test_without_a_gguf_variant_auto_stays_with_transformers(store: ModelStore) -> None:
    base = install(store, BASE)
    assert choose(store) == (TRANSFORMERS, base, BASE.id)


def test_the_setting_overrides_the_rule(store: ModelStore) -> None:
    base = install(store, BASE)
    gguf = install(store, gguf_variant(BASE, "Q4_K_M"))
    assert choose(store, setting="transformers")[:2] == (TRANSFORMERS, base)
    assert choose(store, setting="llama.cpp", caps=ZEN4)[:2] == (LLAMA_CPP, gguf)


def test_the_weights_setting_picks_the_quantization(store: ModelStore) -> None:
    install(store, BASE)
    install(store, gguf_variant(BASE, "Q4_K_M"))
    q8 = install(store, gguf_variant(BASE, "Q8_0"))
    assert choose(store, weights="int8")[1] == q8
    assert choose(store, weights="full")[1].name.endswith("Q4_K_M")  # no F16: the smallest


def test_forcing_llama_cpp_without_a_gguf_says_how_to_get_one(store: ModelStore) -> None:
    install(store, BASE)
    with pytest.raises(ModelNotFoundError) as caught:
        choose(store, setting="llama.cpp")
    assert str(caught.value) == (
        "No GGUF version of Qwen/Qwen3-VL-2B-Instruct is downloaded for llama.cpp: download one "
        "with `vldesk models download Qwen/Qwen3-VL-2B-Instruct --gguf Q4_K_M` (Q4_K_M, Q8_0, "
        "F16), or from the Models window."
    )


def test_only_the_gguf_downloaded(store: ModelStore) -> None:
    q4 = gguf_variant(BASE, "Q4_K_M")
    gguf = install(store, q4)
    assert choose(store, caps=ZEN4) == (LLAMA_CPP, gguf, q4.ref)
    with pytest.raises(ModelLoadError, match=r"needs llama.cpp: pip install 'vldesk\[peer\]'"):
        choose(store, llama_available=False)
    assert choose(store, q4.ref, caps=ZEN4) == (LLAMA_CPP, gguf, q4.ref)


def test_a_gguf_folder_cannot_be_forced_onto_transformers(
    store: ModelStore, tmp_path: Path
) -> None:
    folder = gguf_folder(tmp_path / "mine")
    assert choose(store, str(folder))[0] == LLAMA_CPP
    with pytest.raises(ModelLoadError, match=r"holds GGUF files, which only llama\.cpp runs"):
        choose(store, str(folder), setting="transformers")


def test_the_engine_setting_is_saved_and_checked() -> None:
    saved = Settings(engine="llama.cpp").to_dict()
    assert saved["engine"] == "llama.cpp"
    assert Settings.from_dict(saved).engine == "llama.cpp"
    assert Settings.from_dict({**saved, "engine": "vllm"}).engine == "auto"


def test_cli_describe_loads_the_gguf_variant_under_engine_llama_cpp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vldesk.cli.describe

    store = ModelStore(app_paths().models_dir)
    install(store, BASE)
    gguf = install(store, gguf_variant(BASE, "Q8_0"))
    loader = FakeEngineLoader()
    monkeypatch.setattr(vldesk.cli.describe, "load_engine", loader)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photo)
    args = ["describe", str(photo), "--model", BASE.id, "--max-new-tokens", "4"]
    assert run_cli([*args, "--engine", "llama.cpp", "--prompt", "Colour?"]) == 0
    (request,) = loader.requests
    assert (request.model_dir, request.name) == (gguf, "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q8_0")
    assert (
        "with llama.cpp (asked for with --engine or the engine setting)" in capsys.readouterr().err
    )

    assert run_cli([*args, "--engine", "transformers", "--prompt", "Colour?"]) == 0
    assert loader.requests[-1].model_dir == store.folder_for(BASE)


def test_the_first_download_offered_is_the_gguf_version_only_where_llama_cpp_runs_faster() -> None:
    def offer(
        spec: ModelSpec = BASE,
        caps: CpuCapabilities = AVX2,
        llama_available: bool = True,
        gpu: bool = False,
    ) -> ModelSpec:
        return suggested_download(spec, caps=caps, llama_available=llama_available, gpu=gpu)

    assert offer() == gguf_variant(BASE, "Q8_0")
    assert offer(caps=ZEN4) == BASE
    assert offer(caps=AMX) == BASE
    assert offer(gpu=True) == BASE
    assert offer(llama_available=False) == BASE
    no_gguf = find_model("Qwen/Qwen2.5-VL-3B-Instruct")
    assert no_gguf is not None
    assert no_gguf.gguf is None
    assert offer(no_gguf) == no_gguf
