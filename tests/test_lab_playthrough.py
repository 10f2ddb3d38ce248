"""The whole lab, played as an attendee plays it: the README's lab blocks in order, against the
emulator on 127.0.0.1, with `workshop check` after every step and one common mistake per step.

After step N the check must report steps 1 to N done and step N+1 not done; each mistake must
make it name what is wrong, and undoing the mistake must make the step done again.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dvc_workshop.lab.actions.solution import lab_blocks
from dvc_workshop.lab.model.emulator import Emulator
from dvc_workshop.lab.steps.registry import STEPS as REGISTRY

from .conftest import REPO_ROOT, copy_repo, pipenv_env, sample_emulator

pytestmark = [pytest.mark.slow, pytest.mark.deep]  # the whole lab in one chain (minutes): pytest -m deep

README = REPO_ROOT / "README.md"
STEPS = len(REGISTRY)


def attendee_env(home: Path, emulator: Emulator) -> dict[str, str]:
    """An attendee's `pipenv shell`, opened while the emulator runs: this environment first on
    PATH, the emulator's settings (from `.env`), a home whose git config has their identity."""
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Attendee\n\temail = ada@example.com\n")
    return {**pipenv_env(home), **emulator.environment()}


def bash(code: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, f"failed in {cwd}:\n{code}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def check(lab: Path, env: dict[str, str]) -> tuple[dict[int, bool], str]:
    """`workshop check`'s verdict per step, and its closing message (exit 0: all done, 1: not)."""
    result = subprocess.run(
        ["workshop", "check"], cwd=lab, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == (0 if "Every step is done" in output else 1), output
    done = {
        int(number): state == "done"
        for number, state in re.findall(r"^\s*(\d+)\s.*?\s(done|not done|not checked)$", output, re.M)
    }
    assert sorted(done) == list(range(1, STEPS + 1)), output
    return done, output


def assert_reached(lab: Path, env: dict[str, str], step: int) -> None:
    done, output = check(lab, env)
    assert all(done[n] for n in range(1, step + 1)), f"after step {step}:\n{output}"
    assert step == STEPS or not done[step + 1], f"after step {step}:\n{output}"


def assert_names(lab: Path, env: dict[str, str], step: int, message: str) -> None:
    _, output = check(lab, env)
    assert f"Step {step}: " in output and message in output, output


def test_the_whole_lab_with_a_mistake_per_step(tmp_path: Path) -> None:
    with sample_emulator(tmp_path) as emulator:
        play(tmp_path, attendee_env(tmp_path / "home", emulator))


def play(tmp_path: Path, env: dict[str, str]) -> None:
    reference = copy_repo(tmp_path / "dvc-workshop")
    (start,) = re.findall(r"```bash lab-start\n(.*?)```", README.read_text(), flags=re.S)
    bash(start, reference, env)
    lab, teammate = tmp_path / "my-lab", tmp_path / "my-lab-teammate"

    def sh(code: str, cwd: Path = lab, **extra: str) -> str:
        return bash(code, cwd, {**env, **extra})

    mistakes: dict[int, Callable[[], None]] = {
        1: lambda: no_git_identity(lab, env, tmp_path / "new-laptop"),
        2: lambda: [
            mistake(lab, env, sh) for mistake in (wrong_default_remote, remote_misnamed, remote_not_default)
        ],
        3: lambda: (stage_typo(lab, env, sh), missing_source_dependency(lab, env, sh), reset_3(lab, env, sh)),
        4: lambda: (
            uncommitted_lock(lab, env, sh),
            standardize_float64(lab, env),
            reset_and_redo(lab, env, sh),
        ),
        5: lambda: (missing_dependency(lab, env, sh), ignored_metrics(lab, env, sh)),
        6: lambda: checkout_without_dvc_checkout(lab, env, sh),
        8: lambda: uncommitted_dvc_file(lab, env, sh),
        9: lambda: experiments_only_git_pushed(lab, env, sh),
        11: lambda: merge_not_pushed(lab, env, sh),
        12: lambda: update_not_committed(lab, env, sh),
    }
    for step in range(1, STEPS + 1):
        if step == 3:
            overlapping_dvc_add(lab, env, sh)
        outputs = [sh(block) for block in lab_blocks(README, step)]
        if step == 7:  # the forgotten push, seen from the teammate's clone (the README's block)
            assert "dvc pull failed, as expected" in outputs[1], outputs[1]
            assert "Step 5: " in outputs[1] and "forgot dvc push" in outputs[1], outputs[1]
            failed = re.search(
                r"Checkout failed for following targets:\n(.*?)\nIs your cache", outputs[1], re.S
            )
            listed = set(failed.group(1).split()) if failed else set()  # what dvc pull could not bring
            said = re.search(r"Step 5: (\d+) files? that dvc.lock names", outputs[1])
            assert said and int(said.group(1)) == len(listed) > 0, outputs[1]  # the same count as DVC's
        assert_reached(lab, env, step)
        if step in mistakes:
            mistakes[step]()
            assert_reached(lab, env, step)
    assert "Every step is done" in check(lab, env)[1]
    assert (teammate / "my-digits").is_dir()  # the teammate pulled step 8's data in step 9


def no_git_identity(lab: Path, env: dict[str, str], home: Path) -> None:
    home.mkdir()
    assert_names(lab, {**env, "HOME": str(home)}, 1, "git has no user.name")


def wrong_default_remote(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("dvc remote add -d -f dvc-workshop gs://dvc-workshop-cache")
    problem = "the default remote is gs://dvc-workshop-cache (dvc-workshop), not the cache bucket's folder"
    assert_names(lab, env, 2, f"{problem} for you gs://dvc-workshop-cache/ada")
    sh("git checkout .dvc/config && dvc remote add --local -d mine gs://dvc-workshop-cache/ada")
    problem = "the remote is in .dvc/config.local, which git ignores: a teammate's clone would not have it"
    fixed_by_its_hint(lab, env, sh, 2, problem)
    sh("git checkout .dvc/config && rm -f .dvc/config.local")


def fixed_by_its_hint(
    lab: Path, env: dict[str, str], sh: Callable[..., str], step: int, problem: str
) -> None:
    """The check names `problem` in these very words, and its hint, run as printed, ends it."""
    _, output = check(lab, env)
    line = f"Step {step}: {problem}"
    assert line in output.splitlines(), output
    sh(output.split("\nHint: ", 1)[1].strip())
    _, after = check(lab, env)
    assert line not in after.splitlines(), after


def remote_misnamed(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("dvc remote rename dvc-workshop myremote")
    fixed_by_its_hint(
        lab, env, sh, 2, "the default remote is named myremote; the lab's commands call it dvc-workshop"
    )
    sh("git checkout .dvc/config")  # DVC may write the renamed sections in another order


def remote_not_default(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("dvc remote default --unset")
    fixed_by_its_hint(
        lab, env, sh, 2, "no default DVC remote (there is dvc-workshop: gs://dvc-workshop-cache/ada)"
    )
    sh("git checkout .dvc/config")


def stage_typo(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("sed -i 's/^  download_mnist:/  dowload_mnist:/' dvc.yaml")
    fixed_by_its_hint(
        lab, env, sh, 3, "dvc.yaml has no stage download_mnist, but a stage dowload_mnist: a typo?"
    )


def missing_source_dependency(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """Found before any `dvc repro` or commit: the stage in dvc.yaml is enough to see it."""
    sh("sed -i '/- ${download_mnist.source}$/d' dvc.yaml")
    problem = (
        "stage download_mnist does not list ${download_mnist.source} as a dependency: "
        "a change to it would not rerun the stage"
    )
    fixed_by_its_hint(lab, env, sh, 3, problem)  # a whole dvc stage add -f line
    assert "${download_mnist.source}" in (lab / "dvc.yaml").read_text()
    sh("git checkout dvc.yaml")  # the README's order of dependencies, as dvc.lock has it


def standardize_float64(lab: Path, env: dict[str, str]) -> None:
    exercise = lab / "dvc_workshop/ml/transforms.py"
    answer = exercise.read_text()
    right = "return (images.astype(np.float32) - np.float32(mean)) / np.float32(std)"  # the README's
    exercise.write_text(answer.replace(right, "return (images - mean) / std"))
    assert_names(lab, env, 4, "standardize gives the right values as float64: return float32")
    exercise.write_text(answer)


def reset_and_redo(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """`workshop reset 4` puts step 4 back (an uncommitted edit saved in git stash, not lost), the
    steps before it untouched; `workshop solution 4` then does it again."""
    exercise = lab / "dvc_workshop/ml/transforms.py"
    edited = exercise.read_text() + "# my note\n"
    exercise.write_text(edited)
    reset = sh("workshop reset 4")
    assert "dvc_workshop/ml/transforms.py are in git stash list" in reset, reset
    assert "raise NotImplementedError" in exercise.read_text()
    assert_names(lab, env, 4, "standardize in dvc_workshop/ml/transforms.py is not written yet")
    done, _ = check(lab, env)
    assert all(done[n] for n in (1, 2, 3)), done
    assert "before workshop reset 4" in sh("git stash list")
    sh("workshop solution 4")
    assert_reached(lab, env, 4)
    sh("git stash pop")  # the note comes back
    assert exercise.read_text().endswith("# my note\n")
    sh("git checkout dvc_workshop/ml/transforms.py")


def reset_3(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """A stage with `${...}` in it, which `dvc remove` refuses: reset takes it out all the same,
    the raw source back to the sample, and `workshop solution 3` does the step again."""
    reset = sh("workshop reset 3")
    assert "Committed as 'Reset lab step 3'" in reset, reset
    assert (
        "download_mnist" not in (lab / "dvc.yaml").read_text()
        and "sample" in (lab / "params.yaml").read_text()
    )
    assert not (lab / "data/download_mnist/.gitignore").exists()
    assert_names(lab, env, 3, "download_mnist.source in params.yaml is sources/mnist-sample.yaml")
    sh("workshop solution 3")
    assert_reached(lab, env, 3)


def overlapping_dvc_add(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """Run the script by hand and `dvc add` its output: then the stage's outputs overlap."""
    sh("python -m dvc_workshop.pipeline.download_mnist --images-dir data/download_mnist/Images "
       "--labels data/download_mnist/labels.csv && dvc add data/download_mnist")  # fmt: skip
    assert_names(
        lab, env, 3, "data/download_mnist.dvc tracks data/download_mnist, where stage download_mnist"
    )
    sh("dvc remove data/download_mnist.dvc && rm -rf data")


def uncommitted_lock(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("sed -i 's/^  max_rotation: 10.0/  max_rotation: 5.0/' params.yaml && dvc repro")
    assert_names(lab, env, 4, "params.yaml has changes that are not committed (stage preprocess)")
    sh("git checkout params.yaml dvc.lock && dvc checkout")


def missing_dependency(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    yaml_text = (lab / "dvc.yaml").read_text()
    (lab / "dvc.yaml").write_text(yaml_text.replace("    - dvc_workshop/ml/model.py\n", "", 1))
    assert_names(lab, env, 5, "stage train does not list dvc_workshop/ml/model.py as a dependency")
    sh("git checkout dvc.yaml")


def ignored_metrics(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """`-o reports/metrics.json` first, then `-M`: the .gitignore line DVC wrote for -o stays, so
    git would not commit the metrics. The check says so, and its hint, run as printed, fixes it."""
    sh("echo /metrics.json >> reports/.gitignore && git rm -q --cached reports/metrics.json && "
       "git commit -qam 'Metrics gone from git'")  # fmt: skip
    _, output = check(lab, env)
    assert "Step 5: reports/metrics.json is git-ignored" in output, output
    sh(output.split("Hint: ", 1)[1].strip())
    assert_reached(lab, env, 5)


def checkout_without_dvc_checkout(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("git -c core.hooksPath=/dev/null checkout -q baseline && dvc checkout")
    _, output = check(lab, env)  # at whichever step is first not done there: the health line
    assert "HEAD is not on a branch (still at a tag?): it is at tag baseline" in output, output
    sh("git -c core.hooksPath=/dev/null checkout -q main")  # back on main, the tag's data left here
    assert_names(lab, env, 5, "are not the outputs dvc.lock records (a git checkout without dvc checkout?)")
    sh("dvc checkout")


def uncommitted_dvc_file(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    sh("mkdir more-digits && cp my-digits/test/0000*.png more-digits && dvc add more-digits")
    assert_names(lab, env, 8, "more-digits.dvc has changes that are not committed")
    sh("dvc remove more-digits.dvc && rm -rf more-digits && git checkout .gitignore")


def experiments_only_git_pushed(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    origin = lab.parent / "my-lab-origin.git"
    refs = sh(f"git -C {origin} for-each-ref --format='%(refname)' refs/exps").split()
    sh(" && ".join(f"git -C {origin} update-ref -d {ref}" for ref in refs))
    sh("git push origin main")
    assert_names(lab, env, 9, "no experiment in origin: git push does not send experiments")
    sh("dvc exp push origin dropout-04")


def merge_not_pushed(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """The merge committed but never pushed (origin's main as it was before the merge): the check
    says so, and its hint, run as printed, pushes it."""
    origin = lab.parent / "my-lab-origin.git"
    sh(f"git -C {origin} update-ref refs/heads/main $(git rev-parse HEAD^2)")
    fixed_by_its_hint(lab, env, sh, 11, "your main is not in origin: the teammate cannot pull the merge")


def update_not_committed(lab: Path, env: dict[str, str], sh: Callable[..., str]) -> None:
    """`dvc update` run in the second project, its .dvc file left uncommitted (the last commit
    taken back): the check names the file there, and its hint, run as printed, commits it."""
    sh("git -C ../my-lab-report reset -q --soft HEAD~1")
    fixed_by_its_hint(lab, env, sh, 12, "../my-lab-report/my-digits.dvc has changes not committed there")
