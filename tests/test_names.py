"""An attendee's name in the room, from any alphabet: folded to plain letters (Zoë Müller is
zoe), and a --name that folding would fix is refused with the folded one to type; and the values
a hint names for the attendee's own lab (step 9's grid)."""

from __future__ import annotations

import pytest

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model.lab import Lab, name_from
from dvc_workshop.lab.model.storage import check_name
from dvc_workshop.lab.steps.experiments import grid_here


@pytest.mark.parametrize(
    ("user_name", "name"),
    [
        ("Zoë Müller", "zoe"),
        ("José García", "jose"),
        ("Łukasz", "lukasz"),
        ("jean-luc", "jean-luc"),
        ("Li", "li"),
    ],
)
def test_a_git_name_from_any_alphabet_gives_a_room_name(user_name: str, name: str) -> None:
    assert name_from(user_name) == name


@pytest.mark.parametrize(("given", "typed"), [("zoë", "zoe"), ("Zoë", "zoe"), ("straße", "strasse")])
def test_a_name_with_accents_is_refused_with_the_one_to_type(given: str, typed: str) -> None:
    with pytest.raises(WorkshopError) as refused:
        check_name(given)
    assert str(refused.value).endswith(f"--name {typed}")
    assert check_name(typed) == typed


def test_a_name_in_capitals_is_still_told_it_is_case_sensitive() -> None:
    with pytest.raises(WorkshopError, match="--name ada .folders are case-sensitive"):
        check_name("Ada")


def test_a_git_name_with_nothing_to_fold_takes_the_email_or_none() -> None:
    """李雷 has no letter a-z: the email's first part names the folder; with neither, start asks."""
    assert name_from("李雷", "lei.li@example.com") == "leili"
    assert name_from("李雷", "李@example.com") is None


@pytest.mark.parametrize(("rate", "grid"), [(0.001, "0.002,0.003,0.01"), (0.01, "0.002,0.003,0.005")])
def test_the_grid_hint_leaves_out_the_workspaces_own_value(tmp_path, rate: float, grid: str) -> None:
    """Step 9's hint: an experiment at the learning rate params.yaml has now changes nothing, so it
    would make no grid (the hint then came back forever): the hint's values leave it out."""
    (tmp_path / "params.yaml").write_text(f"train:\n  learning_rate: {rate}\n")
    assert f"-S 'train.learning_rate={grid}'" in grid_here(Lab(tmp_path))
