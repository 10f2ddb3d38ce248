"""Lab step 9's grid: experiments queued with one parameter at several values (`dvc exp run --queue
-S 'train.learning_rate=0.002,0.003,0.01'`), run, compared, and the best one applied and committed.

Read from git alone, as DVC keeps it: each experiment is a commit under `refs/exps/<baseline>/<name>`
holding its params.yaml and its git-tracked metrics (reports/metrics.json); its baseline is the
commit it grew from. A grid is three or more experiments of one baseline that differ from it in the
same one parameter, each at another value. The best is the one with the highest test accuracy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from dvc_workshop.lab.model import yaml_text
from dvc_workshop.lab.model.lab import Lab

GRID_SIZE = 3  # values of one parameter: the README's grid
METRIC = ("test", "accuracy")  # in reports/metrics.json: what "best" means


@dataclass(frozen=True)
class Experiment:
    name: str
    commit: str
    baseline: str
    changed: dict[str, object]  # "section.key" -> value, where it differs from its baseline
    accuracy: float | None


def flat(params: dict, prefix: str = "") -> dict[str, object]:
    found = {}
    for key, value in (params or {}).items():
        name = f"{prefix}{key}"
        found.update(flat(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return found


def read(lab: Lab, revision: str, path: str) -> str:
    return lab.git_output("show", f"{revision}:{path}")


def experiments_of(lab: Lab) -> list[Experiment]:
    """Every experiment here (its refs), with what it changed and its accuracy."""
    found, baselines = [], {}
    for line in lab.git_output("for-each-ref", "--format=%(objectname) %(refname)", "refs/exps").splitlines():
        commit, ref = line.split(" ", 1)
        parts = ref.split("/")
        if len(parts) < 5:  # refs/exps/ab/cdef.../name: not the celery queue's own refs
            continue
        baseline = parts[2] + parts[3]
        if baseline not in baselines:
            baselines[baseline] = flat(yaml_text.load(read(lab, baseline, "params.yaml") or "{}") or {})
        try:
            params = flat(yaml_text.load(read(lab, commit, "params.yaml") or "{}") or {})
            metrics = json.loads(read(lab, commit, "reports/metrics.json") or "{}")
            accuracy = metrics.get(METRIC[0], {}).get(METRIC[1])
        except (yaml.YAMLError, ValueError, AttributeError):
            params, accuracy = {}, None
        changed = {k: v for k, v in params.items() if baselines[baseline].get(k) != v}
        found.append(Experiment(parts[-1], commit, baseline, changed, accuracy))
    return found


def grid(lab: Lab) -> tuple[str, list[Experiment]] | None:
    """The largest set of experiments of one baseline that vary the same one parameter."""
    groups: dict[tuple[str, str], dict[object, Experiment]] = {}
    for experiment in experiments_of(lab):
        if len(experiment.changed) == 1:
            ((key, value),) = experiment.changed.items()
            groups.setdefault((experiment.baseline, key), {}).setdefault(json.dumps(value), experiment)
    if not groups:
        return None
    (_, key), members = max(groups.items(), key=lambda item: len(item[1]))
    return key, list(members.values())


def best(members: list[Experiment]) -> Experiment | None:
    scored = [m for m in members if isinstance(m.accuracy, (int, float))]
    return max(scored, key=lambda m: m.accuracy) if scored else None


def applied(lab: Lab, key: str, experiment: Experiment) -> bool:
    """Whether a commit of main since the grid's baseline has the parameter at the experiment's value."""
    for commit in lab.git_output(
        "log", "--format=%H", f"{experiment.baseline}..HEAD", "--", "params.yaml"
    ).split():
        try:
            if (
                flat(yaml_text.load(read(lab, commit, "params.yaml")) or {}).get(key)
                == experiment.changed[key]
            ):
                return True
        except yaml.YAMLError:
            continue
    return False
