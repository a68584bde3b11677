"""The model store: manifests, install state, imported folders, resolve and remove."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.fake_modelscope import (
    model_files,
    safetensors_bytes,
    sha256,
    sharded_files,
    write_folder,
)
from tests.helpers.netguard import no_network
from vldesk.core.errors import ModelLoadError, ModelNotFoundError, VldeskError
from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.models.catalog import (
    CATALOG,
    Family,
    ModelSpec,
    Precision,
    find_model,
    spec_for_repository,
)
from vldesk.core.models.files import format_bytes
from vldesk.core.models.folder_check import validate_model_folder
from vldesk.core.models.manifest import Manifest, ManifestFile
from vldesk.core.models.store import IMPORTED_NAME, MANIFEST_NAME, InstallState, ModelStore

SPEC = find_model("Qwen/Qwen3-VL-2B-Instruct")
assert SPEC is not None


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VLDESK_MODELS_DIR", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def install(
    store: ModelStore, spec: ModelSpec = SPEC, files: dict[str, bytes] | None = None
) -> Path:
    """Put a model in place as a finished download would, manifest included."""
    files = files if files is not None else model_files(extras=False)
    folder = write_folder(store.folder_for(spec), files)
    manifest = Manifest(
        model_id=spec.id,
        revision=spec.revision,
        commit="abc123",
        endpoint="http://127.0.0.1:1",
        downloaded_at="2025-01-01T00:00:00+00:00",
        files=tuple(ManifestFile(n, len(d), sha256(d)) for n, d in sorted(files.items())),
    )
    store.write_manifest(spec, manifest)
    return folder


# -- manifests and install state ---------------------------------------------------------------


def test_manifest_round_trips_and_is_written_atomically(store: ModelStore) -> None:
    folder = install(store)
    raw = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert raw["format"] == 1
    assert raw["model_id"] == SPEC.id
    assert raw["revision"] == SPEC.revision
    assert raw["commit"] == "abc123"
    assert {f["path"] for f in raw["files"]} >= {"config.json", "model.safetensors"}
    assert all(len(f["sha256"]) == 64 for f in raw["files"])
    assert raw["total_bytes"] == sum(f["size"] for f in raw["files"])
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.total_bytes == raw["total_bytes"]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_installed_only_with_a_manifest_and_every_size_right(store: ModelStore) -> None:
    assert store.status(SPEC).state is InstallState.NOT_INSTALLED
    folder = install(store)
    assert store.is_installed(SPEC)
    assert store.status(SPEC).state is InstallState.INSTALLED
    assert [m.name for m in store.installed()] == [SPEC.id]

    (folder / "tokenizer.json").write_bytes(b"{}")  # a different size
    assert not store.is_installed(SPEC)
    status = store.status(SPEC)
    assert status.state is InstallState.DAMAGED
    assert "tokenizer.json" in (status.problem or "")

    install(store)
    (folder / "model.safetensors").unlink()
    assert not store.is_installed(SPEC)
    assert "model.safetensors is missing" in (store.status(SPEC).problem or "")


def test_a_folder_without_manifest_is_partial_not_installed(store: ModelStore) -> None:
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    (folder / "model.safetensors.incomplete").write_bytes(b"x" * 100)
    status = store.status(SPEC)
    assert status.state is InstallState.PARTIAL
    assert status.size_on_disk == 100
    assert not store.is_installed(SPEC)


def test_a_manifest_for_another_model_or_malformed_does_not_count(store: ModelStore) -> None:
    folder = install(store)
    data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    data["model_id"] = "Qwen/Qwen3-VL-8B-Instruct"
    (folder / MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
    assert not store.is_installed(SPEC)
    (folder / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    assert store.status(SPEC).state is InstallState.PARTIAL


# -- checking folders ----------------------------------------------------------------------------


def test_a_complete_folder_passes(tmp_path: Path) -> None:
    check = validate_model_folder(write_folder(tmp_path / "m", model_files(extras=False)))
    assert check.ok, check.problems
    assert check.family is Family.QWEN3_VL
    assert check.model_type == "qwen3_vl"
    assert check.weights_bytes == len(safetensors_bytes())


def test_a_sharded_folder_passes(tmp_path: Path) -> None:
    check = validate_model_folder(write_folder(tmp_path / "m", sharded_files()))
    assert check.ok, check.problems


def _without(*names: str) -> dict[str, bytes]:
    files = model_files(extras=False)
    for name in names:
        files.pop(name)
    return files


def _with(**changes: bytes) -> dict[str, bytes]:
    files = model_files(extras=False)
    files.update({k.replace("__", "."): v for k, v in changes.items()})
    return files


def _sharded_missing_shard() -> dict[str, bytes]:
    files = sharded_files(2)
    del files["model-00002-of-00002.safetensors"]
    return files


def _bin_only() -> dict[str, bytes]:
    files = _without("model.safetensors")
    files["pytorch_model.bin"] = b"\x80\x02pickle" * 10
    return files


BROKEN = {
    "no config": (_without("config.json"), "no config.json"),
    "unsupported type": (
        _with(config__json=json.dumps({"model_type": "llava"}).encode()),
        "says model type 'llava'; vldesk runs Qwen2.5-VL, Qwen3-VL and Qwen3.5",
    ),
    "no weights": (_without("model.safetensors"), "no .safetensors weights"),
    "bin only": (_bin_only(), "only PyTorch .bin/.pt weights"),
    "missing shard": (_sharded_missing_shard(), "model-00002-of-00002.safetensors"),
    "truncated weights": (
        _with(model__safetensors=safetensors_bytes()[:-1000]),
        "model.safetensors is incomplete",
    ),
    "no tokenizer": (_without("tokenizer.json", "vocab.json"), "tokenizer is missing"),
    # vocab.json and merges.txt hold no control tokens: tokenizer_config.json must add them.
    "vocabulary without tokenizer_config": (
        _without("tokenizer.json", "tokenizer_config.json"),
        "tokenizer_config.json is missing",
    ),
    "unreadable tokenizer_config": (
        _with(tokenizer_config__json=b"{not json"),
        "tokenizer_config.json cannot be read",
    ),
    "no image processor settings": (
        _without("preprocessor_config.json"),
        "The image processor settings are missing (preprocessor_config.json, or an "
        "image_processor entry in processor_config.json)",
    ),
    "a processor_config without the image processor": (
        {
            **_without("preprocessor_config.json"),
            "processor_config.json": json.dumps({"processor_class": "Qwen3VLProcessor"}).encode(),
        },
        "The image processor settings are missing",
    ),
    "unreadable preprocessor": (
        _with(preprocessor_config__json=b"[1, 2]"),
        "preprocessor_config.json cannot be read",
    ),
    "no chat template": (_without("chat_template.jinja"), "no chat template"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_folder_is_refused_with_its_reason(
    case: str, store: ModelStore, tmp_path: Path
) -> None:
    files, reason = BROKEN[case]
    folder = write_folder(tmp_path / "broken", files)
    check = validate_model_folder(folder)
    assert not check.ok
    assert reason in check.reason
    with pytest.raises(ModelLoadError, match="cannot be used") as error:
        store.import_folder(folder)
    assert reason in str(error.value)
    assert store.imported() == []


def test_each_problem_is_said_once_and_nothing_else(tmp_path: Path) -> None:
    files = _without("tokenizer.json", "vocab.json", "preprocessor_config.json")
    check = validate_model_folder(write_folder(tmp_path / "m", files))
    assert len(check.problems) == 2
    assert "tokenizer is missing" in check.problems[0]
    assert "image processor settings are missing" in check.problems[1]


def _saved_by_transformers_5() -> dict[str, bytes]:
    """What ``save_pretrained`` writes in transformers 5: the image processor inside
    processor_config.json, tokenizer.json without vocab.json and merges.txt."""
    files = _without("preprocessor_config.json", "vocab.json", "merges.txt")
    image_processor = json.loads(model_files(extras=False)["preprocessor_config.json"])
    processor = {"image_processor": image_processor, "processor_class": "Qwen3VLProcessor"}
    files["processor_config.json"] = json.dumps(processor).encode()
    return files


PASSING = {
    "transformers 5 save": _saved_by_transformers_5(),
    "tokenizer.json without tokenizer_config": _without("tokenizer_config.json"),
    "vocabulary with tokenizer_config": _without("tokenizer.json"),
    "a legacy image processor name": _with(
        preprocessor_config__json=json.dumps(
            {"image_processor_type": "Qwen2_5_VLImageProcessor", "patch_size": 14}
        ).encode()
    ),
    "a chat template in processor_config": {
        **_without("chat_template.jinja"),
        "processor_config.json": json.dumps({"chat_template": "{{ messages }}"}).encode(),
    },
}


@pytest.mark.parametrize("case", sorted(PASSING))
def test_every_layout_transformers_loads_passes(case: str, tmp_path: Path) -> None:
    check = validate_model_folder(write_folder(tmp_path / "m", PASSING[case]))
    assert check.ok, check.problems


def test_a_missing_folder_is_refused(store: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        store.import_folder(tmp_path / "nowhere")


def test_a_chat_template_inside_tokenizer_config_is_enough(tmp_path: Path) -> None:
    files = _without("chat_template.jinja")
    files["tokenizer_config.json"] = json.dumps({"chat_template": "{{ messages }}"}).encode()
    assert validate_model_folder(write_folder(tmp_path / "m", files)).ok


# -- imported folders ----------------------------------------------------------------------------


def test_import_registers_the_folder_in_place(store: ModelStore, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "My-Qwen", model_files(extras=False))
    model = store.import_folder(folder)
    assert model.name == "My-Qwen"
    assert model.path == folder.resolve()
    assert model.model_type == "qwen3_vl"
    registry = json.loads((store.models_dir / IMPORTED_NAME).read_text(encoding="utf-8"))
    assert registry["models"][0]["path"] == str(folder.resolve())
    assert not (store.models_dir / "My-Qwen").exists()  # registered, not copied
    assert store.resolve("My-Qwen") == folder.resolve()
    assert store.resolve("my-qwen") == folder.resolve()
    assert [(m.name, m.imported) for m in store.installed()] == [("My-Qwen", True)]

    again = store.import_folder(folder, name="renamed")  # same folder: replaces the entry
    assert [m.name for m in store.imported()] == [again.name] == ["renamed"]


def test_import_names_must_be_free_and_plain(store: ModelStore, tmp_path: Path) -> None:
    first = write_folder(tmp_path / "a", model_files(extras=False))
    second = write_folder(tmp_path / "b", model_files(extras=False))
    store.import_folder(first, name="mine")
    with pytest.raises(VldeskError, match="already used"):
        store.import_folder(second, name="mine")
    for bad in ("Qwen/Qwen3-VL-2B-Instruct", "a\\b", " "):
        with pytest.raises(VldeskError, match="cannot be a model name"):
            store.import_folder(second, name=bad)


# -- resolve -----------------------------------------------------------------------------------


def test_resolve_an_installed_catalog_model(store: ModelStore) -> None:
    folder = install(store)
    assert store.resolve(SPEC.id) == folder
    assert store.resolve(SPEC.id.lower()) == folder


def test_resolve_explains_how_to_get_a_missing_model(store: ModelStore) -> None:
    with pytest.raises(ModelNotFoundError, match="not downloaded yet") as error:
        store.resolve(SPEC.id)
    assert f"vldesk models download {SPEC.id}" in str(error.value)

    store.folder_for(SPEC).mkdir(parents=True)
    (store.folder_for(SPEC) / "config.json.incomplete").write_bytes(b"{")
    with pytest.raises(ModelNotFoundError, match="only partly downloaded"):
        store.resolve(SPEC.id)

    with pytest.raises(ModelNotFoundError, match="models import FOLDER"):
        store.resolve("no-such-model")


def test_resolve_a_damaged_model_says_so(store: ModelStore) -> None:
    folder = install(store)
    (folder / "config.json").write_bytes(b"{}")
    with pytest.raises(ModelNotFoundError, match=r"damaged \(config.json has"):
        store.resolve(SPEC.id)


def test_resolve_a_folder_path_validates_it(store: ModelStore, tmp_path: Path) -> None:
    good = write_folder(tmp_path / "good", model_files(extras=False))
    assert store.resolve(str(good)) == good.resolve()
    bad = write_folder(tmp_path / "bad", _without("config.json"))
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        store.resolve(str(bad))
    with pytest.raises(ModelNotFoundError, match="is a file"):
        store.resolve(str(good / "config.json"))


def test_resolve_an_imported_folder_that_broke(store: ModelStore, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine", model_files(extras=False))
    store.import_folder(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="imported model 'mine'"):
        store.resolve("mine")


def _install_by_id(store: ModelStore, model_id: str, config: dict[str, object]) -> Path:
    """A model downloaded by a repository id outside the catalog, as a finished download
    leaves it (its manifest names the id)."""
    files = {**model_files(extras=False), "config.json": json.dumps(config).encode()}
    # Only the id matters to where it lies; the store reads the family from config.json.
    spec = ModelSpec(model_id, Family.QWEN3_VL, model_id, 1, 1, "master", "")
    return install(store, spec, files)


def test_models_downloaded_by_id_are_installed_resolved_and_removed(store: ModelStore) -> None:
    config = {"model_type": "qwen2_5_vl", "torch_dtype": "bfloat16"}
    folder = _install_by_id(store, "someone/Qwen2.5-VL-3B-Finetune", config)
    _install_by_id(store, "someone/Llava-7B", {"model_type": "llava"})  # not runnable: ignored
    install(store)  # a catalog model
    found = store.downloaded_by_id()
    assert [(spec.id, spec.family) for spec in found] == [
        ("someone/Qwen2.5-VL-3B-Finetune", Family.QWEN2_5_VL)
    ]
    assert found[0].params == len(safetensors_bytes()) // 2  # bfloat16 weights
    assert found[0] == spec_for_repository(
        "someone/Qwen2.5-VL-3B-Finetune",
        config,
        weights_bytes=len(safetensors_bytes()),
        download_bytes=store.read_manifest(found[0]).total_bytes,  # type: ignore[union-attr]
    )
    assert [m.name for m in store.installed()] == [SPEC.id, "someone/Qwen2.5-VL-3B-Finetune"]
    assert store.resolve("someone/qwen2.5-vl-3b-finetune") == folder
    assert "Removed someone/Qwen2.5-VL-3B-Finetune" in store.remove(
        "someone/Qwen2.5-VL-3B-Finetune"
    )
    assert not folder.exists()
    with pytest.raises(ModelNotFoundError, match="No model called"):
        store.resolve("someone/Qwen2.5-VL-3B-Finetune")


def test_cli_lists_models_downloaded_by_id(capsys: pytest.CaptureFixture[str]) -> None:
    from vldesk.cli import run_cli
    from vldesk.core.paths import app_paths

    store = ModelStore(app_paths().models_dir)
    _install_by_id(store, "someone/Captioner", {"model_type": "qwen3_5"})
    assert run_cli(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["family"], m["state"]) for m in data["downloaded_by_id"]] == [
        ("someone/Captioner", "qwen3_5", "installed")
    ]
    assert "someone/Captioner" not in {m["id"] for m in data["catalog"]}
    assert run_cli(["models", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "someone/Captioner" in line)
    assert "installed" in row


def test_resolve_an_installed_model_never_touches_the_network(
    store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = install(store)
    imported = write_folder(tmp_path / "mine", model_files(extras=False))
    store.import_folder(imported)
    with no_network(monkeypatch) as attempts:
        assert store.resolve(SPEC.id) == folder
        assert store.resolve("mine") == imported.resolve()
        assert store.is_installed(SPEC)
        assert len(store.installed()) == 2
    assert attempts == []


def test_start_up_lookup_imports_no_network_library(tmp_path: Path) -> None:
    # In a fresh interpreter: finding an installed model loads neither the hub client nor
    # requests, so it cannot reach the network even by accident.
    store = ModelStore(tmp_path / "models")
    install(store)
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from vldesk.core.models.store import ModelStore
        store = ModelStore(Path({str(store.models_dir)!r}))
        print(store.resolve({SPEC.id!r}))
        loaded = [m for m in ("modelscope_hub", "modelscope", "requests", "urllib3", "torch")
                  if m in sys.modules]
        sys.exit(f"network libraries loaded: {{loaded}}" if loaded else 0)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == str(store.folder_for(SPEC))


# -- remove ------------------------------------------------------------------------------------


def test_remove_a_downloaded_model_deletes_its_folder(store: ModelStore) -> None:
    folder = install(store)
    (folder / "extra.safetensors.incomplete").write_bytes(b"partial")
    message = store.remove(SPEC.id)
    assert "Removed Qwen/Qwen3-VL-2B-Instruct" in message
    assert not folder.exists()
    assert store.status(SPEC).state is InstallState.NOT_INSTALLED
    with pytest.raises(ModelNotFoundError, match="nothing to remove"):
        store.remove(SPEC.id)


def test_remove_an_imported_model_keeps_its_folder(store: ModelStore, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "mine", model_files(extras=False))
    store.import_folder(folder)
    message = store.remove("mine")
    assert "left as it is" in message
    assert (folder / "model.safetensors").is_file()
    assert store.imported() == []
    with pytest.raises(ModelNotFoundError, match="No downloaded or imported model"):
        store.remove("mine")


def test_format_bytes() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(999) == "999 B"
    assert format_bytes(4_255_000_000) == "4.3 GB"
    assert format_bytes(1_500_000) == "1.5 MB"


# -- the CLI (no network involved) ---------------------------------------------------------------


def test_cli_import_list_and_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vldesk.cli import run_cli
    from vldesk.core.paths import app_paths

    store = ModelStore(app_paths().models_dir)
    install(store)
    folder = write_folder(tmp_path / "My Qwen", model_files(extras=False))
    assert run_cli(["models", "import", str(folder), "--name", "mine"]) == 0
    assert "Imported 'mine' (qwen3_vl)" in capsys.readouterr().out

    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"Models folder: {store.models_dir}" in out
    row = next(line for line in out.splitlines() if SPEC.id in line)
    assert row.startswith("*")
    assert "installed" in row
    assert "Qwen/Qwen3-VL-8B-Instruct    not installed" in out
    assert "MEMORY  THIS MACHINE" in out
    assert row.rstrip().endswith(("fits", "tight: close other programs", "too big", "unknown"))
    assert "Imported folders:" in out
    assert any(line.split()[:2] == ["mine", "ok"] for line in out.splitlines())

    assert run_cli(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {m["id"]: m["state"] for m in data["catalog"]}[SPEC.id] == "installed"
    assert data["imported"][0]["name"] == "mine"
    assert data["imported"][0]["path"] == str(folder.resolve())
    listed = {m["id"]: m for m in data["catalog"]}[SPEC.id]
    assert listed["precision"] in ("bfloat16", "float32")
    assert listed["memory_needed_bytes"] == SPEC.memory_needed_bytes(Precision(listed["precision"]))
    assert listed["fit"] in ("fits", "tight", "too_big", "unknown")

    assert run_cli(["models", "remove", "mine"]) == 0
    assert "left as it is" in capsys.readouterr().out
    assert folder.is_dir()
    assert run_cli(["models", "remove", SPEC.id]) == 0
    assert "Removed Qwen/Qwen3-VL-2B-Instruct" in capsys.readouterr().out
    assert not store.folder_for(SPEC).exists()


def test_cli_refuses_a_broken_folder_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.cli import run_cli

    folder = write_folder(tmp_path / "bad", _bin_only())
    assert run_cli(["models", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vldesk: error: The folder")
    assert "only PyTorch .bin/.pt weights" in err
    assert len(err.strip().splitlines()) == 1
    assert run_cli(["models", "remove", "nothing-here"]) == 1
    assert "No downloaded or imported model" in capsys.readouterr().err
    assert run_cli(["models"]) == 2


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_cli_list_estimates_memory_at_the_configured_precision(
    dtype: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.cli import run_cli
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings, save_settings

    save_settings(Settings(dtype=dtype), app_paths().settings_file)
    assert run_cli(["models", "list", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)["catalog"]}
    for spec in CATALOG:
        assert listed[spec.id]["precision"] == dtype
        assert listed[spec.id]["memory_needed_bytes"] == spec.memory_needed_bytes(Precision(dtype))
    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"to run on the CPU in {dtype}" in out
    assert f"in {dtype}, int" not in out  # full weights, as the settings have them


@pytest.mark.parametrize(("setting", "option"), [("int8", None), ("full", "int4")])
def test_cli_list_estimates_memory_for_the_chosen_weight_format(
    setting: str, option: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.cli import run_cli
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings, save_settings

    save_settings(Settings(dtype="float32", weights=setting), app_paths().settings_file)
    chosen = WeightFormat(option or setting)
    extra = ["--weights", option] if option else []
    assert run_cli(["models", "list", "--json", *extra]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)["catalog"]}
    for spec in CATALOG:
        assert (listed[spec.id]["precision"], listed[spec.id]["weights"]) == (
            "float32",
            chosen.value,
        )
        needed = spec.memory_needed_bytes(Precision.FLOAT32, chosen)
        assert listed[spec.id]["memory_needed_bytes"] == needed
        assert needed < spec.memory_needed_bytes(Precision.FLOAT32)
    assert run_cli(["models", "list", *extra]) == 0
    out = capsys.readouterr().out
    assert f"to run on the CPU in float32, {chosen.value}" in out
    row = next(line for line in out.splitlines() if SPEC.id in line)
    assert format_bytes(SPEC.memory_needed_bytes(Precision.FLOAT32, chosen)) in row
