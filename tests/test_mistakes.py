"""A corpus of natural mistakes, one lab step at a time: for each, `workshop check` names it (the
problem line), and the hint it prints, run as printed (again for each problem that follows, as
an attendee would), reaches the step; or, where the hint explains instead of commanding, `workshop
reset N` then `workshop solution N` does.

The lab is finn's, in a folder named finn-lab (neither the README's ada nor its my-lab): played
once with `solution` (once per test session: conftest's `lab_play`), saved after each step, and
each mistake made in a copy of the step before, with the emulator's buckets as they were then,
served on 127.0.0.1 by an emulator of its own. Real DVC, real git. Every run plays about half of them,
one to five a step, one of each kind; the rest are `deep` (their fixes train several
times, or repeat a kind already kept): `pytest -m deep tests/test_mistakes.py` runs them.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import LAB, WORKSHOP

pytestmark = pytest.mark.slow
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
    fix: str = "hint"  # "hint": its hints, run as printed, reach the step; "reset": reset N, solution N;
    # "solution": solution N alone (it puts the step back itself where its answer stops on the lab's own work)
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
    "dvc init -f over the remote": Mistake(
        2, f"dvc remote add -d dvc-workshop {CACHE}/finn && git commit -qam remote && dvc init -f -q",
        "the last commit has ([core], ...; a dvc init -f?), and gained none"),
    # Step 3: the download stage.
    "the source left on the sample": Mistake(
        3, f"{DOWNLOAD} && dvc repro", "download_mnist.source in params.yaml is sources/mnist-sample.yaml", deep=True),
    "an output path typo": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-o data/download_mnist/Images', '-o data/download_mnist/Image')}",
        "stage download_mnist declares data/download_mnist/Image, not data/download_mnist/Images (a typo?)"),
    "no -p": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-p download_mnist ', '')}",
        "stage download_mnist does not list its parameters (-p download_mnist)", deep=True),
    "a dependency that does not exist": Mistake(
        3, f"{SOURCE} && {DOWNLOAD.replace('-d dvc_workshop/params.py', '-d dvc_workshop/param.py')}",
        "stage download_mnist lists dvc_workshop/param.py, not dvc_workshop/params.py (a typo?)", deep=True),
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
        "stage preprocess does not list dvc_workshop/ml/transforms.py", deep=True),
    "transforms.py not committed": Mistake(
        4, "workshop solution 4 >/dev/null && echo '# mine' >> dvc_workshop/ml/transforms.py && dvc repro",
        "dvc_workshop/ml/transforms.py has changes that are not committed", deep=True),
    "a preprocess stage of my own before the exercise, then the answer": Mistake(
        4, "dvc stage add -n preprocess -d dvc_workshop/pipeline/preprocess.py -o data/mine "
        "python -m dvc_workshop.pipeline.preprocess", "standardize in dvc_workshop/ml/transforms.py is not written",
        fix="solution"),
    # Step 5: train and evaluate, written by the attendee.
    "models/ as the output": Mistake(
        5, f"{TRAIN.replace('-o models/model.keras', '-o models/')} && {EVALUATE} && dvc repro && git add -A && "
        "git commit -qm stages", "stage train declares models/, not models/model.keras, as an output", deep=True),
    "metrics with -o": Mistake(
        5, f"{TRAIN} && {EVALUATE.replace('-M reports', '-o reports')} && dvc repro",
        "stage evaluate declares reports/metrics.json with -o, not -M", deep=True),
    "a typo in the command": Mistake(
        5, f"{TRAIN.replace('--model models/model.keras', '--model models/model.kears')} && {EVALUATE}",
        "stage train runs its command with --model models/model.kears, not --model models/model.keras", deep=True),
    "train without -p train": Mistake(
        5, f"{TRAIN.replace('-p train ', '')} && {EVALUATE}", "stage train does not list its parameters (-p train)", deep=True),
    "training stopped with Ctrl+C": Mistake(
        5, f"{TRAIN} && {EVALUATE} && (timeout -s INT 12 dvc repro || true)", "has not run yet", deep=True),
    "an output path typo, the failed run's files committed with git add -A": Mistake(
        5, f"{TRAIN.replace('-o models/model.keras', '-o model/model.keras')} && {EVALUATE} && "
        "(dvc repro >/dev/null 2>&1 || true) && git add -A && git commit -qm 'Train and evaluate'",
        "git tracks dvclive/metrics.json, dvclive/plots, models/model.keras, which DVC must track"),
    "the same, put right by reset and solution": Mistake(
        5, f"{TRAIN.replace('-o models/model.keras', '-o model/model.keras')} && {EVALUATE} && "
        "(dvc repro >/dev/null 2>&1 || true) && git add -A && git commit -qm 'Train and evaluate'",
        "git tracks dvclive/metrics.json, dvclive/plots, models/model.keras", fix="reset", deep=True),
    "a rebase left under way, put right by reset and solution": Mistake(
        5, f"{TRAIN} && {EVALUATE} && git checkout -q -b side && echo side >> README.md && git commit -qam side && "
        "git checkout -q main && echo mine >> README.md && git commit -qam mine && (git rebase side >/dev/null 2>&1 "
        "|| true)", "a rebase is under way (git pull --rebase?), stopped at a conflict in README.md", fix="reset"),
    # Step 6: versions.
    "the tag put on the change": Mistake(
        6, "sed -i 's/^  epochs: 8/  epochs: 5/' params.yaml && dvc repro && git commit -qam 'Five epochs' && "
        "git tag baseline && dvc install && dvc push -q", "tag baseline is on commit "),
    "the cache deleted before dvc push": Mistake(
        6, "git tag baseline && sed -i 's/^  epochs: 8/  epochs: 3/' params.yaml && dvc repro && "
        "git commit -qam 'Three epochs' && dvc install && rm -rf .dvc/cache",
        "of download_mnist are here, as dvc.lock records them, but not in your cache", at=3),
    "the tag put on the change itself": Mistake(
        6, "sed -i 's/^  epochs: 8/  epochs: 5/' params.yaml && dvc repro && git commit -qam 'Five epochs' && "
        "dvc push && git tag baseline", "tag baseline is on commit ", fix="reset"),
    "a misspelt tag": Mistake(
        6, "git tag basline && sed -i 's/^  epochs: 8/  epochs: 3/' params.yaml && dvc repro && "
        "git commit -qam 'Three epochs' && dvc install && dvc push -q", "tag basline is not baseline", deep=True),
    "the tag deleted after the change": Mistake(
        6, "git tag baseline && sed -i 's/^  epochs: 8/  epochs: 3/' params.yaml && dvc repro && "
        "git commit -qam 'Three epochs' && dvc install && dvc push -q && git tag -d baseline",
        "no tag baseline: the version before your change of parameters (commit "),
    "left on the tag": Mistake(
        6, "workshop solution 6 >/dev/null && git checkout -q baseline", "HEAD is not on a branch (still at a tag?)", deep=True),
    "a parameter changed without dvc repro": Mistake(
        6, "git tag baseline && sed -i 's/^  epochs: 8/  epochs: 4/' params.yaml && git commit -qam 'Four epochs'",
        "train changed since its last run", at=5, deep=True),
    # Step 7: the teammate.
    "a copy instead of a clone": Mistake(
        7, f"cp -r ../{LAB} ../{LAB}-teammate", f"../{LAB}-teammate is not a clone of ../{LAB}-origin.git", deep=True),
    "the clone without dvc pull": Mistake(
        7, f"git push -q origin main && git clone -q ../{LAB}-origin.git ../{LAB}-teammate", f"in ../{LAB}-teammate: "),
    # Step 8: dvc add.
    "git add instead of dvc add": Mistake(
        8, f"{UNZIP} && git add my-digits && git commit -qm digits", "my-digits is tracked by git, not by DVC"),
    "the .gitignore left out": Mistake(
        8, f"{UNZIP} && dvc add my-digits && git add my-digits.dvc && git commit -qm digits",
        ".gitignore has changes that are not committed", deep=True),
    # Step 9: experiments.
    "experiments not pushed": Mistake(
        9, f"{EPOCHS_GRID} && {APPLY_BEST} && dvc exp run -n dropout-04 -S train.dropout=0.4 >/dev/null 2>&1 && "
        "git checkout params.yaml dvc.lock reports/metrics.json && dvc checkout && git push -q origin main",
        "no experiment in origin", deep=True),
    "the grid run, its best not applied": Mistake(
        9, EPOCHS_GRID, "the grid's best, ", deep=True),
    # Step 10: housekeeping.
    "dvc gc keeping every commit": Mistake(10, "dvc gc -A -f", "objects the workspace does not use", deep=True),
    "dvc gc -c keeping only the workspace": Mistake(
        10, "dvc gc -q -w -c -f", "of tag baseline (a dvc gc -c that kept only the workspace's?)", at=6),
    # Step 11: a teammate's change, merged (both changes made, then git pull stops on the conflict).
    "merge: committed with its conflict markers, past the hook": Mistake(  # dvc install's hook refuses them
        11, f"{CONFLICT} && git commit --no-verify -qam 'Merge'",
        "the last commit, a merge, has conflict markers in params.yaml, dvc.lock, reports/metrics.json", at=3, deep=True),
    "merge: ours for everything, the teammate's change lost": Mistake(
        11, f"{CONFLICT} && git checkout --ours params.yaml dvc.lock reports/metrics.json && git add -u && "
        "git commit -q --no-edit && dvc push -q && git push -q origin main",
        "params.yaml lost a change in the merge: train.dense_units is 256"),
    "merge: resolved, but no dvc repro": Mistake(
        11, f"{CONFLICT} && git checkout --theirs params.yaml dvc.lock reports/metrics.json && {DROPOUT} && "
        "git add -u && git commit -q --no-edit",  # the teammate's dvc.lock names the teammate's outputs
        "models/model.keras of train are not in your cache (the remote has them)", at=5, deep=True),
    "a rebase instead of the README's merge": Mistake(
        11, f"{TEAMMATE} && {DROPOUT} && dvc repro && git commit -qam 'Dropout 0.25' && dvc push -q && "
        "(git pull -q --rebase || true)",
        "a rebase is under way (git pull --rebase?), stopped at a conflict in ", deep=True),
    "merge: pulled before a change of my own": Mistake(
        11, f"{TEAMMATE} && git pull -q --no-rebase --no-edit && dvc pull -q && {DROPOUT} && dvc repro && "
        "git commit -qam 'Dropout 0.25' && git push -q origin main",
        "your main has the teammate's change", fix="reset", deep=True),
    # Step 12: data from another project, dvc import.
    "dvc get instead of dvc import": Mistake(
        12, f"{REPORT} && dvc get ../{LAB}-origin.git my-digits",
        f"../{LAB}-report/my-digits is there, but no .dvc file imports it (dvc get only downloads)", deep=True),
    "imported from the lab's own folder": Mistake(
        12, f"{REPORT} && dvc import -q ../{LAB} my-digits", f"imports from ../{LAB}, your lab's own folder",
        deep=True),
    "the new version not git pushed": Mistake(  # step 11 wants main in origin: it says so first
        12, f"{IMPORTED} && {FEWER} && dvc gc -q -w -f", "your main is not in origin", at=11, deep=True),
    "the digits deleted, no dvc add": Mistake(
        12, f"{IMPORTED} && rm my-digits/test/0000?.png",
        "my-digits has 10 of its files deleted since my-digits.dvc recorded it: dvc add records this version",
        at=8),
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


@pytest.mark.parametrize(
    "case", [pytest.param(case, marks=[pytest.mark.deep] if m.deep else []) for case, m in MISTAKES.items()]
)
def test_a_mistake_is_named_and_its_hint_reaches_the_step(lab_at, case: str) -> None:
    mistake = MISTAKES[case]
    lab, env = lab_at(mistake.step - 1)  # finn's lab at the end of the step before: a copy of its own
    made = shell(mistake.commands, lab, env)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    done, output = check(lab, env, mistake.step)
    problem = re.search(rf"^Step {mistake.stops_at}: (.*)$", output, re.M)
    assert not done and problem and mistake.problem in problem.group(1), output
    print(f"{case}: Step {mistake.stops_at}: {problem.group(1)}")
    if mistake.fix in ("reset", "solution"):
        commands = [f"solution {mistake.step}"]
        if mistake.fix == "reset":
            commands.insert(0, f"reset {mistake.step}")
        for command in commands:
            result = subprocess.run(
                [*WORKSHOP, *command.split()], cwd=lab, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert check(lab, env, mistake.step)[0]
        return
    seen = []
    while not done:  # each hint, run as printed, ends its problem; the next problem gets its own
        line = re.search(r"^Step \d+: (.*)$", output, re.M).group(0)
        assert line not in seen and len(seen) < 8, f"{seen}\n{output}"  # no loop, and no endless chain
        seen.append(line)
        hint = output.split("\nHint: ", 1)[1].strip()
        ran = shell(hint, lab, env)
        assert ran.returncode == 0, f"{hint}\n{ran.stdout[-2000:]}{ran.stderr[-2000:]}"
        print(f"    $ {hint[:150]}")
        done, output = check(lab, env, mistake.step)


def test_solution_of_a_step_under_later_ones_keeps_them(lab_at) -> None:
    """A step undone under later ones (step 6's tag deleted at step 8): its README answer would take
    the later steps back (another change of epochs, run and committed), so `solution 6` runs the
    check's hints from where the lab is instead, and steps 7 and 8 stay done."""
    lab, env = lab_at(8)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=lab, capture_output=True, text=True).stdout
    made = shell("git tag -d baseline", lab, env)
    assert made.returncode == 0, made.stderr
    done, output = check(lab, env, 8)
    assert not done and "Step 6: no tag baseline: the version before your change of parameters" in output, (
        output
    )
    solved = subprocess.run([*WORKSHOP, "solution", "6"], cwd=lab, env=env, capture_output=True, text=True)
    assert solved.returncode == 0, solved.stdout[-2000:] + solved.stderr[-2000:]
    assert "(Lab steps 7 to 8 are done on top of step 6's work" in solved.stdout, solved.stdout
    assert "$ git tag baseline " in solved.stdout, solved.stdout
    assert check(lab, env, 8)[0]
    after = subprocess.run(["git", "rev-parse", "HEAD"], cwd=lab, capture_output=True, text=True).stdout
    assert after == head  # no commit of the README's answer on top of steps 7 and 8


def test_a_check_in_the_teammates_clone_answers_for_the_lab(lab_at) -> None:
    """In the teammate's clone, `workshop check 4` (the README's, step 7) checks the clone's own
    pipeline; a plain `workshop check` answers for the lab it is a clone of, its hint run from there."""
    lab, env = lab_at(7)
    clone = lab.with_name(f"{LAB}-teammate")
    own = subprocess.run([*WORKSHOP, "check", "4"], cwd=clone, env=env, capture_output=True, text=True)
    assert own.returncode == 0 and "teammate's clone" not in own.stdout, own.stdout + own.stderr
    result = subprocess.run([*WORKSHOP, "check"], cwd=clone, env=env, capture_output=True, text=True)
    said = result.stdout
    assert f"({LAB}-teammate is a teammate's clone of {LAB}: this check answers for {LAB};" in said, said
    assert "Step 8: " in said and f"\nHint: cd ../{LAB} && " in said, said
