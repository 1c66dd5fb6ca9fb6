"""Deterministic understanding of free-text property searches: hard filters plus leftover text."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PROPERTY_TYPES: tuple[str, ...] = (
    "house",
    "apartment",
    "condo",
    "townhouse",
    "land",
    "commercial",
)
LISTING_TYPES: tuple[str, ...] = ("sale", "rent")

# Search queries are short; capping bounds the work a pathological input can cause.
MAX_QUERY_CHARS = 2000

# Canonical feature -> synonyms. The canonical names are also the catalog's feature vocabulary.
_FEATURE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("pool", r"(?:swimming\s+|plunge\s+|heated\s+)?pools?"),
    ("garage", r"garages?"),
    ("garden", r"gardens?|back\s?yards?|yards?"),
    ("balcony", r"balcon(?:y|ies)"),
    ("parking", r"parking(?:\s+(?:spots?|spaces?))?|car\s?ports?"),
    ("gym", r"gyms?|fitness\s+(?:center|centre|room)s?"),
    ("fireplace", r"fire\s?places?"),
    ("elevator", r"elevators?|lifts?"),
    ("terrace", r"(?:roof\s?top\s+)?terraces?|patios?"),
    ("sea view", r"(?:sea|ocean)[\s-]?views?|(?:sea|ocean)[\s-]?front"),
    ("mountain view", r"mountain[\s-]?views?"),
    ("city view", r"(?:city|skyline)[\s-]?views?"),
    ("air conditioning", r"air[\s-]?condition(?:ing|ed)|a/c|ac|aircon|central\s+air"),
    (
        "pet friendly",
        r"pets?[\s-]?friendly|pets?\s+(?:allowed|ok|welcome)|(?:dog|cat)[\s-]?friendly",
    ),
    ("furnished", r"furnished"),
    ("home office", r"home\s+offices?"),
    ("solar panels", r"solar(?:\s+panels?|\s+power)?"),
    ("storage", r"storage(?:\s+units?)?"),
    ("doorman", r"doorman|concierge"),
    ("ev charging", r"ev\s+charg(?:er|ers|ing)|electric\s+(?:car|vehicle)\s+charg\w*"),
    ("hardwood floors", r"hardwood(?:\s+floors?|\s+flooring)?"),
    ("walk-in closet", r"walk[\s-]?in\s+(?:closets?|wardrobes?)"),
    ("laundry", r"(?:in[\s-]unit\s+)?laundry|washer(?:\s*/\s*|\s+and\s+)?dryer"),
    ("wheelchair accessible", r"wheelchair[\s-]?(?:accessible|access)|step[\s-]free"),
)
FEATURE_VOCABULARY: tuple[str, ...] = tuple(name for name, _ in _FEATURE_PATTERNS)
_FEATURE_RXS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?<![\w/-])(?:{pattern})(?![\w/])", re.IGNORECASE)) for name, pattern in _FEATURE_PATTERNS
)

_NUMBER_WORDS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

_MULTIPLIERS: dict[str, Decimal] = {
    "k": Decimal(1_000),
    "thousand": Decimal(1_000),
    "grand": Decimal(1_000),
    "m": Decimal(1_000_000),
    "mm": Decimal(1_000_000),
    "mil": Decimal(1_000_000),
    "mill": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "millions": Decimal(1_000_000),
    "bn": Decimal(1_000_000_000),
    "billion": Decimal(1_000_000_000),
}

_FLAGS = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _FLAGS | re.VERBOSE)


# ---------------------------------------------------------------- bedrooms

_NUM = r"(?:\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_BED_WORD = r"(?:bed(?:room)?s?|bdrms?|bdr?s?|brs?|b/r)"
_BEDROOMS_RX = _rx(
    rf"""
    (?<![\w.,$€£])
    (?:(?P<pre>at\s+least|min(?:imum)?\.?(?:\s+of)?|no\s+less\s+than|over|more\s+than)\s+)?
    (?P<n>{_NUM})(?:\s?\+)?
    (?:\s?(?:-|–|to|or)\s?(?P<n2>{_NUM})(?:\s?\+)?)?
    \s?-?\s?{_BED_WORD}\b
    (?:\s?(?:\+|or\s+more|and\s+up|plus|minimum)(?!\w))?
    """
)
_BEDROOMS_AFTER_RX = _rx(rf"\b{_BED_WORD}\s?(?::|=|>=|≥)\s?(?P<n>\d{{1,2}})\+?(?!\w)")
_STUDIO_RX = _rx(r"\bstudios?\b(?:\s+(?:apartments?|apts?|flats?|units?)\b)?")

# ---------------------------------------------------------------- prices


def _amount(p: str) -> str:
    """One money amount; ``p`` prefixes group names so two amounts fit in one pattern."""
    return rf"""
    (?P<{p}cur>[$€£]\s?)?
    (?P<{p}num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d{{1,3}}(?:\ \d{{3}})+(?!\d)|\d+(?:\.\d+)?)
    (?:\s?(?P<{p}mult>k|thousand|grand|mm|m|mil|mill|millions?|bn|billion)(?![a-z0-9²]))?
    (?:\s?(?P<{p}cur2>usd|eur|gbp|dollars?|euros?|bucks|[$€£]))?
    (?!\w)
    (?P<{p}pm>\s?(?:/\s?|per\s|a\s|each\s|every\s)(?:month|mo|mth|mon)s?\b
        |\s?monthly\b|\s?pcm\b)?
    """


_MAX_Q = r"""(?:under|below|less\s+than|lower\s+than|cheaper\s+than|max(?:imum)?\.?(?:\s+of)?
    |up\s+to|no\s+more\s+than|not\s+more\s+than|at\s+most|not\s+over|within
    |budget(?:\s+(?:of|is))?:?|<=?|≤)"""
_MIN_Q = r"""(?:over|above|more\s+than|greater\s+than|at\s+least|min(?:imum)?\.?(?:\s+of)?|from
    |starting\s+(?:at|from)|no\s+less\s+than|>=?|≥)"""
_ABOUT_Q = r"(?:around|about|approx(?:imately|\.)?|roughly|circa|~|near|close\s+to)"
_MAX_SUFFIX = r"""(?:or\s+(?:less|under|below|cheaper)|and\s+(?:under|below)|max(?:imum)?|tops
    |at\s+most)"""
_MIN_SUFFIX = r"(?:\+|or\s+(?:more|above|over)|and\s+(?:up|above|over)|plus|minimum|min|at\s+least)"

_B = r"(?<![\w.,$€£])"
# "price 300k", "priced at", "cost:" carry no meaning once the amount is understood.
_NOUN = r"(?:\b(?:(?:asking\s+)?price[ds]?|costs?|costing)(?:\s(?:of|is|at|around))?:?\s)?"
_RANGE_RX = _rx(
    rf"""{_NOUN}{_B}(?:(?P<kw>between|from)\s)?{_amount("a")}
    \s?(?P<sep>-|–|—|to|and|until)\s?{_amount("b")}"""
)
_ABOUT_RX = _rx(rf"{_NOUN}\b{_ABOUT_Q}\s?{_amount('a')}")
_MAX_RX = _rx(rf"{_NOUN}(?:\b|(?=[<≤])){_MAX_Q}\s?{_amount('a')}")
_MIN_RX = _rx(rf"{_NOUN}(?:\b|(?=[>≥])){_MIN_Q}\s?{_amount('a')}")
_SUFFIX_RX = _rx(rf"{_NOUN}{_B}{_amount('a')}\s?(?:(?P<maxs>{_MAX_SUFFIX})|(?P<mins>{_MIN_SUFFIX}))(?!\w)")
_BARE_RX = _rx(rf"{_NOUN}{_B}{_amount('a')}")
_PRICE_CELL_RX = _rx(rf"\s*{_amount('a')}\s*")
# "€ 950.000,00", "1.250.000": dots group thousands and a comma marks the decimals, as much of Europe writes.
_EUROPEAN_RX = re.compile(r"(?P<int>\d{1,3}(?:\.\d{3})+)(?:,(?P<dec>\d{1,2}))?(?!\d)")
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "gbp": "GBP"}

# A number followed by one of these is a measurement, not a price.
_UNIT_AFTER_RX = _rx(
    r"""^\s?(?:sq|sqm|sqft|sf|square|m2|m²|ft|feet|foot|acres?|ha|hectares?|km|mi|miles?
    |min|mins|minutes?|hours?|hrs?|beds?|bedrooms?|br|bd|baths?|bathrooms?|ba|floors?
    |stor(?:e?y|ies)|years?|yrs?|cars?|people|persons?|%|percent)\b"""
)

# ---------------------------------------------------------------- listing & property types

_RENT_RX = _rx(
    r"""\b(?:(?:for|to)\s+(?:rent|lease)|rent(?:al|als|ing)?|leas(?:e|ing)|to\s+let
    |monthly|per\s+month|a\s+month)\b"""
)
_SALE_RX = _rx(
    r"""\b(?:for\s+(?:sale|purchase)|on\s+sale|(?:to\s+)?buy(?:ing)?|purchas(?:e|ing)
    |to\s+own|sale)\b"""
)

# Order matters: multi-word and compound forms are consumed before their shorter parts.
_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("townhouse", _rx(r"\b(?:town[\s-]?(?:houses?|homes?)|row[\s-]?(?:houses?|homes?))\b")),
    ("condo", _rx(r"\b(?:condo(?:minium)?s?)\b")),
    (
        "commercial",
        _rx(
            r"""\b(?:commercial(?:\s+(?:propert(?:y|ies)|spaces?|units?|buildings?))?
            |(?<!home\s)(?<!post\s)offices?(?:\s+spaces?)?|retail(?:\s+(?:spaces?|units?))?
            |(?<!coffee\s)shop(?:\s+fronts?)?|store\s?fronts?|warehouses?)\b"""
        ),
    ),
    (
        "land",
        _rx(
            r"""\b(?:(?:vacant\s+|empty\s+|building\s+)?(?:land|plots?)
            |(?<!parking\s)(?:vacant\s+)?lots?(?!\s+(?:of|size|more)\b)|acreage)\b"""
        ),
    ),
    (
        "apartment",
        _rx(r"\b(?:apartments?|apts?\.?|flats?(?!\s+(?:roof|fee|rate))|lofts?|penthouses?)(?!\w)"),
    ),
    (
        "house",
        _rx(
            r"""\b(?:single[\s-]family(?:\s+(?:homes?|houses?))?|detached(?:\s+(?:homes?|houses?))?
            |houses?|homes?(?!\s+office)|villas?|bungalows?|cottages?|farm\s?houses?|mansions?)\b"""
        ),
    ),
)

# ---------------------------------------------------------------- cities

_CITY_PREP_RX = _rx(r"\b(?:in|near|around|at|within)\s$")
_STATE_AFTER_RX = re.compile(r"^,?\s?[A-Z]{2}\b")
_FALLBACK_PREP_RX = _rx(r"\b(?:in|near)\s(?=\S)")
_CITY_WORD_RX = re.compile(r"[^\s,;:!?()]+")
# Capitalized words that start a sentence fragment rather than a place name.
_NOT_CITY_WORDS = frozenset(
    {
        "under", "below", "over", "above", "with", "without", "for", "and", "or", "the", "a",
        "an", "from", "between", "around", "about", "near", "less", "more", "max", "min",
        "up", "at", "by", "to", "rent", "sale", "buy", "lease", "i", "my", "we",
    }
)  # fmt: skip
_NEGATION_RX = _rx(r"\b(?:no|without|not|non|never)\s+(?:\w+\s+)?$")

_LEADING_NOISE = frozenset({"a", "an", "the", "and", "or", "for", "in", "near", "at", "to", "of"})
_TRAILING_NOISE = _LEADING_NOISE | {"with", "from", "between"}
_PUNCT_ONLY_RX = re.compile(r"^[!-/:-@\[-`{-~–—…·]+$")


@dataclass(frozen=True)
class ParsedQuery:
    """What a search box query means: hard filters, wanted features and the text left to rank on."""

    city: str | None = None
    property_type: str | None = None
    listing_type: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_bedrooms: int | None = None
    features: tuple[str, ...] = ()
    text: str = ""

    def filters(self) -> dict[str, Any]:
        """The hard filters that were recognized, without the ones left unset."""
        candidates = {
            "city": self.city,
            "property_type": self.property_type,
            "listing_type": self.listing_type,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "min_bedrooms": self.min_bedrooms,
        }
        return {key: value for key, value in candidates.items() if value is not None}


def parse_query(text: str, known_cities: Iterable[str] | None = None) -> ParsedQuery:
    """Split a free-text search into filters and leftover text; never raises.

    With ``known_cities`` the city must be one of them (its given spelling is returned) and
    unmatched place names stay in the text; without it, "in/near <Capitalized Words>" is a city.
    """
    if not isinstance(text, str):
        return ParsedQuery()
    return _parse_cached(text, None if known_cities is None else tuple(known_cities))


# A chat turn re-reads the conversation's earlier messages for their criteria: the same texts, parsed
# again on every turn. A result is immutable, so it can be shared.
@functools.lru_cache(maxsize=2048)
def _parse_cached(text: str, known_cities: tuple[str, ...] | None) -> ParsedQuery:
    try:
        return _Parser(text, known_cities).parse()
    except Exception:  # a bad parse must degrade to plain text search, never to a 500
        return ParsedQuery(text=_normalize_space(text))


def fold(value: str) -> str:
    """Case- and accent-insensitive form of ``value``, for comparing names."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _normalize_space(value: str) -> str:
    return " ".join(value.split())


