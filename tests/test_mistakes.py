"""A corpus of natural mistakes, one lab step at a time: for each, `workshop check` names it (the
problem line), and the hint it prints, run as printed (again for each problem that follows, as
an attendee would), reaches the step; or, where the hint explains instead of commanding, `workshop
reset N` then `workshop solution N` does.

The lab is finn's, in a folder named finn-lab (neither the README's ada nor its my-lab): played
once with `solution`, copied after each step, and each mistake made in a copy of the step before.
Real DVC, real git, the emulator on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dvc_workshop.lab.steps.registry import STEPS

from .conftest import WORKSHOP, sample_emulator

pytestmark = pytest.mark.slow
LAB = "finn-lab"
FOLDERS = (LAB, f"{LAB}-origin.git", f"{LAB}-teammate")
# The answer to step 5's stages (README), with one part to change per mistake.
TRAIN = ("dvc stage add -f -n train -p train -d dvc_workshop/pipeline/train.py -d dvc_workshop/ml/model.py "
         "-d dvc_workshop/data -d dvc_workshop/params.py -d dvc_workshop/cli.py -d data/preprocess "
         "-o models/model.keras -o dvclive/plots -o dvclive/metrics.json python -m dvc_workshop.pipeline.train "
         "--data-dir data/preprocess --model models/model.keras --live-dir dvclive")  # fmt: skip
EVALUATE = ("dvc stage add -f -n evaluate -d dvc_workshop/pipeline/evaluate.py -d dvc_workshop/ml/metrics.py "
            "-d dvc_workshop/data -d dvc_workshop/cli.py -d models/model.keras -d data/preprocess "
            "-o reports/predictions.csv -o reports/per_class.csv -o reports/misclassified.png "
            "-M reports/metrics.json python -m dvc_workshop.pipeline.evaluate --model models/model.keras "
            "--data-dir data/preprocess --metrics reports/metrics.json --predictions reports/predictions.csv "
            "--per-class reports/per_class.csv --mistakes reports/misclassified.png")  # fmt: skip
DOWNLOAD = ("dvc stage add -f -n download_mnist -p download_mnist -d '${download_mnist.source}' "
            "-d dvc_workshop/pipeline/download_mnist.py -d dvc_workshop/data -d dvc_workshop/params.py "
            "-d dvc_workshop/cli.py -o data/download_mnist/Images -o data/download_mnist/labels.csv "
            "python -m dvc_workshop.pipeline.download_mnist --images-dir data/download_mnist/Images "
            "--labels data/download_mnist/labels.csv")  # fmt: skip
SOURCE = "sed -i 's#^  source: .*#  source: gs://dvc-workshop-raw/mnist#' params.yaml"


@dataclass(frozen=True)
class Mistake:
    step: int  # made in a lab at the end of step - 1; the check must then stop at `step`
    commands: str  # what the attendee typed (bash, in the lab)
    problem: str  # what the check's "Step N:" line must say
    fix: str = "hint"  # "hint": its hints, run as printed, reach the step; "reset": reset N, solution N
    at: int | None = None  # where the check stops, if an earlier step than `step` (the mistake undid it)
    deep: bool = False  # a long chain of trainings: run on demand (pytest -m deep), not in every run

    @property
    def stops_at(self) -> int:
        return self.at or self.step


UNZIP = "python -m zipfile -e data/download_mnist/Images/test-00.zip my-digits"
PIPFILE_ADD = ("awk '{ print } /^\\[dev-packages\\]$/ { print \"pre-commit = \\\"*\\\"\"; print \"ruff = \\\"*\\\"\" }' "
               "Pipfile > Pipfile.new && mv Pipfile.new Pipfile")  # fmt: skip
# Step 9's grid, of short trainings (the check takes a grid of any one parameter), and its best applied.
EPOCHS_GRID = "dvc exp run -q --queue -S 'train.epochs=1,2,3' && dvc exp run --run-all -j 1 >/dev/null 2>&1"
APPLY_BEST = ("best=$(dvc exp show --csv --sort-by test.accuracy --sort-order desc --drop '.*' --keep "
              "'Experiment|test.accuracy' | awk -F, 'NR > 1 && $1 != \"\" { print $1; exit }') && "
              "dvc exp apply $best && git commit -qam best")  # fmt: skip
CACHE = "gs://dvc-workshop-cache"
# Step 11's two changes (README): the teammate's, pushed, and mine, committed; then git pull conflicts.
TEAMMATE = (f"cd ../{LAB}-teammate && sed -i 's/^  dense_units: 256/  dense_units: 128/' params.yaml && dvc repro && "
            f"git commit -qam 'Dense units 128' && dvc push -q && git push -q && cd ../{LAB}")  # fmt: skip
DROPOUT = "sed -i 's/^  dropout: 0.2$/  dropout: 0.25/' params.yaml"
CONFLICT = (f"{TEAMMATE} && {DROPOUT} && dvc repro && git commit -qam 'Dropout 0.25' && "
            "(git pull -q --no-rebase --no-edit || true)")  # fmt: skip
# Step 12 (README): a second project beside the lab, my-digits imported from origin; then the lab's new version.
REPORT = f"git init -q ../{LAB}-report && cd ../{LAB}-report && dvc init -q && git commit -qm 'A project of its own'"
IMPORTED = (f"{REPORT} && dvc import -q ../{LAB}-origin.git my-digits && git add my-digits.dvc .gitignore && "
            f"git commit -qm 'Import my-digits' && cd ../{LAB}")  # fmt: skip
FEWER = "rm my-digits/test/0000?.png && dvc add -q my-digits && git commit -qm 'Ten fewer' my-digits.dvc && dvc push -q"
MISTAKES = {
    # Step 1: the Pipfile's exercise (its two dev packages, added by hand; nothing re-locked).
    "a dev package pinned": Mistake(
        1, PIPFILE_ADD.replace("*", "==0.8.0", 2).replace("==0.8.0", "*", 1) + " && git commit -qm Pipfile Pipfile",
        'Pipfile\'s ruff is "==0.8.0" under [dev-packages]; the lock was made with "*"'),
    "a dev package under [packages]": Mistake(
        1, PIPFILE_ADD.replace("dev-packages", "packages"),
        "Pipfile has no pre-commit under [dev-packages] (it is under [packages])"),
    "the lock re-locked": Mistake(
        1, "workshop solution 1 >/dev/null && python -c \"import json; d = json.load(open('Pipfile.lock')); "
        "d['develop']['ruff']['version'] = '==0.0.1'; json.dump(d, open('Pipfile.lock', 'w'), indent=4)\"",
        "Pipfile.lock was re-locked (1 version moved, e.g. ruff"),
    # Step 2: the remote.
    "remote bucket typo": Mistake(
        2, "dvc remote add -d dvc-workshop gs://dvc-workshop-cahce/finn",
        "the default remote is gs://dvc-workshop-cahce/finn (dvc-workshop), not the cache bucket's folder "
        f"for you {CACHE}/finn"),
    "the README's name, not mine": Mistake(
        2, f"dvc remote add -d dvc-workshop {CACHE}/ada && git commit -qam remote",
        f"not your folder {CACHE}/finn"),
    "remote without -d": Mistake(
        2, f"dvc remote add dvc-workshop {CACHE}/finn", f"no default DVC remote (there is dvc-workshop: {CACHE}/finn)"),
    "remote with --local": Mistake(
        2, f"dvc remote add --local -d dvc-workshop {CACHE}/finn", "the remote is in .dvc/config.local"),
    "remote not committed": Mistake(
        2, f"dvc remote add -d dvc-workshop {CACHE}/finn", ".dvc/config has changes that are not committed"),
    # Step 3: the download stage.
    "the source left on the sample": Mistake(
        3, f"{DOWNLOAD} && dvc repro", "download_mnist.source in params.yaml is sources/mnist-sample.yaml"),
    "an output path typo": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-o data/download_mnist/Images', '-o data/download_mnist/Image')}",
        "stage download_mnist declares data/download_mnist/Image, not data/download_mnist/Images (a typo?)"),
    "no -p": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-p download_mnist ', '')}",
        "stage download_mnist does not list its parameters (-p download_mnist)"),
    "a dependency that does not exist": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-d dvc_workshop/params.py', '-d dvc_workshop/param.py')}",
        "stage download_mnist lists dvc_workshop/param.py, not dvc_workshop/params.py (a typo?)"),
    "dvc.lock not committed": Mistake(
        3, f"{SOURCE} && {DOWNLOAD} && dvc repro && git add dvc.yaml params.yaml && git commit -qm stage",
        "dvc.lock has changes that are not committed"),
    "no dvc push after a change": Mistake(
        6, "git tag baseline && sed -i 's/^  epochs: 8/  epochs: 3/' params.yaml && dvc repro && "
        "git commit -qam 'Three epochs' && dvc install", "files not in the remote", at=5),
    "the outputs deleted": Mistake(
        3, f"{SOURCE} && {DOWNLOAD} && dvc repro && git add -A && git commit -qm s && dvc push && "
        "rm -rf data/download_mnist",
        "data/download_mnist/Images, data/download_mnist/labels.csv of download_mnist are not here (your cache "
        "has them)"),
    # Step 4: the exercise and the preprocess stage.
    "the exercise divides by the mean": Mistake(
        4, "sed -i 's#^    raise NotImplementedError.*#    return ((images - mean) / mean).astype(np.float32)#' "
        "dvc_workshop/ml/transforms.py", "standardize gives wrong values", fix="reset"),
    "the exercise's file not a dependency": Mistake(
        4, "workshop solution 4 >/dev/null && sed -i '/- dvc_workshop\\/ml\\/transforms.py$/d' dvc.yaml",
        "stage preprocess does not list dvc_workshop/ml/transforms.py"),
    "transforms.py not committed": Mistake(
        4, "workshop solution 4 >/dev/null && echo '# mine' >> dvc_workshop/ml/transforms.py && dvc repro",
        "dvc_workshop/ml/transforms.py has changes that are not committed"),
    # Step 5: train and evaluate, written by the attendee.
    "models/ as the output": Mistake(
        5, f"{TRAIN.replace('-o models/model.keras', '-o models/')} && {EVALUATE} && dvc repro && git add -A && "
        "git commit -qm stages", "stage train declares models/, not models/model.keras, as an output"),
    "metrics with -o": Mistake(
        5, f"{TRAIN} && {EVALUATE.replace('-M reports', '-o reports')} && dvc repro",
        "stage evaluate declares reports/metrics.json with -o, not -M"),
    "a typo in the command": Mistake(
        5, f"{TRAIN.replace('--model models/model.keras', '--model models/model.kears')} && {EVALUATE}",
        "stage train runs its command with --model models/model.kears, not --model models/model.keras"),
    "train without -p train": Mistake(
        5, f"{TRAIN.replace('-p train ', '')} && {EVALUATE}", "stage train does not list its parameters (-p train)"),
    "training stopped with Ctrl+C": Mistake(
        5, f"{TRAIN} && {EVALUATE} && (timeout -s INT 12 dvc repro || true)", "has not run yet"),
    # Step 6: versions.
    "left on the tag": Mistake(
        6, "workshop solution 6 >/dev/null && git checkout -q baseline", "HEAD is not on a branch (still at a tag?)"),
    "a parameter changed without dvc repro": Mistake(
        6, "git tag baseline && sed -i 's/^  epochs: 8/  epochs: 4/' params.yaml && git commit -qam 'Four epochs'",
        "train changed since its last run", at=5),
    # Step 7: the teammate.
    "a copy instead of a clone": Mistake(
        7, f"cp -r ../{LAB} ../{LAB}-teammate", f"../{LAB}-teammate is not a clone of ../{LAB}-origin.git"),
    "the clone without dvc pull": Mistake(
        7, f"git push -q origin main && git clone -q ../{LAB}-origin.git ../{LAB}-teammate", f"in ../{LAB}-teammate: "),
    # Step 8: dvc add.
    "git add instead of dvc add": Mistake(
        8, f"{UNZIP} && git add my-digits && git commit -qm digits", "my-digits is tracked by git, not by DVC"),
    "the .gitignore left out": Mistake(
        8, f"{UNZIP} && dvc add my-digits && git add my-digits.dvc && git commit -qm digits",
        ".gitignore has changes that are not committed"),
    # Step 9: experiments.
    "experiments not pushed": Mistake(
        9, f"{EPOCHS_GRID} && {APPLY_BEST} && dvc exp run -n dropout-04 -S train.dropout=0.4 >/dev/null 2>&1 && "
        "git checkout params.yaml dvc.lock reports/metrics.json && dvc checkout && git push -q origin main",
        "no experiment in origin"),
    "the grid run, its best not applied": Mistake(
        9, EPOCHS_GRID, "the grid's best, "),
    # Step 10: housekeeping.
    "dvc gc keeping every commit": Mistake(10, "dvc gc -A -f", "objects the workspace does not use"),
    # Step 11: a teammate's change, merged (both changes made, then git pull stops on the conflict).
    "merge: committed with its conflict markers, past the hook": Mistake(  # dvc install's hook refuses them
        11, f"{CONFLICT} && git commit --no-verify -qam 'Merge'",
        "the last commit, a merge, has conflict markers in params.yaml, dvc.lock, reports/metrics.json", at=3),
    "merge: ours for everything, the teammate's change lost": Mistake(
        11, f"{CONFLICT} && git checkout --ours params.yaml dvc.lock reports/metrics.json && git add -u && "
        "git commit -q --no-edit && dvc push -q && git push -q origin main",
        "params.yaml lost a change in the merge: train.dense_units is 256"),
    "merge: resolved, but no dvc repro": Mistake(
        11, f"{CONFLICT} && git checkout --theirs params.yaml dvc.lock reports/metrics.json && {DROPOUT} && "
        "git add -u && git commit -q --no-edit",  # the teammate's dvc.lock names the teammate's outputs
        "models/model.keras of train are not in your cache (the remote has them)", at=5, deep=True),
    "merge: pulled before a change of my own": Mistake(
        11, f"{TEAMMATE} && git pull -q --no-rebase --no-edit && dvc pull -q && {DROPOUT} && dvc repro && "
        "git commit -qam 'Dropout 0.25' && git push -q origin main",
        "your main has the teammate's change", fix="reset", deep=True),
    # Step 12: data from another project, dvc import.
    "dvc get instead of dvc import": Mistake(
        12, f"{REPORT} && dvc get ../{LAB}-origin.git my-digits",
        f"../{LAB}-report/my-digits is there, but no .dvc file imports it (dvc get only downloads)"),
    "imported from the lab's own folder": Mistake(
        12, f"{REPORT} && dvc import -q ../{LAB} my-digits", f"imports from ../{LAB}, your lab's own folder",
        deep=True),
    "the new version not git pushed": Mistake(  # step 11 wants main in origin: it says so first
        12, f"{IMPORTED} && {FEWER} && dvc gc -q -w -f", "your main is not in origin", at=11, deep=True),
    "dvc update forgotten": Mistake(
        12, f"{IMPORTED} && {FEWER} && git push -q origin main && dvc gc -q -w -f",
        f"../{LAB}-report/my-digits.dvc pins my-digits at commit "),
}  # fmt: skip


def shell(commands: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-eo", "pipefail", "-c", commands], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def check(lab: Path, env: dict[str, str], step: int) -> tuple[bool, str]:
    """Whether steps 1 to `step` are done, and what the check printed."""
    result = subprocess.run([*WORKSHOP, "check", str(step)], cwd=lab, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    output = result.stdout + result.stderr
    assert "Traceback" not in output and result.returncode in (0, 1), output
    return result.returncode == 0, output


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory):
    """finn's lab after each step (0: just made), and the environment of finn's shell."""
    root = tmp_path_factory.mktemp("mistakes")
    with sample_emulator(root) as emulator:
        home = root / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = Finn Example\n\temail = finn@example.com\n")
        env = {**os.environ, "HOME": str(home), **emulator.environment()}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        for variable in ("GIT_CONFIG_GLOBAL", "PIPENV_ACTIVE"):
            env.pop(variable, None)
        play = root / "play"
        play.mkdir()
        started = subprocess.run([*WORKSHOP, "start", LAB], cwd=play, env=env, capture_output=True, text=True)
        assert "your name in it: finn" in started.stdout, started.stdout + started.stderr
        for step in range(0, len(STEPS)):  # the last step's is played by its mistakes
            if step >= 1:
                solved = subprocess.run([*WORKSHOP, "solution", str(step)], cwd=play / LAB, env=env, capture_output=True,
                                        text=True)  # fmt: skip
                assert solved.returncode == 0, solved.stdout[-3000:] + solved.stderr[-3000:]
            for folder in FOLDERS:
                if (play / folder).exists():
                    shutil.copytree(play / folder, root / f"after-{step}" / folder, symlinks=True)
        yield root, env


def lab_at(root: Path, step: int, case: str) -> Path:
    """A copy of finn's lab at the end of `step`, its origin and teammate's clone beside it."""
    place = root / re.sub(r"\W+", "-", case)
    shutil.copytree(root / f"after-{step}", place, symlinks=True)
    for folder in (LAB, f"{LAB}-teammate"):
        if (place / folder).exists():
            subprocess.run(["git", "remote", "set-url", "origin", str(place / f"{LAB}-origin.git")], cwd=place / folder,
                           check=True)  # fmt: skip
    return place / LAB


@pytest.mark.parametrize(
    "case", [pytest.param(case, marks=[pytest.mark.deep] if m.deep else []) for case, m in MISTAKES.items()]
)
def test_a_mistake_is_named_and_its_hint_reaches_the_step(snapshots, case: str) -> None:
    root, env = snapshots
    mistake = MISTAKES[case]
    lab = lab_at(root, mistake.step - 1, case)
    made = shell(mistake.commands, lab, env)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    done, output = check(lab, env, mistake.step)
    problem = re.search(rf"^Step {mistake.stops_at}: (.*)$", output, re.M)
    assert not done and problem and mistake.problem in problem.group(1), output
    print(f"{case}: Step {mistake.stops_at}: {problem.group(1)}")
    if mistake.fix == "reset":
        for command in (f"reset {mistake.step}", f"solution {mistake.step}"):
            result = subprocess.run(
                [*WORKSHOP, *command.split()], cwd=lab, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert check(lab, env, mistake.step)[0]
        return
    seen = []
    while not done:  # each hint, run as printed, ends its problem; the next problem gets its own
        line = re.search(r"^Step \d+: (.*)$", output, re.M).group(0)
        assert line not in seen and len(seen) < 6, f"{seen}\n{output}"  # no loop
        seen.append(line)
        hint = output.split("\nHint: ", 1)[1].strip()
        ran = shell(hint, lab, env)
        assert ran.returncode == 0, f"{hint}\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}"
        print(f"    $ {hint[:150]}")
        done, output = check(lab, env, mistake.step)
