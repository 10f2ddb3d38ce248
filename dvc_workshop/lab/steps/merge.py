"""Lab step 11: a teammate's change and one of yours to params.yaml, merged by `git pull`: the
conflict in params.yaml, dvc.lock and the metrics resolved keeping both changes, `dvc repro` run,
the merge committed and pushed (git and DVC).

Read from the lab's history, not the README's values: a merge on main whose two sides both
changed params.yaml since the commit they grew from, one of them holding a commit made in the
teammate's clone (its reflog says which). How to finish a merge is `model/merge.py`'s, which
`Lab.yaml_file` also says wherever it meets conflict markers. Its reset moves main back in the lab,
origin and the clone (`mechanisms/rewind.py`), from where the step started.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.mechanisms.data_state import all_outputs, check_pushed, check_workspace
from dvc_workshop.lab.mechanisms.entry import Reset, Step
from dvc_workshop.lab.mechanisms.rewind import main_tips, rewind, start_before
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.merge import (
    Merge,
    commits_made_in,
    dotted_values,
    git_outputs,
    merge_problem,
    sed_command,
    text_at,
)
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.runner import Runner
from dvc_workshop.lab.steps.teammate import STEP as TEAMMATE
from dvc_workshop.lab.steps.teammate import check as check_teammate

# What a hint changes, with the values it chooses from (none trains longer): the teammate's
# parameter first, then yours, the next one not changed by the teammate.
CHANGES = {"train.dense_units": ("128", "64"), "train.dropout": ("0.25", "0.35"), "train.epochs": ("4", "3")}
PULL = "git pull --no-rebase --no-edit || git status --short"  # it stops on a conflict: say which files


def change(clone: Lab, avoid: set[str] | None = None) -> str:
    """Commands that change one parameter (not one of `avoid`) to a new value, run and commit it."""
    values = dotted_values(clone.yaml_file("params.yaml"))
    name = next((name for name in CHANGES if name not in (avoid or set())), "train.epochs")
    value, key = next(v for v in CHANGES[name] if str(values.get(name)) != v), name.partition(".")[2]
    message = shlex.quote(f"{key.replace('_', ' ').capitalize()} {value}")
    sed = f"sed -i.bak 's/^  {key}: [^ ]*/  {key}: {value}/' params.yaml && rm params.yaml.bak"
    return f"{sed} && dvc repro && git commit -am {message} && dvc push"


def step_merge(lab: Lab, made: set[str]) -> Merge | None:
    """The newest merge on main whose sides both changed params.yaml, one of them the teammate's."""
    for line in lab.git_output("rev-list", "--merges", "--parents", "HEAD").splitlines():
        merge = Merge(lab, *line.split()[1:3])
        sides = (merge.ours, merge.theirs)
        changed = [
            lab.completed("git", "diff", "--quiet", merge.base, side, "--", "params.yaml") for side in sides
        ]
        commits = set(lab.git_output("rev-list", *sides, f"^{merge.base}").split())  # the merge's own
        if all(result.returncode for result in changed) and made & commits:
            return merge
    return None


def ancestor(runner: Runner, commit: str, of: str) -> bool:
    return runner.completed("git", "merge-base", "--is-ancestor", commit, of).returncode == 0


def before_merge(lab: Lab, teammate: Lab, origin: Runner) -> Problem:
    """Where the step stands before its merge: the teammate's change, yours, then git pull."""
    clone, back = shlex.quote(lab.relative(teammate.root)), shlex.quote(teammate.relative(lab.root))

    def there(what: str, hint: str) -> Problem:  # the teammate's commands, typed in the lab
        return Problem(what, f"cd {clone} && {hint} && cd {back}")

    if problem := merge_problem(teammate):
        return there(f"in {clone}: {problem.what}", problem.hint or "")
    behind = not ancestor(teammate, origin.git_output("rev-parse", "main"), "HEAD")
    again = f"{'git pull --no-rebase --no-edit && dvc pull && ' if behind else ''}{change(teammate)}"
    made = commits_made_in(teammate)
    theirs = [
        c
        for c in teammate.git_output("rev-list", "--no-merges", "HEAD", "--", "params.yaml").split()
        if c in made
    ]
    if not theirs:
        if "params.yaml" in teammate.uncommitted:
            return there(
                f"in {clone}: params.yaml is changed, not committed",
                "dvc repro && git commit -am 'A change of the teammate' && dvc push && git push",
            )
        return there(f"the teammate has not changed params.yaml yet (in {clone})", f"{again} && git push")
    said = teammate.git_output("log", "-1", "--format=%h (%s)", theirs[0])
    if not ancestor(origin, theirs[0], "main"):
        if behind:  # git push would be refused: the teammate merges origin's newer commits first
            return there(
                f"in {clone}: the teammate's change {said} is not in origin, which has newer commits", PULL
            )
        return there(f"in {clone}: the teammate's change {said} is not in origin", "dvc push && git push")
    if ancestor(lab, theirs[0], "HEAD"):
        return there(
            f"your main has the teammate's change {said} but no merge of it (git pull fast-forwarded "
            "or rebased): once more, the teammate first",
            f"{again} && git push",
        )
    pushed = set(origin.git_output("rev-list", "main").split())
    if not [
        c
        for c in lab.git_output("rev-list", "--no-merges", "HEAD", "--", "params.yaml").split()
        if c not in pushed
    ]:
        avoid = set(Merge(teammate, f"{theirs[0]}^", theirs[0]).changes(theirs[0]))
        return Problem(
            f"origin has the teammate's change {said}, and your main no change of params.yaml to "
            "merge it with: make one before git pull",
            change(lab, avoid),
        )
    return Problem(f"origin has the teammate's change {said}, which your main has not merged", PULL)


