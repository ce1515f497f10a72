"""Files a command writes (`--output`): into a folder that exists, never a folder, created
readable by its owner only when private; every refusal names the option and the path."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aftersales import exit_codes
from aftersales.errors import classify
from aftersales.output import OutputFileError, output_file, write_output


def test_a_missing_folder_is_refused_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "report.html"
    with pytest.raises(OutputFileError) as refused:
        write_output(target, "x")
    assert str(refused.value) == (f"cannot write --output {target}: no such directory "
                                  f"{target.parent}")
    assert not (tmp_path / "no").exists()
    assert classify(refused.value)[0] == exit_codes.INVALID


def test_a_folder_is_not_a_file_to_write(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match=f"cannot write {tmp_path}: it is a directory"):
        output_file(tmp_path, None)


def test_a_file_in_an_existing_folder_is_written_private_when_asked(tmp_path: Path) -> None:
    private, public = tmp_path / "export.json", tmp_path / "policy.md"
    write_output(private, b"{}", private=True)
    write_output(public, "policy")
    assert private.read_bytes() == b"{}" and public.read_text() == "policy"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_file_that_cannot_be_written_is_a_bad_argument(tmp_path: Path) -> None:
    too_long = tmp_path / ("x" * 300)  # the system refuses the name (root writes anywhere)
    with pytest.raises(OutputFileError) as refused:
        write_output(too_long, "{}", private=True)
    assert str(refused.value).startswith(f"cannot write --output {too_long}: ")
    assert classify(refused.value)[0] == exit_codes.INVALID


def test_an_existing_file_is_made_private_before_the_data_reaches_it(tmp_path: Path) -> None:
    existing = tmp_path / "pre.json"
    existing.write_text("an older, longer content")
    existing.chmod(0o644)
    write_output(existing, b"{}", private=True)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600 and existing.read_bytes() == b"{}"


@pytest.mark.parametrize("private", [True, False])
def test_a_symbolic_link_is_never_followed(tmp_path: Path, private: bool) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    dangling, target = shared / "export.json", tmp_path / "elsewhere.json"
    dangling.symlink_to(target)
    with pytest.raises(OutputFileError, match=f"cannot write --output {dangling}: it is a "
                                              "symbolic link"):
        write_output(dangling, b"{}", private=private)
    assert not target.exists()
    target.write_text("theirs")
    with pytest.raises(OutputFileError, match="symbolic link"):
        write_output(dangling, b"{}", private=private)
    assert target.read_text() == "theirs"


def test_only_a_regular_file_of_ones_own_with_one_name_receives_personal_data(
    tmp_path: Path,
) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no reader: opening it must not hang
    with pytest.raises(OutputFileError, match=r"cannot write --output .*pipe"):
        write_output(fifo, b"{}", private=True)
    original, linked = tmp_path / "theirs.json", tmp_path / "export.json"
    original.write_text("theirs")
    original.chmod(0o644)
    os.link(original, linked)
    with pytest.raises(OutputFileError, match="other names"):
        write_output(linked, b"{}", private=True)
    assert original.read_text() == "theirs"
    assert stat.S_IMODE(original.stat().st_mode) == 0o644
