"""Reading the dates people type for a deadline: "31/1/27", "end of Feb", "in 2 weeks", "next Friday"."""
from __future__ import annotations

import calendar
import datetime as dt
import re

import dateparser

_END_OF = re.compile(r"\b(?:by |before )?(?:the )?end of (?:the )?(next month|this month|month|[a-z]+)(?: (\d{2,4}))?\b")
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_TWO_DIGIT_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2})$")


def read_date(text: str, today: dt.date) -> dt.date | None:
    """The date meant, or None if it cannot be read. Day before month, as written in the UK."""
    said = text.strip().lower().rstrip(".")
    found = _END_OF.search(said)
    if found:
        return _end_of(found.group(1), found.group(2), today)
    said = re.sub(r"^(?:by|before|on|no later than)\s+", "", said)
    said = _TWO_DIGIT_YEAR.sub(lambda m: f"{m.group(1)}/{m.group(2)}/20{m.group(3)}", said)  # 31/1/27
    parsed = dateparser.parse(said, languages=["en"], settings={
        "DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "last",
        "RELATIVE_BASE": dt.datetime.combine(today, dt.time())})
    return parsed.date() if parsed else None


def _end_of(which: str, year: str | None, today: dt.date) -> dt.date | None:
    if which in ("month", "this month"):
        month, year_number = today.month, today.year
    elif which == "next month":
        month, year_number = (today.month % 12) + 1, today.year + (today.month == 12)
    elif which in _MONTHS:
        month = _MONTHS[which]
        year_number = int(year) if year else today.year + (month < today.month)
        year_number += 2000 if year_number < 100 else 0
    else:
        return None
    return dt.date(year_number, month, calendar.monthrange(year_number, month)[1])