class _Parser:
    """One parse: recognized spans are blanked out of ``buf`` so later passes cannot reuse them."""

    def __init__(self, text: str, known_cities: Iterable[str] | None) -> None:
        raw = text if isinstance(text, str) else ""
        # Single spaces everywhere let blanked regions (runs of spaces) act as hard separators.
        self.buf = _normalize_space(raw[:MAX_QUERY_CHARS])
        self.known_cities = None if known_cities is None else list(known_cities)
        self.city: str | None = None
        self.listing_type: str | None = None
        self.min_price: Decimal | None = None
        self.max_price: Decimal | None = None
        self.min_bedrooms: int | None = None
        self.implied_rent = False
        self.type_hits: list[tuple[str, tuple[int, int]]] = []

    def parse(self) -> ParsedQuery:
        features = self._features()
        if self.known_cities is not None:
            self._known_city()
        self._bedrooms()
        self._prices()
        self._listing_type()
        property_type = self._property_type()
        if self.known_cities is None:
            self._fallback_city()
        if self.listing_type is None and self.implied_rent:
            self.listing_type = "rent"
        min_price, max_price = self.min_price, self.max_price
        if min_price is not None and max_price is not None and min_price > max_price:
            min_price, max_price = max_price, min_price
        return ParsedQuery(
            city=self.city,
            property_type=property_type,
            listing_type=self.listing_type,
            min_price=min_price,
            max_price=max_price,
            min_bedrooms=self.min_bedrooms,
            features=features,
            text=self._leftover_text(),
        )

    def _blank(self, start: int, end: int) -> None:
        self.buf = _blanked(self.buf, start, end)

    # -------------------------------------------------------------- features

    def _features(self) -> tuple[str, ...]:
        found: list[tuple[int, str]] = []
        for name, regex in _FEATURE_RXS:
            for match in regex.finditer(self.buf):
                if _NEGATION_RX.search(self.buf[max(0, match.start() - 30) : match.start()]):
                    continue
                found.append((match.start(), name))
                break
        found.sort()
        return tuple(dict.fromkeys(name for _, name in found))

    # -------------------------------------------------------------- cities

    def _known_city(self) -> None:
        canonical: dict[str, str] = {}
        for city in self.known_cities or ():
            if isinstance(city, str) and city.strip():
                canonical.setdefault(_normalize_space(fold(city)), _normalize_space(city))
        if not canonical:
            return
        folded, index = _fold_with_index(self.buf)
        hits: list[tuple[int, int, str]] = []
        taken = [False] * len(folded)
        for key in sorted(canonical, key=len, reverse=True):
            words = [re.escape(word) for word in key.split(" ")]
            pattern = r"(?<!\w)" + r"[\s-]+".join(words) + r"(?!\w)"
            for match in re.finditer(pattern, folded):
                if any(taken[match.start() : match.end()]):
                    continue
                for i in range(match.start(), match.end()):
                    taken[i] = True
                start = index[match.start()]
                end = index[match.end() - 1] + 1
                hits.append((start, end, canonical[key]))
        if len({city for _, _, city in hits}) != 1:
            # Several different cities ("Austin or Dallas") make no single hard filter.
            return
        self.city = hits[0][2]
        for start, end, _ in sorted(hits, reverse=True):
            self._blank_city(start, end)

    def _blank_city(self, start: int, end: int) -> None:
        prep = _CITY_PREP_RX.search(self.buf[:start])
        if prep:
            start = prep.start()
        state = _STATE_AFTER_RX.match(self.buf[end:])
        if state:
            end += state.end()
        self._blank(start, end)

    def _fallback_city(self) -> None:
        for prep in _FALLBACK_PREP_RX.finditer(self.buf):
            words: list[str] = []
            pos = end = prep.end()
            while len(words) < 4:
                match = _CITY_WORD_RX.match(self.buf, pos)
                if not match:
                    break
                core = match.group(0).rstrip(".")
                if not core or not core[0].isupper() or core.casefold() in _NOT_CITY_WORDS:
                    break
                words.append(match.group(0))
                end = match.end()
                # Only single spaces join words, so a blanked span never merges two names.
                if self.buf[end : end + 1] != " ":
                    break
                pos = end + 1
            if not words:
                continue
            if len(words) > 1 and re.fullmatch(r"[A-Z]{2}", words[-1]):
                words.pop()  # "in Miami FL": the state is not part of the city
            self.city = " ".join(words).rstrip(".")
            self._blank_city(prep.end(), end)
            return

    # -------------------------------------------------------------- bedrooms

    def _bedrooms(self) -> None:
        counts: list[int] = []
        for match in list(_BEDROOMS_RX.finditer(self.buf)):
            n = _to_int(match.group("n"))
            if n is None:
                continue
            pre = (match.group("pre") or "").casefold()
            if pre.startswith(("over", "more")):
                n += 1
            counts.append(n)
            self._blank(match.start(), match.end())
        for match in list(_BEDROOMS_AFTER_RX.finditer(self.buf)):
            n = _to_int(match.group("n"))
            if n is not None:
                counts.append(n)
                self._blank(match.start(), match.end())
        studio = False
        for match in list(_STUDIO_RX.finditer(self.buf)):
            studio = True
            self.type_hits.append(("apartment", match.span()))
        if studio:
            counts.append(0)
        if counts:
            # The first explicit count is the request; a studio mention widens it down to 0.
            self.min_bedrooms = 0 if studio else counts[0]

    # -------------------------------------------------------------- prices

    def _prices(self) -> None:
        for match in list(_RANGE_RX.finditer(self.buf)):
            sep = match.group("sep").casefold()
            kw = (match.group("kw") or "").casefold()
            if sep == "and" and kw != "between":
                continue
            low, high = _amount_of(match, "a"), _amount_of(match, "b")
            if low is None or high is None or _unit_follows(self.buf, match.end()):
                continue
            if not low.mult and high.mult and low.value * high.factor <= high.value:
                low = low.scaled(high.factor)
            if not low.cur and high.cur:
                low = low.with_currency()
            if not (low.plausible(qualified=True) and high.plausible(qualified=True)):
                continue
            if not (low.marked or high.marked) and (low.year_like or high.year_like):
                continue
            self._set_price("min", low.value, low.per_month or high.per_month)
            self._set_price("max", high.value, low.per_month or high.per_month)
            self._blank(*match.span())
        for match in list(_ABOUT_RX.finditer(self.buf)):
            amount = _amount_of(match, "a")
            if amount and amount.plausible(True) and not _unit_follows(self.buf, match.end()):
                self._set_price("min", amount.value * Decimal("0.9"), amount.per_month)
                self._set_price("max", amount.value * Decimal("1.1"), amount.per_month)
                self._blank(*match.span())
        for bound, regex in (("max", _MAX_RX), ("min", _MIN_RX)):
            for match in list(regex.finditer(self.buf)):
                amount = _amount_of(match, "a")
                if amount and amount.plausible(True) and not _unit_follows(self.buf, match.end()):
                    self._set_price(bound, amount.value, amount.per_month)
                    self._blank(*match.span())
        for match in list(_SUFFIX_RX.finditer(self.buf)):
            amount = _amount_of(match, "a")
            if amount and amount.plausible(True):
                bound = "max" if match.group("maxs") else "min"
                self._set_price(bound, amount.value, amount.per_month)
                self._blank(*match.span())
        for match in list(_BARE_RX.finditer(self.buf)):
            amount = _amount_of(match, "a")
            if amount is None or not amount.plausible(qualified=False):
                continue
            if _unit_follows(self.buf, match.end()):
                continue
            # A lone amount reads as a budget, i.e. a ceiling.
            self._set_price("max", amount.value, amount.per_month)
            self._blank(*match.span())

    def _set_price(self, bound: str, value: Decimal, per_month: bool) -> None:
        value = _whole(value)
        if per_month:
            self.implied_rent = True
        if bound == "min" and self.min_price is None:
            self.min_price = value
        elif bound == "max" and self.max_price is None:
            self.max_price = value

    # -------------------------------------------------------------- listing & property types

    def _listing_type(self) -> None:
        rent = list(_RENT_RX.finditer(self.buf))
        sale = list(_SALE_RX.finditer(self.buf))
        if rent and sale:
            return  # "rent to own" and the like: no hard filter
        if not rent and not sale:
            return
        self.listing_type = "rent" if rent else "sale"
        for match in reversed(rent or sale):
            self._blank(*match.span())

    def _property_type(self) -> str | None:
        # Work on a copy: when the kinds disagree nothing is removed from the text.
        work = self.buf
        hits = list(self.type_hits)
        for _, (start, end) in hits:
            work = _blanked(work, start, end)
        for name, regex in _TYPE_PATTERNS:
            for match in list(regex.finditer(work)):
                hits.append((name, match.span()))
                work = _blanked(work, *match.span())
        kinds = {name for name, _ in hits}
        if len(kinds) != 1:
            return None  # none, or several ("house or condo"): no filter, words stay for ranking
        self.buf = work
        return kinds.pop()

    # -------------------------------------------------------------- leftovers

    def _leftover_text(self) -> str:
        tokens = [t for t in self.buf.split() if not _PUNCT_ONLY_RX.match(t)]
        while tokens and tokens[0].casefold().strip(",.;:") in _LEADING_NOISE:
            tokens.pop(0)
        while tokens and tokens[-1].casefold().strip(",.;:") in _TRAILING_NOISE:
            tokens.pop()
        text = " ".join(tokens)
        return re.sub(r"\s+([,.;:!?])", r"\1", text).strip(" ,;:-")


