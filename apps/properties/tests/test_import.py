"""Import (API and command): CSV and JSON, upsert by external_id, per-row errors, plan limit, file checks."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.properties.models import Property, PropertyEmbedding
from apps.properties.services import property_import, property_rows_parse
from apps.properties.tests.test_api import limit_listings

pytestmark = pytest.mark.django_db

CSV = """external_id,title,property_type,listing_type,price,city,bedrooms,features,images,is_active
a-1,Garden flat,apartment,rent,1900,Austin,1,garden|balcony,https://img.example.com/a1.jpg,true
a-2,Big house,house,sale,not-a-price,Austin,4,,,yes
a-3,Ranch with acreage,house,sale,720000,Denver,3,pool; garage,,
a-4,,castle,sale,100000,Denver,,,,
a-5,Shop front,commercial,rent,4500,Seattle,,,not a url,0
"""


@pytest.fixture
def api(org, api_key, client_for):
    return client_for(org, api_key=api_key)


def upload(api, content: str | bytes, name: str = "listings.csv"):
    data = content.encode() if isinstance(content, str) else content
    return api.post("/api/v1/properties/import/", {"file": SimpleUploadedFile(name, data)}, format="multipart")


def test_csv_good_rows_import_bad_rows_are_reported(api, org):
    response = upload(api, CSV)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["created"] == 2 and body["updated"] == 0
    assert {(error["row"], error["attr"]) for error in body["errors"]} == {
        (2, "price"), (4, "title"), (4, "property_type"), (5, "images.0"),
    }  # fmt: skip
    assert all(set(error) == {"row", "attr", "detail"} and error["detail"] for error in body["errors"])
    with tenant_context(org):
        assert set(Property.objects.values_list("external_id", flat=True)) == {"a-1", "a-3"}
        flat = Property.objects.get(external_id="a-1")
        assert flat.features == ["garden", "balcony"] and flat.images == ["https://img.example.com/a1.jpg"]
        assert Property.objects.get(external_id="a-3").features == ["pool", "garage"]


def test_reimport_updates_by_external_id_and_empty_cells_keep_values(api, org):
    upload(api, CSV)
    second = "external_id,title,price,bedrooms\na-1,Garden flat with new kitchen,,\nb-1,New one,1,\n"
    body = upload(api, second).json()
    assert body["created"] == 0 and body["updated"] == 1
    assert body["errors"] and body["errors"][0]["row"] == 2  # a new listing needs its required fields
    with tenant_context(org):
        flat = Property.objects.get(external_id="a-1")
        assert flat.title == "Garden flat with new kitchen" and flat.price == 1900 and flat.bedrooms == 1
        assert Property.objects.count() == 2


def test_json_array_imports(api, org):
    rows = [
        {"external_id": "j-1", "title": "Loft", "property_type": "apartment", "listing_type": "rent", "price": 2100.5,
         "city": "Miami", "features": ["gym"], "latitude": 25.7616798},
        {"external_id": "j-2", "title": "Lot", "property_type": "land", "listing_type": "sale", "price": "95000",
         "city": "Miami", "bedrooms": None},
        "not an object",
        {"external_id": "j-1", "title": "Loft, renamed", "price": 2200},
    ]  # fmt: skip
    body = upload(api, json.dumps(rows), "listings.json").json()
    assert body["created"] == 2 and body["updated"] == 1
    assert body["errors"] == [
        {"row": 3, "attr": None, "detail": "Each row must be an object with the listing's fields."}
    ]
    with tenant_context(org):
        loft = Property.objects.get(external_id="j-1")
        assert loft.title == "Loft, renamed" and str(loft.price) == "2200.00" and str(loft.latitude) == "25.761680"


def test_plan_limit_on_import(api, org):
    limit_listings(org, 2)
    rows = [
        {"external_id": f"p-{n}", "title": f"Listing {n}", "property_type": "house", "listing_type": "sale",
         "price": 100000 + n, "city": "Austin"}
        for n in range(1, 5)
    ]  # fmt: skip
    body = upload(api, json.dumps(rows), "listings.json").json()
    assert body["created"] == 2
    assert [(error["row"], error["attr"]) for error in body["errors"]] == [(3, "listings"), (4, "listings")]
    assert "plan allows 2 listings" in body["errors"][0]["detail"]
    # Updates still apply at the limit; new rows still do not.
    rows[0]["title"] = "Listing one, updated"
    body = upload(api, json.dumps(rows), "listings.json").json()
    assert body["created"] == 0 and body["updated"] == 2 and len(body["errors"]) == 2
    with tenant_context(org):
        assert Property.objects.count() == 2
        assert Property.objects.get(external_id="p-1").title == "Listing one, updated"


def test_too_large_file_is_413(api, settings):
    settings.PROPERTY_IMPORT_MAX_BYTES = 100
    response = upload(api, CSV)
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large" and response.json()["errors"][0]["attr"] == "file"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\xff\xfe\x00garbage", "x.csv"),
        ("[{]", "x.json"),
        ('{"title": "not an array"}', "x.json"),
        ("", "x.csv"),
        ("just,some,words\n1,2,3\n", "x.csv"),
        ("[" * 100_000 + "]" * 100_000, "x.json"),  # a RecursionError, once a 500
        ('title,"' + "h" * 200_000 + '"\nx,y\n', "x.csv"),  # a header cell over csv's field limit, once a 500
    ],
)
def test_unusable_files_are_400_on_file(api, content, name):
    response = upload(api, content, name)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"


def test_rows_postgresql_cannot_store_are_reported_and_the_others_import(api, org):
    # A NUL in the external_id failed the whole import in the upsert's lookup (a 500, or a failed job).
    good = {"external_id": "ok-1", "title": "Fine", "property_type": "house", "listing_type": "sale", "price": 1,
            "city": "Austin"}  # fmt: skip
    content = (
        "["
        + json.dumps(good)
        + ', {"external_id": "bad\\u0000", "title": "T", "property_type": "house", "listing_type": "sale", '
        '"price": 1, "city": "Austin"}'
        + ', {"external_id": "bad-2", "title": "T \\ud800", "property_type": "house", "listing_type": "sale", '
        '"price": 1, "city": "Austin"}' + "]"
    )
    response = upload(api, content, "rows.json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["created"] == 1
    assert {(error["row"], error["attr"]) for error in body["errors"]} == {(2, "external_id"), (3, "title")}
    with tenant_context(org):
        assert list(Property.objects.values_list("external_id", flat=True)) == ["ok-1"]


def test_spreadsheet_prices_and_choices_import_as_people_write_them(api, org):
    # Each of these was a row error: a price with its currency sign and thousands separators, a
    # multiplier, a European number, a capitalized choice, "For Rent".
    content = (
        "external_id,title,property_type,listing_type,price,currency,city\n"
        's-1,One,House,For Sale,"$1,200,000",,Austin\n'
        "s-2,Two,APARTMENT,Rental,2500/month,,Austin\n"
        's-3,Three,condo,SALE,"€ 950.000,00",,Madrid\n'
        "s-4,Four,townhouse,sale,1.2m,cad,Toronto\n"
        "s-5,Five,house,sale,call us,,Austin\n"
    )
    body = upload(api, content).json()
    assert body["created"] == 4
    assert [(error["row"], error["attr"]) for error in body["errors"]] == [(5, "price")]
    with tenant_context(org):
        got = {p.external_id: (p.property_type, p.listing_type, p.price, p.currency) for p in Property.objects.all()}
    assert got == {
        "s-1": ("house", "sale", Decimal("1200000"), "USD"),
        "s-2": ("apartment", "rent", Decimal("2500"), "USD"),
        "s-3": ("condo", "sale", Decimal("950000"), "EUR"),
        "s-4": ("townhouse", "sale", Decimal("1200000"), "CAD"),
    }


@pytest.mark.parametrize(
    "content",
    [
        "title,property_type,listing_type,price,city\nCafé près du parc,house,sale,1,Montréal\n".encode("cp1252"),
        "title,property_type,listing_type,price,city\nCafé près du parc,house,sale,1,Montréal\n".encode("utf-16"),
        b"sep=;\r\ntitle;property_type;listing_type;price;city\r\nCaf\xe9 pr\xe8s du parc;house;sale;1;Montr\xe9al\r\n",
        "\n\ntitle,property_type,listing_type,price,city\nCafé près du parc,house,sale,1,Montréal\n".encode(),
    ],
    ids=["windows-1252", "utf-16", "excel-sep-line", "blank-lines-first"],
)
def test_files_as_excel_and_windows_save_them_import(api, org, content):
    response = upload(api, content)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 1 and response.json()["errors"] == []
    with tenant_context(org):
        assert Property.objects.get().title == "Café près du parc"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("title,price,price\nA,1,2\n", "price twice"),
        ('title,price,city\n"Nice flat,100,Austin\nB,200,Austin\n', "never closed"),
        (b"PK\x03\x04 an xlsx", "workbook"),
    ],
)
def test_files_that_would_lose_data_quietly_are_refused(api, content, words):
    # A second column of one name replaced the first; an unclosed quote read the rest of the file as one cell.
    response = upload(api, content)
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "file"
    assert words in response.json()["errors"][0]["detail"]


def test_missing_file_and_roles(api, org, client_for, member_of):
    assert api.post("/api/v1/properties/import/", {}, format="multipart").status_code == 400
    member = client_for(org, user=member_of(org, "member"))
    assert upload(member, CSV).status_code == 403


def test_the_sample_catalog_imports_cleanly(in_org, sample_rows):
    limit_listings(in_org, 1000)
    result = property_import(rows=sample_rows)
    assert result.errors == [] and result.created == len(sample_rows) >= 240
    again = property_import(rows=sample_rows)
    assert again.created == 0 and again.updated == len(sample_rows)
    assert len({row["city"] for row in sample_rows}) >= 5


def test_csv_semicolons_and_bom_are_understood(in_org):
    rows = property_rows_parse(content="\ufeffexternal_id;title;price\nx;Y;1\n".encode(), filename="f.csv")
    assert rows == [{"external_id": "x", "title": "Y", "price": "1"}]


def test_import_command(org, tmp_path):
    path = tmp_path / "listings.csv"
    path.write_text(CSV)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_properties", org.slug, str(path), stdout=out, stderr=err)
    assert "2 created, 0 updated, 4 error(s)" in out.getvalue()
    assert "row 2: price:" in err.getvalue() and "Importing" in err.getvalue()  # tqdm's bar is on stderr
    with tenant_context(org):
        # No worker in a command's process: it embeds the imported listings itself.
        assert PropertyEmbedding.objects.count() == 2


def test_import_command_fails_in_one_line(org, tmp_path):
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        call_command("import_properties", "nope", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_properties", org.slug, str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(CommandError, match="Invalid JSON"):
        call_command("import_properties", org.slug, str(bad))
