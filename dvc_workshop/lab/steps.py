"""The lab's ten steps, in one registry: number, title, check and hints.

The README's "Lab step N: <title>" headings, `workshop check`, `workshop hint`, `workshop
solution` and the tests all follow this list (tests/test_guide.py holds the README to it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dvc_workshop.lab import checks
from dvc_workshop.lab.state import Lab

EXERCISE_HINT = (
    "return the images minus mean, divided by std, as float32 (the model trains in 32-bit floats); "
    "workshop check 4 says when it is right"
)


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # the README's heading "Lab step <number>: <title>"
    check: Callable[[Lab], None]  # returns when the step is done, raises Problem otherwise
    hints: tuple[str, ...] = ()  # shown on request (workshop hint), before the answer


STEPS = [
    Step(
        1,
        "Environment",
        checks.check_environment,
        (
            'git needs your name and email once: git config --global user.name "Your Name", and user.email',
            "the buckets: pipenv run emulator in a second terminal, in the workshop's folder, then a new "
            "pipenv shell (it reads the emulator's address from .env); or, with real GCS, gcloud auth "
            "application-default login",
        ),
    ),
    Step(
        2,
        "Your remote",
        checks.check_remote,
        (
            "dvc remote add -d <name> <url>: -d makes it the default, the one dvc push uses; the URL is "
            "the cache bucket and a folder of your own",
            "dvc remote list shows it; .dvc/config holds it: git add .dvc/config and commit, so a clone "
            "of your lab has the remote too",
        ),
    ),
    Step(
        3,
        "The download stage",
        checks.check_download,
        (
            "first point params.yaml's download_mnist.source at the raw bucket (the README's sed line)",
            "dvc stage add -n download_mnist -p download_mnist -d <each input> -o <each output> <command>; "
            "python -m dvc_workshop.pipeline.download_mnist --help lists the command's options",
            "the inputs: '${download_mnist.source}' (the raw bucket) and every dvc_workshop module the "
            "command imports; the outputs: data/download_mnist/Images and data/download_mnist/labels.csv",
            "then dvc repro; git add dvc.yaml dvc.lock params.yaml and the .gitignore DVC wrote; git commit; "
            "dvc push",
        ),
    ),
    Step(
        4,
        "The preprocess stage and standardize",
        checks.check_preprocess,
        (
            EXERCISE_HINT,
            "the stage reads data/download_mnist (both outputs of download_mnist) and writes data/preprocess "
            "and reports/preprocessed.png; python -m dvc_workshop.pipeline.preprocess --help",
            "then dvc repro, commit (transforms.py too) and dvc push, as in step 3",
        ),
    ),
    Step(
        5,
        "The train and evaluate stages",
        checks.check_train_evaluate,
        (
            "the commands: python -m dvc_workshop.pipeline.train --help and ... evaluate --help list "
            "their options; give every path (train reads data/preprocess, writes models/model.keras "
            "and its curves in dvclive; evaluate reads both and writes four files in reports/)",
            "the code: every dvc_workshop module the command imports, at the top or inside a function "
            '(grep -n "dvc_workshop" dvc_workshop/pipeline/train.py); -d dvc_workshop/data stands '
            "for the whole data folder",
            "train has parameters (-p train); evaluate has none",
            "reports/metrics.json is small and belongs in git: declare it with -M (metrics, not cached), "
            "the other outputs with -o; dvclive/plots and dvclive/metrics.json are outputs of train",
        ),
    ),
    Step(
        6,
        "Versions: tag, change, go back",
        checks.check_versioning,
        (
            "git tag baseline marks this version; then change a parameter, dvc repro, git commit, dvc push",
            "git checkout baseline then dvc checkout brings back that version's data; dvc install makes git "
            "checkout do the dvc checkout itself; end on main (git checkout main)",
        ),
    ),
    Step(
        7,
        "A teammate clones and pulls",
        checks.check_teammate,
        (
            "git push origin main, then git clone ../my-lab-origin.git ../my-lab-teammate and dvc pull there",
            "a file the teammate cannot pull was committed without dvc push: dvc push in your lab, then dvc "
            "pull in the teammate's clone",
        ),
    ),
    Step(
        8,
        "Data of your own: dvc add",
        checks.check_dvc_add,
        ("dvc add <folder> writes <folder>.dvc: git add it and the .gitignore, git commit, then dvc push",),
    ),
    Step(
        9,
        "Experiments, shared",
        checks.check_experiments,
        (
            "dvc exp run -n <name> -S train.dropout=0.4 runs one; dvc exp show --no-pager lists them",
            "git push sends no experiment: dvc exp push origin <name> does; dvc exp branch <name> <branch> "
            "keeps one as a branch",
            "in the teammate's clone: dvc exp pull origin <name>",
        ),
    ),
    Step(
        10,
        "Housekeeping: dvc gc",
        checks.check_housekeeping,
        (
            "dvc gc -w --dry lists what it would remove (cache objects the workspace does not use); "
            "dvc gc -w -f removes them",
        ),
    ),
]
