"""A git merge in a lab (lab step 11): its two sides, the parameters each changed since the commit
both grew from, and the commands that finish it keeping both changes, as DVC's guide has it
(dvc.org/doc/user-guide/how-to/merge-conflicts): params.yaml resolved by hand (here: one side's
file, with the other side's changes written into it by sed), dvc.lock and the metrics taken from
either side, since `dvc repro` writes them true again.

Read-only, like every reading of a lab: the commands are printed, never run. Nothing here reads
params.yaml or dvc.lock through `Lab.yaml_file`, which calls `merge_problem` on conflict markers.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cached_property

import yaml

from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.problem import Problem
from dvc_workshop.lab.model.runner import Runner

MARKER = re.compile(r"^<<<<<<< ", re.M)
ABSENT = object()  # a parameter one side does not have


def dotted_values(document: object, prefix: str = "") -> dict[str, object]:
    """A YAML document's values by their dotted names: {"train.dropout": 0.2, ...}."""
    if not isinstance(document, dict):
        return {prefix: document} if prefix else {}
    found: dict[str, object] = {}
    for key, value in document.items():
        found |= dotted_values(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    return found


def text_at(runner: Runner, revision: str, path: str = "params.yaml") -> str:
    return runner.git_output("show", f"{revision}:{path}")


def parsed(text: str) -> dict[str, object] | None:
    """params.yaml's values, or None where it has conflict markers, is not YAML, or has a key
    twice (both sides' lines kept: DVC refuses it, though PyYAML takes the last)."""
    if MARKER.search(text):
        return None
    try:
        return None if duplicate_key(yaml.compose(text)) else dotted_values(yaml_text.load(text) or {})
    except yaml.YAMLError:
        return None


def duplicate_key(node: yaml.Node | None) -> str | None:
    """A key that a mapping of this YAML document has twice."""
    if isinstance(node, yaml.MappingNode):
        keys = [key.value for key, _ in node.value]
        found = next((key for key in keys if keys.count(key) > 1), None)
        return found or next(filter(None, (duplicate_key(value) for _, value in node.value)), None)
    if isinstance(node, yaml.SequenceNode):
        return next(filter(None, map(duplicate_key, node.value)), None)
    return None


@dataclass
class Merge:
    """Two commits to merge (ours: the branch merged into) and the commit they both grew from."""

    runner: Runner
    ours: str
    theirs: str

    @cached_property
    def base(self) -> str:
        return self.runner.git_output("merge-base", self.ours, self.theirs)

    def changes(self, side: str) -> dict[str, tuple[object, str]]:
        """What `side` changed in params.yaml since the base: name -> (value, that side's file)."""
        text, base = text_at(self.runner, side), parsed(text_at(self.runner, self.base)) or {}
        values = parsed(text) or {}
        return {
            name: (values.get(name, ABSENT), text)
            for name in sorted(set(values) | set(base))
            if values.get(name, ABSENT) != base.get(name, ABSENT)
        }

    def lost(self, now: dict[str, object]) -> dict[str, tuple[object, str, str]]:
        """The changes `now` (params.yaml's values) lacks: name -> (value, its file, its commit).
        A parameter both sides changed keeps either value."""
        ours, theirs = self.changes(self.ours), self.changes(self.theirs)
        lost = {}
        for name in sorted(set(ours) | set(theirs)):
            values = [side[name][0] for side in (ours, theirs) if name in side]
            if now.get(name, ABSENT) not in values:
                value, text = (ours if name in ours else theirs)[name]
                lost[name] = (value, text, self.ours if name in ours else self.theirs)
        return lost

    def both_changed(self) -> dict[str, tuple[object, object]]:
        """The parameters both sides changed, to different values: name -> (ours, theirs)."""
        ours, theirs = self.changes(self.ours), self.changes(self.theirs)
        return {name: (ours[name][0], theirs[name][0]) for name in sorted(set(ours) & set(theirs))
                if ours[name][0] != theirs[name][0]}  # fmt: skip

    def subject(self, side: str) -> str:
        return self.runner.git_output("log", "-1", "--format=%h (%s)", side)


def line_of(text: str, name: str) -> str | None:
    """The one line that holds parameter `name` (section.key) in params.yaml's text, or None
    (a key nested deeper, or a value on several lines, which sed cannot set in one line)."""
    section, _, key = name.partition(".")
    if not key or "." in key:
        return None
    lines = [*text.splitlines(), ""]
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{section}:")), len(lines))
    for i in range(start + 1, len(lines) - 1):
        if lines[i][:1] not in ("", " ", "#"):
            return None  # the next section
        value = lines[i].split(":", 1)[1].strip() if lines[i].startswith(f"  {key}:") else "#"
        if not value.startswith("#"):  # a value on this line, not under it
            return None if lines[i + 1].startswith(("   ", "  -")) else lines[i]
    return None


def sed_command(current: str, lost: dict[str, tuple[object, str, str]]) -> str:
    """The command that writes each lost parameter's line (from the side that changed it) into
    params.yaml, GNU and BSD sed alike; a parameter sed cannot set is said in words."""
    expressions, by_hand = [], []
    for name, (value, text, _) in lost.items():
        line, key = line_of(text, name), name.partition(".")[2]
        if line is None or line_of(current, name) is None:
            by_hand.append(f"set {name} to {value} in params.yaml (an editor)")
            continue
        replacement = re.sub(r"[\\/&]", lambda found: f"\\{found.group()}", line)
        expression = f"s/^  {re.escape(key)}:.*/{replacement}/"
        if len(re.findall(rf"^  {re.escape(key)}:", current, re.M)) > 1:  # seed: in every section
            expression = f"/^{name.partition('.')[0]}:/,/^[^ #]/{expression}"
        expressions += ["-e", expression]
    sed = f"sed -i.bak {shlex.join(expressions)} params.yaml && rm params.yaml.bak" if expressions else ""
    return " && ".join(filter(None, [sed, *by_hand]))


def commits_made_in(clone: Runner) -> set[str]:
    """The commits made in a clone (git commit, a merge's commit), as its reflog records them."""
    lines = clone.git_output("log", "-g", "--format=%H %gs", "HEAD").splitlines()
    return {line.split(" ", 1)[0] for line in lines if line.partition(" ")[2].startswith("commit")}


def git_outputs(runner: Runner) -> list[str]:
    """dvc.lock and the outputs git keeps (metrics, `cache: false`): what `dvc repro` writes again."""
    try:
        stages = (yaml_text.load((runner.root / "dvc.yaml").read_text()) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        stages = {}
    outputs = ["dvc.lock"]
    for stage in stages.values() if isinstance(stages, dict) else []:
        for kind in ("outs", "metrics", "plots"):
            for entry in (stage or {}).get(kind, []) or []:
                if isinstance(entry, dict) and not (next(iter(entry.values())) or {}).get("cache", True):
                    outputs.append(str(next(iter(entry))))
    return outputs


def merge_problem(runner: Runner) -> Problem | None:
    """A merge not finished: in progress (MERGE_HEAD), or committed with conflict markers in it;
    its problem names the files and gives the commands that finish it keeping both changes."""
    in_progress = bool(runner.git_output("rev-parse", "-q", "--verify", "MERGE_HEAD"))
    parents = runner.git_output("rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    redone = ["params.yaml", *git_outputs(runner)]
    marked = runner.git_output("grep", "-l", "-E", "^<<<<<<< ", "--", ".").split()
    marked += runner.git_output(
        "grep", "-l", "-E", "^(=======|>>>>>>> .*)$", "--", *redone
    ).split()  # left over
    unmerged = runner.git_output("diff", "--name-only", "--diff-filter=U").split()
    if not in_progress and not (
        marked and len(parents) == 2 and runner.git_output("grep", "-l", "^<<<<<<< ", "HEAD")
    ):
        return None
    merge = Merge(runner, "HEAD", "MERGE_HEAD") if in_progress else Merge(runner, *parents)
    here = runner.root / "params.yaml"
    text = here.read_text() if here.exists() else ""
    try:
        doubled = duplicate_key(yaml.compose(text))  # markers deleted, both sides' lines kept
    except yaml.YAMLError:
        doubled = None
    take = [
        path for path in redone if path in marked or path in unmerged or (doubled and path == "params.yaml")
    ]
    by_hand = sorted(set(marked + unmerged) - set(redone))
    if take and in_progress and set(take) <= set(unmerged):
        commands = [f"git checkout --theirs {shlex.join(take)}"]
    elif take:
        commands = [f"git checkout {merge.theirs if in_progress else merge.theirs[:7]} -- {shlex.join(take)}"]
    else:
        commands = []
    current = text_at(runner, merge.theirs) if "params.yaml" in take else text
    lost = merge.lost(parsed(current) or {})
    present = [path for path in redone if (runner.root / path).exists() or path in take]
    commands += [
        sed_command(current, lost),
        "dvc repro",
        f"git add {shlex.join(present)}",
        "git commit --no-edit" if in_progress else "git commit -m 'Resolve the conflicts of the merge'",
    ]
    hand = f"resolve {', '.join(by_hand)} by hand (an editor) and git add it; then: " if by_hand else ""
    files = ", ".join(take + by_hand)
    what = (
        f"the merge of {merge.subject('MERGE_HEAD')} is not finished: "
        + (f"{files} still in conflict" if files else "not committed yet")
        if in_progress
        else f"the last commit, a merge, has conflict markers in {files}: committed before they were resolved"
    )
    what += f" (params.yaml has {doubled} twice: both sides' lines kept)" if doubled else ""
    if "params.yaml" in take and (both := merge.both_changed()):  # one value kept: say which, and the other
        name, (mine, other) = next(iter(both.items()))
        what += (f"; both sides changed {name} ({mine} here, {other} in {merge.subject(merge.theirs)}): "
                 f"the hint keeps {other}; yours back after it: sed the line to {mine}")  # fmt: skip
    return Problem(what, hand + " && ".join(filter(None, commands)))
