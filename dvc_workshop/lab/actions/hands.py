"""`workshop help`: a hand raised in the room from the terminal, with the step the last check
found and its problem, and the attendee's place in the queue; the facilitator's `room help done`
and `room say`. A check lowers a hand whose step it finds done, and prints the facilitator's word
once (the progress file remembers which it printed).
"""

from __future__ import annotations

from datetime import datetime, timezone

from dvc_workshop.data.errors import WorkshopError
from dvc_workshop.lab.model import room_notes
from dvc_workshop.lab.model.lab import Lab
from dvc_workshop.lab.model.progress import Progress, anonymous, update


def room_of(lab: Lab) -> str:
    """The room the lab is in, or a line saying what to do without one."""
    room = lab.attendee_lab.room.get("cache")
    if not room:
        raise WorkshopError(
            f"{lab.root.name} is in no room (an offline lab): ask the person beside you, or workshop hint "
            "for the next hint on your problem"
        )
    return room


def raise_hand(lab: Lab, words: str | None) -> list[str]:
    """The hand up, with what the last check found; the lines that say where it is in the queue."""
    room, progress = room_of(lab), Progress.load(lab.attendee_lab.root)
    name = lab.attendee
    step = progress.step if progress.checked_at else 1  # no check yet: the lab is at its first step
    # raised to the microsecond: two hands raised in the same second keep their order in the queue
    hand = {"name": name, "step": step, "problem": anonymous(progress.problem, lab.root),
            "words": words, "raised": datetime.now(timezone.utc).isoformat()}  # fmt: skip
    try:
        hands = room_notes.raise_hand(room, hand)
    except WorkshopError as error:  # the room's emulator down, the network gone: what to do meanwhile
        raise WorkshopError(f"your hand is not up: {error}. Meanwhile: ask the person beside you, or "
                            "workshop hint for the next hint on your problem; workshop help again once "
                            "the room answers") from None  # fmt: skip
    if not any(h.get("name") == name and h.get("raised") != hand["raised"] for h in hands):  # a new hand
        raised = {"step": step, "at": hand["raised"]}
        update(lab.attendee_lab.root, lambda known: known.hands_raised.append(raised))
    place = next((n for n, h in enumerate(hands, 1) if h.get("name") == name), len(hands))
    waiting = "no one before you" if place == 1 else f"{place - 1} before you"
    return [
        f"Your hand is up in room {room}, as {name} ({waiting}): the facilitator sees it, the one "
        "waiting longest first.",
        "It comes down when your check finds the step done, or with workshop help --done.",
    ]


def lower_hand(room: str, name: str, by: str) -> list[str]:
    try:
        lowered = room_notes.lower_hand(room, name)
    except WorkshopError as error:
        raise WorkshopError(f"{name}'s hand is still up: {error}; workshop help --done again once the room "
                            "answers (a check that finds the step done lowers it too)") from None  # fmt: skip
    if lowered:
        return [f"{name}'s hand is down ({by})."]
    return [f"{name} has no hand up in room {room}."]


def after_check(lab: Lab, room: str, step: int | None) -> list[str]:
    """What a check in a room says of the sticky notes: a raised hand lowered where its step is now
    done, the facilitator's word not yet printed in this lab. Never fails the check."""
    lines = []
    hand = room_notes.hand_of(room, lab.attendee)
    passed = hand and hand.get("step") is not None and (step is None or step > hand["step"])
    try:
        if passed and room_notes.lower_hand(room, lab.attendee):
            lines.append(f"(Step {hand['step']} is done: your raised hand is down.)")
    except WorkshopError:
        pass  # the room does not answer now: the next check lowers it
    word = room_notes.said(room)
    if word and word.get("said"):
        _, first_time = update(lab.root, lambda progress: seen(progress, word["said"]))
        if first_time:
            at = datetime.fromisoformat(word["said"]).astimezone()
            lines.append(f"\nThe facilitator, at {at:%H:%M}: {word.get('text')}")
    return lines


def seen(progress: Progress, said: str) -> bool:
    """Whether the facilitator's word said at `said` is new to this lab (then it is marked seen)."""
    new = progress.word_seen != said
    progress.word_seen = said
    return new
