"""The drills' order ids are valid Kite tags as they are (alphanumeric, at most 20), unique per order and per
run, so a service that sends its client id as the tag (whole or cut to 20 like AITRAPP's LIVE path) works."""
import pytest

from chaosaitrapp.orderids import is_kite_tag, order_id, run_prefix, tags_by_id, tags_of


def test_every_id_is_a_valid_distinct_kite_tag_that_survives_truncation():
    ids = [order_id(run_prefix(run), n) for run in ("8285f5a768b3", "0cf038f1bb1b") for n in (0, 1, 99999)]
    assert all(is_kite_tag(i) and len(i) == 20 for i in ids), ids
    assert len(set(ids)) == len(ids) and len({i[:20] for i in ids}) == len(ids)
    assert ids[0] == "chs8285f5a768b300000" and ids[0].startswith(run_prefix("8285f5a768b3"))


def test_the_old_shape_was_no_tag_and_collided_when_cut():
    old = [f"chaos-8285f5a768b3-{n:05d}" for n in range(3)]
    assert not any(is_kite_tag(i) for i in old) and len({i[:20] for i in old}) == 1


def test_tags_a_service_may_send_and_bad_input():
    mine = order_id(run_prefix("8285f5a768b3"), 7)
    assert mine in tags_of(mine) and len(tags_of(mine)) == 2  # itself (= its first 20) and a SHA-1 form
    assert "chaos8285f5a768b3000" not in tags_of("chaos-8285f5a768b3-00007")  # a dash: no tag as it is
    with pytest.raises(ValueError, match="12 alphanumerics"):
        run_prefix("short")
    with pytest.raises(ValueError, match="0..99999"):
        order_id(run_prefix("8285f5a768b3"), 100000)


def test_a_tag_is_ascii_letters_and_digits_only():
    assert is_kite_tag("a" * 20) and not is_kite_tag("a" * 21) and not is_kite_tag("")
    assert not is_kite_tag("abc\n"), "no trailing newline (a regex with $ let one through)"
    assert not is_kite_tag("ab\u00e9") and not is_kite_tag("a-b") and not is_kite_tag(None)


def test_tags_for_a_history_hash_only_when_a_tag_seen_needs_it():
    ids = [order_id(run_prefix("8285f5a768b3"), n) for n in range(3)] + ["aitrapp-order-0000000001-x"]
    plain = tags_by_id(ids, [ids[0], ids[1]])
    assert plain == {ids[0]: (ids[0],), ids[1]: (ids[1],), ids[2]: (ids[2],), ids[3]: ()}, \
        "a history of plain tags: no SHA-1 form (none seen could be one); a dashed id's first 20 are no tag"
    hashed_tag = next(t for t in tags_of(ids[3]) if t not in ids)
    hashed = tags_by_id(ids, [ids[0], hashed_tag])
    assert all(set(hashed[i]) == tags_of(i) for i in ids), "a tag seen that no id explains: every id's tags_of"


def test_a_table_of_valid_ids_is_the_identity_and_an_invalid_id_seen_as_a_tag_needs_hashing():
    ids = [order_id(run_prefix("8285f5a768b3"), n) for n in range(3)]
    table = tags_by_id(ids, ids[:2])
    assert table.identity and not table.hashing and dict(table) == {i: (i,) for i in ids}
    assert ids[0] in table and "nope" not in table and len(table) == 3
    odd = ids + ["order-1"]
    table = tags_by_id(odd, ["order-1"])
    assert table.hashing and not table.identity, "a tag no valid id explains: the SHA-1 forms are needed"
    assert all(set(table[i]) == tags_of(i) for i in odd)
