"""Lab step 3: params.yaml's source on the raw bucket, and the download_mnist stage as the
reference defines it, run, committed, pushed."""

from __future__ import annotations

from dvc_workshop.lab.mechanisms.entry import Reset, Step, check_stages, stage_hints
from dvc_workshop.lab.mechanisms.stage_target import check_definition, check_overlaps
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.layout import RAW_PREFIX
from dvc_workshop.lab.model.problem import Problem

STAGES = ("download_mnist",)


def raw_source(lab: Lab) -> str:
    return f"{lab.buckets[1]}/{RAW_PREFIX}"


def check(lab: Lab) -> None:
    check_overlaps(lab, "download_mnist")
    if "download_mnist" in lab.stages:  # the stage's own differences first: they are what was just typed
        check_definition(lab, "download_mnist")
    source = str((lab.yaml_file("params.yaml").get("download_mnist") or {}).get("source", ""))
    if source.rstrip("/") != raw_source(lab):
        raise Problem(
            f"download_mnist.source in params.yaml is {source or 'empty'}, not the raw bucket "
            f"{raw_source(lab)}",
            f"sed -i.bak 's#^  source: .*#  source: {raw_source(lab)}#' params.yaml && rm params.yaml.bak",
        )
    check_stages(lab, STAGES)


def hints(lab: Lab, problem: Problem | None) -> list[str]:
    return [
        f"first point params.yaml's download_mnist.source at the raw bucket, {raw_source(lab)} (the README's "
        "sed line)",
        *stage_hints(STAGES)(lab, problem),
    ]


STEP = Step("The download stage", check, hints, Reset(stages=STAGES, files=("params.yaml:download_mnist",)))
