"""What "done" means for each of the lab's ten steps, in the repository's real state.

A check returns when its step is done and raises `Problem` (what is wrong, and a hint) for the
first thing that is not. `steps.py` lists them with their titles and hints.
"""

from __future__ import annotations

import os
import re
import urllib.request

from dvc_workshop.lab.exercise import try_standardize
from dvc_workshop.lab.stage_commands import stage_add_command
from dvc_workshop.lab.stages import (
    check_committed,
    check_ignore_entries_committed,
    check_pushed,
    check_stage,
    check_workspace,
)
from dvc_workshop.lab.state import Lab, Problem

EXERCISE = "dvc_workshop/ml/transforms.py"  # standardize, the lab's exercise


def check_environment(lab: Lab) -> None:
    for key in ("user.name", "user.email"):
        if not lab.git("config", key):
            raise Problem(f"git has no {key}", "set your name and email: the git config --global lines")
    if not (lab.root / ".dvc").is_dir():
        raise Problem(
            "this folder is no lab repository (no .dvc/)",
            "cd to your lab (pipenv run workshop start ../my-lab)",
        )
    if not lab.origin:
        origin = lab.root.with_name(f"{lab.root.name}-origin.git")
        raise Problem(
            "the lab has no git remote origin (the bare repository workshop start made beside it)",
            f"git remote add origin {origin}" if origin.is_dir() else "git remote add origin <its path>",
        )
    if emulator := os.environ.get("STORAGE_EMULATOR_HOST"):
        try:  # gcsfs would retry an endpoint that does not answer for minutes, in every dvc command
            urllib.request.urlopen(f"{emulator}/storage/v1/b", timeout=3).close()
        except OSError:
            raise Problem(
                f"the emulator at {emulator} does not answer",
                "start it (pipenv run emulator, in a second terminal) or open a pipenv shell without it",
            ) from None
    elif "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ:
        os.environ.setdefault("NO_GCE_CHECK", "true")  # read at import: no probe of a cloud VM's metadata
        from google.auth import default
        from google.auth.exceptions import DefaultCredentialsError

        try:
            default()
        except DefaultCredentialsError:
            raise Problem(
                "no emulator and no GCS credentials in this shell",
                "start the emulator, then open a new pipenv shell; or gcloud auth application-default login",
            ) from None


def check_remote(lab: Lab) -> None:
    cache_url = lab.room_buckets[0]
    folder = f"{cache_url}/{lab.git('config', 'workshop.name') or '<your-name>'}"
    default, remotes = lab.remotes("repo")
    local_default, local_remotes = lab.remotes("local")
    if local_default or any(local_remotes.values()):  # credentials there are fine: no URL
        local = next((name for name, url in local_remotes.items() if url), None)
        url = local_remotes.get(local, "") if local else ""
        url = url if url.startswith(f"{cache_url}/") else folder  # theirs, if it is in the cache bucket
        fix = f"dvc remote remove --local {local}" if local else "dvc remote default --local --unset"
        raise Problem(
            "the remote is in .dvc/config.local, which git ignores: a teammate's clone would not have it",
            f"{fix} && dvc remote add -d -f dvc-workshop {url}",
        )
    if not default:
        if remotes:  # added without -d
            name = "dvc-workshop" if "dvc-workshop" in remotes else next(iter(remotes))
            raise Problem(
                f"no default DVC remote (there is {name}: {remotes[name]})", f"dvc remote default {name}"
            )
        raise Problem("no default DVC remote", f"dvc remote add -d dvc-workshop {folder}")
    url = remotes.get(default, "")
    if not re.fullmatch(rf"{re.escape(cache_url)}/[^/]+.*", url):
        raise Problem(
            f"the default remote is not under {cache_url} (it is {default}: {url or 'no URL'})",
            f"dvc remote add -d -f dvc-workshop {folder} (a folder of your own)",
        )
    if default != "dvc-workshop":
        raise Problem(
            f"the default remote is named {default}; the lab's commands call it dvc-workshop",
            f"dvc remote rename {default} dvc-workshop",
        )
    check_committed(lab, [".dvc/config"])


def check_download(lab: Lab) -> None:
    raw_source = f"{lab.room_buckets[1]}/mnist"
    stage = lab.stages.get("download_mnist")
    if stage is not None and "${download_mnist.source}" not in stage.get("deps", []):  # before any run
        raise Problem(
            "stage download_mnist does not list its source as a dependency: "
            "DVC would not notice when the raw data changes",
            stage_add_command(lab, "download_mnist", add=(("-d", "${download_mnist.source}"),)),
        )
    check_stage(lab, "download_mnist")
    source = str(lab.yaml_file("params.yaml").get("download_mnist", {}).get("source", ""))
    if source.rstrip("/") != raw_source:
        raise Problem(
            f"download_mnist.source in params.yaml is {source or 'empty'}, not the raw bucket {raw_source}",
            f"set it to {raw_source} (the sed line of lab step 3), then dvc repro and commit",
        )


def check_standardize(lab: Lab) -> None:
    """The exercise: the lab's own `standardize`, run from its file on a tiny batch."""
    verdict = try_standardize(lab, lab.root / EXERCISE)
    if verdict["state"] == "unwritten":
        raise Problem(f"standardize in {EXERCISE} is not written yet")  # the hint: the step's own
    if verdict["state"] == "wrong":
        raise Problem(f"standardize {verdict['message']}")
    if verdict["state"] == "error":
        raise Problem(f"standardize fails: {EXERCISE}{verdict['message']}")


def check_preprocess(lab: Lab) -> None:
    check_standardize(lab)
    check_stage(lab, "preprocess")


