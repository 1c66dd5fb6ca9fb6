"""Writes of listings: create, update, delete (with the plan's limit), CSV/JSON import, and their embeddings."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from apps.billing.models import Entitlement
from apps.billing.services import entitlement_check
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.jobs import enqueue_on_commit
from apps.core.text import json_parse, text_storable
from apps.properties.embeddings import content_hash, get_embedder, property_text
from apps.properties.models import SEARCH_WORD_MAX_CHARS, Property, PropertyEmbedding, PropertyType, SearchWord
from apps.properties.query_parser import price_parse
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)

# The demo's catalog (apps/properties/data/generate_catalog.py writes it): seed_demo, onboarding's sample
# import and the chat benchmark load it.
SAMPLE_CATALOG = Path(__file__).resolve().parent / "data" / "sample_catalog.json"

# One embed job per this many listings: big enough to batch the provider's calls, small enough
# that a retry redoes little.
EMBED_BATCH_SIZE = 100


class PropertyFields(TypedDict, total=False):
    """The writable fields of a listing, as the API names them."""

    external_id: str | None
    title: str
    description: str
    property_type: str
    listing_type: str
    price: Decimal
    currency: str
    bedrooms: int | None
    bathrooms: Decimal | None
    area_sqm: Decimal | None
    address: str
    neighborhood: str
    city: str
    postal_code: str
    latitude: Decimal | None
    longitude: Decimal | None
    features: list[str]
    images: list[str]
    url: str
    is_active: bool


WRITABLE_FIELDS: frozenset[str] = frozenset(PropertyFields.__annotations__)


def current_organization() -> Organization:
    """The organization whose schema the connection is in; listings exist only there."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "is_public", True) or not isinstance(tenant, Organization):
        raise RuntimeError("Listings are written inside an organization's schema (tenant_context / request).")
    return tenant


def property_search_text(listing: Property) -> str:
    """The short fields a visitor names, lower-cased: what trigram matching (typo tolerance) runs on."""
    kind = PropertyType(listing.property_type).label if listing.property_type in PropertyType.values else ""
    parts = [
        listing.title, kind, listing.neighborhood, listing.city, listing.address, listing.postal_code,
        *(listing.features or []),
    ]  # fmt: skip
    return " ".join(" ".join(str(part).split()) for part in parts if part).lower()


_WORD_RE = re.compile(r"\w+")


def property_search_words(search_text: str) -> list[str]:
    """The distinct words of a listing's search_text that a misspelling can be matched to (3+ letters, no numbers)."""
    words = (word for word in _WORD_RE.findall(search_text.lower()) if len(word) >= 3 and not word.isdigit())
    return sorted({word for word in words if len(word) <= SEARCH_WORD_MAX_CHARS})


def _vocabulary_add(words: Iterable[str]) -> None:
    """Add listings' words to the organization's vocabulary (SearchWord), in the caller's transaction."""
    words = sorted(set(words))
    if words:
        with connection.cursor() as cursor:
            table = SearchWord._meta.db_table
            cursor.execute(
                f"INSERT INTO {table} (word) SELECT unnest(%s::text[]) ON CONFLICT (word) DO NOTHING", [words]
            )


