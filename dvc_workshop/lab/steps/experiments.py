"""Lab step 9: a grid of experiments run and its best applied and committed (grid.py), experiments
run, one kept as a branch, one pushed to origin (`dvc exp push`), the queue empty, and the
teammate's clone with an experiment pulled."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.mechanisms.entry import Reset, Step, explanations
from dvc_workshop.lab.mechanisms.grid import GRID_SIZE, applied, best, grid
from dvc_workshop.lab.mechanisms.versions_kept import Version, check_versions_kept
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.steps.teammate import STEP as TEAMMATE

BUSY = ("Queued", "Running")  # dvc queue status: not done yet
QUEUE_FOLDER = ".dvc/tmp/exps/celery"  # where DVC keeps its queue, from the first `dvc exp run --queue` on
FIRST = "dvc exp run -n dropout-04 -S train.dropout=0.4"  # the README's experiment in the workspace
GRID = "dvc exp run --queue -S 'train.learning_rate=0.002,0.003,0.01' && dvc exp run --run-all -j 1"
LEARNING_RATES = (0.002, 0.003, 0.01, 0.005)  # the README's grid, and one more where one is the workspace's


def experiments(lab: Lab, where: str = "") -> list[str]:
    """The experiments' names, here or (where="origin") in origin."""
    refs = (
        lab.git_output("ls-remote", "origin", "refs/exps/*").split()[1::2]
        if where
        else lab.git_output("for-each-ref", "--format=%(refname)", "refs/exps").split()
    )
    return sorted({ref.rsplit("/", 1)[-1] for ref in refs if ref.count("/") >= 4})


def shared(lab: Lab) -> list[Version]:
    """The experiments here that origin has too: versions a teammate pulls by name."""
    pushed = set(experiments(lab, "origin"))
    refs = lab.git_output("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps").splitlines()
    return [Version(f"experiment {name}", commit, f"dvc exp push origin {name}")
            for ref, commit in (line.split() for line in refs) if ref.count("/") >= 4
            and (name := ref.rsplit("/", 1)[-1]) in pushed]  # fmt: skip


def check(lab: Lab) -> None:
    here, pushed = experiments(lab), experiments(lab, "origin")
    readme_first = FIRST.split()[4]  # dropout-04: the README's, where the attendee has it
    here, pushed = (sorted(names, key=lambda name: name != readme_first) for names in (here, pushed))
    queued = (lab.root / QUEUE_FOLDER).is_dir()  # DVC's queue answers in a third of a second: once used
    running = (
        [entry["name"] or entry["rev"][:7] for entry in lab.dvc_state.queue() if entry["status"] in BUSY]
        if queued
        else []
    )
    if running:
        raise Problem(
            f"experiments are still queued or running: {', '.join(running)}",
            f"dvc exp run --run-all -j 1 runs the queue; if a worker died: dvc queue logs {running[0]}, "
            f"then dvc queue kill {running[0]}",
        )
    check_grid(lab)
    if not here and not pushed:
        raise Problem("no experiment in the workspace yet", FIRST)
    if not pushed:
        raise Problem(
            "no experiment in origin: git push does not send experiments", f"dvc exp push origin {here[0]}"
        )
    check_versions_kept(lab, shared(lab))
    branches = lab.git_output("for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    if len(branches) < 2:
        name = pushed[0]
        raise Problem("no experiment kept as a branch", f"dvc exp branch {name} {name}")
    teammate = lab.teammate
    if teammate is None or not experiments(teammate):
        clone_at = shlex.quote(lab.relative(TEAMMATE.folder_at(lab)))
        raise Problem(
            "the teammate has no experiment of yours",
            f"cd {clone_at} && git pull && dvc exp pull origin {pushed[0]}",
        )


def grid_here(lab: Lab) -> str:
    """The README's grid, of learning rates other than the one params.yaml has now (an experiment at
    the workspace's own value changes no parameter, so it counts for no grid)."""
    now = (lab.yaml_file("params.yaml").get("train") or {}).get("learning_rate")
    rates = [rate for rate in LEARNING_RATES if rate != now][:GRID_SIZE]
    return GRID.replace("0.002,0.003,0.01", ",".join(map(str, rates)))


def check_grid(lab: Lab) -> None:
    """A grid of GRID_SIZE or more values of one parameter, run, and its best applied and committed."""
    found = grid(lab)
    if found is None or len(found[1]) < GRID_SIZE:
        ran = f" (experiments of {found[0]}: {len(found[1])})" if found else ""
        raise Problem(
            f"no grid of {GRID_SIZE} experiments yet: one parameter at {GRID_SIZE} values{ran}",
            grid_here(lab),
        )
    key, members = found
    top = best(members)
    if top is None:
        raise Problem(f"the grid's experiments of {key} have no test accuracy", "dvc exp show --no-pager")
    if not applied(lab, key, top):
        value = top.changed[key]
        raise Problem(
            f"the grid's best, {top.name} ({key}={value}, test accuracy {top.accuracy}), is not applied "
            "and committed",
            f"dvc exp apply {top.name} && git commit -am {shlex.quote(f'{key}={value}, from {top.name}')}",
        )


def undo(lab: Lab) -> Iterator[str]:
    """The local experiments removed, once origin has them all; its line for reset to say."""
    if set(experiments(lab)) - set(experiments(lab, "origin")):
        missing = sorted(set(experiments(lab)) - set(experiments(lab, "origin")))
        raise WorkshopError(f"experiments not in origin: dvc exp push origin {' '.join(missing)} first")
    for clone in (lab, lab.teammate):
        if clone and experiments(clone):
            clone.run_or_fail("dvc", "exp", "remove", "--all-commits")
    kept = experiments(lab, "origin")
    back = f": dvc exp pull origin {kept[0]} brings {kept[0]} back" if kept else ""
    yield f"Removed the local experiments (origin keeps them{back})."


STEP = Step(
    "Experiments, shared",
    check,
    explanations(
        f"a grid: {GRID}; then dvc exp show --no-pager --sort-by test.accuracy --sort-order desc puts "
        "the best first, and dvc exp apply with its name brings it into the workspace, to commit",
        f"{FIRST} runs one in the workspace; dvc exp show --no-pager lists them",
        "git push sends no experiment: dvc exp push origin dropout-04 does; "
        "dvc exp branch dropout-04 dropout-04 "
        "keeps it as a branch",
        "in the teammate's clone: git pull, then dvc exp pull origin dropout-04",
    ),
    Reset(undo=undo),
)
