"""Tests for embedding providers and listing text (pure Python, no database, no network)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from apps.properties import embeddings
from apps.properties.embeddings import (
    Embedder,
    EmbeddingError,
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    content_hash,
    get_embedder,
    property_text,
)

ROOT = Path(__file__).resolve().parents[3]
CATALOG = Path(__file__).resolve().parents[1] / "data" / "sample_catalog.json"


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture
def hashing() -> HashingEmbedder:
    return HashingEmbedder()


def similarity(embedder: HashingEmbedder, a: str, b: str) -> float:
    va, vb = embedder.embed([a, b])
    return cosine(va, vb)


# ---------------------------------------------------------------- hashing


def test_hashing_is_an_embedder(hashing: HashingEmbedder) -> None:
    assert isinstance(hashing, Embedder)
    assert hashing.model_name == "hashing-v1"
    assert hashing.dimensions == 384


def test_similar_wording_lands_closer(hashing: HashingEmbedder) -> None:
    query = "3 bedroom house with pool in Austin"
    close = similarity(hashing, query, "house with a swimming pool, 3 bedrooms, Austin TX")
    far = similarity(hashing, query, "studio apartment for rent downtown Chicago")
    assert close > far
    assert close > 0.4


def test_typo_is_closer_to_the_intended_word(hashing: HashingEmbedder) -> None:
    assert similarity(hashing, "Austn", "Austin") > similarity(hashing, "Austn", "Boston")


def test_accents_and_case_do_not_matter(hashing: HashingEmbedder) -> None:
    assert similarity(hashing, "Café in São Paulo", "cafe in SAO PAULO") == pytest.approx(1.0)


def test_vectors_have_unit_norm_and_requested_size() -> None:
    for dimensions in (8, 384, 1536):
        (vector,) = HashingEmbedder(dimensions).embed(["sunny loft with balcony"])
        assert len(vector) == dimensions
        assert math.sqrt(sum(v * v for v in vector)) == pytest.approx(1.0)


@pytest.mark.parametrize("text", ["", "   ", "!!! ...", "the a of"])
def test_text_without_features_is_a_zero_vector(hashing: HashingEmbedder, text: str) -> None:
    (vector,) = hashing.embed([text])
    assert vector == [0.0] * 384


def test_deterministic_across_calls_and_instances(hashing: HashingEmbedder) -> None:
    texts = ["3 bed house in Austin", "condo with sea view", "studio"]
    first = hashing.embed(texts)
    assert hashing.embed(texts) == first
    assert HashingEmbedder().embed(texts) == first


def test_deterministic_across_processes(hashing: HashingEmbedder) -> None:
    # Python's hash() changes per process; the embedder must not depend on it.
    script = (
        "import json; from apps.properties.embeddings import HashingEmbedder; "
        "print(json.dumps(HashingEmbedder(16).embed(['garden flat in Denver'])[0]))"
    )
    env = {"PYTHONHASHSEED": "12345", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == HashingEmbedder(16).embed(["garden flat in Denver"])[0]


def test_embed_keeps_input_order_and_length(hashing: HashingEmbedder) -> None:
    texts = ["pool", "garage", "", "pool"]
    vectors = hashing.embed(texts)
    assert len(vectors) == 4
    assert vectors[0] == vectors[3]
    assert vectors[0] != vectors[1]
    assert hashing.embed([]) == []


def test_invalid_dimensions_rejected() -> None:
    with pytest.raises(EmbeddingError):
        HashingEmbedder(0)


def test_catalog_search_finds_the_right_listing(hashing: HashingEmbedder) -> None:
    listings = json.loads(CATALOG.read_text(encoding="utf-8"))
    vectors = hashing.embed([property_text(listing) for listing in listings])
    (query,) = hashing.embed(["warehouse with loading dock"])
    best = max(range(len(listings)), key=lambda i: cosine(query, vectors[i]))
    assert "Warehouse" in listings[best]["title"]


# ---------------------------------------------------------------- listing text and hashing


def test_property_text_from_dict() -> None:
    text = property_text(
        {
            "title": "Sunny 3-bed craftsman with pool in Travis Heights",
            "property_type": "house",
            "listing_type": "sale",
            "bedrooms": 3,
            "bathrooms": 2.5,
            "city": "Austin",
            "neighborhood": "Travis Heights",
            "features": ["pool", "garage"],
            "description": "Light-filled rooms near schools.",
            "price": 500000,
        }
    )
    assert text == (
        "Sunny 3-bed craftsman with pool in Travis Heights. House for sale. "
        "3 bedrooms, 2.5 bathrooms. Travis Heights, Austin. Features: pool, garage. "
        "Light-filled rooms near schools."
    )


def test_property_text_from_object_and_sparse_data() -> None:
    listing = SimpleNamespace(
        title="Studio", property_type="apartment", listing_type="rent", bedrooms=0, bathrooms=1,
        city="Chicago", neighborhood=None, features=None, description="",
    )  # fmt: skip
    assert property_text(listing) == "Studio. Studio apartment for rent. 1 bathroom. Chicago."
    assert property_text({}) == ""
    assert property_text({"city": "Denver", "bedrooms": "x"}) == "Denver."


def test_content_hash_changes_with_text_and_model() -> None:
    base = content_hash("3 bed house", "hashing-v1")
    assert len(base) == 64
    assert base == content_hash("3 bed house", "hashing-v1")
    assert base != content_hash("3 bed house!", "hashing-v1")
    assert base != content_hash("3 bed house", "text-embedding-3-small")


# ---------------------------------------------------------------- OpenAI (fake SDK, no network)


class _FakeOpenAIModule(types.ModuleType):
    """Stands in for the openai package: same exception names, a scripted client."""

    def __init__(self) -> None:
        super().__init__("openai")
        for name in (
            "APIConnectionError",
            "APITimeoutError",
            "RateLimitError",
            "InternalServerError",
        ):
            setattr(self, name, type(name, (Exception,), {}))
        self.AuthenticationError = type("AuthenticationError", (Exception,), {})
        self.OpenAI = lambda **kwargs: _FakeClient(self, kwargs)
        self.failures: list[Exception] = []
        self.calls: list[dict[str, Any]] = []
        self.client_kwargs: dict[str, Any] = {}


class _FakeClient:
    def __init__(self, module: _FakeOpenAIModule, kwargs: dict[str, Any]) -> None:
        module.client_kwargs = kwargs
        self.embeddings = SimpleNamespace(create=lambda **kw: self._create(module, kw))

    @staticmethod
    def _create(module: _FakeOpenAIModule, kwargs: dict[str, Any]) -> Any:
        module.calls.append(kwargs)
        if module.failures:
            raise module.failures.pop(0)
        size = kwargs.get("dimensions", 4)
        data = [SimpleNamespace(index=i, embedding=[float(len(text))] * size) for i, text in enumerate(kwargs["input"])]
        # The API does not promise order; the embedder must sort by index.
        return SimpleNamespace(data=list(reversed(data)))


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> _FakeOpenAIModule:
    module = _FakeOpenAIModule()
    monkeypatch.setitem(sys.modules, "openai", module)
    return module


def _openai(**kwargs: Any) -> tuple[OpenAIEmbedder, list[float]]:
    sleeps: list[float] = []
    embedder = OpenAIEmbedder(
        kwargs.pop("model", "text-embedding-3-small"),
        kwargs.pop("dimensions", 4),
        "sk-test",
        None,
        sleep=sleeps.append,
        **kwargs,
    )
    return embedder, sleeps


def test_openai_batches_and_keeps_order(fake_openai: _FakeOpenAIModule) -> None:
    embedder, _ = _openai(batch_size=2)
    vectors = embedder.embed(["a", "bb", "", "ccc", "dddd"])
    assert [v[0] for v in vectors] == [1.0, 2.0, 0.0, 3.0, 4.0]
    assert [call["input"] for call in fake_openai.calls] == [["a", "bb"], ["ccc", "dddd"]]
    assert all(call["dimensions"] == 4 for call in fake_openai.calls)
    assert all(call["encoding_format"] == "float" for call in fake_openai.calls)
    assert fake_openai.client_kwargs["max_retries"] == 0


def test_openai_older_models_get_no_dimensions_argument(fake_openai: _FakeOpenAIModule) -> None:
    embedder, _ = _openai(model="text-embedding-ada-002")
    embedder.embed(["x"])
    assert "dimensions" not in fake_openai.calls[0]


def test_openai_retries_transient_errors_with_backoff(fake_openai: _FakeOpenAIModule) -> None:
    fake_openai.failures = [fake_openai.RateLimitError("slow down"), fake_openai.APITimeoutError()]
    embedder, sleeps = _openai(max_retries=3)
    assert embedder.embed(["abc"]) == [[3.0] * 4]
    assert sleeps == [1.0, 2.0]


def test_openai_gives_up_after_max_retries(fake_openai: _FakeOpenAIModule) -> None:
    fake_openai.failures = [fake_openai.InternalServerError("boom") for _ in range(5)]
    embedder, sleeps = _openai(max_retries=2)
    with pytest.raises(EmbeddingError, match="after 3 attempts"):
        embedder.embed(["abc"])
    assert len(sleeps) == 2


def test_openai_non_transient_error_is_not_retried(fake_openai: _FakeOpenAIModule) -> None:
    fake_openai.failures = [fake_openai.AuthenticationError("bad key")]
    embedder, sleeps = _openai()
    with pytest.raises(EmbeddingError, match="bad key"):
        embedder.embed(["abc"])
    assert sleeps == []


def test_openai_dimension_mismatch_is_reported(fake_openai: _FakeOpenAIModule) -> None:
    embedder, _ = _openai(model="text-embedding-ada-002", dimensions=8)
    with pytest.raises(EmbeddingError, match="VECTOR_DIMENSIONS"):
        embedder.embed(["x"])


def test_openai_missing_sdk_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    embedder, _ = _openai()
    with pytest.raises(EmbeddingError, match="pip install openai"):
        embedder.embed(["x"])


def test_sentence_transformers_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import sentence_transformers` fail, installed or not.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(EmbeddingError, match="sentence-transformers"):
        SentenceTransformerEmbedder()


# ---------------------------------------------------------------- factory (fake settings)


@pytest.fixture
def fake_settings(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    settings = SimpleNamespace(EMBEDDING_PROVIDER="hashing", EMBEDDING_MODEL="", VECTOR_DIMENSIONS=64)
    conf = types.ModuleType("django.conf")
    conf.settings = settings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "django.conf", conf)
    embeddings.clear_embedder_cache()
    yield settings
    embeddings.clear_embedder_cache()


def test_get_embedder_reads_settings_and_caches(fake_settings: SimpleNamespace) -> None:
    embedder = get_embedder()
    assert isinstance(embedder, HashingEmbedder)
    assert embedder.dimensions == 64
    assert get_embedder() is embedder
    fake_settings.VECTOR_DIMENSIONS = 32
    assert get_embedder().dimensions == 32
    assert content_hash("x") == content_hash("x", "hashing-v1")


def test_get_embedder_openai(fake_settings: SimpleNamespace, fake_openai: Any) -> None:
    fake_settings.EMBEDDING_PROVIDER = "openai"
    fake_settings.EMBEDDING_MODEL = "text-embedding-3-small"
    fake_settings.OPENAI_API_KEY = ""
    fake_settings.OPENAI_BASE_URL = ""
    with pytest.raises(EmbeddingError, match="OPENAI_API_KEY"):
        get_embedder()
    fake_settings.OPENAI_API_KEY = "sk-test"
    embedder = get_embedder()
    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.model_name, embedder.dimensions) == ("text-embedding-3-small", 64)


def test_get_embedder_unknown_provider(fake_settings: SimpleNamespace) -> None:
    fake_settings.EMBEDDING_PROVIDER = "magic"
    with pytest.raises(EmbeddingError, match="Unknown EMBEDDING_PROVIDER"):
        get_embedder()