def _apply(listing: Property, fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - WRITABLE_FIELDS
    if unknown:
        raise TypeError(f"Unknown listing fields: {sorted(unknown)}")
    for name, value in fields.items():
        if name == "external_id":
            value = (value or "").strip() or None
        setattr(listing, name, value)
    listing.search_text = property_search_text(listing)
    listing.search_words = property_search_words(listing.search_text)


def _validate(listing: Property) -> None:
    """Model-level validation (choices, lengths, URLs) as the contract's error, then external_id uniqueness."""
    try:
        listing.full_clean(exclude=["search_text"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        attr, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(ErrorCode.INVALID, messages[0], attr=None if attr == "__all__" else attr) from None
    if listing.external_id:
        taken = Property.objects.filter(external_id=listing.external_id).exclude(pk=listing.pk).exists()
        if taken:
            raise ApplicationError(
                ErrorCode.CONFLICT, f"A listing with external_id '{listing.external_id}' exists.", attr="external_id"
            )


def _lock_listings(organization: Organization) -> None:
    # Serializes listing creation per organization until commit, so two concurrent creates cannot
    # both pass the plan's limit with the same count.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"listings:{organization.schema_name}"])


def _cities_forget_after_commit() -> None:
    """A listing's city may have appeared or gone: the parser's city list is read again after commit."""
    from apps.properties.selectors import property_catalog_forget, property_cities_cache_key

    key = property_cities_cache_key()  # taken now, in the listing's schema
    transaction.on_commit(lambda: property_catalog_forget(key))


def _embed_after_commit(property_ids: Sequence[int]) -> None:
    from apps.properties.actors import property_embed

    ids = sorted(set(property_ids))
    for start in range(0, len(ids), EMBED_BATCH_SIZE):
        enqueue_on_commit(property_embed, ids[start : start + EMBED_BATCH_SIZE])


@transaction.atomic
def property_create(**fields: Unpack[PropertyFields]) -> Property:
    """Create a listing in the current organization (plan limit checked); it is embedded after commit."""
    organization = current_organization()
    _lock_listings(organization)
    entitlement_check(organization, Entitlement.LISTINGS)
    listing = Property()
    _apply(listing, fields)
    _validate(listing)
    listing.save()
    _vocabulary_add(listing.search_words)
    _cities_forget_after_commit()
    _embed_after_commit([listing.pk])
    return listing


@transaction.atomic
def property_update(*, listing: Property, **fields: Unpack[PropertyFields]) -> Property:
    """Change a listing; it is re-embedded after commit only when the text it is embedded from changed."""
    text_before = property_text(listing)
    _apply(listing, fields)
    _validate(listing)
    listing.save()
    _vocabulary_add(listing.search_words)
    _cities_forget_after_commit()
    if property_text(listing) != text_before:
        _embed_after_commit([listing.pk])
    return listing


@transaction.atomic
def property_delete(*, listing: Property) -> None:
    listing.delete()  # its embedding goes with it (cascade)
    _cities_forget_after_commit()


# ---------------------------------------------------------------- embeddings


def property_embeddings_refresh(*, property_ids: Iterable[int], force: bool = False) -> int:
    """Embed the listings whose text (or the embedding model) changed since their last embedding.

    The provider is called outside any transaction (it may be a slow network call); the vectors are
    then written only for listings whose text is still the one embedded, so a job that loses a race
    with a newer edit never overwrites the newer embedding. Returns how many were (re-)embedded.
    """
    ids = list(dict.fromkeys(int(pk) for pk in property_ids))
    if not ids:
        return 0
    embedder = get_embedder()
    listings = Property.objects.filter(pk__in=ids).select_related("embedding").order_by("pk")
    todo: dict[int, tuple[str, str]] = {}
    for listing in listings:
        text = property_text(listing)
        digest = content_hash(text, embedder.model_name)
        current = getattr(listing, "embedding", None)
        if force or current is None or current.content_hash != digest or current.model_name != embedder.model_name:
            todo[listing.pk] = (text, digest)
    if not todo:
        return 0
    vectors = embedder.embed([text for text, _ in todo.values()])
    with transaction.atomic():
        locked = Property.objects.select_for_update().filter(pk__in=list(todo)).order_by("pk")
        still_same = {
            listing.pk
            for listing in locked
            if content_hash(property_text(listing), embedder.model_name) == todo[listing.pk][1]
        }
        rows = [
            PropertyEmbedding(property_id=pk, model_name=embedder.model_name, vector=vector, content_hash=digest)
            for (pk, (_, digest)), vector in zip(todo.items(), vectors, strict=True)
            if pk in still_same
        ]
        PropertyEmbedding.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["property"],
            update_fields=["model_name", "vector", "content_hash", "updated_at"],
        )
    return len(rows)


def property_embeddings_sync(
    *, property_ids: Iterable[int], force: bool = False, progress: Callable[[int], None] | None = None
) -> int:
    """Embed listings now, in batches (commands and the demo seed, which have no worker to send jobs to)."""
    ids = list(property_ids)
    embedded = 0
    for start in range(0, len(ids), EMBED_BATCH_SIZE):
        batch = ids[start : start + EMBED_BATCH_SIZE]
        embedded += property_embeddings_refresh(property_ids=batch, force=force)
        if progress is not None:
            progress(len(batch))
    return embedded


# ---------------------------------------------------------------- import


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Ids written, for callers that want them (the reindex after import is already queued).
    property_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "errors": self.errors}


_LIST_FIELDS = ("features", "images")


def property_rows_parse(*, content: bytes | str, filename: str = "") -> list[Any]:
    """The data rows of an import file: CSV with a header row, or a JSON array of objects.

    The format comes from the file name's extension, else from the content (a leading `[`).
    """
    text = _file_text(content) if isinstance(content, bytes) else content.lstrip("\ufeff")
    name = filename.lower()
    is_json = name.endswith(".json") or (not name.endswith(".csv") and text.lstrip().startswith(("[", "{")))
    if is_json:
        try:
            data = json_parse(text, parse_float=Decimal)
        except ValueError as exc:
            raise ApplicationError(ErrorCode.INVALID, f"Invalid JSON: {exc}", attr="file") from None
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]  # a page of our own list endpoint imports as well
        if not isinstance(data, list):
            raise ApplicationError(ErrorCode.INVALID, "The JSON file must be an array of listings.", attr="file")
        return data
    return _csv_rows(text)


