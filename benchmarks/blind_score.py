"""Score `benchmarks.blind_market` outputs against the blind fixture's ground truth.

A real seller is mapped to the grayhound sellers that hold its listings (by canonical path)
and its profile (by profile URL path). A wrong split is a real seller spread over more than
one grayhound seller; a wrong merge is a grayhound seller holding two real sellers' listings.
A seller's verdict is that of the grayhound seller holding most of its listings. A network is
found when its members are exactly the members of one grayhound network."""

from __future__ import annotations

from collections import Counter, defaultdict
from urllib.parse import urlsplit


def score(outputs: dict, truth: dict) -> dict:
    listing_seller = {
        urlsplit(r["canonical_url"]).path: r["seller_id"] for r in outputs["listings"]
    }
    by_profile = {
        urlsplit(url).path: s["id"] for s in outputs["sellers"] for url in s["profile_urls"]
    }
    found = {s["id"]: s for s in outputs["sellers"]}
    holders: dict[str, Counter] = {}
    owners: dict[int, set[str]] = defaultdict(set)
    for real in truth["sellers"]:
        paths = set(real["listing_paths"])
        for by_crawl in (real.get("listing_paths_by_crawl") or {}).values():
            paths |= set(by_crawl)
        counts = Counter(listing_seller[p] for p in paths if listing_seller.get(p) is not None)
        if real.get("profile_path") and real["profile_path"] in by_profile:
            counts[by_profile[real["profile_path"]]] += 0  # present, without outweighing listings
        holders[real["key"]] = counts
        for seller_id in counts:
            owners[seller_id].add(real["key"])
    splits = {key: sorted(c) for key, c in holders.items() if len(c) > 1}
    merges = {sid: sorted(keys) for sid, keys in owners.items() if len(keys) > 1}
    verdicts, wrong = 0, []
    for real in truth["sellers"]:
        counts = holders[real["key"]]
        main = counts.most_common(1)[0][0] if counts else None
        got = found.get(main, {}).get("verdict") if main is not None else None
        if got == real["expected_verdict"]:
            verdicts += 1
        else:
            wrong.append(f"{real['key']}: {got} != {real['expected_verdict']}")
    networks = _networks(truth, holders, found)
    stable = _stable(outputs["ids_by_crawl"])
    return {
        "real_sellers": len(truth["sellers"]),
        "found_sellers": len(outputs["sellers"]),
        "unmapped_sellers": sorted(s for s in found if s not in owners),
        "wrong_splits": splits,
        "wrong_merges": merges,
        "verdicts_right": verdicts,
        "verdicts_wrong": wrong,
        **networks,
        "ids_stable": stable,
    }


def _networks(truth: dict, holders: dict, found: dict) -> dict:
    main = {key: c.most_common(1)[0][0] for key, c in holders.items() if c}
    network_of = {key: found[sid].get("network_id") for key, sid in main.items()}
    exact, partial, missed = [], [], []
    for network in truth["networks"]:
        ids = {network_of.get(member) for member in network["members"]}
        members_of = {k for k, n in network_of.items() if n is not None and n in ids}
        if len(ids) == 1 and None not in ids and members_of == set(network["members"]):
            exact.append(network["members"])
        elif ids - {None} and len(ids - {None}) < len(network["members"]):
            partial.append(network["members"])
        else:
            missed.append(network["members"])
    real_sets = [set(n["members"]) for n in truth["networks"]]
    grouped: dict = defaultdict(set)
    for key, network_id in network_of.items():
        if network_id is not None:
            grouped[network_id].add(key)
    false = [sorted(m) for m in grouped.values() if not any(m <= real for real in real_sets)]
    return {
        "networks_real": len(truth["networks"]),
        "networks_exact": len(exact),
        "networks_partial": partial,
        "networks_missed": missed,
        "networks_false": false,
    }


def _stable(ids_by_crawl: list[dict]) -> bool:
    first = ids_by_crawl[0]
    return all(
        later.get(url, sid) == sid for later in ids_by_crawl[1:] for url, sid in first.items()
    )


def summary(result: dict) -> str:
    lines = [
        f"sellers found {result['found_sellers']} vs real {result['real_sellers']}",
        f"wrong merges {len(result['wrong_merges'])}: {result['wrong_merges']}",
        f"wrong splits {len(result['wrong_splits'])}: {result['wrong_splits']}",
        f"unmapped grayhound sellers: {result['unmapped_sellers']}",
        f"verdicts right {result['verdicts_right']}/{result['real_sellers']}",
        *(f"  wrong verdict {line}" for line in result["verdicts_wrong"]),
        f"networks exact {result['networks_exact']}/{result['networks_real']}",
        f"  partial {result['networks_partial']}",
        f"  missed {result['networks_missed']}",
        f"  false {result['networks_false']}",
        f"seller ids stable across crawls: {result['ids_stable']}",
    ]
    return "\n".join(lines)