@dataclass(frozen=True)
class _Amount:
    """A parsed money amount and the cues that say it really is money."""

    value: Decimal
    factor: Decimal
    raw_number: Decimal
    mult: bool = False
    cur: bool = False
    per_month: bool = False

    @property
    def marked(self) -> bool:
        return self.mult or self.cur or self.per_month

    @property
    def year_like(self) -> bool:
        whole = self.value == self.value.to_integral_value()
        return not self.marked and whole and 1900 <= self.value <= 2100

    def plausible(self, qualified: bool) -> bool:
        if self.value <= 0:
            return False
        if self.marked:
            return True
        if qualified:
            return self.value >= 100
        return self.value >= 1000 and not self.year_like

    def scaled(self, factor: Decimal) -> _Amount:
        return replace(self, value=self.raw_number * factor, factor=factor, mult=True)

    def with_currency(self) -> _Amount:
        return replace(self, cur=True)


def _amount_of(match: re.Match[str], p: str) -> _Amount | None:
    try:
        raw = Decimal(match.group(f"{p}num").replace(",", "").replace(" ", ""))
    except (InvalidOperation, AttributeError):
        return None
    mult = (match.group(f"{p}mult") or "").casefold()
    factor = _MULTIPLIERS.get(mult, Decimal(1))
    return _Amount(
        value=raw * factor,
        factor=factor,
        raw_number=raw,
        mult=bool(mult),
        cur=bool(match.group(f"{p}cur") or match.group(f"{p}cur2")),
        per_month=bool(match.group(f"{p}pm")),
    )