def _file_text(content: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without a BOM), UTF-16 with its BOM, else Windows-1252.

    Excel's "CSV" on Windows writes the system's code page, Windows-1252 in Western locales, and its
    "Unicode text" UTF-16: refusing both as "not UTF-8" refused most spreadsheets agents save.
    """
    if content.startswith(b"PK\x03\x04"):
        raise ApplicationError(
            ErrorCode.INVALID, "This is a workbook (.xlsx), not CSV: save it as CSV, or export JSON.", attr="file"
        )
    encodings = (
        ("utf-16",) if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else ("utf-8-sig", "cp1252")
    )
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a binary file decodes as cp1252 too
            return text
    raise ApplicationError(ErrorCode.INVALID, "The file is not text (UTF-8, UTF-16 or Windows-1252).", attr="file")


_EXCEL_SEPARATOR_RE = re.compile(r"\A\s*sep=(.)\r?\n", re.IGNORECASE)


def _csv_rows(text: str) -> list[dict[str, str]]:
    # Excel's first line "sep=;" names the delimiter; blank lines before the header are no header.
    separator = _EXCEL_SEPARATOR_RE.match(text)
    text = (text[separator.end() :] if separator else text).lstrip("\r\n")
    if not text.strip():
        raise ApplicationError(ErrorCode.INVALID, "The file is empty.", attr="file")
    if separator:
        dialect: Any = type("ExcelSeparator", (csv.excel,), {"delimiter": separator.group(1)})
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    # strict: a quote never closed is an error at the end of the file, not the rest of the file in one cell.
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect, strict=True)
    try:
        fieldnames = reader.fieldnames or []  # reading the header row can fail too (a cell over csv's field limit)
    except csv.Error as exc:
        raise ApplicationError(ErrorCode.INVALID, f"Invalid CSV: {exc}", attr="file") from None
    header = [(name or "").strip().lower() for name in fieldnames]
    if not header or ("title" not in header and "external_id" not in header):
        raise ApplicationError(
            ErrorCode.INVALID, "The CSV file needs a header row naming the fields (title, price, city, …).", attr="file"
        )
    if twice := sorted({name for name in header if name and header.count(name) > 1}):
        # csv keeps the last of two columns with one name: the other's values would vanish without a word.
        raise ApplicationError(ErrorCode.INVALID, f"The header names {', '.join(twice)} twice.", attr="file")
    reader.fieldnames = header
    try:
        return [{key: value for key, value in row.items() if key} for row in reader]
    except csv.Error as exc:
        detail = "a quoted value is never closed" if "unexpected end of data" in str(exc) else str(exc)
        raise ApplicationError(
            ErrorCode.INVALID, f"Invalid CSV (line {reader.line_num}): {detail}.", attr="file"
        ) from None


def _split_list(value: Any) -> Any:
    """A list cell from CSV (or a string in JSON): a JSON array, or items separated by |, ; or commas."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            return json_parse(text)
        except ValueError:
            pass
    for separator in ("|", ";", ","):
        if separator in text:
            return [item.strip() for item in text.split(separator) if item.strip()]
    return [text]


def _row_input(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Only the listing's fields; an empty CSV cell means "not given" (the default, or unchanged on update)."""
    data: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).strip().lower()
        if name not in WRITABLE_FIELDS:
            continue  # id, created_at, score… of an exported file are not ours to write
        if isinstance(value, str) and not value.strip():
            continue
        if name in _LIST_FIELDS:
            value = _split_list(value)
        data[name] = value
    return _spreadsheet_values(data)


# How spreadsheets and listing feeds write what the API takes as a choice: "For Sale", "Rental", "House".
_LISTING_TYPE_WORDS = {"for sale": "sale", "buy": "sale", "for rent": "rent", "rental": "rent", "lease": "rent",
                       "to let": "rent", "let": "rent"}  # fmt: skip


def _spreadsheet_values(data: dict[str, Any]) -> dict[str, Any]:
    """A file's values as the serializer takes them: choices in any case, prices as people write them.

    "$1,200,000", "1.2m" or "€ 950.000,00" in a price cell were each a row error, as were "House" and
    "SALE". A price's currency sign fills the currency when the row gives none. Anything else is left to
    the serializer, which names the field.
    """
    for name in ("property_type", "listing_type"):
        if isinstance(data.get(name), str):
            word = " ".join(data[name].split()).lower()
            data[name] = _LISTING_TYPE_WORDS.get(word, word) if name == "listing_type" else word
    if isinstance(data.get("currency"), str):
        data["currency"] = data["currency"].strip().upper()
    price = data.get("price")
    if isinstance(price, str):
        try:
            Decimal(price.strip())
        except InvalidOperation:
            parsed = price_parse(price)
            if parsed is not None:
                data["price"], currency = parsed
                if currency and not data.get("currency"):
                    data["currency"] = currency
    return data


