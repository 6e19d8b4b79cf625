"""SPEC §5's current figures, through the API on both databases: a claimant's newer figure
ends the comparisons of its older one, and only the day's disagreements stay open."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ledger import add_claim, kinds_and_claims, open_conflicts, patch_claim


def test_a_claimant_revising_its_toll_leaves_only_its_downward_revision(
    ledger: TestClient,
) -> None:
    police = add_claim(ledger, claimant="Police", figure="115", as_of="2023-03-01")
    revised = add_claim(ledger, claimant="Police", figure="97", as_of="2023-03-02")
    add_claim(ledger, claimant="Governor", figure="97", as_of="2023-03-02")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (police["id"], revised["id"]))
    }


def test_an_older_figure_is_not_compared_with_later_claims_of_others(ledger: TestClient) -> None:
    first = add_claim(ledger, claimant="Health Ministry", figure="at least 500", as_of="2023-03-01")
    second = add_claim(ledger, claimant="Health Ministry", figure="471", as_of="2023-03-02")
    estimate = add_claim(ledger, claimant="Intelligence", figure="100-300", as_of="2023-03-02")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (first["id"], second["id"])),
        ("value_mismatch", (second["id"], estimate["id"])),
    }


def test_a_newer_figure_clears_an_old_pair_and_says_why(ledger: TestClient) -> None:
    agency = add_claim(ledger, claimant="Agency", figure="300", as_of="2023-03-01")
    ministry = add_claim(ledger, claimant="Ministry", figure="120", as_of="2023-03-02")
    [pair] = open_conflicts(ledger)
    assert pair["claims"] == [agency["id"], ministry["id"]]
    # The agency's own count of the same day as the ministry's: its 300 is no longer current.
    newer = add_claim(ledger, claimant="Agency", figure="120", as_of="2023-03-02")
    cleared = ledger.get(f"/v1/conflicts/{pair['id']}").json()
    assert cleared["status"] == "cleared"
    assert "Agency gave a newer figure (120, 2023-03-02)" in cleared["detail"]
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (agency["id"], newer["id"]))
    }


def test_retracting_the_newer_figure_makes_the_older_one_current_again(
    ledger: TestClient,
) -> None:
    agency = add_claim(ledger, claimant="Agency", figure="300", as_of="2023-03-01")
    newer = add_claim(ledger, claimant="Agency", figure="310", as_of="2023-03-02")
    ministry = add_claim(ledger, claimant="Ministry", figure="120", as_of="2023-03-03")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("value_mismatch", (newer["id"], ministry["id"]))
    }
    body = {"reason": "The agency withdrew its update."}
    assert ledger.post(f"/v1/claims/{newer['id']}/retract", json=body).status_code == 200
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("retracted_figure", (newer["id"],)),
        ("value_mismatch", (agency["id"], ministry["id"])),
    }


def test_moving_a_claim_to_another_date_moves_what_is_current(ledger: TestClient) -> None:
    agency = add_claim(ledger, claimant="Agency", figure="300", as_of="2023-03-01")
    newer = add_claim(ledger, claimant="Agency", figure="310", as_of="2023-03-02")
    ministry = add_claim(ledger, claimant="Ministry", figure="120", as_of="2023-03-03")
    # Dated after the ministry's claim, the agency's update no longer ends its 300 before it
    # (and a toll that rises after the ministry's is no conflict).
    patch_claim(ledger, newer["id"], as_of="2023-03-04")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("value_mismatch", (agency["id"], ministry["id"]))
    }
    # Given to another claimant, it leaves the agency's series altogether.
    patch_claim(ledger, newer["id"], claimant="Observatory", as_of="2023-03-02")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("value_mismatch", (agency["id"], ministry["id"])),
        ("value_mismatch", (newer["id"], ministry["id"])),
    }


def test_moving_a_claim_earlier_lets_the_one_it_followed_meet_its_successor(
    ledger: TestClient,
) -> None:
    first = add_claim(ledger, claimant="Ministry", figure="100", as_of="2023-02-06")
    middle = add_claim(ledger, claimant="Ministry", figure="100", as_of="2023-02-08")
    last = add_claim(ledger, claimant="Ministry", figure="5", as_of="2023-02-09")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (middle["id"], last["id"]))
    }
    # Moved before the first, the middle claim no longer sits between the first and the last:
    # the first's successor is now the last, a downward revision of it (found by the
    # three-process test of issue 20: the claim the moved one used to follow was not looked at).
    patch_claim(ledger, middle["id"], as_of="2023-02-05")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (first["id"], last["id"]))
    }


def test_a_part_is_compared_with_the_whole_only_while_both_are_current(
    ledger: TestClient,
) -> None:
    civilians = add_claim(
        ledger, claimant="Monitor", population="civilians", figure="80", as_of="2023-03-01"
    )
    whole = add_claim(ledger, claimant="Ministry", figure="50", as_of="2023-03-02")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("part_exceeds_whole", (civilians["id"], whole["id"]))
    }
    # A later count of the same day: the ministry's 50 is no longer its current figure, so
    # the part is compared with the 90 (and the ministry's two counts of one day disagree).
    later = add_claim(ledger, claimant="Ministry", figure="90", as_of="2023-03-02")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("value_mismatch", (whole["id"], later["id"]))
    }


def test_the_readme_example_of_a_newer_figure(ledger: TestClient) -> None:
    police = add_claim(ledger, claimant="Police", figure="115", as_of="2023-03-01")
    governor = add_claim(ledger, claimant="Governor", figure="97", as_of="2023-03-02")
    [pair] = open_conflicts(ledger)
    assert pair["claims"] == [police["id"], governor["id"]]
    revised = add_claim(ledger, claimant="Police", figure="97", as_of="2023-03-02")
    detail = ledger.get(f"/v1/conflicts/{pair['id']}").json()["detail"]
    assert detail.endswith("No longer compared: Police gave a newer figure (97, 2023-03-02).")
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("downward_revision", (police["id"], revised["id"]))
    }
