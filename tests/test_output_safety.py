"""Exports never destroy what is already there: ``-o`` folders, replaced files, killed runs' temp files."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli

pytest.importorskip("onnx")

FAST = ("--img-size", "64", "--no-validate", "--no-simplify")


def snapshot(folder: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_export_into_an_existing_folder_keeps_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "precious.txt").write_bytes(b"x\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.bin").write_bytes(os.urandom(1000))
    before = snapshot(folder)
    proc = run_cli("export", "lsnet_t", *FAST, "-o", "d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "lsnet_t.onnx").is_file() and (folder / "lsnet_t.onnx.json").is_file()
    after = snapshot(folder)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"lsnet_t.onnx", "lsnet_t.onnx.json"}


def test_export_to_dot_dot_writes_into_the_parent_and_deletes_nothing(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    child = parent / "child"
    child.mkdir(parents=True)
    (parent / "keep.txt").write_text("parent data\n")
    (child / "keep.txt").write_text("child data\n")
    before = snapshot(parent)
    proc = run_cli("export", "lsnet_t", *FAST, "-o", "..", cwd=child)
    assert proc.returncode == 0, proc.stderr
    after = snapshot(parent)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"lsnet_t.onnx", "lsnet_t.onnx.json"}
    proc = run_cli("export", "lsnet_t", *FAST, "-o", ".", cwd=child)
    assert proc.returncode == 0, proc.stderr
    assert (child / "lsnet_t.onnx").is_file() and snapshot(parent)["child/keep.txt"] == before["child/keep.txt"]


def test_an_existing_file_is_replaced_by_rename(tmp_path: Path, monkeypatch) -> None:
    from lsnet.export import export

    target = tmp_path / "m.onnx"
    target.write_bytes(b"old model")
    hard_link = tmp_path / "old-link"
    os.link(target, hard_link)  # a rename over the name leaves the old inode's bytes intact for other links
    export("lsnet_t", "onnx", img_size=64, validate=False, simplify=False, output=target)
    assert hard_link.read_bytes() == b"old model"
    assert target.stat().st_size > 1000 and target.stat().st_ino != hard_link.stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.json", "old-link"]


def test_a_folder_at_the_exact_artifact_name_is_refused_before_work(tmp_path: Path) -> None:
    from lsnet.errors import OutputPathError
    from lsnet.export import export

    (tmp_path / "lsnet_t.onnx").mkdir()
    (tmp_path / "lsnet_t.onnx" / "data.txt").write_text("mine")
    with pytest.raises(OutputPathError, match="left alone"):
        export("lsnet_t", "onnx", img_size=64, validate=False, output=tmp_path)
    assert (tmp_path / "lsnet_t.onnx" / "data.txt").read_text() == "mine"


def test_a_coreml_name_without_suffix_gets_it_and_a_foreign_mlpackage_is_refused(tmp_path: Path) -> None:
    from lsnet.errors import OutputPathError
    from lsnet.export.formats import resolve_format
    from lsnet.export.output_path import place_output

    coreml = resolve_format("coreml")
    assert place_output(tmp_path / "model", "lsnet_t", coreml, "fp16") == tmp_path / "model.mlpackage"
    assert place_output(tmp_path, "lsnet_t", coreml, "fp16") == tmp_path / "lsnet_t_fp16.mlpackage"
    foreign = tmp_path / "theirs.mlpackage"
    foreign.mkdir()
    with pytest.raises(OutputPathError, match="not a coreml artifact written by lsnet"):
        place_output(foreign, "lsnet_t", coreml, "fp16")
    (tmp_path / "ours.mlpackage").mkdir()
    (tmp_path / "ours.mlpackage.json").write_text('{"format": "coreml"}')
    assert place_output(tmp_path / "ours.mlpackage", "lsnet_t", coreml, "fp16") == tmp_path / "ours.mlpackage"
    (tmp_path / "file.mlpackage").write_text("a file")
    with pytest.raises(OutputPathError, match="is a file"):
        place_output(tmp_path / "file.mlpackage", "lsnet_t", coreml, "fp16")


def test_replacing_a_directory_artifact_swaps_it_and_a_killed_swap_is_undone(tmp_path: Path) -> None:
    from lsnet.export.artifact import OLD_PREFIX, clean_stale_temps, staged

    target = tmp_path / "m.mlpackage"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with staged(target) as temp:
        temp.mkdir()
        (temp / "new.bin").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlpackage"]
    # a run killed between moving the old artifact aside and renaming the new one in: the next run puts it back
    dead = dead_pid()
    aside = tmp_path / f"{OLD_PREFIX}{dead}-0123abcd-m.mlpackage"
    target.rename(aside)
    clean_stale_temps(tmp_path)
    assert [p.name for p in target.iterdir()] == ["new.bin"] and not aside.exists()


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temp_files_of_killed_runs_are_removed_by_the_next_export(tmp_path: Path) -> None:
    from lsnet.export import export

    dead = dead_pid()
    stale_file = tmp_path / f".lsnet-tmp-{dead}-0123abcd-lsnet_t.onnx"
    stale_file.write_bytes(b"\0" * 100_000)
    stale_dir = tmp_path / f".lsnet-tmp-{dead}-4567cdef-lsnet_t.mlpackage"
    (stale_dir / "Data").mkdir(parents=True)
    (stale_dir / "Data" / "weights.bin").write_bytes(b"\0" * 1000)
    alive = tmp_path / f".lsnet-tmp-{os.getppid()}-89abcdef-lsnet_t.onnx"  # a run still going: left alone
    alive.write_bytes(b"busy")
    look_alike = tmp_path / ".lsnet-tmp-notes.txt"
    look_alike.write_text("not ours")
    for _ in range(2):
        export("lsnet_t", "onnx", img_size=64, validate=False, simplify=False, output=tmp_path / "lsnet_t.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, look_alike.name, "lsnet_t.onnx", "lsnet_t.onnx.json"]
    )


def test_a_failed_export_leaves_nothing_and_no_new_folders(tmp_path: Path, monkeypatch) -> None:
    from lsnet.export import export, onnx_checks

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_checks, "graph_summary", boom)
    with pytest.raises(KeyboardInterrupt):
        export("lsnet_t", "onnx", img_size=64, validate=False, simplify=False, output=tmp_path / "new" / "deep" / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_one_line_naming_the_path(tmp_path: Path, monkeypatch) -> None:
    import errno

    from lsnet.errors import OutputPathError
    from lsnet.export import export, onnx_checks

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(onnx_checks, "graph_summary", full)
    with pytest.raises(OutputPathError, match=r"no space left on the device of .* while writing m\.onnx; nothing was written"):
        export("lsnet_t", "onnx", img_size=64, validate=False, simplify=False, output=tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_file_where_a_repository_goes(tmp_path: Path) -> None:
    (tmp_path / "models").write_text("a file")
    proc = run_cli("export", "lsnet_t", "--format", "triton", *FAST, "-o", "models", cwd=tmp_path)
    assert_one_line_error(proc, "models is a file", "choose another -o path")
    assert (tmp_path / "models").read_text() == "a file"
