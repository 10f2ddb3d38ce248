"""The room's sticky notes, as in a Carpentries workshop: a hand an attendee raises from the
terminal (`hands/<name>.json`: the step, the check's problem, their words, since when), and the
facilitator's word to the room (`said.json`), under `.workshop-room/` in the cache bucket.

A raised hand keeps its place in the queue when raised again (its words updated); it is lowered
by the attendee, by the facilitator, or by the check that finds its step done.
"""

from __future__ import annotations

import json

from dvc_workshop.lab.model.records import HANDS, SAID, read_json, storage_errors, write_json
from dvc_workshop.lab.model.storage import bucket_name, client, cloud_error, retry


def queue(cache_url: str) -> list[dict]:
    """The raised hands, the one waiting longest first."""
    cache = bucket_name(cache_url)
    try:
        blobs = list(client().list_blobs(cache, prefix=f"{HANDS}/", retry=retry(10), timeout=10))
        texts = [blob.download_as_text(retry=retry(10), timeout=10) for blob in blobs]
    except storage_errors() as error:
        raise cloud_error(error, f"reading the raised hands in gs://{cache}") from None
    hands = []
    for text in texts:
        try:
            hands.append(json.loads(text))
        except ValueError:  # one cut short: its writer writes it whole; the others stand
            continue
    return sorted(hands, key=lambda hand: str(hand.get("raised")))


def hand_of(cache_url: str, name: str) -> dict | None:
    """An attendee's raised hand, if up; None also where it cannot be read (a check goes on)."""
    try:
        return read_json(bucket_name(cache_url), f"{HANDS}/{name}.json")
    except Exception:  # offline, no access: the check itself matters more
        return None


def raise_hand(cache_url: str, hand: dict) -> list[dict]:
    """The hand raised (a hand up already keeps its place, its words updated); the queue after."""
    cache = bucket_name(cache_url)
    try:
        held = read_json(cache, f"{HANDS}/{hand['name']}.json")
        write_json(cache, f"{HANDS}/{hand['name']}.json", {**hand, "raised": (held or hand)["raised"]})
    except storage_errors() as error:
        raise cloud_error(error, f"raising your hand in gs://{cache}") from None
    return queue(cache_url)


def lower_hand(cache_url: str, name: str) -> bool:
    """The hand lowered; False where none was up."""
    from google.api_core.exceptions import NotFound

    cache = bucket_name(cache_url)
    try:
        client().bucket(cache).blob(f"{HANDS}/{name}.json").delete(retry=retry(10), timeout=10)
    except NotFound:
        return False
    except storage_errors() as error:
        raise cloud_error(error, f"lowering the hand in gs://{cache}") from None
    return True


def say(cache_url: str, word: dict | None) -> None:
    """The facilitator's word to the room ({"text", "said"}), or none (None: cleared)."""
    from google.api_core.exceptions import NotFound

    cache = bucket_name(cache_url)
    try:
        if word:
            write_json(cache, SAID, word)
        else:
            client().bucket(cache).blob(SAID).delete(retry=retry(10), timeout=10)
    except NotFound:
        pass  # nothing said: nothing to clear
    except storage_errors() as error:
        raise cloud_error(error, f"writing to the room in gs://{cache}") from None


def said(cache_url: str) -> dict | None:
    """The facilitator's word, if any; None also where it cannot be read (a check goes on)."""
    try:
        return read_json(bucket_name(cache_url), SAID)
    except Exception:  # offline, no access: the check itself matters more
        return None