def _flatten_errors(detail: Any, prefix: str | None = None) -> list[tuple[str | None, str]]:
    """DRF's nested error detail as (attr, message) pairs; nested keys joined with dots (images.0)."""
    if isinstance(detail, Mapping):
        pairs = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else str(key)
            attr = ".".join(part for part in (prefix, name) if part) or None
            pairs.extend(_flatten_errors(value, attr))
        return pairs
    if isinstance(detail, list):
        pairs = []
        for item in detail:
            pairs.extend(_flatten_errors(item, prefix))
        return pairs
    return [(prefix, str(detail))]


@transaction.atomic
def property_import(*, rows: Sequence[Any], progress: Callable[[int], None] | None = None) -> ImportResult:
    """Upsert listings by external_id. Bad rows are reported (row counted from 1, field, reason); the others import.

    Within the plan's listing limit: updates always apply; new listings beyond the limit are reported
    as errors of their rows. Changed listings are embedded after commit.
    """
    from apps.properties.serializers import PropertySerializer

    organization = current_organization()
    _lock_listings(organization)
    result = ImportResult()

    def report(row: int, attr: str | None, detail: str) -> None:
        result.errors.append({"row": row, "attr": attr, "detail": detail})

    inputs: list[tuple[int, dict[str, Any] | None]] = []
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            report(number, None, "Each row must be an object with the listing's fields.")
            inputs.append((number, None))
            _progress(progress)
        else:
            inputs.append((number, _row_input(raw)))
    external_ids = {str(data["external_id"]).strip() for _, data in inputs if data and data.get("external_id")}
    # One no listing can have (a NUL) is looked up by nobody: its row's validation names it.
    external_ids = {external_id for external_id in external_ids if text_storable(external_id)}
    existing: dict[str, Property] = Property.objects.in_bulk(list(external_ids), field_name="external_id")

    # Validate every row first: how many listings the file adds decides whether the limit is checked per row.
    validated: list[tuple[int, dict[str, Any]]] = []
    new_ids: set[str] = set()  # external_ids a valid earlier row of this file creates
    new_rows = 0
    for number, data in inputs:
        if data is None:
            continue
        external_id = str(data.get("external_id") or "").strip()
        # A row whose listing exists (or an earlier row creates) only updates: its missing fields stay.
        serializer = PropertySerializer(data=data, partial=external_id in existing or external_id in new_ids)
        if serializer.is_valid():
            validated.append((number, serializer.validated_data))
            if not external_id or (external_id not in existing and external_id not in new_ids):
                new_rows += 1
                if external_id:
                    new_ids.add(external_id)
        else:
            for attr, detail in _flatten_errors(serializer.errors):
                report(number, attr, detail)
            _progress(progress)
    per_row_limit = False
    try:
        entitlement_check(organization, Entitlement.LISTINGS, amount=new_rows)
    except ApplicationError:
        per_row_limit = True  # not all fit: find out row by row how many do
    limit_error: ApplicationError | None = None

    touched: list[int] = []
    words: set[str] = set()
    for number, data in validated:
        external_id = data.get("external_id")
        listing = existing.get(external_id) if external_id else None
        if listing is None:
            if limit_error is None and per_row_limit:
                try:
                    entitlement_check(organization, Entitlement.LISTINGS)
                except ApplicationError as exc:
                    limit_error = exc
            if limit_error is not None:
                report(number, str(limit_error.attr), limit_error.detail)
                _progress(progress)
                continue
        text_before = property_text(listing) if listing is not None else None
        target = listing if listing is not None else Property()
        try:
            # A savepoint per row: a row that fails in the database leaves the others standing.
            with transaction.atomic():
                _apply(target, data)
                _validate(target)
                target.save()
        except (ApplicationError, DatabaseError) as exc:
            if isinstance(exc, ApplicationError):
                report(number, exc.attr, exc.detail)
            else:
                logger.warning("Import row %s failed in the database: %s", number, exc)
                report(number, None, "The listing could not be saved; check its values.")
            if listing is not None:
                listing.refresh_from_db()  # drop the row's unsaved changes before a later row reuses it
        else:
            if listing is None:
                result.created += 1
                if target.external_id:
                    existing[target.external_id] = target  # a later row with the same id updates it
            else:
                result.updated += 1
            result.property_ids.append(target.pk)
            words.update(target.search_words)
            if text_before is None or property_text(target) != text_before:
                touched.append(target.pk)
        _progress(progress)
    result.errors.sort(key=lambda error: error["row"])
    _vocabulary_add(words)
    _cities_forget_after_commit()
    _embed_after_commit(touched)
    return result


def _progress(callback: Callable[[int], None] | None) -> None:
    if callback is not None:
        callback(1)
