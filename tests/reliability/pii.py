"""Complainants with unique personal data, and a scanner for it in any text (as written, or escaped
by an ASCII-only JSON writer; phones also as 139-1234-5678 and 139 1234 5678)."""

from __future__ import annotations

import json
import random

GIVEN = "娜婷琳瑶珊璐琪雯"
ID_WEIGHTS = tuple(2 ** (17 - position) % 11 for position in range(17))


def id_number(rng: random.Random) -> str:
    body = f"310112{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def person(rng: random.Random) -> dict[str, str]:
    name = rng.choice(["欧阳", "司马", "诸葛", "上官", "东方"]) + "".join(rng.sample(GIVEN, 2))
    return {"name": name, "phone": f"13{rng.randint(5, 9)}{rng.randint(10_000_000, 99_999_999)}",
            "id_number": id_number(rng)}


def needles(people: list[dict[str, str]]) -> list[str]:
    found = []
    for p in people:
        phone = p["phone"]
        found += [p["name"], p["id_number"], phone, f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
                  f"{phone[:3]} {phone[3:7]} {phone[7:]}"]
    return found


def leaks(text: str, people: list[dict[str, str]]) -> list[str]:
    hits = []
    for needle in needles(people):
        escaped = json.dumps(needle)[1:-1]  # \uXXXX, as an ASCII-only JSON writer would put it
        if needle in text or escaped in text:
            hits.append(needle)
    return hits