def price_parse(text: str) -> tuple[Decimal, str] | None:
    """A price as a listing feed or a spreadsheet writes it, alone in its cell: (amount, currency or "").

    "$1,200,000", "1.2m", "$450k", "2,500/month", "950000 EUR", "€ 950.000,00" (European). None when the
    text is anything else (words, two amounts, a range).
    """
    text = " ".join(text.split())
    european = _EUROPEAN_RX.search(text)
    if european and "," not in text.replace(european.group(0), ""):
        digits = european.group("int").replace(".", "") + (f".{european.group('dec')}" if european.group("dec") else "")
        text = text[: european.start()] + digits + text[european.end() :]
    match = _PRICE_CELL_RX.fullmatch(text)
    amount = _amount_of(match, "a") if match else None
    if amount is None:
        return None
    sign = (match.group("acur") or match.group("acur2") or "").strip().casefold()
    sign = {"dollar": "$", "dollars": "$", "euro": "€", "euros": "€", "bucks": "$"}.get(sign, sign)
    return _whole(amount.value), CURRENCY_SIGNS.get(sign, "")


def _blanked(value: str, start: int, end: int) -> str:
    return value[:start] + " " * (end - start) + value[end:]


def _unit_follows(buf: str, end: int) -> bool:
    return bool(_UNIT_AFTER_RX.match(buf[end : end + 20]))


def _whole(value: Decimal) -> Decimal:
    integral = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if abs(value - integral) < Decimal("0.005"):
        return integral
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _to_int(token: str | None) -> int | None:
    if not token:
        return None
    token = token.casefold()
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _fold_with_index(value: str) -> tuple[str, list[int]]:
    """Fold ``value`` char by char, remembering which original char each folded char came from."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(value):
        folded = fold(ch) if not ch.isascii() else ch.lower()
        chars.append(folded)
        index.extend([i] * len(folded))
    return "".join(chars), index
