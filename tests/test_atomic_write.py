"""mnist_utils.atomic_write: the one helper for files that must never be left half-written."""

import numpy as np
import pytest

from mnist_utils import atomic_write


def test_new_content_appears_only_when_the_block_completes(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")

    with atomic_write(path) as file:
        file.write(b"new")
        assert path.read_bytes() == b"old"

    assert path.read_bytes() == b"new"
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]


@pytest.mark.parametrize("interruption", [ValueError, KeyboardInterrupt])
def test_on_an_exception_the_old_file_is_unchanged_and_no_temporary_remains(tmp_path, interruption):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")

    with pytest.raises(interruption):
        with atomic_write(path) as file:
            file.write(b"half of the new")
            raise interruption

    assert path.read_bytes() == b"old"
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]


def test_the_temporary_file_is_beside_the_target_and_missing_folders_are_created(tmp_path):
    path = tmp_path / "new" / "folder" / "model.npz"

    with atomic_write(path) as file:
        [temporary] = path.parent.iterdir()  # the same folder: os.replace is a rename
        file.write(b"data")

    assert temporary.name.startswith("model.npz.") and temporary.name.endswith(".part")
    assert [entry.name for entry in path.parent.iterdir()] == ["model.npz"]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path):
    (tmp_path / "model.npz").mkdir()  # a folder where the file should go: os.replace fails

    with pytest.raises(OSError):
        with atomic_write(tmp_path / "model.npz") as file:
            file.write(b"data")

    assert [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]


def test_np_savez_through_atomic_write_round_trips(tmp_path):
    arrays = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros(3)}

    with atomic_write(tmp_path / "model.npz") as file:
        np.savez(file, **arrays)

    with np.load(tmp_path / "model.npz") as loaded:
        assert {name: loaded[name].tolist() for name in loaded} == {
            name: array.tolist() for name, array in arrays.items()}
