"""Seller networks: sellers tied by strong shared signals (a claimed domain, a phone, an email,
an address, a company number, image URLs, near-identical descriptions), possibly across
sources. `grayhound detect` finds them (`detectors.networks`); this module keeps them with
stable ids: a network keeps its id while any of its sellers stays in it, two networks that
join keep the older id (the younger points at it), and membership is kept with history."""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils


def create_schema(db: sqlite_utils.Database) -> None:
    """Migration 0008."""
    db["networks"].create(
        {
            "id": int,
            "first_seen": str,
            "last_seen": str,
            "is_current": int,  # 0: its sellers no longer share anything, or it joined another
            "merged_into": int,
            "seller_count": int,
            "sources": str,  # JSON list
            "signals": str,  # JSON list of {kind, value, sellers: [ids], why}
        },
        pk="id",
        not_null={"first_seen", "last_seen"},
    )
    db["network_members"].create(
        {
            "network_id": int,
            "seller_id": int,
            "first_seen": str,
            "last_seen": str,
            "is_current": int,
        },
        pk=("network_id", "seller_id"),
        foreign_keys=[("network_id", "networks", "id"), ("seller_id", "sellers", "id")],
    )
    db["network_members"].create_index(["seller_id", "is_current"])


class Networks:
    """Mixin of Store: seller networks with stable ids."""

    db: sqlite_utils.Database

    def record_networks(self, found: Iterable[dict], now: str) -> dict[int, int]:
        """Store the networks `detect` found ({"sellers": [ids], "sources": [...],
        "signals": [...]}, each); return {seller id: network id} for every seller in one."""
        previous = {
            seller: network
            for network, seller in self.db.execute(
                "SELECT network_id, seller_id FROM network_members WHERE is_current = 1"
            )
        }
        assigned: dict[int, int] = {}
        used: set[int] = set()
        with self.db.atomic():
            for network in sorted(found, key=lambda n: min(n["sellers"])):
                members = sorted(set(network["sellers"]))
                earlier = sorted({previous[s] for s in members if s in previous} - used)
                network_id = earlier[0] if earlier else self._new_network(now)
                used.add(network_id)
                for joined in earlier[1:]:
                    self.db.execute(
                        "UPDATE networks SET merged_into = ?, is_current = 0 WHERE id = ?",
                        [network_id, joined],
                    )
                self.db.execute(
                    "UPDATE networks SET last_seen = ?, is_current = 1, merged_into = NULL,"
                    " seller_count = ?, sources = ?, signals = ? WHERE id = ?",
                    [
                        now,
                        len(members),
                        json.dumps(sorted(network.get("sources") or [])),
                        json.dumps(network.get("signals") or [], sort_keys=True),
                        network_id,
                    ],
                )
                for seller in members:
                    assigned[seller] = network_id
                    self.db.execute(
                        "INSERT INTO network_members (network_id, seller_id, first_seen,"
                        " last_seen, is_current) VALUES (?, ?, ?, ?, 1)"
                        " ON CONFLICT (network_id, seller_id) DO UPDATE SET"
                        " last_seen = excluded.last_seen, is_current = 1",
                        [network_id, seller, now, now],
                    )
            for seller, network_id in previous.items():
                if assigned.get(seller) != network_id:
                    self.db.execute(
                        "UPDATE network_members SET is_current = 0"
                        " WHERE network_id = ? AND seller_id = ?",
                        [network_id, seller],
                    )
            stale = set(previous.values()) - used
            for network_id in stale:
                self.db.execute("UPDATE networks SET is_current = 0 WHERE id = ?", [network_id])
        return assigned

    def _new_network(self, now: str) -> int:
        return self._insert("networks", {"first_seen": now, "last_seen": now, "is_current": 1})

    def network_ids(self) -> dict[int, int]:
        """{seller id: its current network id}."""
        return {
            seller: network
            for seller, network in self.db.execute(
                "SELECT seller_id, network_id FROM network_members WHERE is_current = 1"
            )
        }

    def networks(self, current: bool = True) -> list[dict]:
        """Networks with their current sellers' ids and decoded signals."""
        where = "is_current = 1" if current else None
        members: dict[int, list[int]] = {}
        for network, seller in self.db.execute(
            "SELECT network_id, seller_id FROM network_members WHERE is_current = 1"
            " ORDER BY seller_id"
        ):
            members.setdefault(network, []).append(seller)
        out = []
        for row in self.db["networks"].rows_where(where, order_by="id"):
            out.append(
                {
                    **row,
                    "sources": json.loads(row["sources"] or "[]"),
                    "signals": json.loads(row["signals"] or "[]"),
                    "sellers": members.get(row["id"], []),
                }
            )
        return out

    def network_by_id(self, network_id: int) -> dict | None:
        """A network by id, following `merged_into` to the network it joined."""
        for _ in range(100):
            found = [n for n in self.networks(current=False) if n["id"] == network_id]
            if not found:
                return None
            if found[0]["merged_into"] is None:
                return found[0]
            network_id = found[0]["merged_into"]
        return None
