"""Test data for scripts/fuzz-api.sh, read from the registry being fuzzed (standard library only).

  fuzz-api-setup.py person URL TOKEN        print the national ID number of a demo individual,
                                            to sign a citizen in as that person
  fuzz-api-setup.py config URL TOKEN FILE   write a schemathesis config (TOML) that points each
                                            collection's `{id}` operations at a record TOKEN may
                                            see, so the fuzzer reaches real records too (the
                                            generic /v1/{collection}/{id} operations keep random ids),
                                            and the review desk's routes at documents, accounts
                                            and applications
"""

import json
import sys
import urllib.request

COLLECTIONS = [
    "individuals", "contacts", "groups", "memberships", "financial-accounts", "documents",
    "id-types", "programmes", "forms", "applications", "notifications", "liveness-checks",
]
# The review desk's `{id}` routes (/v1/review/<collection>/{id}…) take records of these.
REVIEWED = ["documents", "financial-accounts", "applications"]


def get(url, token, path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def person(url, token):
    for individual in get(url, token, "/v1/individuals?limit=50")["items"]:
        for registered in individual.get("reg_ids", []):
            if registered.get("id_type") == "national_id" and registered.get("value"):
                print(registered["value"])
                return
    sys.exit("no demo individual with a national ID number: is the registry serving demo data?")


def config(url, token, path):
    lines = ["# Written by scripts/fuzz-api-setup.py for one run of scripts/fuzz-api.sh.", ""]
    for collection in COLLECTIONS:
        items = get(url, token, f"/v1/{collection}?limit=1")["items"]
        if not items:
            continue
        prefixes = ["/v1"] + (["/v1/review"] if collection in REVIEWED else [])
        for prefix in prefixes:
            lines += [
                "[[operations]]",
                f"include-path-regex = '^{prefix}/{collection}/\\{{id\\}}'",
                f'parameters = {{ "path.id" = "{items[0]["id"]}" }}',
                "",
            ]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "person" and len(args) == 2:
        person(*args)
    elif command == "config" and len(args) == 3:
        config(*args)
    else:
        sys.exit(__doc__)