def check(lab: Lab) -> None:
    teammate = lab.teammate
    if teammate is None or lab.origin is None:
        check_teammate(lab)  # says what the teammate's step lacks
        raise Problem("no teammate's clone", f"workshop check {TEAMMATE.number}")
    if problem := merge_problem(lab):
        raise problem
    origin = Runner(lab.origin)
    merge = step_merge(lab, commits_made_in(teammate))
    if merge is None:
        raise before_merge(lab, teammate, origin)
    now = dotted_values(lab.yaml_file("params.yaml", "HEAD"))
    if lost := merge.lost(now):
        name, (value, _, side) = next(iter(lost.items()))
        raise Problem(
            f"params.yaml lost a change in the merge: {name} is {now.get(name)}, {merge.subject(side)} made "
            f"it {value}",
            f"{sed_command(text_at(lab, 'HEAD'), lost)} && dvc repro && git commit -am 'Both changes of the "
            "merge' && dvc push && git push origin main",
        )
    for stage in lab.stages:
        check_workspace(lab, stage)
    check_pushed(lab, all_outputs(lab))
    pushed = origin.git_output("rev-parse", "main")
    if pushed != lab.git_output("rev-parse", "HEAD"):
        if ancestor(lab, pushed, "HEAD"):
            raise Problem(
                "your main is not in origin: the teammate cannot pull the merge", "git push origin main"
            )
        raise Problem("origin's main has commits your main lacks", f"{PULL} && dvc pull")


def hints(lab: Lab, problem: Problem | None) -> list[str]:
    return [
        f"the teammate's side, in {lab.relative(TEAMMATE.folder_at(lab))}: change a parameter of train "
        "(sed), dvc repro, git commit -am, dvc push, git push",
        "your side, in your lab: another parameter of train, on the line next to it; dvc repro, git commit "
        "-am, dvc push, then git pull --no-rebase --no-edit: CONFLICT in params.yaml, dvc.lock, the metrics",
        "params.yaml keeps both changes: git checkout --theirs params.yaml takes the teammate's, then your "
        "sed again; dvc.lock and the metrics: either side's (git checkout --theirs): dvc repro rewrites them",
        "then: dvc repro, git add params.yaml dvc.lock reports/metrics.json, git commit --no-edit, dvc push, "
        "git push origin main",
        f"lost in the merge? git merge --abort goes back to before git pull; workshop reset {STEP.number} to "
        "the step's start",
    ]


def undo(lab: Lab) -> Iterator[str]:
    """Main back where the step started, in the lab, origin and the clone (rewind.py); refused where
    main changed other files since (another step's work, which this would take back too)."""
    teammate, number, clone_step = lab.teammate, STEP.number, TEAMMATE.number
    if teammate is None or lab.origin is None:
        yield (
            f"No teammate's clone: step {number} has nothing to put back (workshop check {clone_step} says "
            f"what step {clone_step} needs)."
        )
        return
    tips = main_tips(lab, teammate)
    start = start_before(lab, list(tips.values()), commits_made_in(teammate))
    since = lab.git_output("log", "-1", "--format=%h (%s)", start)
    for tip in set(tips.values()):
        other = set(lab.git_output("diff", "--name-only", start, tip).split()) - {
            "params.yaml",
            *git_outputs(lab),
        }
        if other:
            raise WorkshopError(
                f"main changed {', '.join(sorted(other))} since {since}, where step {number} "
                f"started: another step's work, which reset {number} would take back too"
            )
    yield from rewind(lab, teammate, tips, start, number)


STEP = Step("A teammate's change, merged", check, hints, Reset(undo=undo))
