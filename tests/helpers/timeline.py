"""A small dated collection: one company whose chief executive changes between two articles a
year apart, a later article about the same company, and a syndicated copy of the seed article
(another title and file name, a few words changed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import SEEDS, write_article

COMPANY = "Northwind Robotics"
FIRST_CEO, SECOND_CEO = "Alice Moreau", "Daniel Okafor"
CEO_QUESTION = f"Who is the chief executive of {COMPANY}?"
MARCH_2024_QUESTION = f"What did {COMPANY} announce in March 2024?"

ARTICLES = {
    "northwind-2023.txt": (
        f"{COMPANY} names {FIRST_CEO} chief executive", "2023-03-14 08:00",
        f"{COMPANY}, the warehouse automation maker based in Leeds, has named {FIRST_CEO} as its "
        f"chief executive. {FIRST_CEO} is the chief executive of {COMPANY} from this week, the "
        "board said on Tuesday.\n\n"
        f"{FIRST_CEO} joined the company in 2019 from a logistics group and ran its European "
        "sales. She takes over a business that sells picking robots to grocery chains and "
        "parcel carriers.\n\n"
        "The board said the new chief executive would focus on the company's first factory "
        "outside Britain and on software subscriptions."),
    "northwind-2024.txt": (
        f"{COMPANY} replaces {FIRST_CEO} with {SECOND_CEO} as chief executive", "2024-03-12 08:00",
        f"{COMPANY} has appointed {SECOND_CEO} as chief executive, replacing {FIRST_CEO} after a "
        f"year in the role. {SECOND_CEO} is the new chief executive of {COMPANY}, the board "
        "announced in March.\n\n"
        f"{SECOND_CEO} was previously the company's chief operating officer and led the "
        "rollout of its picking robots in Germany.\n\n"
        "The board thanked the departing executive and said the change followed a review of "
        "the company's strategy."),
    "northwind-factory.txt": (
        f"{COMPANY} opens its first factory in Lyon", "2024-09-05 08:00",
        f"{COMPANY} opened its first factory outside Britain in Lyon on Thursday. The plant will "
        "build 2,000 picking robots a year for customers in France and Spain.\n\n"
        "The company said the factory would employ 300 people by the end of next year, and "
        "that orders from grocery chains had doubled.\n\n"
        "Local officials welcomed the investment, the largest by a robotics maker in the region "
        "this year."),
}


def sources(answer) -> list[str]:
    """The files an answer cites, in citation order."""
    return [c.source for c in answer.citations]


def write_timeline(folder: Path) -> Path:
    for name, (title, date, body) in ARTICLES.items():
        write_article(folder, name, title, body, date=date)
    return folder


SYNDICATED_NAME = "zz_wire_copy_of_the_seed.txt"
SYNDICATED_TITLE = "Xiaomi lifts its EV delivery goal for 2025 to 400,000 cars"


def write_syndicated_seed(folder: Path) -> Path:
    """The seed article as a wire service would republish it: its own title and file name, a few
    words changed."""
    seed = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    body = seed.split("\n", 1)[1]
    for old, new in (("impressive", "strong"), ("major milestone", "milestone"),
                     ("Beijing-based", "Chinese"), ("debates", "discussion")):
        body = body.replace(old, new, 1)
    path = folder / SYNDICATED_NAME
    path.write_text(f"{SYNDICATED_TITLE}\n{body}", encoding="utf-8")
    return path



def write_collection(folder: Path) -> Path:
    """The seed article, the company's timeline and the seed's syndicated copy: five articles."""
    shutil.copytree(SEEDS, folder)
    write_timeline(folder)
    write_syndicated_seed(folder)
    return folder


# The current state and the latest news, asked long after the last article (issue: "now" and
# "latest" must not fall back on the oldest article that matches best by words).
NOW_CEO_QUESTION = f"Who is {COMPANY}'s chief executive now?"
LATEST_QUESTION = f"What is the latest news about {COMPANY}?"
AFTER_THE_FACTORY = ["2024-10-01", "2025-10-01"]  # a month on, and a year and a month on

# A year named as when something happens, not when it was reported: the seed article (published
# 2025-11-21) says SMIC warned of a shortage that could hit cars and electronics "in 2026".
FORECAST_QUESTION = ("Which chipmaker warned about a memory shortage that could hit cars and "
                     "consumer electronics in 2026?")
FORECAST_ANSWER = "Semiconductor Manufacturing International"
UNCOVERED_DATED_QUESTION = "Which football club won the national league title in 2026?"
