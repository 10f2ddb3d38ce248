"""`workshop reset N`: one lab step back to where it started, the other steps' work kept.

A step's work is files (the remote in `.dvc/config`, a stage in `dvc.yaml`, the exercise) or git
and DVC state (tags, a teammate's clone, experiments). Reset undoes that step's part only, and
commits the result ("Reset lab step N"), so `git revert HEAD` brings it back. It never loses
work: uncommitted changes to the files it touches go to `git stash` first, and what exists
nowhere else (a teammate's unpushed commits, experiments not in origin) stops it with a line.
"""

from __future__ import annotations

import posixpath
from io import StringIO

from dvc_workshop.cli import WorkshopError
from dvc_workshop.lab.start import EXERCISE, START_MESSAGE
from dvc_workshop.lab.state import Lab

STAGES = {3: ["download_mnist"], 4: ["preprocess"], 5: ["train", "evaluate"]}


def must(lab: Lab, *args: str) -> str:
    """A git or dvc command that has to work, its output; its failure ends the reset with its line."""
    result = lab.dvc(*args[1:], timeout=120) if args[0] == "dvc" else lab.run(*args, timeout=120)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no message)"]
        raise WorkshopError(f"{' '.join(args)} failed: {lines[-1]}")
    return result.stdout


def start_commit(lab: Lab) -> str:
    """The lab's first commit, the one `workshop start` made: every step's start state."""
    first = lab.git("log", "--format=%H", "--fixed-strings", f"--grep={START_MESSAGE}").split()
    if not first:
        raise WorkshopError(f"no commit '{START_MESSAGE}' in {lab.root}: reset needs the lab's first commit")
    return first[-1]


def stash(lab: Lab, step: int, files: list[str]) -> None:
    """Uncommitted changes to `files` saved in git's stash (with their step), never lost."""
    changed = [f for f in files if (lab.root / f).exists() and lab.git("status", "--porcelain", "--", f)]
    if changed:
        must(
            lab,
            "git",
            "stash",
            "push",
            "-q",
            "--include-untracked",
            "-m",
            f"before workshop reset {step}",
            "--",
            *changed,
        )
        saved = ", ".join(changed)
        print(f"Your uncommitted changes to {saved} are in git stash list (git stash pop brings them back).")


def commit(lab: Lab, step: int, files: list[str]) -> None:
    present = [f for f in files if (lab.root / f).exists() or lab.git("ls-files", "--", f)]
    must(lab, "git", "add", "-A", "--", *present)
    if lab.git("diff", "--cached", "--name-only"):
        must(lab, "git", "commit", "-q", "-m", f"Reset lab step {step}")
        print(f"Committed as 'Reset lab step {step}' (git revert HEAD takes the reset back).")


def reset_remote(lab: Lab) -> list[str]:
    from dvc.config import Config

    with Config(dvc_dir=str(lab.root / ".dvc"), validate=False).edit("repo") as settings:
        settings.get("remote", {}).clear()
        settings.get("core", {}).pop("remote", None)
    return [".dvc/config"]


def remove_stages(lab: Lab, names: list[str]) -> list[str]:
    """The stages out of dvc.yaml and dvc.lock, and their outputs out of the .gitignore files DVC
    wrote, as `dvc remove` does (which refuses a stage with `${...}` in it); the data stays.
    Everything is read before anything is written."""
    from ruamel.yaml import YAML

    yaml, writes = YAML(), {}  # round trip: comments and order kept
    for file in ("dvc.yaml", "dvc.lock"):
        if (lab.root / file).exists():
            document = yaml.load((lab.root / file).read_text()) or {}
            for name in names:
                document.get("stages", {}).pop(name, None)
            text = StringIO()
            yaml.dump(document, text)
            writes[file] = text.getvalue()
    for out in (out for name in names for out in lab.outputs(name, cached_only=True)):
        folder, base = posixpath.split(out)
        ignore = posixpath.join(folder, ".gitignore")
        lines = writes.get(ignore, (lab.root / ignore).read_text() if (lab.root / ignore).exists() else "")
        writes[ignore] = "".join(
            line for line in lines.splitlines(keepends=True) if line.strip() != f"/{base}"
        )
    for file, text in writes.items():
        if file.endswith(".gitignore") and not text.strip():
            (lab.root / file).unlink(missing_ok=True)  # DVC's own, now empty
        else:
            (lab.root / file).write_text(text)
    return list(writes)


