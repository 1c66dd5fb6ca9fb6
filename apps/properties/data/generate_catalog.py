"""Writes sample_catalog.json: a deterministic demo catalog of realistic listings (no network)."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

SEED = 42
LISTINGS_PER_CITY = 36
OUTPUT = Path(__file__).with_name("sample_catalog.json")

# Must stay within apps.properties.query_parser.FEATURE_VOCABULARY (a test checks it); kept
# as a copy so this script runs on its own, outside Django and the app package.
FEATURES = (
    "pool", "garage", "garden", "balcony", "parking", "gym", "fireplace", "elevator", "terrace",
    "sea view", "mountain view", "city view", "air conditioning", "pet friendly", "furnished",
    "home office", "solar panels", "storage", "doorman", "ev charging", "hardwood floors",
    "walk-in closet", "laundry", "wheelchair accessible",
)  # fmt: skip

CITIES: dict[str, dict[str, Any]] = {
    "Austin": {
        "state": "TX", "center": (30.2672, -97.7431), "factor": 1.0, "coastal": False,
        "transit": "CapMetro", "park": "Zilker Park", "water": "Lady Bird Lake",
        "styles": ["craftsman", "bungalow", "ranch", "modern farmhouse", "mid-century"],
        "streets": ["Congress Ave", "Oltorf St", "Duval St", "Manor Rd", "Barton Springs Rd",
                    "Enfield Rd", "Burnet Rd", "Cesar Chavez St", "Speedway", "Lamar Blvd"],
        "neighborhoods": {
            "Travis Heights": "78704", "Hyde Park": "78751", "Mueller": "78723",
            "East Austin": "78702", "Zilker": "78704", "Clarksville": "78703",
            "Tarrytown": "78703", "Bouldin Creek": "78704", "Crestview": "78757",
            "Downtown": "78701",
        },
    },
    "Denver": {
        "state": "CO", "center": (39.7392, -104.9903), "factor": 1.0, "coastal": False,
        "transit": "RTD light rail", "park": "Washington Park", "water": "Sloan's Lake",
        "styles": ["Victorian", "Denver square", "brick bungalow", "Tudor", "modern"],
        "streets": ["Colfax Ave", "Larimer St", "Downing St", "Tennyson St", "York St",
                    "Broadway", "Speer Blvd", "Federal Blvd", "Pearl St", "Blake St"],
        "neighborhoods": {
            "LoDo": "80202", "Capitol Hill": "80203", "Highland": "80211",
            "Washington Park": "80209", "Cherry Creek": "80206", "RiNo": "80205",
            "Baker": "80223", "Sloan's Lake": "80212", "Park Hill": "80207",
            "Congress Park": "80206",
        },
    },
    "Miami": {
        "state": "FL", "center": (25.7617, -80.1918), "factor": 1.15, "coastal": True,
        "transit": "Metrorail", "park": "Bayfront Park", "water": "Biscayne Bay",
        "styles": ["Mediterranean", "mid-century", "modern", "Art Deco", "Key West-style"],
        "streets": ["Brickell Ave", "Biscayne Blvd", "Calle Ocho", "NW 2nd Ave", "Coral Way",
                    "Grand Ave", "Bird Rd", "NE 2nd Ave", "Main Hwy", "SW 8th St"],
        "neighborhoods": {
            "Brickell": "33131", "Wynwood": "33127", "Coconut Grove": "33133",
            "Little Havana": "33135", "Edgewater": "33137", "Coral Way": "33145",
            "Design District": "33137", "Upper East Side": "33138", "Downtown": "33132",
        },
    },
    "Seattle": {
        "state": "WA", "center": (47.6062, -122.3321), "factor": 1.35, "coastal": True,
        "transit": "Link light rail", "park": "Green Lake", "water": "Puget Sound",
        "styles": ["craftsman", "Tudor", "modern", "Victorian", "Northwest contemporary"],
        "streets": ["Pike St", "Market St", "Fremont Ave N", "Queen Anne Ave N", "Aurora Ave N",
                    "Rainier Ave S", "California Ave SW", "Beacon Ave S", "Eastlake Ave E",
                    "NW 65th St"],
        "neighborhoods": {
            "Capitol Hill": "98102", "Ballard": "98107", "Fremont": "98103",
            "Queen Anne": "98109", "Wallingford": "98103", "Green Lake": "98115",
            "Columbia City": "98118", "West Seattle": "98116", "South Lake Union": "98109",
            "Beacon Hill": "98144",
        },
    },
    "Chicago": {
        "state": "IL", "center": (41.8781, -87.6298), "factor": 0.85, "coastal": False,
        "transit": "the L", "park": "Lincoln Park", "water": "Lake Michigan",
        "styles": ["greystone", "Victorian", "brick bungalow", "Queen Anne", "modern"],
        "streets": ["Milwaukee Ave", "Clark St", "Halsted St", "Armitage Ave", "Damen Ave",
                    "Division St", "Belmont Ave", "Wabash Ave", "Logan Blvd", "Fullerton Ave"],
        "neighborhoods": {
            "Lincoln Park": "60614", "Wicker Park": "60622", "Logan Square": "60647",
            "Lakeview": "60657", "Hyde Park": "60615", "Pilsen": "60608",
            "Andersonville": "60640", "River North": "60654", "West Loop": "60607",
            "Bucktown": "60647",
        },
    },
    "San Diego": {
        "state": "CA", "center": (32.7157, -117.1611), "factor": 1.45, "coastal": True,
        "transit": "the Trolley", "park": "Balboa Park", "water": "Mission Bay",
        "styles": ["Spanish-style", "craftsman", "mid-century", "beach cottage", "modern"],
        "streets": ["University Ave", "Adams Ave", "Garnet Ave", "Newport Ave", "India St",
                    "Prospect St", "Park Blvd", "Rosecrans St", "Washington St", "30th St"],
        "neighborhoods": {
            "North Park": "92104", "La Jolla": "92037", "Pacific Beach": "92109",
            "Hillcrest": "92103", "Ocean Beach": "92107", "Little Italy": "92101",
            "Gaslamp Quarter": "92101", "Mission Hills": "92103", "Point Loma": "92106",
            "Normal Heights": "92116",
        },
    },
    "Nashville": {
        "state": "TN", "center": (36.1627, -86.7816), "factor": 0.95, "coastal": False,
        "transit": "WeGo buses", "park": "Centennial Park", "water": "the Cumberland River",
        "styles": ["craftsman", "Victorian", "modern farmhouse", "brick ranch", "Tudor"],
        "streets": ["Broadway", "Gallatin Ave", "Belmont Blvd", "12th Ave S", "Charlotte Pike",
                    "Woodland St", "Rosa L Parks Blvd", "Music Row", "Church St", "Main St"],
        "neighborhoods": {
            "East Nashville": "37206", "The Gulch": "37203", "Germantown": "37208",
            "12 South": "37204", "Sylvan Park": "37209", "Midtown": "37203",
            "Edgehill": "37203", "Inglewood": "37216",
        },
    },
}  # fmt: skip

# property_type -> (weight in the mix, share offered for rent)
TYPE_MIX = {
    "house": (25, 0.25),
    "apartment": (25, 0.6),
    "condo": (15, 0.35),
    "townhouse": (12, 0.3),
    "land": (9, 0.1),
    "commercial": (14, 0.45),
}
# Sale price per m² and monthly rent per m², before the city factor.
PRICE_PER_SQM = {
    "house": (3400, 18.0),
    "apartment": (4600, 30.0),
    "condo": (4900, 28.0),
    "townhouse": (3800, 20.0),
    "land": (260, 0.9),
    "commercial": (3100, 24.0),
}
FEATURE_POOLS = {
    "house": ["garage", "garden", "pool", "fireplace", "solar panels", "home office",
              "air conditioning", "pet friendly", "storage", "hardwood floors", "ev charging",
              "walk-in closet", "laundry", "terrace"],
    "townhouse": ["garage", "garden", "terrace", "fireplace", "home office", "air conditioning",
                  "pet friendly", "hardwood floors", "laundry", "ev charging", "storage"],
    "apartment": ["balcony", "elevator", "gym", "parking", "doorman", "furnished",
                  "air conditioning", "pet friendly", "laundry", "city view", "storage",
                  "hardwood floors", "pool"],
    "condo": ["balcony", "elevator", "gym", "parking", "doorman", "pool", "air conditioning",
              "pet friendly", "laundry", "city view", "terrace", "walk-in closet"],
    "land": ["solar panels", "garden"],
    "commercial": ["parking", "elevator", "air conditioning", "storage",
                   "wheelchair accessible", "ev charging"],
}  # fmt: skip

ADJECTIVES = [
    "Sunny", "Bright", "Charming", "Spacious", "Renovated", "Modern", "Cozy", "Light-filled",
    "Elegant", "Updated", "Quiet", "Stylish", "Airy", "Classic", "Move-in ready",
]  # fmt: skip
BUILDING_STYLES = ["loft", "high-rise", "garden-level", "walk-up", "boutique", "mid-rise"]
FEATURE_PHRASES = {
    "pool": ["a sparkling saltwater pool", "a heated pool shaded by palms", "a lap pool"],
    "garage": ["an attached two-car garage", "a detached garage with workshop space"],
    "garden": ["a landscaped garden with raised beds", "a fenced backyard garden"],
    "balcony": ["a private balcony", "a west-facing balcony for sunsets"],
    "parking": ["reserved parking", "a deeded parking space"],
    "gym": ["an on-site gym", "a 24-hour fitness room"],
    "fireplace": ["a wood-burning fireplace", "a gas fireplace in the living room"],
    "elevator": ["elevator access", "a recently modernized elevator"],
    "terrace": ["a rooftop terrace", "a covered terrace off the kitchen"],
    "sea view": ["sweeping sea views", "ocean views from the main rooms"],
    "mountain view": ["mountain views from the bedroom", "views of the foothills"],
    "city view": ["skyline views", "city views from floor-to-ceiling windows"],
    "air conditioning": ["central air conditioning", "quiet split-unit air conditioning"],
    "pet friendly": ["a pet-friendly policy", "room for dogs and cats"],
    "furnished": ["tasteful furnishings included", "a fully furnished interior"],
    "home office": ["a dedicated home office", "a quiet study that works as a home office"],
    "solar panels": ["owned solar panels", "rooftop solar panels that cut utility bills"],
    "storage": ["extra storage", "a private storage unit"],
    "doorman": ["a 24-hour doorman", "a staffed lobby with doorman"],
    "ev charging": ["an EV charging station", "EV charging in the garage"],
    "hardwood floors": ["original hardwood floors", "wide-plank hardwood floors"],
    "walk-in closet": ["a walk-in closet in the primary suite", "a generous walk-in closet"],
    "laundry": ["in-unit laundry", "a washer and dryer in the unit"],
    "wheelchair accessible": ["step-free wheelchair accessible entry", "accessible restrooms"],
}
LIGHT = [
    "South-facing windows fill the living room with light all afternoon.",
    "Skylights and tall ceilings keep the space bright even in winter.",
    "Big east-facing windows bring in soft morning light.",
    "An open floor plan lets daylight run from front to back.",
    "Corner exposure means light from two sides.",
    "The main rooms are quiet and set back from the street.",
]
KITCHENS = [
    "The kitchen was redone with quartz counters and gas range.",
    "A chef's kitchen with an island opens to the dining area.",
    "The galley kitchen has new stainless appliances.",
    "Updated bathrooms feature walk-in showers and heated floors.",
    "Fresh paint, new fixtures and energy-efficient windows throughout.",
    "The primary suite has a spa-like bathroom with double vanity.",
]
LOCATION = [
    "It is a short walk to {transit} and the cafes of {neighborhood}.",
    "{park} is ten minutes away, great for weekend runs.",
    "Zoned for well-rated schools, with playgrounds nearby.",
    "Walk to groceries, coffee and restaurants; {transit} is around the corner.",
    "Easy bike ride to {water} and the downtown core.",
    "A quiet tree-lined street that is still close to nightlife.",
    "Commuters get quick access to {transit} and major roads.",
    "Farmers market every Saturday a few blocks away.",
]
RENT_TERMS = [
    "Available now on a 12-month lease.",
    "Available next month; utilities partly included.",
    "Flexible lease terms, small pets considered.",
    "Move-in ready; first month and deposit required.",
]
SALE_TERMS = [
    "Low HOA fees and a well-funded reserve.",
    "Recent roof and HVAC, with inspection reports on file.",
    "Priced to sell; open house this weekend.",
    "A rare opportunity in one of the city's most sought-after areas.",
]
BUSINESS_RENT_TERMS = [
    "Lease terms negotiable for the right tenant.",
    "Available now; tenant improvements considered.",
]
BUSINESS_SALE_TERMS = [
    "Owner open to offers and seller financing.",
    "Ready for immediate use; survey on file.",
]
LAND_SENTENCES = [
    "Zoned for residential use with utilities at the street.",
    "Gently sloping lot ready for a custom build.",
    "Survey and soil report available; plans for a two-story home are approved.",
    "Corner parcel with mature trees and easy road access.",
    "Ideal for a builder or a family wanting to design from scratch.",
]
COMMERCIAL_KINDS = [
    ("Ground-floor retail space", "High foot traffic and large display windows facing the street."),
    ("Open-plan office suite", "Flexible layout with a conference room and kitchenette."),
    ("Warehouse with loading dock", "Clear heights of six meters and a roll-up door for trucks."),
    ("Corner storefront", "Previously a coffee shop, with plumbing ready for food service."),
    ("Creative studio space", "Exposed brick, polished concrete and plenty of power outlets."),
    ("Medical office", "Built-out exam rooms and a reception area near public transit."),
]


# How a feature reads inside a title when the vocabulary spelling would look wrong.
TITLE_FEATURES = {
    "ev charging": "EV charging",
    "furnished": "furniture included",
    "pet friendly": "pets welcome",
    "sea view": "sea views",
    "mountain view": "mountain views",
    "city view": "city views",
    "laundry": "in-unit laundry",
    "storage": "extra storage",
    "wheelchair accessible": "step-free access",
}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _maybe(rng: random.Random, items: list[str]) -> str | None:
    return rng.choice(items) if items else None


def _pick_type(rng: random.Random) -> str:
    names = list(TYPE_MIX)
    return rng.choices(names, weights=[TYPE_MIX[n][0] for n in names])[0]


def _bedrooms(rng: random.Random, property_type: str) -> int:
    return {
        "house": lambda: rng.choice([2, 3, 3, 3, 4, 4, 5]),
        "townhouse": lambda: rng.choice([2, 2, 3, 3, 4]),
        "apartment": lambda: rng.choice([0, 0, 1, 1, 1, 2, 2, 3]),
        "condo": lambda: rng.choice([1, 1, 2, 2, 3]),
    }.get(property_type, lambda: 0)()


def _area(rng: random.Random, property_type: str, listing: str, bedrooms: int) -> float:
    if property_type == "land":
        return float(rng.randrange(400, 6000, 50))
    if property_type == "commercial":
        # Leased units are mostly small shops and suites; large floors go on sale.
        return float(rng.randrange(60, 350 if listing == "rent" else 900, 5))
    low, high = {0: (28, 45), 1: (45, 72), 2: (65, 105), 3: (95, 165), 4: (140, 260)}.get(bedrooms, (200, 360))
    return float(rng.randint(low, high))


def _bathrooms(rng: random.Random, property_type: str, bedrooms: int) -> float:
    if property_type == "land":
        return 0.0
    if property_type == "commercial":
        return float(rng.choice([1, 1, 2, 2, 3]))
    base = max(1.0, bedrooms - rng.choice([0, 1, 1]))
    return base + rng.choice([0.0, 0.0, 0.5])


def _price(rng: random.Random, city: dict[str, Any], kind: str, listing: str, area: float) -> int:
    sale_sqm, rent_sqm = PRICE_PER_SQM[kind]
    noise = rng.uniform(0.8, 1.25)
    if listing == "rent":
        value = area * rent_sqm * city["factor"] * noise
        return int(round(min(max(value, 900), 9000) / 25) * 25)
    value = area * sale_sqm * city["factor"] * noise
    return int(round(min(max(value, 90_000), 3_500_000) / 1000) * 1000)


def _features(rng: random.Random, city: dict[str, Any], name: str, kind: str) -> list[str]:
    pool = list(FEATURE_POOLS[kind])
    if city["coastal"] and kind != "commercial":
        pool.append("sea view")
    if name in ("Denver", "Seattle") and kind != "commercial":
        pool.append("mountain view")
    if name in ("Austin", "Miami", "San Diego") and "pool" in pool:
        pool.append("pool")  # warm cities: pools twice as likely
    count = rng.randint(0, 2) if kind == "land" else rng.randint(2, 6)
    chosen: list[str] = []
    for feature in rng.sample(pool, min(count, len(pool))):
        if feature not in chosen:
            chosen.append(feature)
    return sorted(chosen, key=FEATURES.index)


def _kind_label(kind: str, bedrooms: int, style: str) -> str:
    if kind == "apartment" and bedrooms == 0:
        return "studio"
    return {
        "house": f"{style} home",
        "townhouse": "townhouse",
        "apartment": "apartment",
        "condo": "condo",
    }[kind]


def _title(rng: random.Random, kind: str, bedrooms: int, hood: str, features: list[str],
           style: str, extra: dict[str, str]) -> str:  # fmt: skip
    if kind == "land":
        return rng.choice(
            [f"Buildable lot in {hood}", f"Vacant land near {extra['park']}",
             f"Corner plot in {hood}", f"Residential parcel, {hood}"]
        )  # fmt: skip
    if kind == "commercial":
        return f"{extra['commercial']} in {hood}"
    label = _kind_label(kind, bedrooms, style)
    adjective = rng.choice(ADJECTIVES)
    feature = TITLE_FEATURES.get(picked, picked) if (picked := _maybe(rng, features)) else None
    beds = f"{bedrooms}-bed " if bedrooms else ""
    options = [
        f"{adjective} {beds}{label} in {hood}",
        f"{hood} {label} with {feature}" if feature else f"{adjective} {label} in {hood}",
        f"{adjective} {beds}{label} with {feature} in {hood}" if feature else f"{hood} {label}",
        f"{bedrooms} BR {label} near {extra['park']}" if bedrooms else f"{label} by {extra['park']}",
    ]
    title = rng.choice(options)
    return title[0].upper() + title[1:]


def _description(rng: random.Random, kind: str, listing: str, bedrooms: int, hood: str,
                 features: list[str], style: str, extra: dict[str, str]) -> str:  # fmt: skip
    fill = {**extra, "neighborhood": hood}
    sentences: list[str] = []
    if kind == "land":
        sentences.append(rng.choice(LAND_SENTENCES))
    elif kind == "commercial":
        sentences.append(extra["commercial_detail"])
    else:
        label = _kind_label(kind, bedrooms, style)
        rooms = f"{bedrooms}-bedroom " if bedrooms else ""
        adjective = rng.choice(ADJECTIVES).lower()
        openers = [
            f"This {rooms}{label} sits on a quiet block in {hood}.",
            f"Welcome to {_article(adjective)} {adjective} {rooms}{label} in {hood}.",
            f"Set in the heart of {hood}, this {label} has room to grow.",
        ]
        if kind in ("apartment", "condo"):
            building = rng.choice(BUILDING_STYLES)
            lead = _article(rooms or label).title()
            openers.append(f"{lead} {rooms}{label} in {_article(building)} {building} building in {hood}.")
        sentences.append(rng.choice(openers))
    if features:
        shown = rng.sample(features, min(3, len(features)))
        phrases = [rng.choice(FEATURE_PHRASES[feature]) for feature in shown]
        joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        lead = rng.choice(["Highlights include", "You also get", "Extras:"])
        sentences.append(f"{lead} {joined}.")
    if kind not in ("land", "commercial"):
        sentences.append(rng.choice(LIGHT + KITCHENS))
    sentences.append(rng.choice(LOCATION).format(**fill))
    if rng.random() < 0.6:
        residential = kind not in ("land", "commercial")
        terms = {
            ("rent", True): RENT_TERMS,
            ("sale", True): SALE_TERMS,
            ("rent", False): BUSINESS_RENT_TERMS,
            ("sale", False): BUSINESS_SALE_TERMS,
        }[(listing, residential)]
        sentences.append(rng.choice(terms))
    return " ".join(sentences[:4])


def _address(rng: random.Random, city: dict[str, Any], kind: str) -> str:
    street = f"{rng.randint(100, 4999)} {rng.choice(city['streets'])}"
    if kind in ("apartment", "condo"):
        return f"{street}, Unit {rng.randint(1, 24)}{rng.choice('ABCD')}"
    if kind == "commercial" and rng.random() < 0.5:
        return f"{street}, Suite {rng.randint(100, 900)}"
    return street


def generate(per_city: int = LISTINGS_PER_CITY, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    # Each neighborhood gets a fixed spot around its city; listings scatter a little around it.
    spots = {
        (name, hood): (
            city["center"][0] + rng.uniform(-0.07, 0.07),
            city["center"][1] + rng.uniform(-0.08, 0.08),
        )
        for name, city in CITIES.items()
        for hood in city["neighborhoods"]
    }
    listings: list[dict[str, Any]] = []
    for name, city in CITIES.items():
        kinds = list(TYPE_MIX) + [_pick_type(rng) for _ in range(per_city - len(TYPE_MIX))]
        rng.shuffle(kinds)
        for kind in kinds:
            external_id = f"demo-{len(listings) + 1:04d}"
            hood, postal_code = rng.choice(list(city["neighborhoods"].items()))
            listing = "rent" if rng.random() < TYPE_MIX[kind][1] else "sale"
            bedrooms = _bedrooms(rng, kind)
            area = _area(rng, kind, listing, bedrooms)
            features = _features(rng, city, name, kind)
            style = rng.choice(city["styles"])
            commercial, commercial_detail = rng.choice(COMMERCIAL_KINDS)
            extra = {
                "transit": city["transit"],
                "park": city["park"],
                "water": city["water"],
                "commercial": commercial,
                "commercial_detail": commercial_detail,
            }
            lat, lon = spots[(name, hood)]
            listings.append(
                {
                    "external_id": external_id,
                    "title": _title(rng, kind, bedrooms, hood, features, style, extra),
                    "description": _description(rng, kind, listing, bedrooms, hood, features, style, extra),
                    "property_type": kind,
                    "listing_type": listing,
                    "price": _price(rng, city, kind, listing, area),
                    "currency": "USD",
                    "bedrooms": bedrooms,
                    "bathrooms": _bathrooms(rng, kind, bedrooms),
                    "area_sqm": area,
                    "address": _address(rng, city, kind),
                    "neighborhood": hood,
                    "city": name,
                    "postal_code": postal_code,
                    "latitude": round(lat + rng.uniform(-0.006, 0.006), 6),
                    "longitude": round(lon + rng.uniform(-0.006, 0.006), 6),
                    "features": features,
                    "images": [
                        f"https://images.example.com/listings/{external_id}/{i}.jpg"
                        for i in range(1, rng.randint(1, 3) + 1)
                    ],
                    "url": f"https://demo.example.com/listings/{external_id}",
                    "is_active": rng.random() < 0.95,
                }
            )
    return listings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--per-city", type=int, default=LISTINGS_PER_CITY)
    args = parser.parse_args(argv)
    listings = generate(args.per_city)
    args.out.write_text(json.dumps(listings, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(listings)} listings to {args.out}")


if __name__ == "__main__":
    main()