def check_train_evaluate(lab: Lab) -> None:
    check_stage(lab, "train")
    if "reports/metrics.json" in lab.outputs("evaluate", kinds=("outs",)):  # said before any run or commit
        raise Problem(
            "stage evaluate declares reports/metrics.json with -o: DVC would cache it and keep it out of "
            "git, and dvc metrics show would find nothing",
            stage_add_command(
                lab, "evaluate", add=(("-M", "reports/metrics.json"),), drop=("reports/metrics.json",)
            ),
        )
    check_stage(lab, "evaluate")
    if "reports/metrics.json" not in lab.outputs("evaluate", kinds=("metrics",)):
        raise Problem(
            "stage evaluate does not declare reports/metrics.json as metrics: dvc metrics show finds nothing",
            stage_add_command(
                lab, "evaluate", add=(("-M", "reports/metrics.json"),), drop=("reports/metrics.json",)
            ),
        )
    if lab.run("git", "check-ignore", "-q", "reports/metrics.json").returncode == 0:
        raise Problem(
            "reports/metrics.json is git-ignored (reports/.gitignore still lists it, from an -o before -M): "
            "git cannot commit it, and a teammate would get no metrics",
            "sed -i.bak '/^\\/metrics.json$/d' reports/.gitignore && rm reports/.gitignore.bak && "
            'git add reports/.gitignore reports/metrics.json && git commit -m "Metrics in git"',
        )
    check_committed(lab, ["reports/metrics.json"])
    if lab.run("git", "cat-file", "-e", "HEAD:reports/metrics.json").returncode != 0:
        raise Problem(
            "reports/metrics.json is not in the last commit",
            'git add reports/metrics.json && git commit -m "Metrics"',
        )


def check_versioning(lab: Lab) -> None:
    tags = lab.git("tag", "--sort=-creatordate").split()
    if not tags:
        raise Problem("no git tag yet", "git tag baseline")
    if not lab.git("symbolic-ref", "-q", "HEAD"):
        raise Problem("HEAD is not on a branch (still at a tag?)", "git checkout main (and dvc checkout)")
    for stage in lab.stages:
        check_workspace(lab, stage)
    changed = lab.git("diff", "--name-only", tags[0], "HEAD").split()
    if "params.yaml" not in changed or "dvc.lock" not in changed:
        raise Problem(
            f"no commit since tag {tags[0]} changes params.yaml and dvc.lock",
            "change a parameter, dvc repro, then git commit params.yaml dvc.lock",
        )
    hook = lab.root / ".git/hooks/post-checkout"
    if "dvc" not in (hook.read_text() if hook.exists() else ""):
        raise Problem(
            "dvc install has not been run: git checkout leaves the data of the last commit", "dvc install"
        )
    check_pushed(lab, lab.all_outputs)


def check_teammate(lab: Lab) -> None:
    teammate = lab.teammate
    if teammate is None:
        raise Problem(
            "no teammate's clone beside your lab", "git clone ../my-lab-origin.git ../my-lab-teammate"
        )
    head = teammate.git("rev-parse", "HEAD")
    if not teammate.stages or lab.run("git", "merge-base", "--is-ancestor", head, "HEAD").returncode != 0:
        raise Problem(f"{teammate.root.name} has none of your stages yet", "git push; then git pull there")
    for stage in teammate.stages:
        check_workspace(teammate, stage)


def check_dvc_add(lab: Lab) -> None:
    if not lab.dvc_files:
        raise Problem("no data tracked with dvc add yet", "dvc add my-digits (lab step 8)")
    for name, tracked in lab.dvc_files.items():
        check_workspace(lab, name)
        check_committed(lab, [name])
        check_ignore_entries_committed(lab, [name.removesuffix(".dvc")])
        check_pushed(lab, tracked)


def check_experiments(lab: Lab) -> None:
    if not lab.git("for-each-ref", "refs/exps") and not lab.git("ls-remote", "origin", "refs/exps/*"):
        raise Problem("no experiment yet", "dvc exp run -n dropout-04 -S train.dropout=0.4")
    if not lab.git("ls-remote", "origin", "refs/exps/*"):
        raise Problem(
            "no experiment in origin: git push does not send experiments", "dvc exp push origin <name>"
        )
    if len(lab.git("for-each-ref", "--format=%(refname)", "refs/heads").split()) < 2:
        raise Problem("no experiment kept as a branch", "dvc exp branch <experiment> <branch>")
    if re.search(r"\b(Queued|Running)\b", lab.dvc("queue", "status").stdout):
        raise Problem(
            "experiments are still queued or running",
            "wait; if a worker died: dvc queue logs <name>, then dvc queue kill <name>",
        )
    if lab.teammate is None or not lab.teammate.git("for-each-ref", "refs/exps"):
        raise Problem(
            "the teammate has no experiment of yours", "in ../my-lab-teammate: dvc exp pull origin <name>"
        )


def check_housekeeping(lab: Lab) -> None:
    if not lab.git("for-each-ref", "refs/exps"):
        raise Problem("no experiments yet, so nothing to collect", "step 9 first")
    dry_run = lab.dvc("gc", "--workspace", "--dry", "--force")
    removed = re.findall(
        r"^Removing .*[/\\](\w\w)[/\\]([\w.]+)$", dry_run.stdout + dry_run.stderr, flags=re.M
    )
    # `dvc status` itself caches the listing of a gs:// dependency (the raw bucket): not garbage.
    dependencies = {dep.get("md5") for stage in lab.locked.values() for dep in stage.get("deps", [])}
    unused = [head + tail for head, tail in removed if head + tail not in dependencies]
    if unused:  # DVC's own count, that listing included: dvc gc -w removes it too
        raise Problem(
            f"the local cache holds {len(removed)} objects the workspace does not use", "dvc gc -w -f"
        )