def reset_stages(lab: Lab, step: int) -> list[str]:
    """The step's stages out of dvc.yaml and dvc.lock (their data stays in the workspace), and
    what else the step changed back to the start: the raw source, the exercise."""
    touched = remove_stages(lab, [name for name in STAGES[step] if name in lab.stages])
    if step == 3:  # the source line of the start commit, as the README's sed line writes it
        start = lab.git("show", f"{start_commit(lab)}:params.yaml").splitlines(keepends=True)
        source = next((line for line in start if line.startswith("  source: ")), None)
        lines = (lab.root / "params.yaml").read_text().splitlines(keepends=True)
        if source:
            lines = [source if line.startswith("  source: ") else line for line in lines]
            (lab.root / "params.yaml").write_text("".join(lines))
        touched.append("params.yaml")
    if step == 4:
        path = EXERCISE[0].as_posix()
        (lab.root / path).write_text(lab.git("show", f"{start_commit(lab)}:{path}") + "\n")
        touched.append(path)
    if step == 5 and lab.git("ls-files", "reports/metrics.json"):
        must(lab, "git", "rm", "-q", "--cached", "reports/metrics.json")
        (lab.root / "reports/metrics.json").unlink(missing_ok=True)
    return touched


def reset_step(lab: Lab, step: int) -> None:
    if step == 1:
        print("Step 1 is this laptop's (git's identity, the buckets): nothing in the lab to put back.")
        return
    if step == 10:
        print("Step 10 has nothing to put back: dvc gc removed only cache objects nothing uses.")
        return
    if step in (6, 7, 9):
        reset_history(lab, step)
        return
    files = {2: [".dvc/config"], 8: list(lab.dvc_files)}.get(step) or [
        "dvc.yaml", "dvc.lock", "params.yaml", EXERCISE[0].as_posix()
    ]  # fmt: skip
    stash(lab, step, files)
    if step == 2:
        touched = reset_remote(lab)
    elif step == 8:
        for dvc_file in list(lab.dvc_files):
            must(lab, "dvc", "remove", dvc_file)  # the data stays, untracked
        touched = [*files, *lab.git("ls-files", "*.gitignore").split()]
    else:
        touched = reset_stages(lab, step)
    commit(lab, step, touched)
    if step != 2:  # the data itself is kept: git status lists it until DVC tracks it again
        print("Its data stays where it was, untracked until the step is done again (git status lists it).")
    print(f"Lab step {step} is back at its start: workshop check {step} says what to do.")


def reset_history(lab: Lab, step: int) -> None:
    """Steps made of git and DVC state: tags and hooks (6), the teammate's clone (7), experiments (9)."""
    if step == 6:
        for tag in lab.git("tag").split():
            must(lab, "git", "tag", "-d", tag)
            print(f"Deleted tag {tag} (its commit stays: git log shows it).")
        for hook in ("post-checkout", "pre-commit", "pre-push"):
            path = lab.root / ".git/hooks" / hook
            if path.exists() and "dvc" in path.read_text():
                path.unlink()
    elif step == 7:
        teammate = lab.teammate
        if teammate is None:
            print("No teammate's clone: step 7 is at its start already.")
            return
        if teammate.git("status", "--porcelain") or teammate.git("log", "--oneline", "@{upstream}..HEAD"):
            raise WorkshopError(
                f"{teammate.root} has work that is not in origin: git commit and git push it there first"
            )
        import shutil

        shutil.rmtree(teammate.root)
        print(f"Removed {teammate.root} (all of it was in origin).")
    else:
        local = set(lab.git("for-each-ref", "--format=%(objectname)", "refs/exps").split())
        pushed = set(lab.git("ls-remote", "origin", "refs/exps/*").split()[0::2])
        if local - pushed:
            raise WorkshopError("some experiments are not in origin: dvc exp push origin <name> first")
        for clone in (lab, lab.teammate):
            if clone and clone.git("for-each-ref", "refs/exps"):
                must(clone, "dvc", "exp", "remove", "--all-commits")
        print(
            "Removed the local experiments (origin keeps them: dvc exp pull origin <name> brings one back)."
        )
    print(f"Lab step {step} is back at its start: workshop check {step} says what to do.")
