"""Text embeddings for listings and queries: one Embedder interface, several providers."""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from apps.core import openai_client

logger = logging.getLogger(__name__)

DEFAULT_DIMENSIONS = 384
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"
DEFAULT_SENTENCE_TRANSFORMER_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingError(Exception):
    """An embedding provider is misconfigured, unavailable or returned something unusable."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into fixed-size vectors; vectors come back in input order."""

    model_name: str
    dimensions: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


# ---------------------------------------------------------------- hashing

# Words that carry no meaning for matching listings; they would only add noise to every vector.
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
        "is", "it", "its", "near", "of", "on", "or", "the", "this", "to", "with", "within",
        "your", "you", "our", "we", "very",
    }
)  # fmt: skip
_WORD_RX = re.compile(r"\w+")

_WORD_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.7
# Char n-grams of a word share this much squared mass whatever the word's length, so long
# words do not outweigh short ones; enough for typos to land near the right word.
_CHAR_NGRAM_MASS = 0.6
_NGRAM = 3


def normalize_text(text: str) -> str:
    """Lowercase, accent-free form of ``text`` shared by every hashed feature."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _stem(word: str) -> str:
    # Crude plural folding ("bedrooms" -> "bedroom") is enough for whole-word features.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    # blake2b, not hash(): Python's str hash is salted per process, vectors must be stable.
    digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
    return digest % dimensions, (1.0 if digest >> 63 else -1.0)


class HashingEmbedder:
    """Feature-hashing embedder: no model, no network, deterministic across processes."""

    model_name = "hashing-v1"

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        if int(dimensions) <= 0:
            raise EmbeddingError(f"dimensions must be positive, got {dimensions!r}")
        self.dimensions = int(dimensions)
        # Vocabularies are small and repetitive, so caching per word/bigram is what makes
        # tens of thousands of listings cheap; the cache is bounded to keep memory flat.
        self._word_cache: dict[str, tuple[str, tuple[tuple[int, float], ...]]] = {}
        self._bigram_cache: dict[str, tuple[int, float]] = {}
        self._cache_limit = 200_000

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_one(text) for text in texts]

    def embed_one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        stems: list[str] = []
        for word in _WORD_RX.findall(normalize_text(text if isinstance(text, str) else "")):
            if word in _STOPWORDS:
                continue
            stem, features = self._word_features(word)
            stems.append(stem)
            for index, weight in features:
                vector[index] += weight
        for left, right in itertools.pairwise(stems):
            index, weight = self._bigram_feature(f"{left} {right}")
            vector[index] += weight
        norm = math.sqrt(sum(value * value for value in vector))
        if norm == 0.0:
            return vector
        return [value / norm for value in vector]

    def _word_features(self, word: str) -> tuple[str, tuple[tuple[int, float], ...]]:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        stem = _stem(word)
        merged: dict[int, float] = {}
        index, sign = _bucket("w:" + stem, self.dimensions)
        merged[index] = merged.get(index, 0.0) + sign * _WORD_WEIGHT
        marked = f"<{word}>"
        grams = [marked[i : i + _NGRAM] for i in range(max(1, len(marked) - _NGRAM + 1))]
        gram_weight = _CHAR_NGRAM_MASS / math.sqrt(len(grams))
        for gram in grams:
            index, sign = _bucket("c:" + gram, self.dimensions)
            merged[index] = merged.get(index, 0.0) + sign * gram_weight
        entry = (stem, tuple(merged.items()))
        if len(self._word_cache) >= self._cache_limit:
            self._word_cache.clear()
        self._word_cache[word] = entry
        return entry

    def _bigram_feature(self, bigram: str) -> tuple[int, float]:
        cached = self._bigram_cache.get(bigram)
        if cached is not None:
            return cached
        index, sign = _bucket("b:" + bigram, self.dimensions)
        feature = (index, sign * _BIGRAM_WEIGHT)
        if len(self._bigram_cache) >= self._cache_limit:
            self._bigram_cache.clear()
        self._bigram_cache[bigram] = feature
        return feature


# ---------------------------------------------------------------- OpenAI


class OpenAIEmbedder:
    """Embeddings from the OpenAI API (or a compatible server at ``base_url``)."""

    def __init__(
        self,
        model: str = DEFAULT_OPENAI_MODEL,
        dimensions: int = DEFAULT_DIMENSIONS,
        api_key: str | None = None,
        base_url: str | None = None,
        batch_size: int = 100,
        timeout: float = 30,
        max_retries: int = 3,
        *,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_seconds: float = 1.0,
    ) -> None:
        self.model_name = model
        self.dimensions = int(dimensions)
        self.api_key = api_key
        self.base_url = base_url or None
        self.batch_size = max(1, int(batch_size))
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self._client = client
        self._sleep = sleep
        self._backoff = backoff_seconds

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = [[0.0] * self.dimensions for _ in texts]
        # The API rejects empty input; an empty text has no meaning to embed anyway.
        wanted = [(i, t) for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        for start in range(0, len(wanted), self.batch_size):
            batch = wanted[start : start + self.batch_size]
            for (position, _), vector in zip(batch, self._embed_batch([text for _, text in batch]), strict=True):
                vectors[position] = vector
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        client = self._get_client()
        try:
            retryable = openai_client.transient_errors()
        except openai_client.OpenAIMissing as exc:
            raise EmbeddingError(str(exc)) from exc
        kwargs: dict[str, Any] = {
            "model": self.model_name,
            "input": batch,
            "encoding_format": "float",
        }
        # Only the text-embedding-3 family can shorten its vectors to the column's size.
        if self.model_name.startswith("text-embedding-3"):
            kwargs["dimensions"] = self.dimensions
        attempt = 0
        while True:
            try:
                response = client.embeddings.create(**kwargs)
                break
            except retryable as exc:
                if attempt >= self.max_retries:
                    raise EmbeddingError(f"OpenAI embeddings failed after {attempt + 1} attempts: {exc}") from exc
                delay = self._backoff * (2**attempt)
                logger.warning("OpenAI embeddings transient error (%s); retry in %.1fs", exc, delay)
                self._sleep(delay)
                attempt += 1
            except Exception as exc:
                raise EmbeddingError(f"OpenAI embeddings request failed: {exc}") from exc
        return self._vectors_from(response, len(batch))

    def _vectors_from(self, response: Any, expected: int) -> list[list[float]]:
        try:
            data = sorted(response.data, key=lambda item: item.index)
            vectors = [[float(value) for value in item.embedding] for item in data]
        except (AttributeError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"Unexpected OpenAI embeddings response: {exc}") from exc
        if len(vectors) != expected:
            raise EmbeddingError(f"OpenAI returned {len(vectors)} embeddings for {expected} inputs")
        for vector in vectors:
            if len(vector) != self.dimensions:
                raise EmbeddingError(
                    f"Model {self.model_name} returned {len(vector)} dimensions, "
                    f"expected {self.dimensions} (check VECTOR_DIMENSIONS)"
                )
        return vectors

    def _get_client(self) -> Any:
        if self._client is None:
            # Retries are ours (with logging and a clear final error); the client's are off.
            try:
                self._client = openai_client.sync_client(
                    api_key=self.api_key, base_url=self.base_url, timeout=self.timeout
                )
            except openai_client.OpenAIMissing as exc:
                raise EmbeddingError(str(exc)) from exc
        return self._client


# ---------------------------------------------------------------- sentence-transformers


class SentenceTransformerEmbedder:
    """Embeddings from a local sentence-transformers model (optional dependency)."""

    def __init__(self, model_name: str = DEFAULT_SENTENCE_TRANSFORMER_MODEL) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(
                "EMBEDDING_PROVIDER=sentence_transformers needs the 'sentence-transformers' "
                "package: pip install sentence-transformers"
            ) from exc
        self.model_name = model_name
        self._model = SentenceTransformer(model_name)
        self.dimensions = int(self._model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        array = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return [[float(value) for value in row] for row in array]


# ---------------------------------------------------------------- factory

_embedders: dict[tuple[str, str, int], Embedder] = {}
_embedders_lock = threading.Lock()
_PROVIDER_ALIASES = {
    "hashing": "hashing",
    "hash": "hashing",
    "openai": "openai",
    "sentence_transformers": "sentence_transformers",
    "sentence-transformers": "sentence_transformers",
    "local": "sentence_transformers",
}


def get_embedder() -> Embedder:
    """The embedder the settings ask for, built once per (provider, model, dimensions)."""
    from django.conf import settings

    raw_provider = str(getattr(settings, "EMBEDDING_PROVIDER", "hashing") or "hashing")
    provider = _PROVIDER_ALIASES.get(raw_provider.strip().lower())
    if provider is None:
        raise EmbeddingError(
            f"Unknown EMBEDDING_PROVIDER {raw_provider!r}; use hashing, openai or sentence_transformers"
        )
    model = str(getattr(settings, "EMBEDDING_MODEL", "") or "")
    dimensions = int(getattr(settings, "VECTOR_DIMENSIONS", 0) or DEFAULT_DIMENSIONS)
    key = (provider, model, dimensions)
    with _embedders_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            embedder = _build_embedder(provider, model, dimensions, settings)
            _embedders[key] = embedder
    return embedder


def clear_embedder_cache() -> None:
    """Forget built embedders, e.g. after tests override settings."""
    with _embedders_lock:
        _embedders.clear()


def _build_embedder(provider: str, model: str, dimensions: int, settings: Any) -> Embedder:
    if provider == "hashing":
        return HashingEmbedder(dimensions)
    if provider == "openai":
        api_key = getattr(settings, "OPENAI_API_KEY", "") or None
        base_url = getattr(settings, "OPENAI_BASE_URL", "") or None
        if not api_key and not base_url:
            raise EmbeddingError("EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY")
        # Compatible local servers ignore the key, but the SDK refuses to start without one.
        return OpenAIEmbedder(model or DEFAULT_OPENAI_MODEL, dimensions, api_key or "not-needed", base_url)
    # The OpenAI default model name means nothing to sentence-transformers.
    if not model or model.startswith("text-embedding-"):
        model = DEFAULT_SENTENCE_TRANSFORMER_MODEL
    embedder = SentenceTransformerEmbedder(model)
    if embedder.dimensions != dimensions:
        raise EmbeddingError(
            f"Model {model} produces {embedder.dimensions} dimensions but VECTOR_DIMENSIONS is {dimensions}"
        )
    return embedder


# ---------------------------------------------------------------- listing text


def content_hash(text: str, model_name: str | None = None) -> str:
    """Fingerprint of what an embedding was computed from; a change means re-embed.

    Without ``model_name`` the configured embedder's name is used (needs Django settings).
    """
    if model_name is None:
        model_name = get_embedder().model_name
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


_PROPERTY_TYPE_LABELS = {
    "house": "house",
    "apartment": "apartment",
    "condo": "condo",
    "townhouse": "townhouse",
    "land": "land plot",
    "commercial": "commercial property",
}


def property_text(prop: Mapping[str, Any] | object) -> str:
    """The text a listing is embedded from, for a dict or any object with listing attributes."""

    def get(name: str) -> Any:
        if isinstance(prop, Mapping):
            return prop.get(name)
        return getattr(prop, name, None)

    parts: list[str] = []
    title = _clean(get("title"))
    if title:
        parts.append(title)

    property_type = _clean(get("property_type")).lower()
    listing_type = _clean(get("listing_type")).lower()
    bedrooms = _number(get("bedrooms"))
    kind = _PROPERTY_TYPE_LABELS.get(property_type, property_type)
    if property_type == "apartment" and bedrooms == 0:
        kind = "studio apartment"
    if kind or listing_type:
        suffix = {"sale": "for sale", "rent": "for rent"}.get(listing_type, listing_type)
        parts.append(" ".join(part for part in (kind.capitalize(), suffix) if part))

    rooms: list[str] = []
    if bedrooms:
        rooms.append(f"{_format_number(bedrooms)} bedroom{'s' if bedrooms != 1 else ''}")
    bathrooms = _number(get("bathrooms"))
    if bathrooms:
        rooms.append(f"{_format_number(bathrooms)} bathroom{'s' if bathrooms != 1 else ''}")
    if rooms:
        parts.append(", ".join(rooms))

    place = ", ".join(p for p in (_clean(get("neighborhood")), _clean(get("city"))) if p)
    if place:
        parts.append(place)

    features = _feature_list(get("features"))
    if features:
        parts.append("Features: " + ", ".join(features))

    description = _clean(get("description"))
    if description:
        parts.append(description)
    text = ". ".join(part.rstrip(". ") for part in parts if part.strip(". "))
    return f"{text}." if text else ""


def _clean(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{Decimal(str(value)).normalize()}"


def _feature_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        items: Sequence[Any] = value.split(",")
    elif isinstance(value, Mapping):
        items = [key for key, enabled in value.items() if enabled]
    else:
        try:
            items = list(value)
        except TypeError:
            return []
    return [_clean(item) for item in items if _clean(item)]
