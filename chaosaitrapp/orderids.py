"""The drills' order ids: each one a valid Kite ``tag`` as it is.

Kite's ``tag`` is at most 20 alphanumeric characters. A drill's ``client_order_id`` is ``chs`` + the
run's 12-hex id + a 5-digit ordinal (``chs8285f5a768b300007``): 20 alphanumerics, unique per order across
runs, so a service that sends its client id as the tag (whole, or AITRAPP's ``client_order_id[:20]``)
sends a valid and distinct tag, and the broker's book can be searched by it. The run's orders share
the prefix ``chs<run id>`` (:func:`run_prefix`), which the checks and the SQL counts match on.
"""
from __future__ import annotations

import hashlib
import re
from typing import AbstractSet, Iterable, Iterator, Mapping, Set, Tuple

#: The longest Kite tag.
KITE_TAG_MAX = 20
#: What every drill order id starts with.
ID_MARK = "chs"
#: How many ordinals one run can number (five digits).
MAX_ORDERS_PER_RUN = 100_000


def run_prefix(run_id: str) -> str:
    """The prefix shared by the order ids of run ``run_id`` (its first 12 hex digits): ``chs<run id>``.
    Raises ValueError when ``run_id`` has fewer than 12 alphanumerics."""
    if not re.fullmatch(r"[A-Za-z0-9]{12,}", run_id or ""):
        raise ValueError(f"a run id of at least 12 alphanumerics is needed for order ids, got {run_id!r}")
    return f"{ID_MARK}{run_id[:12]}"


def order_id(prefix: str, n: int) -> str:
    """The ``n``-th order id under ``prefix`` (:func:`run_prefix`): a valid Kite tag of 20 characters.
    Raises ValueError when ``n`` is out of 0..99999."""
    if not 0 <= n < MAX_ORDERS_PER_RUN:
        raise ValueError(f"order ordinal must be in 0..{MAX_ORDERS_PER_RUN - 1}, got {n}")
    return f"{prefix}{n:05d}"


def is_kite_tag(value: str) -> bool:
    """True when ``value`` is a valid Kite tag: 1 to 20 ASCII letters and digits, nothing else (no trailing
    newline either)."""
    return isinstance(value, str) and 0 < len(value) <= KITE_TAG_MAX and value.isascii() and value.isalnum()


def _direct_tags(client_order_id: str) -> Tuple[str, ...]:
    """The id itself when it is a valid tag (then it is its own first 20 characters), else its first 20
    characters when those are: AITRAPP's ``client_order_id[:20]``."""
    head = client_order_id[:KITE_TAG_MAX]
    return (head,) if head.isascii() and head.isalnum() else ()  # is_kite_tag: a slice is never over 20


def tags_of(client_order_id: str) -> Set[str]:
    """The Kite tags a service may send for ``client_order_id``: the id itself when it is a valid tag,
    its first 20 characters when those are (AITRAPP's ``client_order_id[:20]``), and the first 20 hex
    digits of its SHA-1 (a service that derives a tag from an id Kite would refuse)."""
    return {*_direct_tags(client_order_id), hashlib.sha1(client_order_id.encode()).hexdigest()[:20]}


def _all_tags(values: AbstractSet[str]) -> bool:
    """True when every one of ``values`` is a valid Kite tag (:func:`is_kite_tag`), checked in bulk."""
    if not values:
        return True
    joined = "".join(values)
    return "" not in values and max(map(len, values)) <= KITE_TAG_MAX and joined.isascii() and joined.isalnum()


class TagTable(Mapping[str, Tuple[str, ...]]):
    """:func:`tags_of` of each of a set of ids, as far as a history's tags can tell (:func:`tags_by_id`), each
    computed when asked for: a long history costs no table of its own. ``identity``: every id is a valid tag
    and no SHA-1 form is needed, so each id's only tag is itself (a caller may then look the id up as it is)."""

    def __init__(self, ids: AbstractSet[str], hashing: bool, identity: bool) -> None:
        self._ids = ids
        self.hashing = hashing
        self.identity = identity

    def __getitem__(self, client_order_id: str) -> Tuple[str, ...]:
        if client_order_id not in self._ids:
            raise KeyError(client_order_id)
        if self.identity:
            return (client_order_id,)
        head = client_order_id[:KITE_TAG_MAX]  # as _direct_tags
        direct = (head,) if head.isascii() and head.isalnum() else ()
        return (*direct, hashlib.sha1(client_order_id.encode()).hexdigest()[:20]) if self.hashing else direct

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def tags_by_id(client_order_ids: Iterable[str], seen: Iterable[str]) -> TagTable:
    """:func:`tags_of` for each of ``client_order_ids``, as far as the tags ``seen`` (a history's) can tell:
    each id's SHA-1 tag is included only when some tag seen is neither an id that is a valid tag nor the first
    20 characters of an id (none seen could be one otherwise), so a long history of plain tags costs no hashing."""
    ids = client_order_ids if isinstance(client_order_ids, (set, frozenset)) else set(client_order_ids)
    tags = set(seen)
    every_id_a_tag = _all_tags(ids)
    if tags <= ids:  # every tag seen is an id: plain when each of those is a valid tag
        hashing = not (every_id_a_tag or _all_tags(tags))
    else:
        verbatim = tags & ids
        unexplained = tags - verbatim
        unexplained -= {h for h in (cid[:KITE_TAG_MAX] for cid in ids if len(cid) > KITE_TAG_MAX) if is_kite_tag(h)}
        hashing = bool(unexplained) or not (every_id_a_tag or _all_tags(verbatim))
    return TagTable(ids, hashing, not hashing and every_id_a_tag)
