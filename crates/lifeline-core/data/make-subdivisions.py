#!/usr/bin/env python3
"""Writes subdivisions.tsv: every ISO 3166-2 subdivision with its name and, where Debian's
iso-codes has one, its Simplified Chinese name. Run on Debian/Ubuntu with `iso-codes`
installed:  python3 make-subdivisions.py > subdivisions.tsv"""
import gettext
import json

codes = json.load(open("/usr/share/iso-codes/json/iso_3166-2.json", encoding="utf-8"))["3166-2"]
zh = gettext.GNUTranslations(open("/usr/share/locale/zh_CN/LC_MESSAGES/iso_3166-2.mo", "rb"))
print("# ISO 3166-2 subdivisions from Debian iso-codes (LGPL-2.1+): code, type, name, Chinese name, parent")
for s in sorted(codes, key=lambda s: s["code"]):
    name = s["name"].replace("\t", " ")
    chinese = zh.gettext(s["name"])
    # A parent is given with or without its country's prefix (`CL`, `GB-NIR`).
    parent = s.get("parent", "")
    if parent and "-" not in parent:
        parent = s["code"].split("-")[0] + "-" + parent
    print("\t".join([s["code"], s.get("type", ""), name, chinese if chinese != s["name"] else "", parent]))
