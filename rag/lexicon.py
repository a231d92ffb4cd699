"""Words and marks the product reads the same way in every step: number words, months, the
titles that come before a name, and the [n] citation marker. Each step builds its own patterns
from these; none keeps a list of its own. Imports nothing of the product."""

from __future__ import annotations

# Index = value: CARDINALS[12] == "twelve".
CARDINALS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
             "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()
TENS = ("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALES = ("hundred", "thousand", "million", "billion", "trillion")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
MONTH_ABBREVIATIONS = tuple(month[:3] for month in MONTHS)
# "Jan", "January", "Sept", "September": a month name as news writes it, capitalised.
MONTH = "(?:" + "|".join("Sep(?:t(?:ember)?)?" if m == "September" else
                         f"{m[:3]}(?:{m[3:]})?" if m[3:] else m for m in MONTHS) + ")"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Before a name, and not part of it: "Sen. Warren", "Former Vice President Mike Pence".
HONORIFICS = ("Mr", "Mrs", "Ms", "Dr", "Gov", "Sen", "Rep")  # written with or without a full stop
MILITARY_RANKS = ("Lt", "Gen", "Col", "Capt")  # the same
OFFICES = ("President", "Prime Minister", "Chancellor", "Pope", "Judge", "Justice", "Coach")
ROYALTY = ("King", "Queen", "Prince", "Princess", "Sir", "Dame")
QUALIFIERS = ("Former", "Late", "Then", "Vice", "Deputy", "Acting", "Interim")

# The citation marker in an answer's text: "[3]" cites passage 3.
MARKER = r"\[(\d+)\]"


def alternatives(words, dotted: bool = False) -> str:
    """A regex alternation of the words; `dotted`: each may end with a full stop."""
    return "|".join(f"{word}\\.?" if dotted else word for word in words)
